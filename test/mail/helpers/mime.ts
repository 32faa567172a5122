// A small RFC 5322 / MIME reader for tests (mailparser is not a dependency):
// unfolds headers, decodes RFC 2047 encoded words and walks multipart bodies.

export type MimeLeaf = { contentType: string; charset: string | undefined; text: string };

export type ParsedMail = {
  /** Unfolded header lines, in order, still encoded. */
  headerLines: string[];
  /** The first value of a header, unfolded and still encoded. */
  header(name: string): string | undefined;
  /** The first value of a header with its encoded words decoded. */
  decodedHeader(name: string): string | undefined;
  /** Every non-multipart part, decoded to text. */
  leaves: MimeLeaf[];
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

function splitHeaderAndBody(raw: string): { head: string; body: string } {
  const normalised = raw.replace(/\r\n/g, '\n');
  const end = normalised.indexOf('\n\n');
  return end < 0 ? { head: normalised, body: '' } : { head: normalised.slice(0, end), body: normalised.slice(end + 2) };
}

function unfold(head: string): string[] {
  const lines: string[] = [];
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && lines.length > 0) lines[lines.length - 1] += line;
    else if (line !== '') lines.push(line);
  }
  return lines;
}

function findHeader(lines: string[], name: string): string | undefined {
  const prefix = `${name.toLowerCase()}:`;
  const line = lines.find((candidate) => candidate.toLowerCase().startsWith(prefix));
  return line?.slice(prefix.length).trim();
}

function decodeQuotedPrintableBytes(text: string, underscoreIsSpace: boolean): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (char === '_' && underscoreIsSpace) {
      bytes.push(0x20);
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Uint8Array.from(bytes);
}

/** Decodes RFC 2047 words; adjacent words are joined before decoding, since a character may be split across them. */
export function decodeEncodedWords(value: string): string {
  const word = /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g;
  let out = '';
  let pending: number[] = [];
  let last = 0;
  const flush = () => {
    if (pending.length > 0) out += utf8.decode(Uint8Array.from(pending));
    pending = [];
  };
  for (let match = word.exec(value); match; match = word.exec(value)) {
    const between = value.slice(last, match.index);
    if (!(pending.length > 0 && /^\s*$/.test(between))) {
      flush();
      out += between;
    }
    if (match[1]!.toLowerCase() !== 'utf-8') throw new Error(`unexpected charset ${match[1]}`);
    const bytes =
      match[2]!.toUpperCase() === 'B' ? Buffer.from(match[3]!, 'base64') : decodeQuotedPrintableBytes(match[3]!, true);
    pending.push(...bytes);
    last = match.index + match[0].length;
  }
  flush();
  return out + value.slice(last);
}

function parameter(headerValue: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}="?([^";]+)"?`, 'i').exec(headerValue);
  return match?.[1];
}

function decodeBody(body: string, encoding: string | undefined): Uint8Array {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintableBytes(body.replace(/=\n/g, ''), false);
    default:
      return Buffer.from(body, 'utf8');
  }
}

function collectLeaves(head: string, body: string, leaves: MimeLeaf[]): void {
  const lines = unfold(head);
  const contentType = findHeader(lines, 'Content-Type') ?? 'text/plain';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = parameter(contentType, 'boundary');
    if (!boundary) throw new Error('multipart without boundary');
    const sections = body.split(`--${boundary}`);
    // sections[0] is the preamble; the one starting with "--" is the epilogue.
    for (const section of sections.slice(1)) {
      if (section.startsWith('--')) break;
      const part = splitHeaderAndBody(section.replace(/^\n/, ''));
      collectLeaves(part.head, part.body.replace(/\n$/, ''), leaves);
    }
    return;
  }
  const charset = parameter(contentType, 'charset')?.toLowerCase();
  const bytes = decodeBody(body, findHeader(lines, 'Content-Transfer-Encoding'));
  leaves.push({ contentType: type, charset, text: utf8.decode(bytes) });
}

export function parseMail(raw: string): ParsedMail {
  const { head, body } = splitHeaderAndBody(raw);
  const headerLines = unfold(head);
  const leaves: MimeLeaf[] = [];
  collectLeaves(head, body, leaves);
  return {
    headerLines,
    header: (name) => findHeader(headerLines, name),
    decodedHeader: (name) => {
      const value = findHeader(headerLines, name);
      return value === undefined ? undefined : decodeEncodedWords(value);
    },
    leaves,
  };
}

/** The text of the one leaf of the given type. */
export function partText(mail: ParsedMail, contentType: string): string {
  const matches = mail.leaves.filter((leaf) => leaf.contentType === contentType);
  if (matches.length !== 1) throw new Error(`expected one ${contentType} part, found ${matches.length}`);
  return matches[0]!.text.replace(/\r\n/g, '\n');
}
