// The outbox on Workers (src/entry/worker.ts, src/outbox/worker/): rows in D1,
// their ids published to a queue after the response, sent by the consumer.
// Run in workerd through `npm run worker:dev`, against a real SMTP server on
// 127.0.0.1 that refuses what the test tells it to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerDevProcess, type WorkerDevProcess } from '../helpers/worker-dev-process.js';
import { waitFor } from '../helpers/wait.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers/smtp-server.js';

const adminToken = 'queue-admin-token-0123456789abcdef';
const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
/** Recipients whose next DATA the server refuses, with the reply to give. */
const refuse = new Map<string, { code: number; message: string }>();
let smtp: TestSmtpServer;
let worker: WorkerDevProcess;

beforeAll(async () => {
  smtp = await startSmtpServer({
    replyToData: (_index, raw) => {
      for (const [address, reply] of refuse) {
        if (raw.includes(`To: ${address}`)) {
          refuse.delete(address);
          return reply;
        }
      }
      return undefined;
    },
    replyToRecipient: (address) => (address.startsWith('nobody@') ? { code: 550, message: 'no such mailbox' } : undefined),
  });
  // One recipient per mailing batch, so a pass (six batches) is small enough to test the next pass's message.
  worker = await startWorkerDevProcess({ ADMIN_TOKEN: adminToken, SMTP_URL: smtp.url, PUBLIC_URL: 'http://signet.example', MAILING_BATCH_SIZE: '1', SIGN_RATE_LIMIT: 'off' });
  const api = `${worker.url}/api/v1`;
  expect((await fetch(`${api}/campaigns`, { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'queue', title: 'Queue', locale: 'en' }) })).status).toBe(201);
  expect((await fetch(`${api}/campaigns/queue`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await smtp?.close();
});

async function sign(email: string, consent: Record<string, unknown> = { nameOnLetter: 'full' }) {
  const response = await fetch(`${worker.url}/api/v1/campaigns/queue/signatures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Ada Supporter', email, country: 'GB', consent }),
  });
  expect(response.status).toBe(202);
}

/** Signs and confirms through the mailed link's token. */
async function signAndConfirm(email: string) {
  await sign(email, { nameOnLetter: 'full', updates: true });
  const mail = await waitFor(`the confirmation to ${email}`, () => smtp.received.find((m) => m.rcptTo.includes(email)), 20_000);
  const token = /\/confirm\/([A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, ''))![1]!;
  const confirmed = await fetch(`${worker.url}/api/v1/signatures/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(confirmed.status).toBe(200);
}

function localDateTime(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}`;
}

type OutboxItem = { id: string; status: string; recipient: string | null; attempts: number; lastError: string | null };

/** The row whose (masked) recipient has this domain part. */
async function outboxRow(recipientPart: string): Promise<OutboxItem | undefined> {
  const body = (await (await fetch(`${worker.url}/api/v1/outbox?limit=100`, { headers: organiser })).json()) as { items: OutboxItem[] };
  return body.items.find((item) => item.recipient?.includes(recipientPart));
}

const deliveredTo = (address: string) => smtp.received.filter((mail) => mail.rcptTo.includes(address)).length;

describe('the outbox on Workers: D1 rows, queue messages, the cron sweep', () => {
  it('sends a confirmation through the queue right after the response, once', async () => {
    await sign('first@one.example');
    await waitFor('the confirmation', () => (deliveredTo('first@one.example') === 1 ? true : undefined), 20_000);
    // Sweeps find nothing more to send: a row is published once per lease and marked sent before the ack.
    await worker.tick();
    await worker.tick();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(deliveredTo('first@one.example')).toBe(1);
    expect((await outboxRow('@one.example'))?.status).toBe('sent');
  });

  it('a transient refusal (451) is retried when due by the cron sweep, and delivered once', async () => {
    refuse.set('second@two.example', { code: 451, message: 'try again later' });
    await sign('second@two.example');
    const waiting = await waitFor('the row to be rescheduled', async () => {
      const row = await outboxRow('@two.example');
      return row && row.attempts === 1 && row.status === 'pending' ? row : undefined;
    }, 20_000);
    expect(waiting.lastError).toMatch(/451/);
    expect(deliveredTo('second@two.example')).toBe(0);
    // The first retry is due 15–30 s later; the sweep (cron) dispatches it then, not before.
    await waitFor('the retry', async () => {
      await worker.tick();
      return deliveredTo('second@two.example') === 1 ? true : undefined;
    }, 45_000, 2_000);
    await worker.tick();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(deliveredTo('second@two.example')).toBe(1);
    expect((await outboxRow('@two.example'))?.status).toBe('sent');
  }, 70_000);

  it('a permanent refusal (550) fails the row at once, visible in the outbox with the reply and no address', async () => {
    await sign('nobody@example.org');
    const failed = await waitFor('the failed row', async () => {
      const row = await outboxRow('@example.org');
      return row?.status === 'failed' ? row : undefined;
    }, 20_000);
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toMatch(/550/);
    expect(failed.lastError).not.toContain('nobody@example.org');
  });

  it('a mailing larger than one pass goes on through the mailings queue without waiting for the next cron', async () => {
    const supporters = Array.from({ length: 9 }, (_, i) => `news${i}@nine.example`);
    for (const email of supporters) await signAndConfirm(email);
    const sendAt = localDateTime(Date.now() + 2_000, 'Asia/Tokyo');
    const created = await fetch(`${worker.url}/api/v1/mailings`, {
      method: 'POST',
      headers: organiser,
      body: JSON.stringify({ campaign: 'queue', kind: 'update', sendAt, timeZone: 'Asia/Tokyo', subject: 'News', body: 'Still going.' }),
    });
    expect(created.status).toBe(201);
    const mailing = (await created.json()) as { id: string };
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // One cron run: its pass queues six recipients (six batches of one) and asks for the next pass,
    // which queues the other three at once: without that message they would wait for the next cron.
    await worker.tick();
    const news = () => smtp.received.filter((m) => /Subject: News/.test(m.raw));
    await waitFor('all nine updates', () => (news().length >= supporters.length ? true : undefined), 30_000, 250);
    // Once its last rows are sent, the consumer asks for a pass that marks the mailing finished: no cron needed.
    const done = await waitFor('the mailing to finish', async () => {
      const current = (await (await fetch(`${worker.url}/api/v1/mailings/${mailing.id}`, { headers: organiser })).json()) as { status: string; progress: { total: number; sent: number } };
      return current.status === 'finished' ? current : undefined;
    }, 15_000, 250);
    expect(done.progress).toMatchObject({ total: supporters.length, sent: supporters.length });
    for (const email of supporters) expect(news().filter((m) => m.rcptTo.includes(email))).toHaveLength(1);
    expect(news()).toHaveLength(supporters.length);
  }, 90_000);
});
