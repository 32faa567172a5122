import { asc } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema.js';
import { eraseFinishedAddresses, eraseSentBodies } from '../../src/outbox/outbox-retention.js';
import { drivers, useOutboxDatabase, insertRows, outboxRow } from './helpers/drivers.js';

// The retention job's writes on the outbox (src/outbox/outbox-retention.ts), the same on both drivers.
const now = Date.UTC(2027, 8, 1);
const DAY_MS = 86_400_000;

describe.each(drivers)('outbox retention on $name', ({ open }) => {
  const currentDatabase = useOutboxDatabase(open);

  const rows = async () => currentDatabase().db.select().from(outbox).orderBy(asc(outbox.id));

  it('erases the body of every sent row, in slices of 500, and counts them; a pending or failed row keeps its body', async () => {
    const database = currentDatabase();
    const sent = Array.from({ length: 501 }, (_, i) => outboxRow(now, { id: `s-${String(i).padStart(3, '0')}`, status: 'sent', sentAt: now }));
    await insertRows(database, [...sent, outboxRow(now, { id: 'x-pending' }), outboxRow(now, { id: 'x-failed', status: 'failed' })]);

    expect(await eraseSentBodies(database)).toBe(501);
    const after = await rows();
    expect(after.filter((row) => row.status === 'sent' && row.message !== null)).toEqual([]);
    expect(after.filter((row) => row.id.startsWith('x-')).map((row) => row.message === null)).toEqual([false, false]);
    expect(await eraseSentBodies(database)).toBe(0);
  });

  it('erases the address of supporters’ rows finished before the cut-off, once; letters to targets, pending and newer rows keep theirs', async () => {
    const database = currentDatabase();
    const cutOff = now - 30 * DAY_MS;
    const old = cutOff - DAY_MS;
    await insertRows(database, [
      outboxRow(old, { id: 'a-sent', status: 'sent', sentAt: old, laneAddress: 'a@example.org', recipient: 'A@example.org' }),
      outboxRow(old, { id: 'b-failed', status: 'failed', lastError: '550 <b@example.org>', recipient: 'b@example.org' }),
      // Sent after the cut-off though queued before: it counts from when it was sent.
      outboxRow(old, { id: 'c-sent-late', status: 'sent', sentAt: now, recipient: 'c@example.org' }),
      outboxRow(old, { id: 'd-letter', kind: 'letter-delivery', status: 'sent', sentAt: old, recipient: 'embassy@example.gov' }),
      outboxRow(old, { id: 'e-pending', recipient: 'e@example.org' }),
    ]);

    expect(await eraseFinishedAddresses(database, cutOff)).toBe(2);
    const after = new Map((await rows()).map((row) => [row.id, row]));
    expect(after.get('a-sent')).toMatchObject({ recipient: 'erased:a-sent', laneAddress: null, status: 'sent' });
    expect(after.get('b-failed')).toMatchObject({ recipient: 'erased:b-failed', lastError: null, status: 'failed' });
    expect([after.get('c-sent-late')?.recipient, after.get('d-letter')?.recipient, after.get('e-pending')?.recipient]).toEqual(['c@example.org', 'embassy@example.gov', 'e@example.org']);
    expect(await eraseFinishedAddresses(database, cutOff)).toBe(0);
  });
});
