/**
 * Mail through an HTTP mail API, for Workers whose SMTP relay cannot be
 * reached over `cloudflare:sockets` (port 25 is blocked; some relays accept
 * only known IP addresses).
 *
 * The API is Mailgun's raw-MIME endpoint, `POST /v3/<domain>/messages.mime`
 * (https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages/post-v3--domain-name--messages-mime):
 * HTTP Basic authentication as `api:<key>`, a multipart/form-data body with
 * `to` (the recipient) and `message` (the complete RFC 5322 message, as a
 * file). It was chosen because it takes the message whole: the text built by
 * ./mime-message.ts is the one the SMTP transports send, with our Message-ID,
 * List-Unsubscribe headers and attachments, and nothing provider-specific is
 * composed here. Services that take JSON fields instead (Postmark, SendGrid)
 * would rebuild the message their way; Amazon SES's raw send needs SigV4
 * request signing. Any service or relay bridge that speaks this one request
 * can stand in for Mailgun.
 *
 * Settings: MAIL_API_URL, the endpoint itself (e.g.
 * `https://api.mailgun.net/v3/mg.example.org/messages.mime`, or
 * `api.eu.mailgun.net` for an EU domain), and MAIL_API_TOKEN, the API key.
 */
import { systemClock, type Clock } from '../../lib/clock.js';
import { base64, composeMimeMessage, loadAttachments, type ReadAttachment } from './mime-message.js';
import { isLoopbackHost } from './smtp-tls.js';
import { MailSendError, prepareOutgoingMail, type MailTransport, type OutgoingMail } from './transport.js';

export type HttpMailTransportOptions = {
  /** MAIL_API_URL: the messages.mime endpoint. https://, or http:// to the loopback only (the key travels with every request). */
  url: string;
  /** MAIL_API_TOKEN: the API key, sent as the password of user `api`. */
  token: string;
  /** Reads attachments (the R2 letter store on Workers). Without it, a message with attachments is refused. */
  readAttachment?: ReadAttachment;
  clock?: Clock;
  /** Longest wait for the API's answer before the send is abandoned (and retried later). */
  timeoutMs?: number;
};

export class MailApiUrlError extends TypeError {
  override name = 'MailApiUrlError';
}

/**
 * Checks MAIL_API_URL (also for settings validation, so a bad URL stops the
 * start rather than every send): https://, or http:// to the loopback only,
 * since the key travels with every request, and no credentials in the URL.
 */
export function checkMailApiUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MailApiUrlError('MAIL_API_URL must be a URL such as https://api.mailgun.net/v3/mg.example.org/messages.mime');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new MailApiUrlError('MAIL_API_URL must start with https:// (http:// only to the loopback): the API key is sent with every request');
  }
  if (url.username !== '' || url.password !== '') throw new MailApiUrlError('MAIL_API_URL must not hold credentials: the key goes in MAIL_API_TOKEN');
  return url;
}

const maxErrorLength = 1000;
const emailAddress = /[^\s<>()[\]"',;:@]+@[^\s<>()[\]"',;:@]+/g;

/**
 * Which refusals are about this message. 4xx refuses the request for good,
 * except where the cause is the installation or the service rather than the
 * message: a wrong key (401, 403), a wrong endpoint or domain (404, which
 * Mailgun also answers while a new domain propagates), a redirect, a timeout
 * (408), and rate limits (429). As on SMTP, failing every message for good
 * during a misconfiguration would empty the outbox; 5xx is temporary too.
 */
function isPermanentHttpStatus(status: number): boolean {
  return status >= 400 && status < 500 && ![401, 403, 404, 408, 425, 429].includes(status);
}

function codeFor(status: number): string {
  if (status === 401 || status === 403) return 'EAUTH';
  if (status === 404 || (status >= 300 && status < 400)) return 'ECONFIG';
  return `HTTP_${status}`;
}

/** The API's own explanation (Mailgun: `{ "message": "…" }`), without addresses: it goes to `outbox.last_error`. */
function explanation(body: string): string {
  let text = body.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string') text = (parsed as { message: string }).message;
  } catch {
    // Not JSON: the text as it came.
  }
  return text.replace(/\s+/g, ' ').replace(emailAddress, '[address]').slice(0, 300);
}

/**
 * Sends each message with one HTTP request to a raw-MIME mail API
 * (Mailgun's messages.mime; see the file header).
 */
export class HttpMailTransport implements MailTransport {
  private readonly endpoint: string;
  private readonly authorization: string;
  private readonly readAttachment: ReadAttachment | undefined;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(options: HttpMailTransportOptions) {
    const url = checkMailApiUrl(options.url);
    if (options.token === '') throw new MailApiUrlError('MAIL_API_URL needs MAIL_API_TOKEN');
    this.endpoint = url.toString();
    this.authorization = `Basic ${base64(new TextEncoder().encode(`api:${options.token}`))}`;
    this.readAttachment = options.readAttachment;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async send(message: OutgoingMail): Promise<void> {
    const mail = prepareOutgoingMail(message);
    const attachments = await loadAttachments(mail, this.readAttachment);
    const raw = composeMimeMessage(mail, { date: this.clock.now(), attachments });

    const form = new FormData();
    form.append('to', mail.to.address);
    form.append('message', new Blob([raw], { type: 'message/rfc822' }), 'message.eml');

    let response: Response;
    let body: string;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { authorization: this.authorization, accept: 'application/json' },
        body: form,
        // A redirect would be a wrong MAIL_API_URL; following it could carry the message elsewhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // Read to the end even when unused, so the connection is released.
      body = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const code = timedOut ? 'ETIMEDOUT' : 'ECONNECTION';
      const detail = timedOut ? `no answer from the mail API within ${this.timeoutMs} ms` : error instanceof Error ? error.message : String(error);
      throw new MailSendError(`${code}: ${detail}`.replace(emailAddress, '[address]').slice(0, maxErrorLength), { permanent: false, code, cause: error });
    }
    if (response.status >= 200 && response.status < 300) return;

    const status = response.status === 0 ? 302 : response.status;
    throw new MailSendError(`HTTP ${status}: ${explanation(body)}`.slice(0, maxErrorLength), {
      permanent: isPermanentHttpStatus(status),
      code: codeFor(status),
    });
  }

  /** Nothing to release: each send is one request. */
  async close(): Promise<void> {}
}
