import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { WriteStatement } from '../db/database.js';
import { deliveries, letterBatches, letters, signatures } from '../db/schema.js';
import type { LetterPorts } from '../letters/letter-ports.js';
import { newId } from '../lib/ids.js';
import { outboxStore } from '../outbox/outbox-store.js';
import { systemAuditStatement } from './audit.js';
import type { ServiceContext } from './context.js';
import { ServiceError } from '../lib/service-errors.js';
import { storedLetterRenderer, type StoredLetter } from './letters.js';

/**
 * Erased is gone, from stored letters too (README: Privacy). An erasure, in
 * its own transaction, queues every letter batch that may name one of the
 * address's signatures: the batches of its campaigns whose cut-off is at or
 * after the signature's confirmation, whatever its consent (a choice of `none`
 * made after the letters were written does not unname it). Retention queues
 * every batch of a campaign it anonymises, and a batch recorded while an
 * erasure was made queues itself (src/services/letter-redaction-queue.ts).
 * This job then, per batch:
 *
 * - per_target: renders each letter again over its own file, at the batch's
 *   cut-off, from what the database holds now: the erased are still counted,
 *   no longer named. Rendering is deterministic, so a letter that did not name
 *   them comes out byte for byte the same and is left as it was.
 * - per_signer: each letter written for an erased signature is withdrawn:
 *   its file deleted, the letter marked so a download says why.
 * - a letter that cannot be rendered again (its template gone, a target
 *   removed, or failing on every attempt) is withdrawn too, so no name outlives
 *   an erasure for want of a template.
 *
 * Letters already delivered cannot be recalled: their deliveries keep the
 * SHA-256 of what went out (deliveries.letter_sha256) while the letter row
 * describes the new file. Deliveries still waiting carry the new file; those of
 * a withdrawn letter are failed (print) or their email is not sent.
 *
 * The queue survives a crash: a batch is leased, retried with a backoff, and
 * resumes after the last letter done (`done_through`), all guarded by
 * `requested_at`, which a later erasure raises so that its batch is done again.
 * Each batch done is recorded in the audit log with its counts (no names).
 */

/** How long a claimed batch stays leased; past it, the job is taken to have died and another run takes the batch over. */
const LEASE_MS = 15 * 60_000;
/** Attempts after which a letter that still fails to render is withdrawn rather than tried again. */
const MAX_ATTEMPTS = 5;
const backoffMs = (attempts: number) => Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);

/** Deliveries of a letter that went out with its current file: an email sent, bounced or being sent, a print delivery handed to the printer or beyond. */
const goneOut = (now: number) =>
  sql`(("channel" = 'email' AND ("status" = 'bounced' OR EXISTS (SELECT 1 FROM "outbox" o WHERE o."id" = "deliveries"."outbox_id" AND (o."status" = 'sent' OR o."locked_until" > ${now}))))
  OR ("channel" = 'print' AND ("status" IN ('printed', 'posted', 'delivered', 'returned') OR "print_job_state" IS NOT NULL)))`;

export type LetterRedactionReport = {
  /** Batches finished this run. */
  batches: number;
  /** Letters whose PDF changed when rendered again. */
  regenerated: number;
  /** Letters rendered again to the same bytes (they named nobody erased). */
  unchanged: number;
  withdrawn: number;
  /** Deliveries that had gone out, now recorded with the hash they carried. */
  deliveredKept: number;
  /** Batches that failed this run (retried later). */
  failed: number;
};

type Task = { batchId: string; requestedAt: number; attempts: number; doneThrough: string | null };

type Tally = Pick<LetterRedactionReport, 'regenerated' | 'unchanged' | 'withdrawn' | 'deliveredKept'>;

type LetterRow = StoredLetter & { signatureId: string | null; signerStatus: string | null; sha256: string; path: string; withdrawnAt: number | null };

/**
 * Works through the queued batches: on Node a periodic job (woken by each
 * erasure), on Workers the cron. `deadline` (ms since the epoch) stops a run
 * between two letters, the batch resuming at the next; `maxBatches` bounds it.
 * Safe to run from several processes at once (leases).
 */
export async function runLetterRedactions(
  ctx: ServiceContext,
  ports: LetterPorts,
  options: { owner?: string; maxBatches?: number; deadline?: number } = {},
): Promise<LetterRedactionReport> {
  const owner = options.owner ?? `redaction-${newId(ctx.clock.now())}`;
  const report: LetterRedactionReport = { batches: 0, regenerated: 0, unchanged: 0, withdrawn: 0, deliveredKept: 0, failed: 0 };
  for (let taken = 0; taken < (options.maxBatches ?? Number.POSITIVE_INFINITY); taken++) {
    if (options.deadline !== undefined && ctx.clock.now() >= options.deadline) break;
    const task = await claim(ctx, owner);
    if (!task) break;
    const tally: Tally = { regenerated: 0, unchanged: 0, withdrawn: 0, deliveredKept: 0 };
    try {
      const finished = await redactBatch(ctx, ports, task, owner, tally, options.deadline);
      if (finished) report.batches++;
    } catch (error) {
      report.failed++;
      const message = error instanceof Error ? error.message : String(error);
      ctx.logger.error('letter redaction failed; retried later', { batchId: task.batchId, attempts: task.attempts, error: message });
      await ctx.db.atomic([
        ctx.db.statement({
          sql: `UPDATE "letter_redactions" SET "locked_by" = NULL, "locked_until" = NULL, "last_error" = ?, "next_attempt_at" = ? WHERE "batch_id" = ? AND "locked_by" = ?`,
          params: [message.slice(0, 1000), ctx.clock.now() + backoffMs(task.attempts), task.batchId, owner],
        }),
      ]);
    }
    report.regenerated += tally.regenerated;
    report.unchanged += tally.unchanged;
    report.withdrawn += tally.withdrawn;
    report.deliveredKept += tally.deliveredKept;
  }
  if (report.batches + report.failed > 0) ctx.logger.info('letter redaction', report);
  return report;
}

