/**
 * The small Markdown dialect of letter bodies: paragraphs, headings (#, ##, ###), bullet and
 * numbered lists, **bold**, *italic*, hard line breaks (two trailing spaces or a trailing
 * backslash) and backslash escapes. Anything else is printed as written, which suits letters:
 * there are no links, images or HTML to get wrong.
 *
 * Every step runs in time linear in the input, so an organiser's body cannot stall a page view
 * or a mailing: lines are classified by hand-written scans (no regular expression that could
 * backtrack), and emphasis markers are paired in one pass.
 */
export type InlineSpan = { text: string; bold: boolean; italic: boolean };

export type MarkdownBlock =
  | { kind: 'heading'; level: 1 | 2 | 3; spans: InlineSpan[] }
  | { kind: 'paragraph'; spans: InlineSpan[] }
  | { kind: 'list'; ordered: boolean; start: number; items: InlineSpan[][] };

const eastAsian = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;

// JavaScript's \s: the whitespace the dialect has always recognised around markers and in lines.
const isSpace = (code: number): boolean =>
  code === 0x20 ||
  (code >= 0x09 && code <= 0x0d) ||
  code === 0xa0 ||
  code === 0x1680 ||
  (code >= 0x2000 && code <= 0x200a) ||
  code === 0x2028 ||
  code === 0x2029 ||
  code === 0x202f ||
  code === 0x205f ||
  code === 0x3000 ||
  code === 0xfeff;

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

const firstCharacter = (text: string): string =>
  text.length > 1 && isHighSurrogate(text.charCodeAt(0)) && isLowSurrogate(text.charCodeAt(1)) ? text.slice(0, 2) : text.slice(0, 1);

const lastCharacter = (text: string): string =>
  text.length > 1 && isLowSurrogate(text.charCodeAt(text.length - 1)) && isHighSurrogate(text.charCodeAt(text.length - 2)) ? text.slice(-2) : text.slice(-1);

// A soft line break is a space in Latin text but nothing between East Asian characters,
// which are written without spaces. The last character written is kept aside: reading it
// back from the joined string would flatten that string once per line.
const joinLines = (lines: string[]): string => {
  const parts: string[] = [];
  let lastWritten = '';
  lines.forEach((raw, index) => {
    const trailingBackslash = raw.endsWith('\\');
    const hard = raw.endsWith('  ') || (trailingBackslash && !raw.endsWith('\\\\'));
    const line = (trailingBackslash ? raw.slice(0, -1) : raw).trim();
    if (index > 0 && lastWritten !== '\n' && !eastAsian.test(lastWritten) && !eastAsian.test(firstCharacter(line))) {
      parts.push(' ');
      lastWritten = ' ';
    }
    if (line) {
      parts.push(line);
      lastWritten = lastCharacter(line);
    }
    if (hard && index < lines.length - 1) {
      parts.push('\n');
      lastWritten = '\n';
    }
  });
  return parts.join('');
};

type DelimToken = { kind: 'delim'; marker: '**' | '__' | '*' | '_'; paired: boolean };
type InlineToken = { kind: 'text'; text: string } | DelimToken;

