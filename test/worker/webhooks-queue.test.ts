// Webhooks on Workers (src/entry/worker.ts): a confirmation in D1 queues the event, the cron's
// dispatch publishes it, the queue consumer composes, signs and POSTs it with fetch. Run in
// workerd through `npm run worker:dev`, to a receiver on 127.0.0.1 that checks the signature.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { startWorkerDevProcess, type WorkerDevProcess } from '../helpers/worker-dev-process.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers/smtp-server.js';
import { startReceiver } from '../services/webhooks/helpers.js';

const adminToken = 'hooks-admin-token-0123456789abcdef';
const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
let smtp: TestSmtpServer;
let worker: WorkerDevProcess;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let secret = '';

beforeAll(async () => {
  smtp = await startSmtpServer({});
  receiver = await startReceiver({ secret: () => secret, now: () => Date.now(), answer: (n) => (n === 1 ? 503 : 200) });
  worker = await startWorkerDevProcess({ ADMIN_TOKEN: adminToken, SMTP_URL: smtp.url, PUBLIC_URL: 'http://signet.example', SIGN_RATE_LIMIT: 'off', WEBHOOK_ALLOW_PRIVATE: 'true' });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await smtp?.close();
  await receiver?.close();
});

describe('webhooks on Workers', () => {
  it('delivers signature.confirmed through the queue consumer, signed, retried after a failure, logged', { timeout: 120_000 }, async () => {
    const api = `${worker.url}/api/v1`;
    expect((await fetch(`${api}/campaigns`, { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'hooks', title: 'Hooks', locale: 'en' }) })).status).toBe(201);
    expect((await fetch(`${api}/campaigns/hooks`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
    const created = await fetch(`${api}/webhooks`, { method: 'POST', headers: organiser, body: JSON.stringify({ url: receiver.url, events: ['signature.confirmed'] }) });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as { id: string; secret: string };
    secret = hook.secret;

    const signed = await fetch(`${api}/campaigns/hooks/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada Lovelace', email: 'ada@example.org', country: 'GB', consent: { nameOnLetter: 'full', updates: true } }),
    });
    expect(signed.status).toBe(202);
    const mail = await waitFor('the confirmation', () => smtp.received.find((m) => m.rcptTo.includes('ada@example.org')), 30_000);
    const token = /\/confirm\/([A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, ''))![1]!;
    expect((await fetch(`${api}/signatures/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })).status).toBe(200);

    // The cron dispatches the event; the receiver refuses the first attempt, a later sweep sends it again.
    await waitFor(
      'the event, accepted',
      async () => {
        await worker.tick();
        return receiver.accepted().length > 0 ? true : undefined;
      },
      90_000,
      2_000,
    );
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const body = JSON.parse(receiver.accepted()[0]!.body);
    expect(body[0]['osdi:signature'].person).toMatchObject({ given_name: 'Ada', family_name: 'Lovelace', email_addresses: [{ address: 'ada@example.org', status: 'subscribed' }] });
    const log = (await (await fetch(`${api}/webhooks/${hook.id}/deliveries`, { headers: organiser })).json()) as { items: { outcome: string; statusCode: number }[] };
    expect(log.items.map((item) => [item.outcome, item.statusCode])).toEqual([
      ['delivered', 200],
      ['failed', 503],
    ]);
    expect(receiver.accepted()).toHaveLength(1);
  });
});
