import { asc } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema.js';
import { eraseCampaignUpdateEmails, eraseOutboxMessages } from '../../src/outbox/outbox-erasure.js';
import { drivers, useOutboxDatabase, insertCampaignMailing, insertRows, outboxRow } from './helpers/drivers.js';

// Erasure's writes on the outbox (src/outbox/outbox-erasure.ts), the same on both drivers.
const now = Date.UTC(2027, 8, 1);

describe.each(drivers)('outbox erasure on $name', ({ open }) => {
  const currentDatabase = useOutboxDatabase(open);

  const rows = async () => currentDatabase().db.select().from(outbox).orderBy(asc(outbox.id));

  it('strips the rows named of address, body and error in one statement however many (one JSON parameter); a pending one fails, a sent one stays sent', async () => {
    const database = currentDatabase();
    // More ids than D1 binds parameters: they must go as one.
    const pending = Array.from({ length: 150 }, (_, i) => outboxRow(now, { id: `p-${String(i).padStart(3, '0')}`, laneAddress: `a${i}@example.org`, lockedBy: 'sender', lockedUntil: now + 60_000 }));
    const sent = outboxRow(now, { id: 's-0', status: 'sent', sentAt: now, message: null, attempts: 1 });
    const failed = outboxRow(now, { id: 'f-0', status: 'failed', lastError: '550 <someone@example.org> unknown', attempts: 3 });
    const kept = outboxRow(now, { id: 'k-0', recipient: 'kept@example.org' });
    await insertRows(database, [...pending, sent, failed, kept]);

    await database.atomic([eraseOutboxMessages(database, [...pending.map((row) => row.id), sent.id, failed.id])]);

    const after = new Map((await rows()).map((row) => [row.id, row]));
    for (const row of pending) {
      expect(after.get(row.id)).toMatchObject({ recipient: `erased:${row.id}`, laneAddress: null, message: null, status: 'failed', lastError: 'erased', lockedBy: null, lockedUntil: null });
    }
    expect(after.get('s-0')).toMatchObject({ recipient: 'erased:s-0', status: 'sent', lastError: null, sentAt: now, attempts: 1 });
    expect(after.get('f-0')).toMatchObject({ recipient: 'erased:f-0', status: 'failed', lastError: null, attempts: 3 });
    expect(after.get('k-0')).toMatchObject({ recipient: 'kept@example.org', status: 'pending', message: kept.message });
  });

  it('erases the update emails of one campaign’s mailings only, each once', async () => {
    const database = currentDatabase();
    const closed = await insertCampaignMailing(database, now, 'closed-campaign');
    const other = await insertCampaignMailing(database, now, 'other-campaign');
    await insertRows(database, [
      outboxRow(now, { id: 'u-closed-1', kind: 'update', mailingId: closed, recipientKey: 'a', status: 'sent', sentAt: now, message: null }),
      outboxRow(now, { id: 'u-closed-2', kind: 'update', mailingId: closed, recipientKey: 'b' }),
      outboxRow(now, { id: 'u-other', kind: 'update', mailingId: other, recipientKey: 'a', recipient: 'other@example.org' }),
      outboxRow(now, { id: 'c-0', kind: 'confirmation', recipient: 'confirm@example.org' }),
    ]);

    await database.atomic([eraseCampaignUpdateEmails(database, 'closed-campaign')]);
    const after = new Map((await rows()).map((row) => [row.id, row]));
    expect(after.get('u-closed-1')).toMatchObject({ recipient: 'erased:u-closed-1', status: 'sent', mailingId: closed, recipientKey: 'a' });
    expect(after.get('u-closed-2')).toMatchObject({ recipient: 'erased:u-closed-2', status: 'failed', lastError: 'erased', message: null, recipientKey: 'b' });
    expect(after.get('u-other')).toMatchObject({ recipient: 'other@example.org', status: 'pending' });
    expect(after.get('c-0')).toMatchObject({ recipient: 'confirm@example.org', status: 'pending' });

    // Run again (retention repeats): a row already erased is not touched, so its failure stays as it was.
    await database.atomic([database.db.update(outbox).set({ lastError: 'kept as erased' })]);
    await database.atomic([eraseCampaignUpdateEmails(database, 'closed-campaign')]);
    expect((await rows()).find((row) => row.id === 'u-closed-2')).toMatchObject({ lastError: 'kept as erased' });
  });
});
