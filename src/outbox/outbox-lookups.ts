/**
 * Reads of the outbox by address and by Message-ID, for the services that
 * answer for a supporter's data (export and erasure: src/services/privacy.ts,
 * src/services/anonymise.ts) and for bounces (src/services/bounces.ts).
 * Beside `OutboxStore`, not in it: delivery never looks a row up this way.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { deliveries, outbox } from '../db/schema.js';
import type { OutboxStatus } from './types.js';

/** One outbox row to an address, as an export or an erasure sees it. */
export type MessageToAddress = {
  id: string;
  kind: string;
  status: OutboxStatus;
  attempts: number;
  createdAt: number;
  sentAt: number | null;
  mailingId: string | null;
};

/** Messages to an address in any of the forms given (as typed, or normalised), letters to targets excepted, oldest first. */
export function messagesToAddress(database: Database, forms: readonly string[], emailNormalized: string): Promise<MessageToAddress[]> {
  // SQLite's lower() folds ASCII only; the forms as typed cover the rest.
  return database.db
    .select({
      id: outbox.id,
      kind: outbox.kind,
      status: outbox.status,
      attempts: outbox.attempts,
      createdAt: outbox.createdAt,
      sentAt: outbox.sentAt,
      mailingId: outbox.mailingId,
    })
    .from(outbox)
    .where(
      sql`${outbox.kind} <> 'letter-delivery' AND (${outbox.recipient} IN (SELECT value FROM json_each(${JSON.stringify(forms)})) OR lower(trim(${outbox.recipient})) = ${emailNormalized})`,
    )
    .orderBy(outbox.createdAt);
}

/**
 * Our messages among these Message-IDs: outbox id by Message-ID. Ours are
 * `<outbox id@domain>`, so this is a primary-key lookup, not a scan.
 */
export async function outboxIdsByMessageId(database: Database, messageIds: readonly string[]): Promise<Map<string, string>> {
  const candidates = [...new Set(messageIds.map((id) => /^<([^@<>]+)@/.exec(id)?.[1]).filter((id): id is string => id !== undefined))];
  const found = new Map<string, string>();
  if (candidates.length === 0) return found;
  const rows = await database.db
    .select({ id: outbox.id, messageId: outbox.messageId })
    .from(outbox)
    .where(sql`${outbox.id} IN (SELECT value FROM json_each(${JSON.stringify(candidates)}))`);
  for (const row of rows) found.set(row.messageId, row.id);
  return found;
}

/**
 * A subquery naming the outbox row of the last letter emailed to an address
 * and sent. Walks the deliveries (one per letter) and looks each email up by
 * key, rather than scanning the whole outbox by address.
 */
export function lastSentLetterEmail(emailNormalized: string): SQL {
  return sql`SELECT o."id" FROM ${deliveries} d JOIN ${outbox} o ON o."id" = d."outbox_id"
    WHERE d."channel" = 'email' AND o."status" = 'sent' AND lower(trim(o."recipient")) = ${emailNormalized}
    ORDER BY o."sent_at" DESC, o."id" DESC LIMIT 1`;
}
