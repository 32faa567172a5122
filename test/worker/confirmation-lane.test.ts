// The confirmation lane on Workers (PRODUCT.md §8, issue #17): the
// dispatcher leases confirmation emails under CONFIRM_EMAILS_PER_MINUTE
// counted in D1, so the limit holds whichever isolate dispatches, and a
// request past it is held and mailed when the rate allows, never dropped. Run in
// workerd through `npm run worker:dev`, against a real SMTP server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerDevProcess, type WorkerDevProcess } from '../helpers/worker-dev-process.js';
import { waitFor } from '../helpers/wait.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers/smtp-server.js';

const adminToken = 'lane-admin-token-0123456789abcdef';
const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
let smtp: TestSmtpServer;
let worker: WorkerDevProcess;

beforeAll(async () => {
  smtp = await startSmtpServer();
  worker = await startWorkerDevProcess({ ADMIN_TOKEN: adminToken, SMTP_URL: smtp.url, PUBLIC_URL: 'http://signet.example', SIGN_RATE_LIMIT: 'off', CONFIRM_EMAILS_PER_MINUTE: '3' });
  const api = `${worker.url}/api/v1`;
  expect((await fetch(`${api}/campaigns`, { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'lane', title: 'Lane', locale: 'en' }) })).status).toBe(201);
  expect((await fetch(`${api}/campaigns/lane`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await smtp?.close();
});

describe('the confirmation lane on Workers', () => {
  it('past CONFIRM_EMAILS_PER_MINUTE every request is held; the rest are mailed by the next minute\'s dispatch, each once', async () => {
    const supporters = Array.from({ length: 5 }, (_, i) => `supporter${i}@lane.example`);
    for (const email of supporters) {
      const response = await fetch(`${worker.url}/api/v1/campaigns/lane/signatures`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada Supporter', email, country: 'GB' }),
      });
      expect(response.status).toBe(202);
    }
    const firstDispatchAt = Date.now();
    await waitFor('three confirmations', () => (smtp.received.length >= 3 ? true : undefined), 20_000);
    // A sweep within the minute dispatches nothing more: the three sent count in D1, whichever isolate dispatched them.
    await worker.tick();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(smtp.received).toHaveLength(3);
    const pending = (await (await fetch(`${worker.url}/api/v1/campaigns/lane/signatures?status=pending&limit=100`, { headers: organiser })).json()) as { items: { email: string }[] };
    expect(pending.items.map((item) => item.email).sort()).toEqual([...supporters].sort());

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstDispatchAt + 61_000 - Date.now())));
    await worker.tick();
    await waitFor('the two deferred confirmations', () => (smtp.received.length >= 5 ? true : undefined), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const recipients = smtp.received.flatMap((mail) => mail.rcptTo);
    expect(recipients.sort()).toEqual([...supporters].sort());
  }, 120_000);
});
