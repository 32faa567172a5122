/**
 * SMTP over a plain byte stream, for runtimes without nodemailer and Node's
 * net/tls: the socket comes from a `connect` function shaped like the one of
 * `cloudflare:sockets` (../worker/worker-smtp-transport.ts binds it). The client is
 * small on purpose: EHLO (HELO as a fallback), STARTTLS, AUTH PLAIN or LOGIN,
 * one MAIL FROM, one RCPT TO, DATA with dot-stuffing, QUIT.
 *
 * worker-mailer (the package) was not used: it replaces nothing we need and
 * gets several things wrong for us: it writes encoded words inside quoted
 * strings and never folds them, asks for no delivery reports (NOTIFY=NEVER)
 * whenever the relay offers DSN, goes on in plain text when STARTTLS is not
 * offered, spins forever on a closed socket, and reports failures as text
 * without the reply code that decides between a retry and giving up.
 */
import { systemClock, type Clock } from '../../lib/clock.js';
import { base64, composeMimeMessage, loadAttachments, parseSender, type ReadAttachment } from './mime-message.js';
import { planSmtpConnection, SMTP_TLS_OPT_OUT, type SmtpTlsMode } from './smtp-tls.js';
import { isPermanentSmtpReply, MailSendError, prepareOutgoingMail, type MailTransport, type OutgoingMail } from './transport.js';

/** The part of a `cloudflare:sockets` Socket the client uses. */
export interface SmtpSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Settles once the TCP (and, with `secureTransport: 'on'`, TLS) connection is up, or has failed. */
  readonly opened: Promise<unknown>;
  close(): Promise<void>;
  /** Upgrades the connection (after STARTTLS); the socket it is called on is no longer used. */
  startTls(options?: { expectedServerHostname?: string }): SmtpSocket;
}

export type SmtpSocketOptions = {
  /** `on`: TLS from the first byte; `starttls`: plain text that may be upgraded with `startTls()`. */
  secureTransport: 'on' | 'starttls';
  allowHalfOpen: boolean;
};

/** `connect` of `cloudflare:sockets`, or a stand-in (tests on Node). */
export type ConnectSmtpSocket = (address: { hostname: string; port: number }, options: SmtpSocketOptions) => SmtpSocket;

export type SmtpSocketTransportOptions = {
  /**
   * SMTP_URL, read as on Node (./smtp-tls.ts): `smtps://user:pass@host:465`
   * (TLS from the start) or `smtp://user:pass@host:587` (STARTTLS, required
   * unless the host is the loopback or the URL ends in `?tls=optional`).
   * Default ports as nodemailer's: 465 for smtps://, 587 for smtp://.
   */
  url: string;
  /** Require STARTTLS even to the loopback. It can only make the URL's rule stricter. */
  requireTls?: boolean;
  connect: ConnectSmtpSocket;
  /** Reads attachments (the R2 letter store on Workers). Without it, a message with attachments is refused. */
  readAttachment?: ReadAttachment;
  clock?: Clock;
  /** The name given in EHLO; by default the domain of the message's Message-ID (the sender's domain). */
  clientName?: string;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  /** Longest silence from the server (or wait to write) before a send is abandoned. */
  socketTimeoutMs?: number;
  /**
   * Messages one connection carries before it is closed (default 100, as a relay may limit it);
   * 1 opens a connection per message. Idle connections are kept until `close()`.
   */
  maxMessagesPerConnection?: number;
};

type SmtpReply = { code: number; lines: string[]; text: string };
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
type Timeouts = { connection: number; greeting: number; socket: number };
type Credentials = { username: string; password: string };

