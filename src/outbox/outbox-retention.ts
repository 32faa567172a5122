/**
 * The retention job's writes on the outbox (src/services/retention.ts):
 * personal data out of rows whose delivery is over. Beside `OutboxStore`,
 * not in it: they touch only finished rows (sent or failed), never a status
 * or a lease, so the delivery protocol does not see them.
 */
import type { Database } from '../db/database.js';

/** Rows changed per retention write, so the job never holds the write lock long enough to keep a supporter waiting. */
const SLICE = 500;

async function inSlices(database: Database, text: string, params: (string | number | null)[]): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await database.writeReturning({ sql: text, params });
    total += rows.length;
    if (rows.length < SLICE) return total;
  }
}

/** Erases the bodies of sent messages; resolves how many. */
export function eraseSentBodies(database: Database): Promise<number> {
  return inSlices(database, `UPDATE "outbox" SET "message" = NULL WHERE "id" IN (SELECT "id" FROM "outbox" WHERE "status" = 'sent' AND "message" IS NOT NULL LIMIT ${SLICE}) RETURNING 1`, []);
}

/**
 * Erases the address of supporters' messages finished (sent or failed)
 * before `before`; resolves how many. Letters to targets keep their address:
 * it is the target's, and the delivery record needs it.
 */
export function eraseFinishedAddresses(database: Database, before: number): Promise<number> {
  return inSlices(
    database,
    `UPDATE "outbox" SET "recipient" = 'erased:' || "id", "lane_address" = NULL, "last_error" = NULL WHERE "id" IN (SELECT "id" FROM "outbox"
        WHERE "status" IN ('sent', 'failed') AND "kind" <> 'letter-delivery' AND coalesce("sent_at", "created_at") < ? AND "recipient" NOT LIKE 'erased:%' LIMIT ${SLICE}) RETURNING 1`,
    [before],
  );
}
