import { eq } from 'drizzle-orm';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../src/db/node/better-sqlite3.js';
import { mailings, outbox } from '../../src/db/schema.js';
import { ManualClock } from '../../src/lib/clock.js';
import { newId } from '../../src/lib/ids.js';
import { readOutboxFigures } from '../../src/outbox/outbox-figures.js';
import { HELD_FROM, outboxStore } from '../../src/outbox/outbox-store.js';
import type { NewOutboxMessage } from '../../src/outbox/types.js';
import { createTestDatabase, migrationsFolder } from '../helpers/db.js';
import { insertOutboxRows, sampleMessage } from '../mail/helpers/outbox.js';
import { insertCampaignMailing } from './helpers/drivers.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const LEASE_MS = 60_000;

function setUp() {
  const testDb = createTestDatabase();
  closers.push(testDb.cleanup);
  const clock = new ManualClock();
  return { ...testDb, clock, store: outboxStore({ db: testDb.database, clock }) };
}

async function rowById(database: SqliteDatabase, id: string) {
  const [row] = await database.db.select().from(outbox).where(eq(outbox.id, id));
  if (!row) throw new Error(`no outbox row ${id}`);
  return row;
}

/** A campaign and a mailing in `status`, inserted directly. */
function insertMailing(database: SqliteDatabase, now: number, status: 'running' | 'paused' | 'cancelled' = 'running', lockedBy: string | null = null) {
  return insertCampaignMailing(database, now, newId(now), { status, lockedBy, lockedUntil: lockedBy === null ? null : now + LEASE_MS });
}

function updateFor(mailingId: string, key: string, now: number): NewOutboxMessage {
  const id = newId(now);
  return {
    id,
    kind: 'update',
    recipient: `${key}@example.org`,
    messageId: `<${id}@signet.example>`,
    message: { compose: 'update', input: { subject: 'News' } },
    dueAt: now,
    createdAt: now,
    mailingId,
    recipientKey: key,
  };
}

