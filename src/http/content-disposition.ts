/** RFC 5987 attr-char: what may stay unencoded in `filename*`; encodeURIComponent leaves a few more. */
const encodeAttrValue = (value: string) =>
  encodeURIComponent(value).replace(/['()*!]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * `Content-Disposition: attachment` for a file name in any script (RFC 6266): an ASCII
 * `filename` for old clients (accents dropped, anything else replaced by `_`) and the real name
 * as UTF-8 in `filename*`. Path separators, quotes and control characters never survive.
 */
export function attachmentDisposition(filename: string): string {
  const safe = filename.replace(/[\p{Cc}/\\:*?"<>|]+/gu, '_').trim() || 'download';
  const ascii =
    safe
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .replace(/[^A-Za-z0-9._ -]+/g, '_')
      .replace(/_{2,}/g, '_') || 'download';
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeAttrValue(safe)}`;
}

/**
 * Headers of a PDF answer: downloaded as `filename` (or shown in the page with `inline`), never
 * cached (letters carry supporters' names), with its length when known.
 */
export function pdfHeaders(filename: string, options: { bytes?: number; inline?: boolean } = {}): Record<string, string> {
  const disposition = attachmentDisposition(filename);
  return {
    'Content-Type': 'application/pdf',
    'Content-Disposition': options.inline ? disposition.replace(/^attachment/, 'inline') : disposition,
    'Cache-Control': 'no-store',
    ...(options.bytes === undefined ? {} : { 'Content-Length': String(options.bytes) }),
  };
}
