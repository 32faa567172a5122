/**
 * RFC 5322 / MIME composition without nodemailer, for runtimes that have no
 * Node streams or sockets (Cloudflare Workers). The SMTP-over-sockets and the
 * HTTP mail API transports both send the text built here, so a message looks
 * the same whichever way it leaves, and the same as nodemailer's on Node: the
 * stored Message-ID, the custom headers (List-Unsubscribe one-click…), a
 * text/plain + text/html alternative and the letters as attachments.
 *
 * Every line is 7-bit and at most 998 characters: non-ASCII header text travels
 * as RFC 2047 encoded words, bodies as quoted-printable, attachments as base64.
 * No relay then has to convert the message (no 8BITMIME needed), which would
 * break a DKIM signature added on the way.
 */
import { MailSendError, prepareOutgoingMail, type OutgoingMail } from './transport.js';

/**
 * Where a transport without file access reads an attachment (the outbox
 * message's `storedPath`), e.g. the R2 letter store on Workers: the file's
 * bytes, or null when nothing is stored under that path.
 */
export type ReadAttachment = (storedPath: string) => Promise<Uint8Array | null>;

export type MimeAttachment = { filename: string; contentType: string; content: Uint8Array };

export type MimeMessageOptions = {
  /** The Date header, in ms since the epoch. */
  date: number;
  attachments?: MimeAttachment[];
};

const utf8 = new TextEncoder();
/** RFC 5322 recommends 78 characters per line; 998 is the hard limit. */
const preferredLineLength = 78;
const maxLineLength = 998;
/** UTF-8 bytes per encoded word: 42 bytes are 56 base64 characters, a 68-character word that fits one folded line. */
const encodedWordBytes = 42;
const mailbox = /^[^\s<>@"(),;:\\[\]]+@[^\s<>@"(),;:\\[\]]+$/;
/** RFC 5322 atext and spaces: a display name that needs neither quotes nor encoding. */
const plainPhrase = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/;
/** RFC 2231 attribute-char: what a parameter value may hold without percent-encoding. */
const attributeChar = /[A-Za-z0-9!#$&+\-.^_`|~]/;

function tooLong(): MailSendError {
  return new MailSendError('A header line is longer than 998 characters', { permanent: true, code: 'HEADER_TOO_LONG' });
}

/** Base64 of bytes without Node's Buffer; in slices, since String.fromCharCode takes a bounded argument list. */
export function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}

/** RFC 2047 B-encoded words, split between characters so each word decodes on its own. */
function encodedWords(text: string): string[] {
  const words: string[] = [];
  let chunk: number[] = [];
  for (const character of text) {
    const bytes = utf8.encode(character);
    if (chunk.length + bytes.length > encodedWordBytes) {
      words.push(`=?UTF-8?B?${base64(Uint8Array.from(chunk))}?=`);
      chunk = [];
    }
    chunk.push(...bytes);
  }
  if (chunk.length > 0 || words.length === 0) words.push(`=?UTF-8?B?${base64(Uint8Array.from(chunk))}?=`);
  return words;
}

function needsEncoding(text: string): boolean {
  // `=?` would be read as the start of an encoded word; control characters have no place in a header.
  return /[^\x20-\x7e\t]/.test(text) || text.includes('=?');
}

/**
 * Folds `name: token token…` into lines of at most 78 characters where the
 * tokens allow it. Tokens are joined by one space, which becomes the folding
 * white space of the next line, so unfolding gives the value back unchanged.
 */
function foldHeader(name: string, tokens: string[]): string {
  const lines: string[] = [];
  let line = `${name}:`;
  for (const token of tokens) {
    // A token that does not fit starts the next line, even the first one (`List-Unsubscribe:` CRLF ` <…>`).
    if (token !== '' && line.length + 1 + token.length > preferredLineLength) {
      lines.push(line);
      line = ` ${token}`;
    } else {
      line += ` ${token}`;
    }
  }
  lines.push(line);
  if (lines.some((folded) => folded.length > maxLineLength)) throw tooLong();
  return lines.join('\r\n');
}

/**
 * Unstructured text (Subject, custom headers): as is when it is printable
 * ASCII, else encoded words. `encodeLongWords` also encodes text with a word
 * too long to fold, which suits a subject but not a header holding a URL.
 */
function unstructuredTokens(value: string, encodeLongWords = false): string[] {
  const tokens = value.split(' ');
  if (needsEncoding(value) || (encodeLongWords && tokens.some((token) => token.length > 900))) return encodedWords(value);
  return tokens;
}

