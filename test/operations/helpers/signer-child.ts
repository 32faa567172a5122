/**
 * A second process that signs through the HTTP API of a real server, without
 * pause, and appends every 202 it gets to a file as one JSON line
 * `{ "email": …, "ackAt": <ms since epoch> }`, written once the answer is in.
 * Bounded: stops on SIGTERM, after MAX_MS or after MAX_SIGNATURES.
 *
 * argv: <server url> <campaign slug> <ack file> [concurrency]
 */
import { appendFileSync } from 'node:fs';

const [url, slug, ackFileArg, concurrencyArg] = process.argv.slice(2);
if (!url || !slug || !ackFileArg) throw new Error('usage: signer-child URL SLUG ACK_FILE [CONCURRENCY]');
const ackFile = ackFileArg;
const concurrency = Number(concurrencyArg ?? 4);
const MAX_MS = 60_000;
const MAX_SIGNATURES = 20_000;

let stopping = false;
let next = 0;
let failures = 0;
process.on('SIGTERM', () => (stopping = true));
const deadline = Date.now() + MAX_MS;

async function signer(): Promise<void> {
  while (!stopping && Date.now() < deadline && next < MAX_SIGNATURES) {
    const email = `signer-${process.pid}-${next++}@example.org`;
    try {
      const response = await fetch(`${url}/api/v1/campaigns/${slug}/signatures`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Jane Doe', email, country: 'JP', region: 'JP-13', city: 'Tokyo' }),
      });
      await response.arrayBuffer();
      if (response.status === 202) appendFileSync(ackFile, `${JSON.stringify({ email, ackAt: Date.now() })}\n`);
      else failures++;
    } catch {
      failures++;
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, signer));
process.stdout.write(`${JSON.stringify({ signed: next, failures })}\n`);
