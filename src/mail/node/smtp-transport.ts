import nodemailer from 'nodemailer';
import { toNodemailerFields } from './nodemailer-fields.js';
import type { SMTPPoolOptions, SMTPPoolSentMessageInfo, Transporter } from 'nodemailer';
import type { Logger } from '../../lib/logger.js';
import { openStoredAttachments } from './file-transport.js';
import { planSmtpConnection, SMTP_TLS_OPT_OUT, type SmtpTlsMode } from '../transports/smtp-tls.js';
import { isPermanentSmtpReply, MailSendError, prepareOutgoingMail, type MailTransport, type OutgoingMail } from '../transports/transport.js';

export type SmtpTransportOptions = {
  /**
   * `smtps://user:pass@host:465` (TLS from the start) or `smtp://user:pass@host:587`
   * (STARTTLS, required unless the host is the loopback or the URL ends in
   * `?tls=optional`: ../transports/smtp-tls.ts). Percent-encode reserved characters in the
   * user name and password.
   */
  url: string;
  /**
   * Require STARTTLS even to the loopback (e.g. a local relay that must not
   * be spoken to in plain text). It can only make the URL's rule stricter.
   */
  requireTls?: boolean;
  /** Connections kept open to the relay. */
  maxConnections?: number;
  /** Messages sent over one connection before it is replaced. */
  maxMessages?: number;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  /** Longest silence from the server before a send is abandoned. */
  socketTimeoutMs?: number;
  logger?: Logger;
  /** DATA_DIR: attachments are read from under it, and only from there. Without it, a message with attachments is refused. */
  dataDir?: string;
};

const maxErrorLength = 1000;
const emailAddress = /[^\s<>()[\]"',;:@]+@[^\s<>()[\]"',;:@]+/g;

type NodemailerFailure = {
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
  message?: unknown;
};

// Failures of the relay or of our own settings rather than of one message:
// failing each message for good would empty the outbox during a misconfiguration.
const relayProblems = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ETLS', 'EREQUIRETLS', 'ECONFIG', 'EPROXY', 'EDNS']);

/** Error text goes to `outbox.last_error`: keep the SMTP reply but not the addresses in it. */
function redact(text: string): string {
  return text.replace(emailAddress, '[address]').slice(0, maxErrorLength);
}

/**
 * Turns a nodemailer error into a MailSendError. A 5xx reply to RCPT TO or
 * DATA refuses this message (permanent); a 5xx to the greeting, AUTH or
 * MAIL FROM is almost always the relay refusing our account or sender, which
 * an operator can fix, so it stays temporary — except 552 (message too big).
 * Connection errors, timeouts and 4xx replies are temporary.
 */
export function classifySmtpError(error: unknown): MailSendError {
  if (error instanceof MailSendError) return error;
  const failure: NodemailerFailure = typeof error === 'object' && error !== null ? (error as NodemailerFailure) : {};
  const code = typeof failure.code === 'string' ? failure.code : undefined;
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const command = typeof failure.command === 'string' ? failure.command : undefined;
  const response = typeof failure.response === 'string' ? failure.response : undefined;

  let permanent: boolean;
  if (code !== undefined && relayProblems.has(code)) permanent = false;
  else if (responseCode !== undefined) {
    const messageSpecific = command === 'RCPT TO' || command === 'DATA' || responseCode === 552;
    permanent = messageSpecific && isPermanentSmtpReply(responseCode);
  } else {
    // Without a reply, only nodemailer refusing the envelope or message itself is final.
    permanent = code === 'EENVELOPE' || code === 'EMESSAGE';
  }

  const detail =
    response !== undefined
      ? `${command ?? 'SMTP'}: ${response}`
      : `${code ?? 'ERROR'}: ${typeof failure.message === 'string' ? failure.message : String(error)}`;
  // Nothing was sent in plain text; say which setting decides, since only the operator can act on it.
  const hint = code === 'ETLS' ? ` (no TLS with the relay: SMTP_URL needs smtps:// or a relay that offers STARTTLS, or ?tls=${SMTP_TLS_OPT_OUT} to allow plain text)` : '';
  return new MailSendError(redact(detail) + hint, { permanent, responseCode, code, cause: error });
}

/**
 * Sends through an SMTP relay over a pool of persistent connections, so a
 * burst of mail does not pay a TCP and TLS handshake per message.
 */
export class SmtpTransport implements MailTransport {
  private readonly transporter: Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;
  private readonly dataDir: string | undefined;
  /** How the connection to the relay is protected (../transports/smtp-tls.ts). */
  readonly tls: SmtpTlsMode;

  constructor(options: SmtpTransportOptions) {
    this.dataDir = options.dataDir;
    const plan = planSmtpConnection(options.url);
    this.tls = plan.tls === 'opportunistic' && options.requireTls === true ? 'starttls-required' : plan.tls;
    this.transporter = nodemailer.createTransport({
      pool: true,
      url: plan.url,
      // STARTTLS or no mail: nodemailer then refuses to go on in plain text (ETLS), and says so.
      requireTLS: this.tls === 'starttls-required',
      maxConnections: options.maxConnections ?? 5,
      // nodemailer's default of 100 reconnects often during a large mailing.
      maxMessages: options.maxMessages ?? 1000,
      // Bounded well below the outbox lease, so a hung relay cannot outlive
      // the lease and let a second worker send the same message.
      connectionTimeout: options.connectionTimeoutMs ?? 30_000,
      greetingTimeout: options.greetingTimeoutMs ?? 30_000,
      socketTimeout: options.socketTimeoutMs ?? 60_000,
      // Messages are built from data; nothing in them may make the mailer read files or URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
    const logger = options.logger;
    // An EventEmitter 'error' without a listener would crash the process.
    this.transporter.on('error', (error: unknown) => {
      const failure = classifySmtpError(error);
      logger?.error('smtp transport error', { code: failure.code, responseCode: failure.responseCode });
    });
  }

  async send(message: OutgoingMail): Promise<void> {
    const mail = prepareOutgoingMail(message);
    const opened = await openStoredAttachments(mail, this.dataDir);
    try {
      await this.transporter.sendMail(toNodemailerFields(mail, opened.attachments));
    } catch (error) {
      throw classifySmtpError(error);
    } finally {
      opened.close();
    }
  }

  /**
   * Connects, says EHLO (and STARTTLS and AUTH, as sending would) and hangs
   * up, for `signet doctor`. Throws a MailSendError saying what failed.
   */
  async verify(): Promise<void> {
    try {
      await this.transporter.verify();
    } catch (error) {
      throw classifySmtpError(error);
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}
