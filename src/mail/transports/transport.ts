import type { OutboxMessage } from '../../db/schema.js';

/** An outbox message with what the sender adds: the From line and the stored Message-ID. */
export type OutgoingMail = OutboxMessage & { from: string; messageId: string };

/**
 * Where mail leaves the application (an SMTP relay, `.eml` files, …).
 * `send` resolves once the message has been handed over for good and rejects
 * with a MailSendError otherwise, saying whether a retry can help.
 */
export interface MailTransport {
  send(message: OutgoingMail): Promise<void>;
  /** Releases connections; call after the last `send` has settled. */
  close(): Promise<void>;
}

export type MailSendErrorOptions = {
  /** True when sending the same message again would fail the same way. */
  permanent: boolean;
  /** The SMTP reply code, when the failure is a reply from the server. */
  responseCode?: number;
  /** A machine-readable cause, e.g. a nodemailer code such as `ECONNECTION`. */
  code?: string;
  cause?: unknown;
};

/**
 * A failed send. Its message must carry no personal data beyond the SMTP
 * reply text: it is stored in `outbox.last_error`.
 */
export class MailSendError extends Error {
  override readonly name = 'MailSendError';
  readonly permanent: boolean;
  readonly responseCode: number | undefined;
  readonly code: string | undefined;

  constructor(message: string, options: MailSendErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.permanent = options.permanent;
    this.responseCode = options.responseCode;
    this.code = options.code;
  }
}

/**
 * RFC 5321: 5yz replies are permanent and 4yz transient. 503 (bad sequence
 * of commands) is the exception: it reports a broken session, not a refused
 * message, so a new connection can deliver the same message.
 */
export function isPermanentSmtpReply(responseCode: number): boolean {
  return responseCode >= 500 && responseCode < 600 && responseCode !== 503;
}

// Headers the transport builds itself; a custom header must not replace or
// duplicate them (a second To or Bcc would change who reads the message).
const reservedHeaders = new Set([
  'bcc',
  'cc',
  'content-transfer-encoding',
  'content-type',
  'date',
  'from',
  'message-id',
  'mime-version',
  'return-path',
  'sender',
  'subject',
  'to',
]);

// RFC 5322 field-name: printable US-ASCII except the colon.
const headerName = /^[!-9;-~]+$/;
const lineBreakOrNul = /[\r\n\0]/;
const mailbox = /^[^\s<>@"(),;:\\[\]]+@[^\s<>@"(),;:\\[\]]+$/;
const messageId = /^<[^\s<>@]+@[^\s<>@]+>$/;
// Relative, forward slashes, no empty, `.` or `..` segment, no backslash or control character.
const storedRelativePath = /^(?!\/)(?!.*(?:^|\/)\.{1,2}(?:\/|$))(?!.*\/\/)[^\\\p{Cc}]+$/u;
const mediaType = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;

function invalid(message: string, code: string): MailSendError {
  return new MailSendError(message, { permanent: true, code });
}

/** Display text in a header is one line; folding it is the encoder's job, not the caller's. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\0]+/g, ' ');
}

/**
 * Checks a message before an adapter encodes it: nothing a supporter or an
 * organiser typed may add a header line. Names and the subject lose their line
 * breaks; a malformed address or custom header is refused (permanently, since
 * a retry would meet the same data). Errors never quote the offending value.
 */
export function prepareOutgoingMail(mail: OutgoingMail): OutgoingMail {
  if (lineBreakOrNul.test(mail.from)) throw invalid('The sender contains a line break', 'INVALID_SENDER');
  if (!messageId.test(mail.messageId)) throw invalid('The Message-ID is not of the form <id@domain>', 'INVALID_MESSAGE_ID');
  const address = mail.to.address.trim();
  if (!mailbox.test(address)) throw invalid('The recipient address is not valid', 'INVALID_RECIPIENT');

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(mail.headers ?? {})) {
    if (!headerName.test(name)) throw invalid('A custom header name is not valid', 'INVALID_HEADER');
    if (reservedHeaders.has(name.toLowerCase())) throw invalid(`The header ${name} cannot be set as a custom header`, 'INVALID_HEADER');
    if (lineBreakOrNul.test(value)) throw invalid(`The value of the header ${name} contains a line break`, 'INVALID_HEADER');
    headers[name] = value;
  }

  const to = mail.to.name === undefined ? { address } : { name: oneLine(mail.to.name).trim(), address };
  const attachments = mail.attachments?.map((attachment) => {
    if (!storedRelativePath.test(attachment.storedPath)) throw invalid('An attachment path is not a path inside the data directory', 'INVALID_ATTACHMENT');
    if (!mediaType.test(attachment.contentType)) throw invalid('An attachment content type is not valid', 'INVALID_ATTACHMENT');
    // The encoder writes the name as RFC 2231 parameters; path separators and line breaks never reach it.
    const filename = oneLine(attachment.filename).replace(/[/\\]+/g, '_').trim().slice(0, 200) || 'attachment';
    return { ...attachment, filename };
  });
  return { ...mail, to, subject: oneLine(mail.subject), headers, ...(attachments ? { attachments } : {}) };
}

/**
 * Mail written as files (no SMTP_URL): each holds an address and, for a
 * while, a working confirmation link. Node's adapter is
 * src/mail/node/mail-file-cleaner.ts; a runtime without mail files has none.
 */
export interface MailFileCleaner {
  /** Deletes the message files written before `cutoff` (ms since the epoch); resolves how many. */
  deleteOlderThan(cutoff: number): Promise<number>;
}
