import type { Readable } from 'node:stream';
import type { OutgoingMail } from './transport.js';

// The Node transports' shared step (nodemailer runs on Node only; the Workers
// transports build MIME with src/mail/mime-message.ts).

/** An attachment opened by a transport, in the form nodemailer takes (content, never a path or URL). */
export type OpenedAttachment = { filename: string; contentType: string; content: Readable };

/** The fields both adapters hand to nodemailer (SMTP send or .eml composition), with the attachments they opened. */
export function toNodemailerFields(mail: OutgoingMail, attachments: OpenedAttachment[] = []) {
  return {
    ...(attachments.length > 0 ? { attachments } : {}),
    from: mail.from,
    to: { name: mail.to.name ?? '', address: mail.to.address },
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    headers: mail.headers,
    messageId: mail.messageId,
  };
}