async function claim(ctx: ServiceContext, owner: string): Promise<Task | null> {
  const now = ctx.clock.now();
  const [row] = await ctx.db.writeReturning({
    sql: `UPDATE "letter_redactions" SET "locked_by" = ?, "locked_until" = ?, "attempts" = "attempts" + 1
WHERE "batch_id" = (SELECT "batch_id" FROM "letter_redactions" WHERE "next_attempt_at" <= ? AND ("locked_until" IS NULL OR "locked_until" < ?)
    ORDER BY "next_attempt_at", "batch_id" LIMIT 1)
  AND ("locked_until" IS NULL OR "locked_until" < ?)
RETURNING "batch_id", "requested_at", "attempts", "done_through"`,
    params: [owner, now + LEASE_MS, now, now, now],
  });
  if (!row) return null;
  const [batchId, requestedAt, attempts, doneThrough] = row as [string, number, number, string | null];
  return { batchId, requestedAt: Number(requestedAt), attempts: Number(attempts), doneThrough };
}

/** Moves the batch's progress on, only while the request it works for is still the current one. */
function progressStatement(ctx: ServiceContext, task: Task, letterId: string): WriteStatement {
  return ctx.db.statement({
    sql: `UPDATE "letter_redactions" SET "done_through" = ? WHERE "batch_id" = ? AND "requested_at" = ?`,
    params: [letterId, task.batchId, task.requestedAt],
  });
}

/** Resolves true when the batch is done, false when the deadline stopped it (its lease handed back). */
async function redactBatch(ctx: ServiceContext, ports: LetterPorts, task: Task, owner: string, tally: Tally, deadline: number | undefined): Promise<boolean> {
  const [batch] = await ctx.db.db.select().from(letterBatches).where(eq(letterBatches.id, task.batchId));
  if (batch) {
    const rows: LetterRow[] = await ctx.db.db
      .select({
        id: letters.id,
        targetId: letters.targetId,
        signatureId: letters.signatureId,
        signerStatus: signatures.status,
        template: letters.template,
        language: letters.language,
        languages: letters.languages,
        sha256: letters.sha256,
        path: letters.path,
        withdrawnAt: letters.withdrawnAt,
      })
      .from(letters)
      .leftJoin(signatures, eq(signatures.id, letters.signatureId))
      .where(eq(letters.batchId, batch.id))
      .orderBy(asc(letters.id));
    const pending = rows.filter((row) => task.doneThrough === null || row.id > task.doneThrough);
    // A withdrawal records first and deletes the file after: a run cut off between the two deletes it now.
    for (const row of rows) if (row.withdrawnAt !== null) await ports.files.removeFile(row.path);

    if (batch.mode === 'per_signer') {
      for (const row of pending) {
        // A signer's letter goes with the signer's data (a signature deleted outright leaves no id).
        if (row.withdrawnAt === null && (row.signatureId === null || row.signerStatus === 'erased')) await withdraw(ctx, ports, task, row, tally);
      }
    } else {
      let render: Awaited<ReturnType<typeof storedLetterRenderer>> | null = null;
      try {
        render = await storedLetterRenderer(ctx, ports, batch);
      } catch (error) {
        if (!cannotRenderAgain(error, task)) throw error;
        ctx.logger.warn('a letter batch cannot be rendered again; its letters are withdrawn', { batchId: batch.id, error: errorText(error) });
      }
      for (const row of pending) {
        if (row.withdrawnAt !== null) continue;
        if (deadline !== undefined && ctx.clock.now() >= deadline) {
          await release(ctx, task, owner);
          return false;
        }
        if (!render) {
          await withdraw(ctx, ports, task, row, tally);
          continue;
        }
        let rendered: Awaited<ReturnType<typeof render>>;
        try {
          rendered = await render(row);
        } catch (error) {
          if (!cannotRenderAgain(error, task)) throw error;
          ctx.logger.warn('a letter cannot be rendered again; it is withdrawn', { batchId: batch.id, letterId: row.id, error: errorText(error) });
          await withdraw(ctx, ports, task, row, tally);
          continue;
        }
        await recordRendered(ctx, task, row, rendered, tally);
      }
    }
  }
  const now = ctx.clock.now();
  await ctx.db.atomic([
    // A request that came in meanwhile raised requested_at: the row stays, and the batch is done again.
    ctx.db.statement({ sql: `DELETE FROM "letter_redactions" WHERE "batch_id" = ? AND "requested_at" = ?`, params: [task.batchId, task.requestedAt] }),
    ctx.db.statement({
      sql: `UPDATE "letter_redactions" SET "locked_by" = NULL, "locked_until" = NULL, "attempts" = 0, "last_error" = NULL WHERE "batch_id" = ? AND "locked_by" = ?`,
      params: [task.batchId, owner],
    }),
    ...(batch ? [systemAuditStatement(ctx.db, now, { action: 'letters.redact', job: 'letter-redaction', object: { type: 'letter_batch', id: batch.id }, details: { ...tally } })] : []),
  ]);
  return true;
}

