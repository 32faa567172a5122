/**
 * The webhook benchmark's receiver, in its own process so its work is not
 * charged to the load generator: a node:http server on 127.0.0.1 that checks
 * every Signet-Signature (HMAC-SHA-256 of `<t>.<body>`, t within 5 minutes)
 * and counts events by Signet-Delivery (duplicates too) and by the bench's own
 * raw posts. Messages from the parent: { type: 'secret', secret } and
 * { type: 'report' } → { delivered, duplicates, rejected, raw }.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let secret = '';
const seen = new Set<string>();
let duplicates = 0;
let rejected = 0;
let raw = 0;

function verified(header: string | undefined, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match || Math.abs(Date.now() / 1000 - Number(match[1])) > 300) return false;
  return timingSafeEqual(createHmac('sha256', secret).update(`${match[1]}.${body}`).digest(), Buffer.from(match[2]!, 'hex'));
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (!verified(request.headers['signet-signature'] as string | undefined, body)) {
      rejected++;
      response.writeHead(401).end();
      return;
    }
    const delivery = request.headers['signet-delivery'] as string | undefined;
    if (delivery === undefined) raw++;
    else if (seen.has(delivery)) duplicates++;
    else seen.add(delivery);
    response.writeHead(204).end();
  });
});
server.listen(0, '127.0.0.1', () => process.send!({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` }));
process.on('message', (message: { type: string; secret?: string }) => {
  if (message.type === 'secret') secret = message.secret!;
  if (message.type === 'report') process.send!({ type: 'report', delivered: seen.size, duplicates, rejected, raw });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
