// The outbox's lanes (src/outbox/lanes.ts, policy in src/outbox/outbox-store.ts):
// every claim is shared among the lanes with work waiting, so a backlog in
// one never starves another. Here on better-sqlite3; the same claims on D1 in
// test/worker/outbox-lanes-d1.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import { shareClaim } from '../../src/outbox/lanes.js';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import type { ConfirmationLaneLimits } from '../../src/outbox/confirmation-lane.js';
import type { OutboxKind } from '../../src/outbox/types.js';
import { createTestDatabase } from '../helpers/db.js';
import { enqueueLanes } from './helpers/lanes.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const LEASE_MS = 10 * 60_000;
/** No global rate (as the mixed-load bench runs it): the confirmation lane could take every claim whole. */
const unlimited: ConfirmationLaneLimits = { emailsPerAddress: { limit: 3, windowMs: 3_600_000 }, confirmEmailsPerMinute: null };

function setUp(limits: ConfirmationLaneLimits = unlimited) {
  const testDb = createTestDatabase();
  closers.push(testDb.cleanup);
  const clock = new ManualClock(Date.UTC(2027, 8, 1));
  return { ...testDb, clock, store: outboxStore({ db: testDb.database, clock, privacy: limits }) };
}

function tally(ids: string[], lanes: Record<string, string[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(lanes).map(([name, laneIds]) => [name, ids.filter((id) => laneIds.includes(id)).length]));
}