const asciiPunctuation = /[!-/:-@[-`{-~]/;
const wordChar = /[\p{L}\p{N}]/u;

const tokenizeInline = (text: string): InlineToken[] => {
  const tokens: InlineToken[] = [];
  let buffer = '';
  let runStart = 0;
  const flush = (end: number) => {
    buffer += text.slice(runStart, end);
    if (buffer) tokens.push({ kind: 'text', text: buffer });
    buffer = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length && asciiPunctuation.test(text[i + 1]!)) {
      buffer += text.slice(runStart, i);
      runStart = ++i;
      continue;
    }
    if (c === '*' || c === '_') {
      const double = text[i + 1] === c;
      // An underscore inside a word (snake_case) is a character, not emphasis.
      if (c === '_') {
        const before = text[i - 1] ?? ' ';
        const after = text[i + (double ? 2 : 1)] ?? ' ';
        if (wordChar.test(before) && wordChar.test(after)) {
          if (double) i++;
          continue;
        }
      }
      flush(i);
      tokens.push({ kind: 'delim', marker: (double ? c + c : c) as DelimToken['marker'], paired: false });
      if (double) i++;
      runStart = i + 1;
    }
  }
  flush(text.length);
  return tokens;
};

/** Splits inline Markdown into runs of text with their emphasis; unmatched markers print literally. */
export function parseInline(text: string): InlineSpan[] {
  const tokens = tokenizeInline(text);
  // Each marker pairs with the next one of the same kind, so one pass with one open marker per kind does it.
  const opened: Partial<Record<DelimToken['marker'], DelimToken>> = {};
  for (const token of tokens) {
    if (token.kind !== 'delim') continue;
    const open = opened[token.marker];
    if (open) open.paired = token.paired = true;
    opened[token.marker] = open ? undefined : token;
  }
  const spans: InlineSpan[] = [];
  let bold = false;
  let italic = false;
  const push = (text: string) => {
    const last = spans[spans.length - 1];
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

// » ” ’ 、 。 ， ． ！ ？ ： ； ） 」 』 】 〉 》, escaped: a regular expression is the one place the build
// (esbuild) leaves non-ASCII as it is, and one such character makes V8 hold the whole compiled
// server's source as UTF-16, twice its size, for the process's life.
const closingPunctuation = /^[\s.,;:!?)\]}\u00bb\u201d\u2019\u3001\u3002\uff0c\uff0e\uff01\uff1f\uff1a\uff1b\uff09\u300d\u300f\u3011\u3009\u300b]+/u;

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

// `.` in the patterns these scans replace: a line's text may not hold these separators.
const hasLineSeparator = (text: string) => text.includes('\u2028') || text.includes('\u2029');

/** Where a block marker may start: after at most three spaces of indentation, else -1. */
const markerStart = (line: string): number => {
  let i = 0;
  while (i < 3 && i < line.length && isSpace(line.charCodeAt(i))) i++;
  return i < line.length && isSpace(line.charCodeAt(i)) ? -1 : i;
};

const skipSpaces = (line: string, from: number): number => {
  let i = from;
  while (i < line.length && isSpace(line.charCodeAt(i))) i++;
  return i;
};

/** The text after a marker that ends at `at`: at least one space, then the rest of the line. */
const textAfterMarker = (line: string, at: number): string | null => {
  if (at >= line.length || !isSpace(line.charCodeAt(at))) return null;
  const text = line.slice(skipSpaces(line, at));
  return hasLineSeparator(text) ? null : text;
};

/** `# Title`, `## Title ##`: one to six hashes and a space; closing hashes and spaces are dropped. */
const headingOf = (line: string): { hashes: number; text: string } | null => {
  const start = markerStart(line);
  if (start < 0) return null;
  let end = start;
  while (line[end] === '#') end++;
  const hashes = end - start;
  if (hashes < 1 || hashes > 6 || end >= line.length || !isSpace(line.charCodeAt(end))) return null;
  const from = skipSpaces(line, end);
  let to = line.length;
  while (to > from && isSpace(line.charCodeAt(to - 1))) to--;
  while (to > from && line[to - 1] === '#') to--;
  while (to > from && isSpace(line.charCodeAt(to - 1))) to--;
  const text = line.slice(from, to);
  return hasLineSeparator(text) ? null : { hashes, text };
};

/** `- item`, `* item`, `+ item`. */
const bulletOf = (line: string): string | null => {
  const start = markerStart(line);
  return start >= 0 && '-*+'.includes(line[start] ?? '.') ? textAfterMarker(line, start + 1) : null;
};

/** `1. item` or `1) item`, with at most nine digits. */
const orderedOf = (line: string): { start: number; text: string } | null => {
  const start = markerStart(line);
  if (start < 0) return null;
  let end = start;
  while (end < line.length && line[end]! >= '0' && line[end]! <= '9') end++;
  if (end === start || end - start > 9 || (line[end] !== '.' && line[end] !== ')')) return null;
  const text = textAfterMarker(line, end + 1);
  return text === null ? null : { start: Number(line.slice(start, end)), text };
};

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
    const heading = headingOf(line);
    if (heading) {
      closeParagraph();
      closeList();
      blocks.push({ kind: 'heading', level: Math.min(heading.hashes, 3) as 1 | 2 | 3, spans: parseInline(heading.text) });
      continue;
    }
    const bullet = bulletOf(line);
    const ordered = bullet === null ? orderedOf(line) : null;
    if (bullet !== null || ordered) {
      closeParagraph();
      if (open.list && open.list.ordered !== (ordered !== null)) closeList();
      open.list ??= { ordered: ordered !== null, start: ordered ? ordered.start : 1, items: [] };
      open.list.items.push([bullet ?? ordered!.text]);
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
