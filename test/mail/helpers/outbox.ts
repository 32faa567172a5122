import { type OutboxMessage, outbox } from '../../../src/db/schema.js';
import type { Database } from '../../../src/db/database.js';
import { newId } from '../../../src/lib/ids.js';
import { newMessageId } from '../../../src/mail/messages.js';

export const mailFrom = 'Signet <no-reply@signet.example>';

export function sampleMessage(index: number, overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    to: { name: `Supporter ${index}`, address: `supporter${index}@example.com` },
    subject: `Please confirm your signature ${index}`,
    text: `Hello ${index}, token tok-${index}`,
    html: `<p>Hello ${index}, token tok-${index}</p>`,
    ...overrides,
  };
}

/** Inserts pending outbox rows due at `now`; returns their ids in insertion order. */
export async function insertOutboxRows(
  database: Database,
  now: number,
  messages: OutboxMessage[],
  overrides: Partial<typeof outbox.$inferInsert> = {},
): Promise<string[]> {
  const rows = messages.map((message) => {
    const id = newId(now);
    return {
      id,
      kind: 'confirmation',
      recipient: message.to.address,
      messageId: newMessageId(mailFrom, id),
      message,
      nextAttemptAt: now,
      createdAt: now,
      ...overrides,
    };
  });
  if (rows.length > 0) await database.db.insert(outbox).values(rows);
  return rows.map((row) => row.id);
}