describe('the outbox lanes', () => {
  it('a mailing queued behind a confirmation backlog gets its share of the first claim, not what the backlog leaves', async () => {
    const { database, clock, store } = setUp();
    const confirmations = await enqueueLanes(database, store, clock.now(), 'confirmation', 600);
    clock.advance(1_000);
    const mailing = await enqueueLanes(database, store, clock.now(), 'update', 200);
    clock.advance(1_000);

    const first = (await store.claim('sender', { limit: 100, leaseMs: LEASE_MS })).map((row) => row.id);
    expect(tally(first, { confirmations, mailing })).toEqual({ confirmations: 50, mailing: 50 });
    // The sends of one claim alternate lanes from its start.
    expect(tally(first.slice(0, 10), { confirmations, mailing })).toEqual({ confirmations: 5, mailing: 5 });

    const second = await store.dispatchDue('queue', 100, LEASE_MS);
    expect(tally(second, { confirmations, mailing })).toEqual({ confirmations: 50, mailing: 50 });
  });

  it('a lane with nothing waiting, or less than its share, gives the rest to the others', async () => {
    const { database, clock, store } = setUp();
    const confirmations = await enqueueLanes(database, store, clock.now(), 'confirmation', 300);
    const letters = await enqueueLanes(database, store, clock.now(), 'letter-delivery', 300);
    const account = await enqueueLanes(database, store, clock.now(), 'account', 4);
    clock.advance(1_000);

    // Four lanes; mailings has nothing and account 4: confirmations and letters share the other 96.
    const first = (await store.claim('sender', { limit: 100, leaseMs: LEASE_MS })).map((row) => row.id);
    expect(tally(first, { confirmations, letters, account })).toEqual({ confirmations: 48, letters: 48, account: 4 });

    // What is left of both fits one claim: each lane takes all it has.
    expect(await store.claim('sender', { limit: 1_000, leaseMs: LEASE_MS })).toHaveLength(504);
    // Then a mailing alone takes every row it has, however large the claim.
    const mailing = await enqueueLanes(database, store, clock.now(), 'update', 10);
    const third = (await store.claim('sender', { limit: 100, leaseMs: LEASE_MS })).map((row) => row.id);
    expect(tally(third, { confirmations, letters, mailing })).toEqual({ confirmations: 0, letters: 0, mailing: 10 });
  });

  it('the share the confirmation lane’s own rules hold back goes to the other lanes', async () => {
    // 60 a minute: the Node sender's claim takes at most 10 confirmations in any 10 s.
    const { database, clock, store } = setUp({ emailsPerAddress: { limit: 3, windowMs: 3_600_000 }, confirmEmailsPerMinute: 60 });
    const confirmations = await enqueueLanes(database, store, clock.now(), 'confirmation', 300);
    const mailing = await enqueueLanes(database, store, clock.now(), 'update', 300);
    clock.advance(1_000);
    const first = (await store.claim('sender', { limit: 100, leaseMs: LEASE_MS })).map((row) => row.id);
    expect(tally(first, { confirmations, mailing })).toEqual({ confirmations: 10, mailing: 90 });
  });

  it('every lane keeps its share however long the others’ backlogs', async () => {
    const { database, clock, store } = setUp();
    const lanes: Record<string, string[]> = {};
    for (const kind of ['confirmation', 'update', 'letter-delivery', 'account'] satisfies OutboxKind[]) {
      lanes[kind] = await enqueueLanes(database, store, clock.now(), kind, kind === 'account' ? 30 : 2_000);
    }
    clock.advance(1_000);
    const claimed = (await store.claim('sender', { limit: 100, leaseMs: LEASE_MS })).map((row) => row.id);
    expect(tally(claimed, lanes)).toEqual({ confirmation: 25, update: 25, 'letter-delivery': 25, account: 25 });
  });

  it('a backlog of 20,000 mailing rows delays confirmations queued after it by no more than their share of each claim', async () => {
    const { database, clock, store } = setUp();
    const mailing = await enqueueLanes(database, store, clock.now(), 'update', 20_000);
    clock.advance(1_000);
    const confirmations = await enqueueLanes(database, store, clock.now(), 'confirmation', 300);
    clock.advance(1_000);

    // A sender draining claims of 100: half of each is the confirmations' until none is left,
    // so all 300 leave in the first 6 claims, not after the 200 claims the backlog would take.
    const claims: Record<string, number>[] = [];
    for (let i = 0; i < 8; i++) {
      const ids = (await store.claim('sender', { limit: 100, leaseMs: LEASE_MS })).map((row) => row.id);
      await store.markSent('sender', ids);
      claims.push(tally(ids, { confirmations, mailing }));
    }
    expect(claims.slice(0, 6)).toEqual(Array.from({ length: 6 }, () => ({ confirmations: 50, mailing: 50 })));
    expect(claims.slice(6)).toEqual([{ confirmations: 0, mailing: 100 }, { confirmations: 0, mailing: 100 }]);
  });

  it('a lone lane gets every claim whole (work-conserving), on the Node sender’s claim and the dispatcher’s', async () => {
    const { database, clock, store } = setUp();
    await enqueueLanes(database, store, clock.now(), 'update', 20_000);
    clock.advance(1_000);
    for (let i = 0; i < 3; i++) {
      const claimed = await store.claim('sender', { limit: 500, leaseMs: LEASE_MS });
      expect(claimed).toHaveLength(500);
      await store.markSent('sender', claimed.map((row) => row.id));
      expect(await store.dispatchDue('queue', 100, LEASE_MS)).toHaveLength(100);
    }
  });

  it('within a lane the oldest due row goes first', async () => {
    const { database, clock, store } = setUp();
    const later = await enqueueLanes(database, store, clock.now() + 5_000, 'update', 3);
    const sooner = await enqueueLanes(database, store, clock.now(), 'update', 3);
    clock.advance(10_000);
    const claimed = (await store.claim('sender', { limit: 3, leaseMs: LEASE_MS })).map((row) => row.id);
    expect(claimed.sort()).toEqual([...sooner].sort());
    expect(later).toHaveLength(3);
  });
});

describe('shareClaim', () => {
  it('shares by weight, caps each lane at what it has waiting and passes the rest on', () => {
    expect(shareClaim(100, [{ weight: 1, waiting: 1000 }, { weight: 1, waiting: 1000 }])).toEqual([50, 50]);
    expect(shareClaim(100, [{ weight: 1, waiting: 1000 }, { weight: 1, waiting: 0 }, { weight: 1, waiting: 7 }])).toEqual([93, 0, 7]);
    expect(shareClaim(100, [{ weight: 3, waiting: 1000 }, { weight: 1, waiting: 1000 }])).toEqual([75, 25]);
    expect(shareClaim(10, [{ weight: 1, waiting: 5 }, { weight: 1, waiting: 2 }])).toEqual([5, 2]);
    expect(shareClaim(5, [{ weight: 1, waiting: 9 }, { weight: 1, waiting: 9 }, { weight: 1, waiting: 9 }])).toEqual([2, 2, 1]);
    expect(shareClaim(0, [{ weight: 1, waiting: 9 }])).toEqual([0]);
  });
});
