/**
 * The mixed-load bench's SMTP server, in its own process so its work is not
 * charged to the load generator: the tests' counting server (accepts
 * everything on 127.0.0.1, discards bodies, counts per recipient).
 * Messages from the parent: 'report' → { accepted, recipients, duplicates, matching }.
 */
import { startCountingSmtpServer } from '../test/mail/helpers/counting-smtp-server.js';

const server = await startCountingSmtpServer();
process.send!({ type: 'ready', url: server.url });

process.on('message', (message: { type: string; prefix?: string }) => {
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