/** A display name as an RFC 5322 phrase: atoms, a quoted string, or encoded words. */
function phraseTokens(name: string): string[] {
  if (needsEncoding(name)) return encodedWords(name);
  if (plainPhrase.test(name)) return name.split(' ');
  return [`"${name.replace(/[\\"]/g, '\\$&')}"`];
}

function mailboxTokens(address: { name?: string; address: string }): string[] {
  if (address.name === undefined || address.name === '') return [address.address];
  return [...phraseTokens(address.name), `<${address.address}>`];
}

/**
 * Reads the MAIL_FROM setting (`Name <user@example.org>`, `"Name" <…>` or a
 * bare address). A sender that does not parse is a setting to fix, not a bad
 * message: the failure is temporary, so the outbox waits for the operator.
 */
export function parseSender(from: string): { name?: string; address: string } {
  const value = from.trim();
  const angle = /^(.*?)\s*<([^<>]+)>$/.exec(value);
  const address = (angle ? angle[2]! : value).trim();
  if (!mailbox.test(address)) {
    throw new MailSendError('The sender (MAIL_FROM) is not an address such as Name <user@example.org>', { permanent: false, code: 'ECONFIG' });
  }
  let name = (angle?.[1] ?? '').trim();
  const quoted = /^"(.*)"$/.exec(name);
  if (quoted) name = quoted[1]!.replace(/\\(.)/g, '$1');
  return name === '' ? { address } : { name, address };
}

