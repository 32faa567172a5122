import { readFileSync } from 'node:fs';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudflareD1Database } from '../../src/db/d1.js';
import { migrationsFolder } from '../../src/entry/node.js';
import { ManualClock } from '../../src/lib/clock.js';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import { enqueueLanes } from '../outbox/helpers/lanes.js';

/**
 * The Workers dispatcher's claim (dispatchDue, src/outbox/worker/outbox-queue.ts) on
 * Cloudflare D1 (Miniflare's D1, workerd's SQLite, migrated from migrations/
 * as `wrangler d1 migrations apply` does) shares each dispatch among the
 * lanes as the Node sender's claim does (test/outbox/lanes.test.ts): a
 * mailing queued behind a confirmation backlog is published at its share of
 * the first dispatch, and a lane with nothing waiting gives its share away.
 */

let miniflare: Miniflare;
let onD1: CloudflareD1Database;

beforeAll(async () => {
  miniflare = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null, { status: 404 }) } }', d1Databases: ['DB'] });
  const d1 = await miniflare.getD1Database('DB');
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: { tag: string }[] };
  for (const { tag } of journal.entries) {
    for (const statement of readFileSync(`${migrationsFolder}/${tag}.sql`, 'utf8').split('--> statement-breakpoint')) if (statement.trim()) await d1.prepare(statement).run();
  }
  onD1 = new CloudflareD1Database(d1 as never);
}, 60_000);

afterAll(async () => {
  await miniflare?.dispose();
});

describe('the outbox lanes on D1', () => {
  it('the dispatcher publishes a mailing beside a confirmation backlog at its share, and the share of an empty lane goes to the others', async () => {
    const clock = new ManualClock(Date.UTC(2027, 8, 1));
    const store = outboxStore({ db: onD1, clock, privacy: { emailsPerAddress: { limit: 3, windowMs: 3_600_000 }, confirmEmailsPerMinute: null } });
    const confirmations = await enqueueLanes(onD1, store, clock.now(), 'confirmation', 400);
    clock.advance(1_000);
    const mailing = await enqueueLanes(onD1, store, clock.now(), 'update', 150);
    const letters = await enqueueLanes(onD1, store, clock.now(), 'letter-delivery', 10);
    clock.advance(1_000);

    const count = (ids: string[], lane: string[]) => ids.filter((id) => lane.includes(id)).length;
    const first = await store.dispatchDue('queue', 100, 600_000);
    expect([count(first, confirmations), count(first, mailing), count(first, letters)]).toEqual([45, 45, 10]);
    const second = await store.dispatchDue('queue', 100, 600_000);
    expect([count(second, confirmations), count(second, mailing), count(second, letters)]).toEqual([50, 50, 0]);
    // The mailing's last 55 rows, and the confirmation backlog takes the rest of the dispatch.
    const third = await store.dispatchDue('queue', 200, 600_000);
    expect([count(third, confirmations), count(third, mailing)]).toEqual([145, 55]);
  });
});
