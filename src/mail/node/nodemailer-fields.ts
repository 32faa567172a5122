import type { Readable } from 'node:stream';
import type { OutgoingMail } from '../transports/transport.js';

// The Node transports' shared step (nodemailer runs on Node only; the Workers
// transports build MIME with src/mail/transports/mime-message.ts).

/** An attachment opened by a transport, in the form nodemailer takes (content, never a path or URL). */
export type OpenedAttachment = { filename: string; contentType: string; content: Readable };

/** RFC 5322: at most 998 octets on a line, its line break aside. */
const MAX_LINE_OCTETS = 998;

/**
 * The text part as written, UTF-8 in 8bit, for a file a person reads: nodemailer would encode
 * Japanese text as base64 or quoted-printable, which breaks a link across lines and writes its
 * `=` as `=3D`, so `grep` found no working confirmation link. Only when every line fits in 998
 * octets; otherwise nodemailer's own encoding. Not for SMTP, where 8bit would need the relay's
 * 8BITMIME (and a relay converting it would break a DKIM signature).
 */
function textAsWritten(text: string): string | { raw: string } {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.some((line) => Buffer.byteLength(line, 'utf8') > MAX_LINE_OCTETS)) return text;
  return { raw: `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${lines.join('\r\n')}` };
}

/**
 * The fields both adapters hand to nodemailer (SMTP send or .eml composition), with the attachments they opened.
 * `forReading`: the .eml file's layout, its text part as written and its HTML in base64, so the
 * only links `grep` finds in the file are the text part's, whole.
 */
export function toNodemailerFields(mail: OutgoingMail, attachments: OpenedAttachment[] = [], options: { forReading?: boolean } = {}) {
  return {
    ...(attachments.length > 0 ? { attachments } : {}),
    from: mail.from,
    to: { name: mail.to.name ?? '', address: mail.to.address },
    subject: mail.subject,
    text: options.forReading ? textAsWritten(mail.text) : mail.text,
    html: options.forReading ? { content: mail.html, contentTransferEncoding: 'base64' } : mail.html,
    headers: mail.headers,
    messageId: mail.messageId,
  };
}
