import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { outbox } from '../../../src/db/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { MailTransport } from '../../../src/mail/transports/transport.js';
import { nodeWebhookHttp } from '../../../src/lib/node/webhook-http.js';
import { OutboxDelivery } from '../../../src/outbox/deliver.js';
import { WebhookSender } from '../../../src/services/webhook-sender.js';
import type { createTestApp } from '../../helpers/app.js';
import { testKeys, testLinks } from '../../helpers/keys.js';
import { latestConfirmToken, sendDue } from '../../helpers/signing.js';

export type TestApp = ReturnType<typeof createTestApp>;

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

/** Webhooks are no email: a delivery that tried to mail one would fail the test. */
const noMail: MailTransport = {
  send: async () => {
    throw new Error('no email expected here');
  },
  close: async () => undefined,
};

export function deliveryFor(t: TestApp, options: { allowPrivate?: boolean; disableAfter?: number; concurrency?: number } = {}) {
  const sender = new WebhookSender({
    database: t.database,
    clock: t.clock,
    logger: silentLogger,
    keys: testKeys,
    http: nodeWebhookHttp,
    allowPrivate: options.allowPrivate ?? true,
    publicUrl: 'http://localhost:3000',
    mailFrom: 'Signet <no-reply@signet.test>',
    timeoutMs: 5_000,
    ...(options.disableAfter ? { disableAfter: options.disableAfter } : {}),
  });
  return new OutboxDelivery({
    database: t.database,
    transport: noMail,
    clock: t.clock,
    logger: silentLogger,
    from: 'Signet <no-reply@signet.test>',
    links: testLinks,
    owner: 'webhook-test',
    leaseMs: 60_000,
    backoff: { baseMs: 1_000, maxMs: 1_000 },
    random: () => 0,
    webhooks: sender,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
}

/** Signs each, lets the confirmation emails go (marked sent), then confirms each: the webhook rows are then the only ones due. */
export async function signAndConfirm(t: TestApp, slug: string, ...bodies: (Record<string, unknown> & { email: string })[]): Promise<void> {
  const tokens: string[] = [];
  for (const body of bodies) {
    expect((await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body })).status).toBe(202);
    tokens.push(await latestConfirmToken(t, body.email));
  }
  await sendDue(t);
  for (const token of tokens) expect((await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } })).status).toBe(200);
}

export async function addHook(t: TestApp, url: string, events: string[]): Promise<{ id: string; secret: string }> {
  const res = await t.request('POST', '/api/v1/webhooks', { body: { url, events } });
  expect(res.status).toBe(201);
  return res.json();
}

/** Drains until nothing is due, moving the clock past each backoff; at most `rounds` times. */
export async function drainAll(t: TestApp, delivery: OutboxDelivery, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await delivery.drain({});
    const pending = await t.database.db.select({ id: outbox.id }).from(outbox).where(eq(outbox.status, 'pending'));
    if (pending.length === 0) return;
    t.clock.advance(2_000);
  }
  throw new Error('the outbox did not settle');
}
