/**
 * The mixed-load bench's SMTP server, in its own process so its work is not
 * charged to the load generator: the tests' counting server (accepts
 * everything on 127.0.0.1, discards bodies, counts per recipient).
 * Messages from the parent: 'report' → { accepted, recipients, duplicates, matching };
 * 'arrivals' → { arrivals: [address, epoch ms of its first message][] } for the addresses
 * starting with the prefix (when each signer's confirmation email left Signet).
 */
import { startCountingSmtpServer } from '../test/mail/helpers/counting-smtp-server.js';

const firstArrival = new Map<string, number>();
const server = await startCountingSmtpServer((_total, recipients) => {
  const now = Date.now();
  for (const address of recipients) if (!firstArrival.has(address)) firstArrival.set(address, now);
});
process.send!({ type: 'ready', url: server.url });

process.on('message', (message: { type: string; prefix?: string }) => {
  if (message.type === 'arrivals') {
    const prefix = message.prefix ?? '';
    process.send!({ type: 'arrivals', arrivals: [...firstArrival].filter(([address]) => address.startsWith(prefix)) });
    return;
  }
  if (message.type !== 'report') return;
  let duplicates = 0;
  let matching = 0;
  for (const [address, count] of server.perRecipient) {
    if (count > 1) duplicates += count - 1;
    if (message.prefix && address.toLowerCase().startsWith(message.prefix)) matching++;
  }
  process.send!({ type: 'report', accepted: server.accepted(), recipients: server.perRecipient.size, duplicates, matching });
});
process.on('disconnect', () => process.exit(0));
