/**
 * Webhook delivery rate to a local receiver, alone and beside the signing
 * load (issue #21), against a yardstick measured in the same run.
 *
 *   npx tsx bench/webhooks.ts [--events 5000] [--seconds 15] [--connections 100]
 *
 * The real `signet serve` runs in a child process (durable commits, its
 * outbox sender on, WEBHOOK_ALLOW_PRIVATE=true, confirmation emails to an
 * SMTP server in another child); the receiver runs in a third (node:http on
 * 127.0.0.1, checks every signature and its timestamp, counts each
 * Signet-Delivery once and any duplicate). One hook takes
 * `signature.confirmed`. The bench seeds confirmed signatures and one queued
 * event per signature straight into the database (what confirming writes),
 * so what is measured is the webhooks lane: claim, compose from the database,
 * sign, POST, log the attempt, mark sent. It measures:
 *   0. the yardstick: as many signed POSTs of a like body from this process
 *      to the same receiver, 100 in flight, a new connection each (as the
 *      sender makes them): the rate with nothing of Signet's work;
 *   1. --events webhook events alone: from the commit of the seed to the
 *      receiver holding the last one;
 *   2. signing alone for --seconds (autocannon, a new supporter per request),
 *      then a wait until its confirmation emails are sent;
 *   3. as many events again while the signing load of 2 runs beside them
 *      (with the confirmation emails it queues: the lanes share the sender).
 * It fails if any event arrived twice, any signature did not verify, or any
 * accepted signing request was not stored.
 */
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { newId } from '../src/lib/ids.js';
import { forkBenchChild, startSmtpChild } from './children.js';
import { signingRequests, startMailingBenchServer } from './server.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '100' },
  },
});
const events = Number(values.events);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

type ReceiverReport = { delivered: number; duplicates: number; rejected: number; raw: number };
const receiver = await forkBenchChild('webhook-receiver-child.ts');
const receiverUrl = receiver.url;
const receiverReport = () => receiver.ask<ReceiverReport>({ type: 'report' });

const smtp = await startSmtpChild();
const server = await startMailingBenchServer('signet-webhooks-', smtp.url, { WEBHOOK_ALLOW_PRIVATE: 'true' });
const { api, call, dir, databasePath } = server;
await call('POST', '/campaigns', { slug: 'bench', title: 'Bench', locale: 'ja' });
await call('PATCH', '/campaigns/bench', { status: 'open' });
const hook = (await call('POST', '/webhooks', { url: receiverUrl, events: ['signature.confirmed'] })) as { id: string; secret: string };
receiver.send({ type: 'secret', secret: hook.secret });

/** What an Action Network-style signature event weighs (the yardstick posts bodies of this size). */
const sampleBody = JSON.stringify([
  {
    'osdi:signature': {
      identifiers: ['signet:019aa0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b'],
      created_date: new Date().toISOString(),
      modified_date: new Date().toISOString(),
      petition: { identifiers: ['signet:campaign:bench'], title: 'Bench' },
      person: { given_name: '花子', family_name: '佐藤', email_addresses: [{ address: 'supporter@example.org', primary: true, status: 'subscribed' }], postal_addresses: [{ region: 'JP-13', country: 'JP' }], languages_spoken: ['ja'] },
      add_tags: ['bench'],
      referrer_data: { source: 'signet' },
    },
  },
]);

/** One signed POST without keep-alive, as the sender makes it. */
function rawPost(): Promise<void> {
  const t = Math.floor(Date.now() / 1000);
  const signature = `t=${t},v1=${createHmac('sha256', hook.secret).update(`${t}.${sampleBody}`).digest('hex')}`;
  return new Promise((resolve, reject) => {
    const outgoing = request(receiverUrl, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'signet-signature': signature, 'content-length': Buffer.byteLength(sampleBody) } }, (response) => {
      response.resume();
      response.on('end', resolve);
    });
    outgoing.on('error', reject);
    outgoing.end(sampleBody);
  });
}

async function yardstick(n: number, inFlight: number): Promise<number> {
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started < n) {
        started++;
        await rawPost();
      }
    }),
  );
  return n / ((performance.now() - begin) / 1000);
}