const maxErrorLength = 1000;
/** A reply longer than this (in characters or lines) is not an SMTP server talking. */
const maxReplyLength = 64 * 1024;
const maxReplyLines = 1000;
const emailAddress = /[^\s<>()[\]"',;:@]+@[^\s<>()[\]"',;:@]+/g;
const hostname = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const utf8 = new TextEncoder();

/** Error text goes to `outbox.last_error`: keep the SMTP reply but not the addresses in it. */
function redact(text: string): string {
  return text.replace(emailAddress, '[address]').slice(0, maxErrorLength);
}

const tlsHint = ` (no TLS with the relay: SMTP_URL needs smtps:// or a relay that offers STARTTLS, or ?tls=${SMTP_TLS_OPT_OUT} to allow plain text)`;

/**
 * A refused reply, classified as on Node (../node/smtp-transport.ts,
 * classifySmtpError): a 5xx to RCPT TO or DATA refuses this message
 * (permanent, except 503, a broken session); a 5xx to the greeting, EHLO,
 * AUTH or MAIL FROM is the relay refusing our account or sender, which an
 * operator can fix, so it stays temporary, except 552 (too big). AUTH and
 * STARTTLS failures are settings problems and always temporary.
 */
function replyFailure(command: string, reply: SmtpReply, code: string): MailSendError {
  const settingsProblem = code === 'EAUTH' || code === 'ETLS';
  const messageSpecific = command === 'RCPT TO' || command === 'DATA' || reply.code === 552;
  const permanent = !settingsProblem && messageSpecific && isPermanentSmtpReply(reply.code);
  const hint = code === 'ETLS' ? tlsHint : '';
  return new MailSendError(redact(`${command}: ${reply.text}`) + hint, { permanent, responseCode: reply.code, code });
}

function connectionFailure(code: 'ECONNECTION' | 'ETIMEDOUT' | 'EPROTOCOL' | 'ETLS', detail: string, cause?: unknown): MailSendError {
  return new MailSendError(redact(`${code}: ${detail}`) + (code === 'ETLS' ? tlsHint : ''), { permanent: false, code, cause });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Races a promise against a timer that is always cleared, so no timer outlives the send. */
async function within<T>(promise: Promise<T>, ms: number, onTimeout: () => MailSendError): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const base64Utf8 = (text: string) => base64(utf8.encode(text));

/** RFC 5321 §4.5.2: a line of the message that starts with a dot gets a second one. */
export function dotStuff(message: string): string {
  return message.replace(/(^|\r\n)\./g, '$1..');
}

/** One SMTP conversation over one socket; closed by `end()` whatever happened. */
class SmtpSession {
  private socket: SmtpSocket;
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private decoder = new TextDecoder();
  private buffered = '';
  private extensions = new Map<string, string>();
  /** Set once the server has greeted us and cleared when the stream fails: only a working session is ended with QUIT. */
  private talking = false;

  constructor(
    socket: SmtpSocket,
    private readonly timeouts: Timeouts,
  ) {
    this.socket = socket;
    this.reader = socket.readable.getReader();
    this.writer = socket.writable.getWriter();
  }

  async opened(): Promise<void> {
    try {
      await within(this.socket.opened, this.timeouts.connection, () => connectionFailure('ETIMEDOUT', `no connection within ${this.timeouts.connection} ms`));
    } catch (error) {
      if (error instanceof MailSendError) throw error;
      throw connectionFailure('ECONNECTION', errorText(error), error);
    }
  }

  /** Reads one (possibly multi-line) reply. */
  async read(command: string, timeoutMs = this.timeouts.socket): Promise<SmtpReply> {
    const lines: string[] = [];
    for (;;) {
      const newline = this.buffered.indexOf('\n');
      if (newline < 0) {
        if (this.buffered.length > maxReplyLength) throw connectionFailure('EPROTOCOL', `the reply to ${command} is too long`);
        let chunk: ReadResult;
        try {
          chunk = await within(this.reader.read(), timeoutMs, () => connectionFailure('ETIMEDOUT', `no reply to ${command} within ${timeoutMs} ms`));
        } catch (error) {
          this.talking = false;
          if (error instanceof MailSendError) throw error;
          throw connectionFailure('ECONNECTION', `${command}: ${errorText(error)}`, error);
        }
        if (chunk.done) {
          this.talking = false;
          throw connectionFailure('ECONNECTION', `the connection closed while waiting for the reply to ${command}`);
        }
        this.buffered += this.decoder.decode(chunk.value, { stream: true });
        continue;
      }
      const line = this.buffered.slice(0, newline).replace(/\r$/, '');
      this.buffered = this.buffered.slice(newline + 1);
      const match = /^([2-5]\d\d)(?:([ -])(.*))?$/.exec(line);
      if (!match) {
        this.talking = false;
        throw connectionFailure('EPROTOCOL', `an unexpected reply to ${command}: ${line.slice(0, 200)}`);
      }
      lines.push(line);
      if (lines.length > maxReplyLines) {
        this.talking = false;
        throw connectionFailure('EPROTOCOL', `the reply to ${command} is too long`);
      }
      if (match[2] !== '-') return { code: Number(match[1]), lines, text: lines.join(' ') };
    }
  }

  async write(text: string, command: string): Promise<void> {
    try {
      await within(this.writer.write(utf8.encode(text)), this.timeouts.socket, () => connectionFailure('ETIMEDOUT', `could not send ${command} within ${this.timeouts.socket} ms`));
    } catch (error) {
      this.talking = false;
      if (error instanceof MailSendError) throw error;
      throw connectionFailure('ECONNECTION', `${command}: ${errorText(error)}`, error);
    }
  }

  /** Sends a command and reads its reply; `label` replaces the command in errors (AUTH data is secret). */
  async command(line: string, label: string): Promise<SmtpReply> {
    await this.write(`${line}\r\n`, label);
    return this.read(label);
  }

  async greeting(): Promise<void> {
    const reply = await this.read('the greeting', this.timeouts.greeting);
    if (reply.code !== 220) throw replyFailure('CONN', reply, 'EPROTOCOL');
    this.talking = true;
  }

  async hello(clientName: string): Promise<void> {
    const reply = await this.command(`EHLO ${clientName}`, 'EHLO');
    this.extensions.clear();
    if (reply.code === 250) {
      for (const line of reply.lines.slice(1)) {
        const extension = /^\d{3}[ -]([A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](.*))?$/.exec(line);
        if (extension) this.extensions.set(extension[1]!.toUpperCase(), (extension[2] ?? '').trim());
      }
      return;
    }
    // A server without ESMTP: HELO, and no extensions (so no STARTTLS or AUTH).
    const helo = await this.command(`HELO ${clientName}`, 'HELO');
    if (helo.code !== 250) throw replyFailure('HELO', helo, 'EPROTOCOL');
  }

  offers(extension: string): boolean {
    return this.extensions.has(extension);
  }

  async startTls(hostname: string, clientName: string): Promise<void> {
    const reply = await this.command('STARTTLS', 'STARTTLS');
    if (reply.code !== 220) throw replyFailure('STARTTLS', reply, 'ETLS');
    // startTls() takes over the socket; our locks on its streams must be gone first.
    this.reader.releaseLock();
    this.writer.releaseLock();
    this.socket = this.socket.startTls({ expectedServerHostname: hostname });
    this.reader = this.socket.readable.getReader();
    this.writer = this.socket.writable.getWriter();
    this.buffered = '';
    this.decoder = new TextDecoder();
    try {
      await this.hello(clientName);
    } catch (error) {
      // The first reply over TLS is where a failed handshake (e.g. an untrusted certificate) shows.
      if (error instanceof MailSendError && error.code === 'ECONNECTION') throw connectionFailure('ETLS', `the TLS handshake failed: ${error.message}`, error);
      throw error;
    }
  }

  async authenticate(credentials: Credentials): Promise<void> {
    const methods = (this.extensions.get('AUTH') ?? '').toUpperCase().split(/\s+/);
    if (methods.includes('PLAIN')) {
      const reply = await this.command(`AUTH PLAIN ${base64Utf8(`\0${credentials.username}\0${credentials.password}`)}`, 'AUTH PLAIN');
      if (reply.code !== 235) throw replyFailure('AUTH PLAIN', reply, 'EAUTH');
      return;
    }
    if (methods.includes('LOGIN')) {
      const start = await this.command('AUTH LOGIN', 'AUTH LOGIN');
      if (start.code !== 334) throw replyFailure('AUTH LOGIN', start, 'EAUTH');
      const user = await this.command(base64Utf8(credentials.username), 'AUTH LOGIN');
      if (user.code !== 334) throw replyFailure('AUTH LOGIN', user, 'EAUTH');
      const pass = await this.command(base64Utf8(credentials.password), 'AUTH LOGIN');
      if (pass.code !== 235) throw replyFailure('AUTH LOGIN', pass, 'EAUTH');
      return;
    }
    throw new MailSendError('AUTH: the relay offers neither PLAIN nor LOGIN', { permanent: false, code: 'EAUTH' });
  }

  async envelope(from: string, to: string): Promise<void> {
    const international = /[^\x00-\x7f]/.test(from + to);
    if (international && !this.offers('SMTPUTF8')) {
      throw new MailSendError('MAIL FROM: an address is not ASCII and the relay does not offer SMTPUTF8', { permanent: true, code: 'EENVELOPE' });
    }
    const mailFrom = await this.command(`MAIL FROM:<${from}>${international ? ' SMTPUTF8' : ''}`, 'MAIL FROM');
    if (mailFrom.code !== 250) throw replyFailure('MAIL FROM', mailFrom, 'EENVELOPE');
    const rcptTo = await this.command(`RCPT TO:<${to}>`, 'RCPT TO');
    if (rcptTo.code !== 250 && rcptTo.code !== 251) throw replyFailure('RCPT TO', rcptTo, 'EENVELOPE');
  }

  async data(message: string): Promise<void> {
    const start = await this.command('DATA', 'DATA');
    if (start.code !== 354) throw replyFailure('DATA', start, 'EMESSAGE');
    const body = dotStuff(message);
    await this.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'DATA');
    const accepted = await this.read('DATA');
    if (accepted.code !== 250) throw replyFailure('DATA', accepted, 'EMESSAGE');
  }

  /** QUIT and close; the message is already accepted (or failed), so nothing here can fail the send. */
  async end(): Promise<void> {
    if (this.talking) {
      try {
        await this.write('QUIT\r\n', 'QUIT');
        await this.read('QUIT', Math.min(this.timeouts.socket, 5_000));
      } catch {
        // The relay may hang up without answering QUIT.
      }
    }
    try {
      this.reader.releaseLock();
      this.writer.releaseLock();
    } catch {
      // A read still pending after a timeout keeps its lock; closing the socket ends it.
    }
    await this.socket.close().catch(() => undefined);
  }
}

/**
 * Sends over SMTP connections it opens itself and reuses for the next
 * message until `close()`: on Workers an open socket belongs to the request
 * (or queue batch) that opened it, so the transport lives as long as that
 * invocation and is closed at its end. A connection that failed is closed
 * before the error is reported and is never reused; an idle one the relay
 * closed meanwhile is noticed at MAIL FROM (nothing accepted yet) and the
 * message goes over a new one.
 */
export class SmtpSocketTransport implements MailTransport {
  /** How the connection to the relay is protected (./smtp-tls.ts). */
  readonly tls: SmtpTlsMode;
  private readonly hostname: string;
  private readonly port: number;
  private readonly credentials: Credentials | undefined;
  private readonly connect: ConnectSmtpSocket;
  private readonly readAttachment: ReadAttachment | undefined;
  private readonly clock: Clock;
  private readonly clientName: string | undefined;
  private readonly timeouts: Timeouts;
  private readonly maxMessagesPerConnection: number;
  /** Connections whose last message was accepted, ready for the next one. */
  private idle: IdleSession[] = [];

  constructor(options: SmtpSocketTransportOptions) {
    const plan = planSmtpConnection(options.url);
    this.tls = plan.tls === 'opportunistic' && options.requireTls === true ? 'starttls-required' : plan.tls;
    const url = new URL(plan.url);
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port === '' ? (this.tls === 'implicit' ? 465 : 587) : Number(url.port);
    this.credentials = url.username === '' ? undefined : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    this.connect = options.connect;
    this.readAttachment = options.readAttachment;
    this.clock = options.clock ?? systemClock;
    this.clientName = options.clientName;
    // As on Node: bounded well below the outbox lease, so a hung relay cannot outlive it.
    this.timeouts = {
      connection: options.connectionTimeoutMs ?? 30_000,
      greeting: options.greetingTimeoutMs ?? 30_000,
      socket: options.socketTimeoutMs ?? 60_000,
    };
    this.maxMessagesPerConnection = Math.max(1, options.maxMessagesPerConnection ?? 100);
  }

  async send(message: OutgoingMail): Promise<void> {
    const mail = prepareOutgoingMail(message);
    const sender = parseSender(mail.from);
    const attachments = await loadAttachments(mail, this.readAttachment);
    const raw = composeMimeMessage(mail, { date: this.clock.now(), attachments });
    await this.deliver(sender.address, mail.to.address, raw, this.clientName ?? clientNameFor(mail.messageId));
  }

  /** QUITs the idle connections; call after the last `send` has settled. */
  async close(): Promise<void> {
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((entry) => entry.session.end()));
  }

  private async deliver(from: string, to: string, raw: string, clientName: string): Promise<void> {
    const index = this.idle.findIndex((entry) => entry.clientName === clientName);
    if (index >= 0) {
      const [reused] = this.idle.splice(index, 1);
      if ((await this.transfer(reused!, from, to, raw, true)) === 'sent') return;
    }
    await this.transfer(await this.open(clientName), from, to, raw, false);
  }

  /** A new connection, greeted, upgraded to TLS and authenticated as the URL says; closed if any step fails. */
  private async open(clientName: string): Promise<IdleSession> {
    let session: SmtpSession;
    try {
      const socket = this.connect({ hostname: this.hostname, port: this.port }, { secureTransport: this.tls === 'implicit' ? 'on' : 'starttls', allowHalfOpen: false });
      session = new SmtpSession(socket, this.timeouts);
    } catch (error) {
      throw connectionFailure('ECONNECTION', errorText(error), error);
    }
    try {
      await session.opened();
      await session.greeting();
      await session.hello(clientName);
      if (this.tls !== 'implicit') {
        if (session.offers('STARTTLS')) await session.startTls(this.hostname, clientName);
        // Nothing is sent in plain text then; only the operator can change that.
        else if (this.tls === 'starttls-required') throw new MailSendError(`STARTTLS: not offered by the relay${tlsHint}`, { permanent: false, code: 'ETLS' });
      }
      // As nodemailer: credentials are used when the relay asks for them (offers AUTH).
      if (this.credentials !== undefined && session.offers('AUTH')) await session.authenticate(this.credentials);
      return { session, clientName, sent: 0 };
    } catch (error) {
      await session.end();
      throw error instanceof MailSendError ? error : connectionFailure('ECONNECTION', errorText(error), error);
    }
  }

  /**
   * One message over an open connection, which goes back to the idle list once the message is
   * accepted. `stale`: a reused connection failed before the relay answered MAIL FROM, so nothing
   * was accepted and the caller may send over a new one.
   */
  private async transfer(entry: IdleSession, from: string, to: string, raw: string, reused: boolean): Promise<'sent' | 'stale'> {
    let stage: 'envelope' | 'data' = 'envelope';
    try {
      await entry.session.envelope(from, to);
      stage = 'data';
      await entry.session.data(raw);
    } catch (error) {
      await entry.session.end();
      const answered = error instanceof MailSendError && error.responseCode !== undefined;
      if (reused && stage === 'envelope' && !answered) return 'stale';
      throw error instanceof MailSendError ? error : connectionFailure('ECONNECTION', errorText(error), error);
    }
    entry.sent += 1;
    if (entry.sent < this.maxMessagesPerConnection) this.idle.push(entry);
    else await entry.session.end();
    return 'sent';
  }
}

type IdleSession = { session: SmtpSession; clientName: string; sent: number };

/** EHLO names the sending host; the Message-ID's domain is the sender's (IDNA-normalised by newMessageId). */
function clientNameFor(messageId: string): string {
  const domain = /@([^>]+)>$/.exec(messageId)?.[1] ?? '';
  return hostname.test(domain) && domain.includes('.') ? domain : '[127.0.0.1]';
}
