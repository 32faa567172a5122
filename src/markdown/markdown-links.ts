/**
 * Links in organiser-written Markdown (update emails, campaign pages): `[label](url)`,
 * `<url>` and bare URLs. They are swapped for placeholders made of private-use
 * characters before the block parser (src/markdown/markdown.ts) runs, so emphasis
 * markers and escapes inside a URL stay as written; each renderer then puts the
 * link back in its own output, escaped.
 */
export type MarkdownLink = { label: string; url: string | null };

/** Which URL schemes may become links; anything else keeps its label as text. */
export type LinkSchemes = 'http' | 'http-and-mailto';

const OPEN = '\uE000';
const CLOSE = '\uE001';
/** A held link in prepared text; group 1 is its index in `links`. */
export const linkPlaceholder = /\uE000(\d+)\uE001/g;
const explicitLink = /(?<!\\)\[([^\]\n]+)\]\(\s*<?([^\s()<>]*)>?\s*\)/g;
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

/** The source with every link replaced by a placeholder, and the links in order. */
export function extractMarkdownLinks(source: string, schemes: LinkSchemes): { prepared: string; links: MarkdownLink[] } {
  const links: MarkdownLink[] = [];
  const hold = (link: MarkdownLink) => `${OPEN}${links.push(link) - 1}${CLOSE}`;
  const prepared = source
    .replace(/[\uE000\uE001]/g, '')
    .replace(explicitLink, (_, label: string, url: string) => hold({ label, url: safeLinkUrl(url, schemes) }))
    .replace(angleLink[schemes], (_, url: string) => hold({ label: url.replace(/^mailto:/i, ''), url: safeLinkUrl(url, schemes) }))
    .replace(bareLink, (match: string) => {
      // Sentence punctuation (or the emphasis around a URL) right after it belongs to the text.
      const url = match.replace(/[.,;:!?*]+$/, '');
      return hold({ label: url, url: safeLinkUrl(url, schemes) }) + match.slice(url.length);
    });
  return { prepared, links };
}
