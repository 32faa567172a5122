import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

/** `secure`: the message came over TLS (after STARTTLS). */
export type ReceivedMail = { raw: string; mailFrom: string; rcptTo: string[]; secure: boolean };

/** An SMTP reply to force instead of 250, e.g. `{ code: 451, message: 'try later' }`. */
export type ForcedReply = { code: number; message: string };

export type TestSmtpServerOptions = {
  /** Called for every message after DATA (index counts every DATA, accepted or not); a reply refuses it. */
  replyToData?: (index: number, raw: string) => ForcedReply | undefined;
  /** Called for every RCPT TO; a reply refuses the recipient. */
  replyToRecipient?: (address: string) => ForcedReply | undefined;
  /** A key and certificate (PEM): the server then offers STARTTLS. */
  tls?: { key: string; cert: string };
};

export type TestSmtpServer = {
  url: string;
  /** Messages answered with 250, in the order they arrived. */
  received: ReceivedMail[];
  /** Every DATA the server read, refused ones included. */
  dataCount(): number;
  close(): Promise<void>;
};

function smtpError(reply: ForcedReply): SMTPServerError {
  const error: SMTPServerError = new Error(reply.message);
  error.responseCode = reply.code;
  return error;
}

/** A real SMTP server on 127.0.0.1 and a free port, without authentication, and without TLS unless given a key and certificate. */
export async function startSmtpServer(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  let dataCount = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: options.tls ? ['AUTH'] : ['STARTTLS', 'AUTH'],
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    logger: false,
    onRcptTo(address, _session, callback) {
      const reply = options.replyToRecipient?.(address.address);
      callback(reply ? smtpError(reply) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const reply = options.replyToData?.(dataCount, raw);
        dataCount++;
        if (reply) return callback(smtpError(reply));
        received.push({
          raw,
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((recipient) => recipient.address),
          secure: session.secure,
        });
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  // A client dropping its connection (a Worker stopped mid-session) is reported here; without a listener it would end the process.
  server.on('error', () => {});
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    dataCount: () => dataCount,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