describe('OutboxStore: claims by id', () => {
  it('skips sent rows and rows under another owner’s live lease, and takes rows whose lease ran out', async () => {
    const { database, clock, store } = setUp();
    const now = clock.now();
    const [free] = await insertOutboxRows(database, now, [sampleMessage(1)]);
    const [sent] = await insertOutboxRows(database, now, [sampleMessage(2)], { status: 'sent', sentAt: now, message: null });
    const [failed] = await insertOutboxRows(database, now, [sampleMessage(3)], { status: 'failed' });
    const [live] = await insertOutboxRows(database, now, [sampleMessage(4)], { lockedBy: 'other', lockedUntil: now + 1 });
    const [expired] = await insertOutboxRows(database, now, [sampleMessage(5)], { lockedBy: 'crashed', lockedUntil: now - 1 });
    const [later] = await insertOutboxRows(database, now, [sampleMessage(6)], { nextAttemptAt: now + 1000 });

    const claimed = await store.claimByIds('me', [free!, sent!, failed!, live!, expired!, later!, newId(now)], { leaseMs: LEASE_MS });

    expect(claimed.map((row) => row.id).sort()).toEqual([free!, expired!].sort());
    for (const id of [free!, expired!]) expect(await rowById(database, id)).toMatchObject({ lockedBy: 'me', lockedUntil: now + LEASE_MS, status: 'pending' });
    expect(await rowById(database, live!)).toMatchObject({ lockedBy: 'other', lockedUntil: now + 1 });
    expect(await rowById(database, sent!)).toMatchObject({ status: 'sent', lockedBy: null });
    expect(await rowById(database, later!)).toMatchObject({ lockedBy: null });
    const row = claimed.find((candidate) => candidate.id === free)!;
    expect(row).toMatchObject({ recipient: 'supporter1@example.com', attempts: 0, nextAttemptAt: now, lockedUntil: now + LEASE_MS });
    expect(row.message).toMatchObject({ subject: 'Please confirm your signature 1' });
  });

  it('looks the named rows up by primary key, not by walking the due index', async () => {
    const { database, clock } = setUp();
    await insertOutboxRows(database, clock.now(), Array.from({ length: 3 }, (_, i) => sampleMessage(i)));
    const statements: string[] = [];
    const spied = new Proxy(database, {
      get(target, key, receiver) {
        if (key === 'writeReturning') return (query: { sql: string; params: unknown[] }) => (statements.push(query.sql), target.writeReturning(query as never));
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    await outboxStore({ db: spied, clock }).claimByIds('me', ['x'], { leaseMs: LEASE_MS });
    expect(statements).toHaveLength(1);
    const plan = database.sqlite.prepare(`EXPLAIN QUERY PLAN ${statements[0]!}`).all('me', 1, '["x"]', 0, 0, null) as { detail: string }[];
    const details = plan.map((step) => step.detail).join(' | ');
    expect(details).toMatch(/outbox USING INDEX sqlite_autoindex_outbox_1 \(id=\?\)/);
    expect(details).not.toMatch(/outbox_due_idx/);
  });

  it('never gives one row to two owners racing on two connections', async () => {
    const { database, dir, clock, store } = setUp();
    const second = new SqliteDatabase({ path: join(dir, 'signet.db'), migrationsFolder });
    closers.push(() => second.close());
    const other = outboxStore({ db: second, clock });
    for (let round = 0; round < 20; round++) {
      const ids = await insertOutboxRows(database, clock.now(), Array.from({ length: 30 }, (_, i) => sampleMessage(i)));
      const [a, b] = await Promise.all([
        store.claimByIds(`a-${round}`, ids, { leaseMs: LEASE_MS }),
        other.claimByIds(`b-${round}`, [...ids].reverse(), { leaseMs: LEASE_MS }),
      ]);
      const taken = [...a, ...b].map((row) => row.id);
      expect(new Set(taken).size).toBe(taken.length);
      expect(taken.sort()).toEqual([...ids].sort());
      const rows = await database.db.select().from(outbox).where(eq(outbox.createdAt, clock.now()));
      for (const row of a) expect(rows.find((candidate) => candidate.id === row.id)?.lockedBy).toBe(`a-${round}`);
      for (const row of b) expect(rows.find((candidate) => candidate.id === row.id)?.lockedBy).toBe(`b-${round}`);
      clock.advance(1);
    }
  });
});

describe('OutboxStore: dispatch', () => {
  it('leases a due row once per lease, and only the consumer that names the dispatcher takes it over', async () => {
    const { database, clock, store } = setUp();
    const now = clock.now();
    const ids = await insertOutboxRows(database, now, [sampleMessage(1), sampleMessage(2)]);
    await insertOutboxRows(database, now, [sampleMessage(3)], { nextAttemptAt: now + 10_000 });

    expect((await store.dispatchDue('dispatcher', 100, LEASE_MS)).sort()).toEqual([...ids].sort());
    expect(await store.dispatchDue('dispatcher', 100, LEASE_MS)).toEqual([]);
    // A sender polling for due rows leaves dispatched rows to the queue.
    expect(await store.claim('poller', { limit: 100, leaseMs: LEASE_MS })).toEqual([]);
    // A consumer that does not name the dispatcher sees a live lease and skips.
    expect(await store.claimByIds('stranger', ids, { leaseMs: LEASE_MS })).toEqual([]);

    const consumed = await store.claimByIds('consumer-1', ids, { leaseMs: LEASE_MS, dispatcher: 'dispatcher' });
    expect(consumed.map((row) => row.id).sort()).toEqual([...ids].sort());
    // A second delivery of the same queue message finds the rows under the first consumer's lease.
    expect(await store.claimByIds('consumer-2', ids, { leaseMs: LEASE_MS, dispatcher: 'dispatcher' })).toEqual([]);

    await store.releaseLeases('consumer-1', [ids[1]!]);
    await store.markSent('consumer-1', [ids[0]!]);
    // The released row is dispatched again; the sent one never.
    expect(await store.dispatchDue('dispatcher', 100, LEASE_MS)).toEqual([ids[1]!]);
  });

  it('dispatches a row again once its lease ran out unconsumed, and fails what a dead-lettered message leaves', async () => {
    const { database, clock, store } = setUp();
    const [id] = await insertOutboxRows(database, clock.now(), [sampleMessage(1)]);
    expect(await store.dispatchDue('dispatcher', 10, LEASE_MS)).toEqual([id!]);
    clock.advance(LEASE_MS - 1);
    expect(await store.dispatchDue('dispatcher', 10, LEASE_MS)).toEqual([]);
    clock.advance(2);
    expect(await store.dispatchDue('dispatcher', 10, LEASE_MS)).toEqual([id!]);

    expect(await store.failLeased('someone-else', [id!], 'dead-lettered')).toBe(0);
    expect(await store.failLeased('dispatcher', [id!], 'dead-lettered')).toBe(1);
    expect(await rowById(database, id!)).toMatchObject({ status: 'failed', lastError: 'dead-lettered', lockedBy: null, lockedUntil: null });
    expect(await store.dispatchDue('dispatcher', 10, LEASE_MS)).toEqual([]);
  });
});

describe('OutboxStore: held mailings', () => {
  it('never claims or dispatches a held row, and claims it again once released', async () => {
    const { database, clock, store } = setUp();
    const now = clock.now();
    const mailingId = await insertMailing(database, now);
    await database.atomic(store.enqueue([updateFor(mailingId, 'a', now), updateFor(mailingId, 'b', now + 500)]));
    const ids = (await database.db.select({ id: outbox.id }).from(outbox)).map((row) => row.id);

    await database.db.update(mailings).set({ status: 'paused' }).where(eq(mailings.id, mailingId));
    await database.atomic([store.holdMailing(mailingId, now)]);
    const held = await database.db.select().from(outbox);
    expect(held.map((row) => row.nextAttemptAt).sort()).toEqual([HELD_FROM, HELD_FROM + 500]);

    clock.advance(365 * 24 * 3_600_000);
    expect(await store.claim('poller', { limit: 10, leaseMs: LEASE_MS })).toEqual([]);
    expect(await store.claimByIds('consumer', ids, { leaseMs: LEASE_MS, dispatcher: 'dispatcher' })).toEqual([]);
    expect(await store.dispatchDue('dispatcher', 10, LEASE_MS)).toEqual([]);
    // Holding twice changes nothing.
    await database.atomic([store.holdMailing(mailingId, clock.now())]);
    expect((await database.db.select().from(outbox)).map((row) => row.nextAttemptAt).sort()).toEqual([HELD_FROM, HELD_FROM + 500]);

    await database.db.update(mailings).set({ status: 'running' }).where(eq(mailings.id, mailingId));
    await database.atomic([store.releaseMailing(mailingId, clock.now())]);
    expect((await store.claim('poller', { limit: 10, leaseMs: LEASE_MS })).map((row) => row.id)).toHaveLength(1);
    clock.advance(500);
    expect((await store.claim('poller', { limit: 10, leaseMs: LEASE_MS })).map((row) => row.id)).toHaveLength(1);
  });

  it('holds again a row a sender put back for a retry after the pause', async () => {
    const { database, clock, store } = setUp();
    const now = clock.now();
    const mailingId = await insertMailing(database, now);
    await database.atomic(store.enqueue([updateFor(mailingId, 'a', now)]));
    const [claimed] = await store.claim('sender', { limit: 1, leaseMs: LEASE_MS });
    await database.db.update(mailings).set({ status: 'paused' }).where(eq(mailings.id, mailingId));
    await database.atomic([store.holdMailing(mailingId, now)]);
    // The send in flight fails; the sender puts the row back due soon.
    await store.retryLater('sender', claimed!.id, '451 try later', now + 1000);
    expect(await rowById(database, claimed!.id)).toMatchObject({ nextAttemptAt: now + 1000, attempts: 1, lockedBy: null });
    await store.sweepMailings(now - 1);
    expect((await rowById(database, claimed!.id)).nextAttemptAt).toBe(HELD_FROM + 1000);
    clock.advance(10_000);
    expect(await store.claim('sender', { limit: 1, leaseMs: LEASE_MS })).toEqual([]);
  });
});

describe('OutboxStore: enqueue', () => {
  it('queues only when the guard holds, and a mailing’s recipient once', async () => {
    const { database, clock, store } = setUp();
    const now = clock.now();
    const mailingId = await insertMailing(database, now, 'running', 'runner-a');
    const first = updateFor(mailingId, 'a', now);
    await database.atomic(store.enqueue([first], { kind: 'mailing-lease', mailingId, owner: 'runner-a' }));
    // A runner that lost the lease adds nothing; a rerun of the holder adds nobody twice.
    await database.atomic(store.enqueue([updateFor(mailingId, 'b', now)], { kind: 'mailing-lease', mailingId, owner: 'runner-b' }));
    await database.atomic(store.enqueue([updateFor(mailingId, 'a', now)], { kind: 'mailing-lease', mailingId, owner: 'runner-a' }));
    // A confirmation whose signing request was not held is not queued.
    const id = newId(now);
    await database.atomic(
      store.enqueue([{ id, kind: 'confirmation', recipient: 'x@example.org', messageId: `<${id}@x>`, message: { compose: 'confirmation', input: {} }, dueAt: now, createdAt: now }], {
        kind: 'submission',
        id: 'no-such-request',
      }),
    );
    const rows = await database.db.select().from(outbox);
    expect(rows.map((row) => row.id)).toEqual([first.id]);
    expect(rows[0]).toMatchObject({ kind: 'update', status: 'pending', attempts: 0, recipientKey: 'a', mailingId, message: first.message, nextAttemptAt: now });
  });
});

describe('OutboxStore: progress', () => {
  it('counts a mailing’s rows by status and brings its figures up to date', async () => {
    const { database, clock, store } = setUp();
    const now = clock.now();
    const mailingId = await insertMailing(database, now);
    const otherMailing = await insertMailing(database, now);
    await database.atomic(store.enqueue(['a', 'b', 'c', 'd', 'e'].map((key) => updateFor(mailingId, key, now))));
    await database.atomic(store.enqueue([{ ...updateFor(otherMailing, 'a', now), dueAt: now + 1 }]));
    await insertOutboxRows(database, now, [sampleMessage(1)], { nextAttemptAt: now + 5000 });

    // Due first, so these are four of the mailing's five rows.
    const mine = await store.claim('sender', { limit: 4, leaseMs: LEASE_MS });
    expect(mine).toHaveLength(4);
    await store.markSent('sender', [mine[0]!.id, mine[1]!.id]);
    await store.markFailed('sender', mine[2]!.id, '550 no such user');
    await store.releaseLeases('sender', [mine[3]!.id]);
    // Marks by an owner that holds no lease change nothing.
    await store.markSent('stranger', [mine[3]!.id]);

    expect(await store.mailingProgress(mailingId)).toEqual({ total: 5, sent: 2, failed: 1, pending: 2 });
    expect(await store.mailingProgress(otherMailing)).toEqual({ total: 1, sent: 0, failed: 0, pending: 1 });

    await database.atomic([store.syncMailingProgress(mailingId, now + 1)]);
    const [figures] = await database.db.select().from(mailings).where(eq(mailings.id, mailingId));
    expect(figures).toMatchObject({ sent: 2, failed: 1, updatedAt: now + 1 });

    expect(await readOutboxFigures(database, now)).toEqual({ byStatus: { pending: 4, sent: 2, failed: 1 }, due: 2 });
    const sentRow = await rowById(database, mine[0]!.id);
    expect(sentRow).toMatchObject({ status: 'sent', message: null, attempts: 1, sentAt: now, lockedBy: null });
    expect(await rowById(database, mine[2]!.id)).toMatchObject({ status: 'failed', lastError: '550 no such user', attempts: 1, lockedBy: null });
  });
});

describe('OutboxStore: running mailings of rows', () => {
  it('names the running mailings among the given rows, once each, and no paused or other mailing', async () => {
    const { database, clock, store } = setUp();
    const now = clock.now();
    const running = await insertMailing(database, now);
    const paused = await insertMailing(database, now, 'paused');
    const elsewhere = await insertMailing(database, now);
    const rows = [updateFor(running, 'a', now), updateFor(running, 'b', now), updateFor(paused, 'a', now), updateFor(elsewhere, 'a', now)];
    await database.atomic(store.enqueue(rows));
    await insertOutboxRows(database, now, [sampleMessage(1)]);
    expect(await store.runningMailingsOf([rows[0]!.id, rows[1]!.id, rows[2]!.id])).toEqual([running]);
    expect(await store.runningMailingsOf([rows[3]!.id])).toEqual([elsewhere]);
    expect(await store.runningMailingsOf([])).toEqual([]);
  });
});

describe('OutboxStore: the delivery verbs only', () => {
  it('carries no erasure, retention, lookup or metrics query: those live beside it (outbox-erasure, -retention, -lookups, -figures)', () => {
    const { store } = setUp();
    for (const name of ['erase', 'eraseCampaignUpdates', 'eraseSentBodies', 'eraseFinishedAddresses', 'messagesTo', 'idsByMessageId', 'figures']) expect(name in store, name).toBe(false);
  });
});
