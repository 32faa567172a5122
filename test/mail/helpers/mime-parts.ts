// Walks a MIME message down to its leaves and decodes each to bytes, binary
// attachments included (./mime.ts decodes leaves to text only). Strict on
// purpose: CRLF line endings, 7-bit lines of at most 998 characters.

export type MimeLeafBytes = {
  /** Unfolded header values by lower-case name (the first of each). */
  headers: Map<string, string>;
  contentType: string;
  bytes: Uint8Array;
};

function splitHead(raw: string): { head: string; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('no blank line after the headers');
  return { head: raw.slice(0, end), body: raw.slice(end + 4) };
}

export function unfoldHeaders(head: string): Map<string, string> {
  const headers = new Map<string, string>();
  const lines: string[] = [];
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line) && lines.length > 0) lines[lines.length - 1] += line;
    else lines.push(line);
  }
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not a header line: ${line}`);
    const name = line.slice(0, colon).toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

function decodeQuotedPrintable(body: string): Uint8Array {
  const text = body.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=') {
      const pair = text.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(pair)) throw new Error(`bad quoted-printable escape =${pair}`);
      bytes.push(parseInt(pair, 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i));
    }
  }
  return Uint8Array.from(bytes);
}

function walk(head: string, body: string, leaves: MimeLeafBytes[]): void {
  const headers = unfoldHeaders(head);
  const contentType = headers.get('content-type') ?? 'text/plain';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="([^"]+)"/.exec(contentType)?.[1];
    if (!boundary) throw new Error('multipart without a quoted boundary');
    const sections = `\r\n${body}`.split(`\r\n--${boundary}`);
    for (const section of sections.slice(1)) {
      if (section.startsWith('--')) return;
      const part = splitHead(section.replace(/^\r\n/, ''));
      walk(part.head, part.body, leaves);
    }
    throw new Error('multipart without a closing delimiter');
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'base64'
      ? new Uint8Array(Buffer.from(body.replace(/\r\n/g, ''), 'base64'))
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(body)
        : new Uint8Array(Buffer.from(body, 'latin1'));
  leaves.push({ headers, contentType: type, bytes });
}

/**
 * The message's headers and its leaves; throws on anything not 7-bit, or (when
 * strict) a line break other than CRLF: nodemailer leaves bare LFs from the
 * input inside quoted-printable bodies.
 */
export function mimeLeaves(raw: string, options: { strict?: boolean } = {}): { headers: Map<string, string>; leaves: MimeLeafBytes[] } {
  if (/[^\x00-\x7f]/.test(raw)) throw new Error('the message is not 7-bit');
  if (options.strict !== false && /(^|[^\r])\n|\r(?!\n)/.test(raw)) throw new Error('a line ends in something other than CRLF');
  const long = raw.split('\r\n').find((line) => line.length > 998);
  if (long !== undefined) throw new Error(`a line is ${long.length} characters long`);
  const { head, body } = splitHead(raw);
  const leaves: MimeLeafBytes[] = [];
  walk(head, body, leaves);
  return { headers: unfoldHeaders(head), leaves };
}
