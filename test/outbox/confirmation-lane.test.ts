// The confirmation lane's claim (src/outbox/confirmation-lane.ts) as both
// runtimes use it: the Node sender's claim and the Workers dispatcher's
// dispatchDue run the same SQL (here on better-sqlite3; the workerd test in
// test/worker/confirmation-lane.test.ts runs it on D1).
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import { newId } from '../../src/lib/ids.js';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import type { NewOutboxMessage } from '../../src/outbox/types.js';
import { createTestDatabase } from '../helpers/db.js';
import { sampleMessage } from '../mail/helpers/outbox.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const LEASE_MS = 10 * 60_000;
/** 10 a minute; the Node sender's claim is paced at 2 in any 10 s, the dispatcher's is not. */
const limits = { emailsPerAddress: { limit: 3, windowMs: 3_600_000 }, confirmEmailsPerMinute: 10 };

function setUp() {
  const testDb = createTestDatabase();
  closers.push(testDb.cleanup);
  const clock = new ManualClock(Date.UTC(2027, 8, 1));
  return { ...testDb, clock, store: outboxStore({ db: testDb.database, clock, privacy: limits }) };
}

type Setup = ReturnType<typeof setUp>;

/** Queues one email per request; resolves the ids in order. */
async function enqueue({ database, clock, store }: Setup, requests: { address: string; source: string | null; kind?: 'confirmation' | 'update' }[]) {
  const now = clock.now();
  const messages: NewOutboxMessage[] = requests.map(({ address, source, kind = 'confirmation' }, i) => {
    const id = newId(now);
    return {
      id,
      kind,
      recipient: address,
      messageId: `<${id}@signet.test>`,
      message: sampleMessage(i),
      dueAt: now,
      createdAt: now,
      ...(source === null ? {} : { lane: { source, address, topic: 'campaign-1', expiresAt: now + 7 * 24 * 3_600_000 } }),
    };
  });
  await database.atomic(store.enqueue(messages));
  return messages.map((message) => message.id);
}

describe('the Workers dispatcher (dispatchDue) and the Node claim share the lane', () => {
  it('the global rate holds across dispatchers: what one took this minute, the other cannot take', async () => {
    const setup = setUp();
    await enqueue(setup, Array.from({ length: 25 }, (_, i) => ({ address: `s${i}@example.org`, source: `src-${i}` })));
    const otherIsolate = outboxStore({ db: setup.database, clock: setup.clock, privacy: limits });
    expect(await setup.store.dispatchDue('queue', 500, LEASE_MS)).toHaveLength(10);
    expect(await otherIsolate.dispatchDue('queue', 500, LEASE_MS)).toEqual([]);
    expect(await otherIsolate.claim('node-sender', { limit: 500, leaseMs: LEASE_MS })).toEqual([]);
    setup.clock.advance(60_000);
    expect(await otherIsolate.dispatchDue('queue', 500, LEASE_MS)).toHaveLength(10);
    setup.clock.advance(60_000);
    // The Node sender polls, so it is paced: a sixth of the rate in any 10 s.
    expect(await setup.store.claim('node-sender', { limit: 500, leaseMs: LEASE_MS })).toHaveLength(2);
    expect(await setup.store.claim('node-sender', { limit: 500, leaseMs: LEASE_MS })).toEqual([]);
    setup.clock.advance(10_000);
    expect(await setup.store.claim('node-sender', { limit: 500, leaseMs: LEASE_MS })).toHaveLength(2);
  });

  it('serves sources in turns: each source one row a round, and a new supporter in the current round, ahead of an older flood', async () => {
    const setup = setUp();
    const flood = await enqueue(setup, Array.from({ length: 200 }, (_, i) => ({ address: `junk${i}@flood.example`, source: `flood-${i % 20}` })));
    const sourceOf = (id: string) => flood.indexOf(id) % 20;
    const minute1 = await setup.store.dispatchDue('queue', 500, LEASE_MS);
    expect(minute1).toHaveLength(10);
    const servedFirst = new Set(minute1.map(sourceOf));
    expect(servedFirst.size).toBe(10);

    setup.clock.advance(60_000);
    const minute2 = await setup.store.dispatchDue('queue', 500, LEASE_MS);
    // The ten sources not served yet, one row each, though the others' rows are just as old.
    expect(new Set(minute2.map(sourceOf)).size).toBe(10);
    expect(minute2.some((id) => servedFirst.has(sourceOf(id)))).toBe(false);

    setup.clock.advance(30_000);
    const [supporter] = await enqueue(setup, [{ address: 'new@people.example', source: 'home' }]);
    setup.clock.advance(30_000);
    const minute3 = await setup.store.dispatchDue('queue', 500, LEASE_MS);
    // In the current round: ahead of the flood's later rounds, though every flood row is older; then the sources whose turn it is.
    expect(minute3).toContain(supporter);
    expect(minute3.filter((id) => id !== supporter).every((id) => servedFirst.has(sourceOf(id)))).toBe(true);
  });

  it('mailing rows are claimed beside a confirmation backlog, never behind it', async () => {
    const setup = setUp();
    await enqueue(setup, Array.from({ length: 100 }, (_, i) => ({ address: `s${i}@example.org`, source: `src-${i}` })));
    const updates = await enqueue(setup, Array.from({ length: 20 }, (_, i) => ({ address: `news${i}@example.org`, source: null, kind: 'update' as const })));
    const claimed = (await setup.store.claim('node-sender', { limit: 50, leaseMs: LEASE_MS })).map((row) => row.id);
    expect(claimed).toHaveLength(22);
    expect(claimed.filter((id) => updates.includes(id))).toHaveLength(20);
  });

  it('a lane row handed back unsent no longer counts against the rate', async () => {
    const setup = setUp();
    await enqueue(setup, Array.from({ length: 12 }, (_, i) => ({ address: `s${i}@example.org`, source: `src-${i}` })));
    const rows = await setup.store.dispatchDue('queue', 500, LEASE_MS);
    expect(rows).toHaveLength(10);
    await setup.store.releaseLeases('queue', rows.slice(0, 4));
    expect(await setup.store.dispatchDue('queue', 500, LEASE_MS)).toHaveLength(4);
  });
});