/** RFC 5322 date-time in UTC, as nodemailer writes it: `Wed, 04 Mar 2026 05:06:07 +0000`. */
export function formatMailDate(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

const hex = (byte: number) => byte.toString(16).toUpperCase().padStart(2, '0');

/** Quoted-printable (RFC 2045 §6.7) of UTF-8 text, with CRLF line breaks and encoded lines of at most 76 characters. */
export function quotedPrintable(text: string): string {
  return text
    .replace(/\r\n|\r/g, '\n')
    .split('\n')
    .map((line) => {
      const bytes = utf8.encode(line);
      let out = '';
      let current = '';
      for (let i = 0; i < bytes.length; i++) {
        const byte = bytes[i]!;
        const whitespace = byte === 0x20 || byte === 0x09;
        // White space at the end of a line is encoded: relays may strip it.
        const literal = (byte >= 33 && byte <= 126 && byte !== 0x3d) || (whitespace && i < bytes.length - 1);
        const piece = literal ? String.fromCharCode(byte) : `=${hex(byte)}`;
        if (current.length + piece.length > 75) {
          out += `${current}=\r\n`;
          current = '';
        }
        current += piece;
      }
      return out + current;
    })
    .join('\r\n');
}

function base64Lines(bytes: Uint8Array): string {
  const encoded = base64(bytes);
  const lines: string[] = [];
  for (let start = 0; start < encoded.length; start += 76) lines.push(encoded.slice(start, start + 76));
  return lines.join('\r\n');
}

/**
 * A parameter value (RFC 2045 quoted string, or RFC 2231 `name*0*=utf-8''…`
 * in sections when it is not short printable ASCII), as header tokens.
 */
function parameterTokens(name: string, value: string, last: boolean): string[] {
  const end = last ? '' : ';';
  if (!needsEncoding(value) && !/["\\]/.test(value) && value.length <= 60) return [`${name}="${value}"${end}`];
  let encoded = '';
  for (const byte of utf8.encode(value)) {
    const character = String.fromCharCode(byte);
    encoded += byte < 0x80 && attributeChar.test(character) ? character : `%${hex(byte)}`;
  }
  const sections: string[] = [];
  for (let start = 0; start < encoded.length; ) {
    let end = Math.min(start + 60, encoded.length);
    // Never split a %XX escape between two sections.
    const escape = encoded.lastIndexOf('%', end - 1);
    if (escape > end - 3 && escape >= start && end < encoded.length) end = escape;
    sections.push(encoded.slice(start, end));
    start = end;
  }
  if (sections.length === 1) return [`${name}*=utf-8''${sections[0]}${end}`];
  return sections.map((section, index) => {
    const separator = index === sections.length - 1 ? end : ';';
    return `${name}*${index}*=${index === 0 ? "utf-8''" : ''}${section}${separator}`;
  });
}

/** The `name` parameter of Content-Type, for mail clients that read no RFC 2231 (encoded words in quotes, as nodemailer writes it). */
function legacyNameTokens(filename: string): string[] {
  if (!needsEncoding(filename) && !/["\\]/.test(filename)) return [`name="${filename}"`];
  const words = encodedWords(filename);
  return words.map((word, index) => `${index === 0 ? 'name="' : ''}${word}${index === words.length - 1 ? '"' : ''}`);
}

type Part = { headers: string[]; body: string };

function randomBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  // `=_` cannot occur in quoted-printable or base64 text, so the boundary never collides with a body.
  return `=_signet_${Array.from(bytes, hex).join('')}`;
}

function multipart(subtype: 'mixed' | 'alternative', parts: Part[]): Part {
  const boundary = randomBoundary();
  const body = parts.map((part) => `--${boundary}\r\n${part.headers.join('\r\n')}\r\n\r\n${part.body}\r\n`).join('') + `--${boundary}--`;
  return { headers: [foldHeader('Content-Type', [`multipart/${subtype};`, `boundary="${boundary}"`])], body };
}

function textPart(subtype: 'plain' | 'html', text: string): Part {
  return {
    headers: [`Content-Type: text/${subtype}; charset=utf-8`, 'Content-Transfer-Encoding: quoted-printable'],
    body: quotedPrintable(text),
  };
}

function attachmentPart(attachment: MimeAttachment): Part {
  return {
    headers: [
      foldHeader('Content-Type', [`${attachment.contentType};`, ...legacyNameTokens(attachment.filename)]),
      'Content-Transfer-Encoding: base64',
      foldHeader('Content-Disposition', ['attachment;', ...parameterTokens('filename', attachment.filename, true)]),
    ],
    body: base64Lines(attachment.content),
  };
}

/**
 * The complete message, CRLF line endings, ready for SMTP DATA (before
 * dot-stuffing) or an API that takes raw MIME. The message goes through
 * `prepareOutgoingMail` again here (it is idempotent), so nothing reaches a
 * header line that the guard has not seen.
 */
export function composeMimeMessage(message: OutgoingMail, options: MimeMessageOptions): string {
  const mail = prepareOutgoingMail(message);
  const headers = [
    foldHeader('From', mailboxTokens(parseSender(mail.from))),
    foldHeader('To', mailboxTokens(mail.to)),
    foldHeader('Subject', unstructuredTokens(mail.subject, true)),
    `Date: ${formatMailDate(options.date)}`,
    foldHeader('Message-ID', [mail.messageId]),
    ...Object.entries(mail.headers ?? {}).map(([name, value]) => foldHeader(name, unstructuredTokens(value))),
    'MIME-Version: 1.0',
  ];

  // As nodemailer: an empty text or HTML body is left out rather than sent as an empty part.
  const bodies = [...(mail.text !== '' || mail.html === '' ? [textPart('plain', mail.text)] : []), ...(mail.html !== '' ? [textPart('html', mail.html)] : [])];
  const content = bodies.length === 1 ? bodies[0]! : multipart('alternative', bodies);
  const attachments = options.attachments ?? [];
  const root = attachments.length === 0 ? content : multipart('mixed', [content, ...attachments.map(attachmentPart)]);
  return `${[...headers, ...root.headers].join('\r\n')}\r\n\r\n${root.body}\r\n`;
}

/**
 * Reads a message's attachments through the port, with the failures the
 * Node transports report: a file no longer stored is permanent (a retry finds
 * nothing either), a read that fails is temporary.
 */
export async function loadAttachments(mail: OutgoingMail, readAttachment: ReadAttachment | undefined): Promise<MimeAttachment[]> {
  const wanted = mail.attachments ?? [];
  if (wanted.length === 0) return [];
  if (readAttachment === undefined) {
    throw new MailSendError('This transport sends no attachments (no attachment store set)', { permanent: true, code: 'ATTACHMENT_NOT_ALLOWED' });
  }
  const loaded: MimeAttachment[] = [];
  for (const attachment of wanted) {
    let content: Uint8Array | null;
    try {
      content = await readAttachment(attachment.storedPath);
    } catch (error) {
      throw new MailSendError('An attached file cannot be read', { permanent: false, code: 'ATTACHMENT_UNREADABLE', cause: error });
    }
    if (content === null) throw new MailSendError('An attached file is no longer stored', { permanent: true, code: 'ATTACHMENT_MISSING' });
    loaded.push({ filename: attachment.filename, contentType: attachment.contentType, content });
  }
  return loaded;
}
