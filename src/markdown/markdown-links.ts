/**
 * Links in organiser-written Markdown (update emails, campaign pages): `[label](url)`,
 * `<url>` and bare URLs. They are swapped for placeholders made of private-use
 * characters before the block parser (src/markdown/markdown.ts) runs, so emphasis
 * markers and escapes inside a URL stay as written; each renderer then puts the
 * link back in its own output, escaped.
 *
 * Linear in the input like the block parser: the one pattern that could backtrack
 * (`[label](url)`, where `[[[[…` made every bracket rescan the line) is a scan instead.
 */
export type MarkdownLink = { label: string; url: string | null };

/** Which URL schemes may become links; anything else keeps its label as text. */
export type LinkSchemes = 'http' | 'http-and-mailto';

const OPEN = '\uE000';
const CLOSE = '\uE001';
/** A held link in prepared text; group 1 is its index in `links`. */
export const linkPlaceholder = /\uE000(\d+)\uE001/g;
const angleLink = { http: /<(https?:\/\/[^\s<>]+)>/gi, 'http-and-mailto': /<((?:https?:\/\/|mailto:)[^\s<>]+)>/gi };
// ASCII only: Japanese or Chinese text runs on after a URL without a space.
const bareLink = /\bhttps?:\/\/[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+/gi;

/** The URL when it is absolute and of an allowed scheme, else null (javascript:, data:, relative…). */
export function safeLinkUrl(candidate: string, schemes: LinkSchemes): string | null {
  const allowed = schemes === 'http' ? /^https?:\/\//i : /^(https?:\/\/|mailto:)/i;
  if (!allowed.test(candidate)) return null;
  try {
    const url = new URL(candidate);
    const protocols = schemes === 'http' ? ['http:', 'https:'] : ['http:', 'https:', 'mailto:'];
    return protocols.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

// JavaScript's \s, which the link syntax allows around the URL.
const space = /\s/;
const isUrlCharacter = (c: string) => !space.test(c) && c !== '(' && c !== ')' && c !== '<' && c !== '>';

/**
 * `(url)`, `( <url> )` right after a label's `]` at `at`: the URL and where the link ends,
 * or null. Each part is a run that ends where the next begins, so there is nothing to backtrack.
 */
function linkDestination(text: string, at: number): { url: string; end: number } | null {
  if (text[at] !== '(') return null;
  let i = at + 1;
  while (i < text.length && space.test(text[i]!)) i++;
  if (text[i] === '<') i++;
  const urlStart = i;
  while (i < text.length && isUrlCharacter(text[i]!)) i++;
  const url = text.slice(urlStart, i);
  if (text[i] === '>') i++;
  while (i < text.length && space.test(text[i]!)) i++;
  return text[i] === ')' ? { url, end: i + 1 } : null;
}

/**
 * Every `[label](url)` (a label of one line, an opening bracket not escaped) through `replace`.
 * A bracket whose label or destination fails makes every bracket before its `]` (or line end)
 * fail the same way, so the scan resumes after it: each character is looked at a bounded
 * number of times whatever the brackets.
 */
function replaceExplicitLinks(text: string, replace: (label: string, url: string) => string): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const open = text.indexOf('[', from);
    if (open < 0) break;
    if (text[open - 1] === '\\') {
      from = open + 1;
      continue;
    }
    let close = open + 1;
    while (close < text.length && text[close] !== ']' && text[close] !== '\n') close++;
    if (text[close] !== ']') {
      from = close + 1;
      continue;
    }
    const destination = close > open + 1 ? linkDestination(text, close + 1) : null;
    if (!destination) {
      from = close + 1;
      continue;
    }
    out += text.slice(copied, open) + replace(text.slice(open + 1, close), destination.url);
    copied = from = destination.end;
  }
  return out + text.slice(copied);
}

const sentenceEnd = '.,;:!?*';

/** The source with every link replaced by a placeholder, and the links in order. */
export function extractMarkdownLinks(source: string, schemes: LinkSchemes): { prepared: string; links: MarkdownLink[] } {
  const links: MarkdownLink[] = [];
  const hold = (link: MarkdownLink) => `${OPEN}${links.push(link) - 1}${CLOSE}`;
  const prepared = replaceExplicitLinks(source.replace(/[\uE000\uE001]/g, ''), (label, url) => hold({ label, url: safeLinkUrl(url, schemes) }))
    .replace(angleLink[schemes], (_, url: string) => hold({ label: url.replace(/^mailto:/i, ''), url: safeLinkUrl(url, schemes) }))
    .replace(bareLink, (match: string) => {
      // Sentence punctuation (or the emphasis around a URL) right after it belongs to the text.
      let end = match.length;
      while (end > 0 && sentenceEnd.includes(match[end - 1]!)) end--;
      const url = match.slice(0, end);
      return hold({ label: url, url: safeLinkUrl(url, schemes) }) + match.slice(end);
    });
  return { prepared, links };
}