/** A failure that trying again will not mend (a template, target or campaign gone, the organisation file invalid), or the last attempt's. */
function cannotRenderAgain(error: unknown, task: Task): boolean {
  return error instanceof ServiceError || task.attempts >= MAX_ATTEMPTS;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function release(ctx: ServiceContext, task: Task, owner: string): Promise<void> {
  // Cut short by the deadline, not failed: the attempt is given back.
  await ctx.db.atomic([
    ctx.db.statement({
      sql: `UPDATE "letter_redactions" SET "locked_by" = NULL, "locked_until" = NULL, "attempts" = max(0, "attempts" - 1) WHERE "batch_id" = ? AND "locked_by" = ?`,
      params: [task.batchId, owner],
    }),
  ]);
}

async function goneOutCount(ctx: ServiceContext, letterId: string, now: number): Promise<number> {
  const [row] = await ctx.db.db
    .select({ n: sql<number>`count(*)` })
    .from(deliveries)
    .where(and(eq(deliveries.letterId, letterId), isNull(deliveries.letterSha256), goneOut(now)));
  return Number(row?.n ?? 0);
}

/** Deliveries that went out with the letter as it was keep its hash. */
function keepDeliveredHash(ctx: ServiceContext, letter: LetterRow, now: number): WriteStatement {
  return ctx.db.statement(sql`UPDATE "deliveries" SET "letter_sha256" = ${letter.sha256} WHERE "letter_id" = ${letter.id} AND "letter_sha256" IS NULL AND ${goneOut(now)}`);
}

async function recordRendered(ctx: ServiceContext, task: Task, letter: LetterRow, rendered: { sha256: string; pages: number; bytes: number; signatureCount: number }, tally: Tally) {
  if (rendered.sha256 === letter.sha256) {
    tally.unchanged++;
    await ctx.db.atomic([progressStatement(ctx, task, letter.id)]);
    return;
  }
  const now = ctx.clock.now();
  tally.deliveredKept += await goneOutCount(ctx, letter.id, now);
  await ctx.db.atomic([
    keepDeliveredHash(ctx, letter, now),
    ctx.db.db
      .update(letters)
      .set({ sha256: rendered.sha256, pages: rendered.pages, bytes: rendered.bytes, signatureCount: rendered.signatureCount, regeneratedAt: now })
      .where(eq(letters.id, letter.id)),
    progressStatement(ctx, task, letter.id),
  ]);
  tally.regenerated++;
}

const WITHDRAWN_ERROR = 'letter withdrawn after an erasure: it could not be rendered again without the erased supporter';

/** Marks a letter withdrawn (its deliveries still waiting failed), then deletes its file. */
async function withdraw(ctx: ServiceContext, ports: LetterPorts, task: Task, letter: LetterRow, tally: Tally) {
  const now = ctx.clock.now();
  tally.deliveredKept += await goneOutCount(ctx, letter.id, now);
  const mailingIds = (
    await ctx.db.db.selectDistinct({ id: deliveries.mailingId }).from(deliveries).where(and(eq(deliveries.letterId, letter.id), eq(deliveries.channel, 'email')))
  )
    .map((row) => row.id)
    .filter((id): id is string => id !== null);
  const outbox = outboxStore(ctx);
  await ctx.db.atomic([
    keepDeliveredHash(ctx, letter, now),
    ctx.db.statement({ sql: `UPDATE "letters" SET "withdrawn_at" = ? WHERE "id" = ? AND "withdrawn_at" IS NULL`, params: [now, letter.id] }),
    ctx.db.statement({
      sql: `UPDATE "deliveries" SET "status" = 'failed', "last_error" = ?, "updated_at" = ?
WHERE "letter_id" = ? AND "channel" = 'print' AND "status" = 'queued' AND "print_job_state" IS NULL`,
      params: [WITHDRAWN_ERROR, now, letter.id],
    }),
    outbox.withdrawLetterEmails(letter.id, WITHDRAWN_ERROR, now),
    ...mailingIds.map((mailingId) => outbox.syncMailingProgress(mailingId, now)),
    progressStatement(ctx, task, letter.id),
  ]);
  await ports.files.removeFile(letter.path);
  tally.withdrawn++;
}
