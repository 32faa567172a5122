/**
 * The small Markdown dialect of letter bodies: paragraphs, headings (#, ##, ###), bullet and
 * numbered lists, **bold**, *italic*, hard line breaks (two trailing spaces or a trailing
 * backslash) and backslash escapes. Anything else is printed as written, which suits letters:
 * there are no links, images or HTML to get wrong.
 */
export type InlineSpan = { text: string; bold: boolean; italic: boolean };

export type MarkdownBlock =
  | { kind: 'heading'; level: 1 | 2 | 3; spans: InlineSpan[] }
  | { kind: 'paragraph'; spans: InlineSpan[] }
  | { kind: 'list'; ordered: boolean; start: number; items: InlineSpan[][] };

const eastAsian = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;

// A soft line break is a space in Latin text but nothing between East Asian characters,
// which are written without spaces.
const joinLines = (lines: string[]): string => {
  let out = '';
  lines.forEach((raw, index) => {
    const hard = / {2,}$/.test(raw) || (/\\$/.test(raw) && !/\\\\$/.test(raw));
    const line = raw.replace(/\\$/, '').trim();
    if (index > 0 && !out.endsWith('\n')) {
      const before = [...out].at(-1) ?? '';
      const after = [...line][0] ?? '';
      out += eastAsian.test(before) || eastAsian.test(after) ? '' : ' ';
    }
    out += line;
    if (hard && index < lines.length - 1) out += '\n';
  });
  return out;
};

type InlineToken = { kind: 'text'; text: string } | { kind: 'delim'; marker: '**' | '__' | '*' | '_'; paired: boolean };

const asciiPunctuation = /[!-/:-@[-`{-~]/;
const wordChar = /[\p{L}\p{N}]/u;

const tokenizeInline = (text: string): InlineToken[] => {
  const tokens: InlineToken[] = [];
  let buffer = '';
  const flush = () => {
    if (buffer) tokens.push({ kind: 'text', text: buffer });
    buffer = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length && asciiPunctuation.test(text[i + 1]!)) {
      buffer += text[++i];
      continue;
    }
    if (c === '*' || c === '_') {
      const double = text[i + 1] === c;
      // An underscore inside a word (snake_case) is a character, not emphasis.
      if (c === '_') {
        const before = text[i - 1] ?? ' ';
        const after = text[i + (double ? 2 : 1)] ?? ' ';
        if (wordChar.test(before) && wordChar.test(after)) {
          buffer += double ? '__' : '_';
          if (double) i++;
          continue;
        }
      }
      flush();
      tokens.push({ kind: 'delim', marker: (double ? c + c : c) as '**' | '__' | '*' | '_', paired: false });
      if (double) i++;
      continue;
    }
    buffer += c;
  }
  flush();
  return tokens;
};

/** Splits inline Markdown into runs of text with their emphasis; unmatched markers print literally. */
export function parseInline(text: string): InlineSpan[] {
  const tokens = tokenizeInline(text);
  for (let i = 0; i < tokens.length; i++) {
    const open = tokens[i]!;
    if (open.kind !== 'delim' || open.paired) continue;
    const close = tokens.slice(i + 1).find((t): t is Extract<InlineToken, { kind: 'delim' }> => t.kind === 'delim' && !t.paired && t.marker === open.marker);
    if (close) open.paired = close.paired = true;
  }
  const spans: InlineSpan[] = [];
  let bold = false;
  let italic = false;
  const push = (text: string) => {
    const last = spans.at(-1);
    if (last && last.bold === bold && last.italic === italic) last.text += text;
    else spans.push({ text, bold, italic });
  };
  for (const token of tokens) {
    if (token.kind === 'text') push(token.text);
    else if (!token.paired) push(token.marker);
    else if (token.marker.length === 2) bold = !bold;
    else italic = !italic;
  }
  return spans.filter((span) => span.text.length > 0);
}

const closingPunctuation = /^[\s.,;:!?)\]}»”’、。，．！？：；）」』】〉》]+/u;

/**
 * Moves the closing punctuation and spaces that open a span onto the end of the span before it
 * ("**word**. Next" keeps ". " with "word"): pdfkit may break a line between differently styled
 * pieces, and a line must start neither with a full stop or closing bracket nor with a space.
 */
export function attachClosingPunctuation(spans: InlineSpan[]): InlineSpan[] {
  const joined: InlineSpan[] = [];
  for (const span of spans) {
    const previous = joined.at(-1);
    const punctuation = previous ? closingPunctuation.exec(span.text)?.[0] : undefined;
    if (previous && punctuation) {
      joined[joined.length - 1] = { ...previous, text: previous.text + punctuation };
      if (span.text.length > punctuation.length) joined.push({ ...span, text: span.text.slice(punctuation.length) });
    } else {
      joined.push(span);
    }
  }
  return joined;
}

const headingPattern = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const bulletPattern = /^\s{0,3}[-*+]\s+(.*)$/;
const orderedPattern = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;

type OpenList = { ordered: boolean; start: number; items: string[][] };

/** Parses a letter body into blocks. */
export function parseMarkdown(source: string): MarkdownBlock[] {
  const blocks: MarkdownBlock[] = [];
  const open: { paragraph: string[] | null; list: OpenList | null } = { paragraph: null, list: null };

  const closeParagraph = () => {
    if (open.paragraph) blocks.push({ kind: 'paragraph', spans: parseInline(joinLines(open.paragraph)) });
    open.paragraph = null;
  };
  const closeList = () => {
    const { list } = open;
    if (list) blocks.push({ kind: 'list', ordered: list.ordered, start: list.start, items: list.items.map((item) => parseInline(joinLines(item))) });
    open.list = null;
  };

  for (const line of source.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      closeParagraph();
      closeList();
      continue;
    }
    const heading = headingPattern.exec(line);
    if (heading) {
      closeParagraph();
      closeList();
      blocks.push({ kind: 'heading', level: Math.min(heading[1]!.length, 3) as 1 | 2 | 3, spans: parseInline(heading[2]!) });
      continue;
    }
    const bullet = bulletPattern.exec(line);
    const ordered = bullet ? null : orderedPattern.exec(line);
    if (bullet || ordered) {
      closeParagraph();
      if (open.list && open.list.ordered !== (ordered !== null)) closeList();
      open.list ??= { ordered: ordered !== null, start: ordered ? Number(ordered[1]) : 1, items: [] };
      open.list.items.push([bullet ? bullet[1]! : ordered![2]!]);
      continue;
    }
    if (open.list) {
      // A line under a list item continues it (lazy continuation, as in CommonMark).
      open.list.items.at(-1)!.push(line);
      continue;
    }
    (open.paragraph ??= []).push(line);
  }
  closeParagraph();
  closeList();
  return blocks;
}
