import { connect } from 'cloudflare:sockets';
import { SmtpSocketTransport, type SmtpSocketTransportOptions } from '../transports/smtp-socket-transport.js';

export type WorkerSmtpTransportOptions = Omit<SmtpSocketTransportOptions, 'connect'>;

/**
 * Mail through an SMTP relay from Cloudflare Workers: the SMTP client of
 * ../transports/smtp-socket-transport.ts over `cloudflare:sockets`, configured by the same
 * SMTP_URL as on Node. Cloudflare blocks outbound port 25, so the relay is
 * reached on 587 (STARTTLS) or 465 (smtps://). Certificates are always
 * verified: there is no `tls.rejectUnauthorized=false` on Workers.
 */
export class WorkerSmtpTransport extends SmtpSocketTransport {
  constructor(options: WorkerSmtpTransportOptions) {
    super({ ...options, connect: (address, socketOptions) => connect(address, socketOptions) });
  }
}