/** Seeds `n` confirmed signatures and one queued signature.confirmed event each, due now, in one transaction. */
function seedEvents(n: number, prefix: string): void {
  const db = new BetterSqlite3(databasePath);
  db.pragma('busy_timeout = 10000');
  const campaignId = (db.prepare('select id from campaigns where slug = ?').get('bench') as { id: string }).id;
  const signature = db.prepare(`insert into signatures (id, campaign_id, name, email, email_normalized, country, region, city, locale,
    name_on_letter, show_publicly, updates, status, created_at, confirmed_at) values (?, ?, ?, ?, ?, 'JP', 'JP-13', '東京', 'ja', ?, 0, ?, 'confirmed', ?, ?)`);
  const event = db.prepare(`insert into outbox (id, kind, recipient, message_id, message, status, attempts, next_attempt_at, created_at)
    values (?, 'webhook', ?, ?, ?, 'pending', 0, ?, ?)`);
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = newId(now);
      const email = `${prefix}${i}@example.org`;
      signature.run(id, campaignId, `佐藤 花子${i}`, email, email, i % 3 === 0 ? 'full' : 'none', i % 2, now, now);
      const outboxId = newId(now);
      const input = { webhookId: hook.id, event: 'signature.confirmed', subjectId: id, occurredAt: now };
      event.run(outboxId, hook.id, `<${outboxId}@webhook.signet>`, JSON.stringify({ compose: 'webhook', input }), now, now);
    }
  })();
  db.close();
}

/** Seconds until the receiver holds `total` events (polled every 50 ms). */
async function untilDelivered(total: number, begin: number, timeoutMs = 600_000): Promise<number> {
  for (;;) {
    const report = await receiverReport();
    if (report.delivered >= total) return (performance.now() - begin) / 1000;
    if (performance.now() - begin > timeoutMs) throw new Error(`only ${report.delivered} of ${total} events delivered`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function sign(duration: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url: `${api}/campaigns/bench/signatures`, connections, duration, requests: signingRequests() }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Waits (up to 5 minutes) until the sender has sent the confirmation emails the last signing load queued, so each phase starts from an empty outbox. */
async function untilOutboxEmpty(): Promise<void> {
  const db = new BetterSqlite3(databasePath, { readonly: true });
  db.pragma('busy_timeout = 10000');
  const pending = db.prepare(`select count(*) as n from outbox where status = 'pending'`);
  try {
    for (let waited = 0; (pending.get() as { n: number }).n > 0 && waited < 300_000; waited += 500) await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    db.close();
  }
}

const yardstickRate = await yardstick(events, 100);

seedEvents(events, 'alone');
const aloneSeconds = await untilDelivered(events, performance.now());

const signingAlone = await sign(seconds);
await untilOutboxEmpty();

const besideBegin = performance.now();
const signing = sign(seconds);
seedEvents(events, 'beside');
const besideSeconds = await untilDelivered(2 * events, besideBegin);
const signingBeside = await signing;

await server.stop();
const final = await receiverReport();
receiver.stop();
smtp.stop();
const db = new BetterSqlite3(databasePath, { readonly: true });
const stored = (db.prepare('select count(*) as n from signature_submissions').get() as { n: number }).n;
const log = db.prepare(`select outcome, count(*) as n, avg(duration_ms) as ms from webhook_deliveries group by outcome`).all() as { outcome: string; n: number; ms: number }[];
db.close();
rmSync(dir, { recursive: true, force: true });

const rate = (n: number, s: number) => Math.round(n / s);
const rows = [
  { measured: 'yardstick: raw signed POSTs, 100 in flight', perSecond: Math.round(yardstickRate) },
  { measured: 'webhooks alone', perSecond: rate(events, aloneSeconds) },
  { measured: 'webhooks beside signing', perSecond: rate(events, besideSeconds) },
  { measured: 'signing alone (202/s)', perSecond: Math.round(signingAlone['2xx'] / seconds), p99ms: signingAlone.latency.p99 },
  { measured: 'signing beside webhooks (202/s)', perSecond: Math.round(signingBeside['2xx'] / seconds), p99ms: signingBeside.latency.p99 },
];
console.table(rows);
console.log(
  JSON.stringify({
    events,
    seconds,
    connections,
    rows,
    webhooksAloneVsYardstickPercent: Math.round((rate(events, aloneSeconds) / yardstickRate) * 1000) / 10,
    webhooksBesideVsAlonePercent: Math.round((aloneSeconds / besideSeconds) * 1000) / 10,
    signingBesideVsAlonePercent: Math.round((signingBeside['2xx'] / signingAlone['2xx']) * 1000) / 10,
    receiver: final,
    log,
    signingErrors: signingAlone.errors + signingAlone.non2xx + signingBeside.errors + signingBeside.non2xx,
    signingRequestsStored: stored,
    node: process.version,
  }),
);
const accepted = signingAlone['2xx'] + signingBeside['2xx'];
if (final.duplicates > 0 || final.rejected > 0 || final.delivered !== 2 * events || stored < accepted) {
  console.error(`Failed: ${final.delivered} of ${2 * events} events, ${final.duplicates} twice, ${final.rejected} refused; ${accepted} signing requests accepted, ${stored} stored`);
  process.exit(1);
}
process.exit(0);
