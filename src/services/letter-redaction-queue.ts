import type { ServiceContext } from './context.js';
import type { WriteStatement } from '../db/database.js';

/**
 * The queue of letter batches to render again after an erasure
 * (letter_redactions; the job is src/services/letter-redaction.ts): the
 * statements that add to it, each for the atomic write of the change that
 * calls for it.
 */

// A later request on a queued batch raises requested_at (at least by one, so two in one millisecond differ), restarts its progress and brings it forward.
const QUEUE_CONFLICT = `ON CONFLICT ("batch_id") DO UPDATE SET
  "requested_at" = max("letter_redactions"."requested_at" + 1, excluded."requested_at"),
  "next_attempt_at" = min("letter_redactions"."next_attempt_at", excluded."next_attempt_at"),
  "done_through" = NULL`;

/**
 * Queues the batches that may name a signature of `emailNormalized` given by
 * `asOf`: for the erasure's own atomic write, before the statements that
 * anonymise those signatures (it finds them by their address).
 */
export function requestRedactionsForAddress(ctx: Pick<ServiceContext, 'db'>, emailNormalized: string, asOf: number, now: number): WriteStatement {
  return ctx.db.statement({
    sql: `INSERT INTO "letter_redactions" ("batch_id", "requested_at", "next_attempt_at")
SELECT DISTINCT b."id", ?, ? FROM "signatures" s JOIN "letter_batches" b ON b."campaign_id" = s."campaign_id" AND b."cutoff_at" >= s."confirmed_at"
WHERE s."email_normalized" = ? AND s."created_at" <= ? AND s."status" <> 'erased' AND s."confirmed_at" IS NOT NULL
${QUEUE_CONFLICT}`,
    params: [now, now, emailNormalized, asOf],
  });
}

/** Queues every batch of a campaign (retention anonymised its supporters). */
export function requestRedactionsForCampaign(ctx: Pick<ServiceContext, 'db'>, campaignId: string, now: number): WriteStatement {
  return ctx.db.statement({
    sql: `INSERT INTO "letter_redactions" ("batch_id", "requested_at", "next_attempt_at")
SELECT "id", ?, ? FROM "letter_batches" WHERE "campaign_id" = ?
${QUEUE_CONFLICT}`,
    params: [now, now, campaignId],
  });
}

/**
 * How long before a letter generation began an erasure may have been planned and still be
 * committed after the generation read the signatures (its ledger write and commit take
 * milliseconds; a minute is ample).
 */
const PLANNED_BEFORE_COMMIT_MS = 60_000;

/**
 * For the atomic write that records a new batch: queues it at once when any erasure was completed
 * while it was being rendered, as the erasure could not find a batch not yet recorded and the
 * letters may name the person. Rendering it again costs little when they did not.
 */
export function requestRedactionIfErasedSince(ctx: Pick<ServiceContext, 'db'>, batchId: string, startedAt: number, now: number): WriteStatement {
  return ctx.db.statement({
    sql: `INSERT INTO "letter_redactions" ("batch_id", "requested_at", "next_attempt_at")
SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM "privacy_requests" WHERE "kind" = 'erase' AND "status" = 'completed' AND "completed_at" >= ?)
${QUEUE_CONFLICT}`,
    params: [batchId, now, now, startedAt - PLANNED_BEFORE_COMMIT_MS],
  });
}
