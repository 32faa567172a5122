import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a receiver got: each POST, whether its signature and timestamp held, and what it answered. */
export type Received = { headers: IncomingHttpHeaders; body: string; verified: boolean; why?: string; status: number };

/** How far a signature's timestamp may be from the receiver's clock (as Stripe's and Svix's receivers do). */
export const TOLERANCE_SECONDS = 300;

/**
 * Checks `Signet-Signature: t=<unix>,v1=<hex>` as a receiver would: HMAC-SHA-256 of
 * `<t>.<raw body>` with the secret, compared in constant time, and `t` within the window.
 */
export function verifySignature(secret: string, header: string | undefined, body: string, nowSeconds: number): { ok: true } | { ok: false; why: string } {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return { ok: false, why: 'malformed' };
  const t = Number(match[1]);
  if (Math.abs(nowSeconds - t) > TOLERANCE_SECONDS) return { ok: false, why: 'stale' };
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(match[2]!, 'hex');
  return timingSafeEqual(expected, given) ? { ok: true } : { ok: false, why: 'bad signature' };
}

/**
 * A webhook receiver on 127.0.0.1 (node:http) that verifies every request against `secret()`
 * and the clock `now()` (ms); `answer(n)` is the status for the n-th POST (from 1), 200 by default.
 * A request that does not verify gets 401.
 */
export async function startReceiver(options: { secret: () => string; now: () => number; answer?: (n: number) => number }) {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const check = verifySignature(options.secret(), request.headers['signet-signature'] as string | undefined, body, Math.floor(options.now() / 1000));
      const status = check.ok ? (options.answer?.(received.length + 1) ?? 200) : 401;
      received.push({ headers: request.headers, body, verified: check.ok, status, ...(check.ok ? {} : { why: check.why }) });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    /** The events taken (2xx after a verified signature), by delivery id. */
    accepted: () => received.filter((r) => r.verified && r.status < 300),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
