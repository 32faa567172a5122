import { describe, expect, it } from 'vitest';
import { messagesToAddress, outboxIdsByMessageId } from '../../src/outbox/outbox-lookups.js';
import { drivers, useOutboxDatabase, insertRows, outboxRow } from './helpers/drivers.js';

// Reads of the outbox by address and by Message-ID (src/outbox/outbox-lookups.ts), the same on both drivers.
// lastSentLetterEmail is covered with the deliveries it joins, in test/services/bounces.test.ts.
const now = Date.UTC(2027, 8, 1);

describe.each(drivers)('outbox lookups on $name', ({ open }) => {
  const currentDatabase = useOutboxDatabase(open);

  it('finds the messages to an address as typed or normalised, oldest first, letters to targets excepted', async () => {
    const database = currentDatabase();
    await insertRows(database, [
      outboxRow(now + 2, { id: 'typed', recipient: 'Jae.Kim@Example.org', kind: 'update', status: 'sent', sentAt: now + 3, attempts: 1, mailingId: 'm-1' }),
      outboxRow(now + 1, { id: 'spaced', recipient: ' jae.kim@example.org ' }),
      // Beyond ASCII, SQLite's lower() folds nothing: only the form as typed finds it.
      outboxRow(now, { id: 'unicode', recipient: 'ÉLISE@example.org', kind: 'privacy' }),
      outboxRow(now, { id: 'letter', recipient: 'jae.kim@example.org', kind: 'letter-delivery' }),
      outboxRow(now, { id: 'someone-else', recipient: 'jae.kim2@example.org' }),
    ]);

    expect(await messagesToAddress(database, ['jae.kim@example.org'], 'jae.kim@example.org')).toEqual([
      { id: 'spaced', kind: 'confirmation', status: 'pending', attempts: 0, createdAt: now + 1, sentAt: null, mailingId: null },
      { id: 'typed', kind: 'update', status: 'sent', attempts: 1, createdAt: now + 2, sentAt: now + 3, mailingId: 'm-1' },
    ]);
    expect((await messagesToAddress(database, ['élise@example.org'], 'élise@example.org')).map((row) => row.id)).toEqual([]);
    expect((await messagesToAddress(database, ['élise@example.org', 'ÉLISE@example.org'], 'élise@example.org')).map((row) => row.id)).toEqual(['unicode']);
  });

  it('maps our Message-IDs to outbox ids, however many (one JSON parameter), and ignores others’', async () => {
    const database = currentDatabase();
    const ours = Array.from({ length: 120 }, (_, i) => outboxRow(now, { id: `o-${String(i).padStart(3, '0')}` }));
    await insertRows(database, ours);
    const asked = [...ours.map((row) => row.messageId), '<o-000@signet.test>', '<unknown-id@signet.test>', 'no-brackets@signet.test', '<@signet.test>'];

    const found = await outboxIdsByMessageId(database, asked);
    expect(found.size).toBe(120);
    for (const row of ours) expect(found.get(row.messageId)).toBe(row.id);
    expect(await outboxIdsByMessageId(database, ['no-brackets@signet.test'])).toEqual(new Map());
    expect(await outboxIdsByMessageId(database, [])).toEqual(new Map());
  });
});
