import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type CountingSmtpServer = {
  url: string;
  /** Messages accepted (250), bodies discarded. */
  accepted(): number;
  /** How many accepted messages each recipient address received. */
  perRecipient: Map<string, number>;
  close(): Promise<void>;
};

/**
 * A real SMTP server on 127.0.0.1 that keeps counts, not bodies, for tests
 * that send tens of thousands of messages. `onAccepted` runs after each
 * accepted message with the running total and the message's recipients.
 */
export async function startCountingSmtpServer(onAccepted?: (total: number, recipients: string[]) => void): Promise<CountingSmtpServer> {
  let accepted = 0;
  const perRecipient = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    maxClients: 1000,
    onData(stream, session, callback) {
      stream.on('end', () => {
        accepted++;
        // Read before the callback: smtp-server starts a new envelope once the message is accepted.
        const recipients = session.envelope.rcptTo.map((recipient) => recipient.address);
        for (const address of recipients) perRecipient.set(address, (perRecipient.get(address) ?? 0) + 1);
        callback(null);
        onAccepted?.(accepted, recipients);
      });
      stream.resume();
    },
  });
  // A client killed mid-session resets its socket; that is expected here, not a failure.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    accepted: () => accepted,
    perRecipient,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
