/**
 * The outbox's operational figures for `/metrics`
 * (src/services/operational-figures.ts). Beside `OutboxStore`, not in it: a
 * scrape reads counts, it takes part in no delivery.
 */
import { and, count, eq, inArray, lte } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { outbox } from '../db/schema.js';
import type { OutboxStatus } from './types.js';

/** The operational figures of the outbox (`/metrics`). */
export type OutboxFigures = {
  byStatus: Record<OutboxStatus, number>;
  /** Pending messages due at `now` (held ones are not due). */
  due: number;
};

/**
 * The outbox by status, and how much is due at `now`. `sent` is the whole
 * table minus the small states: SQLite counts a table from its smallest index
 * without decoding rows, so the cost follows the rows still pending or
 * failed, not the mail ever sent.
 */
export async function readOutboxFigures(database: Database, now: number): Promise<OutboxFigures> {
  const { db } = database;
  const [[total], small, [due]] = await Promise.all([
    db.select({ n: count() }).from(outbox),
    db
      .select({ status: outbox.status, n: count() })
      .from(outbox)
      .where(inArray(outbox.status, ['pending', 'failed']))
      .groupBy(outbox.status),
    db
      .select({ n: count() })
      .from(outbox)
      .where(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, now))),
  ]);
  const byStatus: Record<OutboxStatus, number> = { pending: 0, sent: 0, failed: 0 };
  for (const row of small) byStatus[row.status] = row.n;
  byStatus.sent = (total?.n ?? 0) - byStatus.pending - byStatus.failed;
  return { byStatus, due: due?.n ?? 0 };
}
