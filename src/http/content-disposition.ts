/** RFC 5987 attr-char: what may stay unencoded in `filename*`; encodeURIComponent leaves a few more. */
const encodeAttrValue = (value: string) =>
  encodeURIComponent(value).replace(/['()*!]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

/** A name for `filename`: accents dropped, each run of anything else outside ASCII replaced by `placeholder`. */
function asciiOf(name: string, placeholder = '_'): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._ -]+/g, placeholder)
    .replace(/_{2,}/g, '_');
}

/**
 * The ASCII `filename` with a part that tells this download from its siblings (a target's id):
 * `nk-refugees-2027-驻大阪总领事.pdf` and `nk-refugees-2027-驻长崎总领事.pdf` would both be
 * `nk-refugees-2027-_.pdf`, and `curl -OJ` refuses the second. What ASCII cannot show is left out
 * rather than replaced; the unique part says which file it is.
 */
function asciiWithUniquePart(name: string, uniquePart: string): string {
  const extension = /\.[A-Za-z0-9]{1,8}$/.exec(name)?.[0] ?? '';
  const stem = asciiOf(name.slice(0, name.length - extension.length), '\u0000')
    .replace(/[-_ .]*\u0000+[-_ .]*/g, '-')
    .replace(/^-+|-+$/g, '');
  const unique = asciiOf(uniquePart);
  return `${stem === '' ? unique : `${stem}-${unique}`}${extension}`;
}

/**
 * `Content-Disposition: attachment` for a file name in any script (RFC 6266): an ASCII
 * `filename` for old clients and the real name as UTF-8 in `filename*`. Path separators, quotes
 * and control characters never survive. With `uniquePart` (an id no sibling download shares),
 * the ASCII name carries it, so two downloads never share a fallback name.
 */
export function attachmentDisposition(filename: string, uniquePart?: string): string {
  const safe = filename.replace(/[\p{Cc}/\\:*?"<>|]+/gu, '_').trim() || 'download';
  const ascii = (uniquePart ? asciiWithUniquePart(safe, uniquePart) : asciiOf(safe)) || 'download';
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeAttrValue(safe)}`;
}

/**
 * Headers of a PDF answer: downloaded as `filename` (its ASCII fallback with `uniquePart`, see
 * attachmentDisposition), or shown in the page with `inline`; never
 * cached (letters carry supporters' names), with its length when known.
 */
export function pdfHeaders(filename: string, options: { bytes?: number; inline?: boolean; uniquePart?: string } = {}): Record<string, string> {
  const disposition = attachmentDisposition(filename, options.uniquePart);
  return {
    'Content-Type': 'application/pdf',
    'Content-Disposition': options.inline ? disposition.replace(/^attachment/, 'inline') : disposition,
    'Cache-Control': 'no-store',
    ...(options.bytes === undefined ? {} : { 'Content-Length': String(options.bytes) }),
  };
}
