/**
 * A benchmarks' SMTP server, in its own process so its work is not charged
 * to the load generator: accepts everything on 127.0.0.1, discards bodies,
 * and keeps per recipient how many messages arrived and when the first did
 * (this process's Date.now(), comparable with the parent's on one machine).
 * Messages from the parent: { type: 'report', addresses? } →
 * { accepted, recipients, duplicates, firstArrival: (number | null)[] } with
 * the first arrival of each address asked for, in order (null: none yet).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

let accepted = 0;
const perRecipient = new Map<string, { count: number; first: number }>();
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  maxClients: 1000,
  onData(stream, session, callback) {
    stream.on('end', () => {
      accepted++;
      const now = Date.now();
      for (const { address } of session.envelope.rcptTo) {
        const key = address.toLowerCase();
        const seen = perRecipient.get(key);
        if (seen) seen.count++;
        else perRecipient.set(key, { count: 1, first: now });
      }
      callback(null);
    });
    stream.resume();
  },
});
server.on('error', () => {});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
process.send!({ type: 'ready', url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}` });

process.on('message', (message: { type: string; addresses?: string[] }) => {
  if (message.type !== 'report') return;
  let duplicates = 0;
  for (const { count } of perRecipient.values()) if (count > 1) duplicates += count - 1;
  const firstArrival = (message.addresses ?? []).map((address) => perRecipient.get(address.toLowerCase())?.first ?? null);
  process.send!({ type: 'report', accepted, recipients: perRecipient.size, duplicates, firstArrival });
});
process.on('disconnect', () => process.exit(0));
