import { describe, expect, it } from 'vitest';
import { HELD_FROM } from '../../src/outbox/outbox-store.js';
import { readOutboxFigures } from '../../src/outbox/outbox-figures.js';
import { drivers, useOutboxDatabase, insertRows, outboxRow } from './helpers/drivers.js';

// The outbox's `/metrics` figures (src/outbox/outbox-figures.ts), the same on both drivers.
const now = Date.UTC(2027, 8, 1);

describe.each(drivers)('outbox figures on $name', ({ open }) => {
  const currentDatabase = useOutboxDatabase(open);

  it('counts the outbox by status, and as due only pending rows due now (not later, not held)', async () => {
    const database = currentDatabase();
    expect(await readOutboxFigures(database, now)).toEqual({ byStatus: { pending: 0, sent: 0, failed: 0 }, due: 0 });
    await insertRows(database, [
      outboxRow(now, { status: 'sent', sentAt: now }),
      outboxRow(now, { status: 'sent', sentAt: now }),
      outboxRow(now, { status: 'sent', sentAt: now }),
      outboxRow(now, { status: 'failed' }),
      outboxRow(now, { nextAttemptAt: now }),
      outboxRow(now, { nextAttemptAt: now - 1 }),
      outboxRow(now, { nextAttemptAt: now + 1 }),
      outboxRow(now, { nextAttemptAt: HELD_FROM + 10 }),
    ]);
    expect(await readOutboxFigures(database, now)).toEqual({ byStatus: { pending: 4, sent: 3, failed: 1 }, due: 2 });
  });
});
