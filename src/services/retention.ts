import { and, inArray, lte, sql } from 'drizzle-orm';
import { campaigns, fraudulentRequests, signatureSubmissions, signatures } from '../db/schema.js';
import { eraseFinishedAddresses, eraseSentBodies } from '../outbox/outbox-retention.js';
import type { MailFileCleaner } from '../mail/transports/transport.js';
import { retireLegacySecrets } from './installation.js';
import { purgeAuditEvents } from './audit.js';
import { anonymiseCampaignSignatures, flushErasedData } from './anonymise.js';
import { IP_HASH_RETENTION_DAYS, type ServiceContext } from './context.js';
import { WEBHOOK_LOG_RETENTION_DAYS } from './webhooks.js';

const DAY_MS = 86_400_000;
/** Rows changed per write, so the job never holds the write lock long enough to keep a supporter waiting. */
const SLICE = 500;

/** Node's adapter for mail files is src/mail/node/mail-file-cleaner.ts; a runtime without mail files has none. */
export type RetentionPorts = { mailFiles?: MailFileCleaner | undefined };

/** What one run did, in counts only (it is logged, and printed by `signet retention run`). */
export type RetentionReport = {
  campaignsAnonymised: number;
  signaturesAnonymised: number;
  pendingSignaturesDeleted: number;
  signingRequestsDeleted: number;
  fraudulentRequestsDeleted: number;
  ipHashesCleared: number;
  outboxBodiesCleared: number;
  outboxAddressesCleared: number;
  privacyRequestsExpired: number;
  legacyConfirmTokensCleared: number;
  legacyKeysRetired: number;
  mailFilesDeleted: number;
  auditEventsDeleted: number;
  webhookAttemptsDeleted: number;
};

/** Runs a write over slices of the rows it matches until none is left; its SQL must stop matching a row once changed. */
async function inSlices(ctx: ServiceContext, text: string, params: (string | number | null)[]): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await ctx.db.writeReturning({ sql: text, params });
    total += rows.length;
    if (rows.length < SLICE) return total;
  }
}

/**
 * The retention job (PRODUCT.md §2, §8), hourly and as `signet retention run`.
 * Each rule is safe to repeat and to run from two processes at once:
 * - campaigns closed or archived longer than RETENTION_DAYS: every signature
 *   anonymised (counts kept, see anonymise.ts);
 * - signatures still pending after PENDING_TTL_DAYS, signing requests past
 *   their expiry, and fraudulent requests after PENDING_TTL_DAYS: deleted;
 * - IP hashes older than IP_HASH_RETENTION_DAYS: cleared;
 * - outbox rows: the body once sent; the supporter's address once the row
 *   is finished and PENDING_TTL_DAYS old (the mailing guard keeps its key);
 * - privacy requests past their expiry: expired, their address cleared;
 * - hashes of confirmation tokens mailed by earlier versions, once expired,
 *   and keys earlier versions kept in the database, once unused;
 * - mail files older than a confirmation link's lifetime;
 * - audit events older than AUDIT_RETENTION_DAYS: deleted, the purge itself
 *   recorded in the audit log (`audit.purge`, with the count and the cut-off);
 * - webhook delivery attempts older than WEBHOOK_LOG_RETENTION_DAYS.
 * Anonymising a campaign also queues its letters to be rendered again without
 * names (src/services/letter-redaction.ts).
 * The write-ahead log is then truncated so erased values do not linger.
 */
export async function runRetention(ctx: ServiceContext, ports: RetentionPorts = {}): Promise<RetentionReport> {
  const now = ctx.clock.now();
  const closedBefore = now - ctx.privacy.retentionDays * DAY_MS;
  const pendingBefore = now - ctx.privacy.pendingTtlDays * DAY_MS;
  const ipHashesBefore = now - IP_HASH_RETENTION_DAYS * DAY_MS;

  const due = await ctx.db.db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(
      and(
        inArray(campaigns.status, ['closed', 'archived']),
        lte(campaigns.closedAt, closedBefore),
        // Only campaigns with something left to anonymise, so an old campaign costs one index probe per run.
        sql`(EXISTS (SELECT 1 FROM ${signatures} s WHERE s."campaign_id" = ${campaigns.id} AND s."status" <> 'erased')
          OR EXISTS (SELECT 1 FROM ${signatureSubmissions} r WHERE r."campaign_id" = ${campaigns.id})
          OR EXISTS (SELECT 1 FROM ${fraudulentRequests} f WHERE f."campaign_id" = ${campaigns.id}))`,
      ),
    );
  let signaturesAnonymised = 0;
  for (const campaign of due) signaturesAnonymised += await anonymiseCampaignSignatures(ctx, campaign.id);

  const report: RetentionReport = {
    campaignsAnonymised: due.length,
    signaturesAnonymised,
    // Only versions before 0.2 wrote pending signatures (a request now waits in signature_submissions, and
    // confirming it writes its own row), so one goes after PENDING_TTL_DAYS whatever was requested since.
    pendingSignaturesDeleted: await inSlices(
      ctx,
      `DELETE FROM "signatures" WHERE "id" IN (SELECT "id" FROM "signatures" WHERE "status" = 'pending' AND "created_at" < ? LIMIT ${SLICE}) RETURNING 1`,
      [pendingBefore],
    ),
    signingRequestsDeleted: await inSlices(
      ctx,
      `DELETE FROM "signature_submissions" WHERE "id" IN (SELECT "id" FROM "signature_submissions" WHERE "expires_at" < ? OR "created_at" < ? LIMIT ${SLICE}) RETURNING 1`,
      [now, pendingBefore],
    ),
    // Kept for review no longer than a signing request would wait for its confirmation.
    fraudulentRequestsDeleted: await inSlices(
      ctx,
      `DELETE FROM "fraudulent_requests" WHERE "id" IN (SELECT "id" FROM "fraudulent_requests" WHERE "created_at" < ? LIMIT ${SLICE}) RETURNING 1`,
      [pendingBefore],
    ),
    ipHashesCleared:
      (await inSlices(
        ctx,
        `UPDATE "signatures" SET "ip_hash" = NULL WHERE "id" IN (SELECT "id" FROM "signatures" WHERE "ip_hash" IS NOT NULL AND "created_at" < ? LIMIT ${SLICE}) RETURNING 1`,
        [ipHashesBefore],
      )) +
      (await inSlices(
        ctx,
        `UPDATE "signature_submissions" SET "ip_hash" = NULL WHERE "id" IN (SELECT "id" FROM "signature_submissions" WHERE "ip_hash" IS NOT NULL AND "created_at" < ? LIMIT ${SLICE}) RETURNING 1`,
        [ipHashesBefore],
      )) +
      (await inSlices(
        ctx,
        `UPDATE "fraudulent_requests" SET "ip_hash" = NULL WHERE "id" IN (SELECT "id" FROM "fraudulent_requests" WHERE "ip_hash" IS NOT NULL AND "created_at" < ? LIMIT ${SLICE}) RETURNING 1`,
        [ipHashesBefore],
      )),
    outboxBodiesCleared: await eraseSentBodies(ctx.db),
    // Letters to targets keep their address: it is the target's, and the delivery record needs it.
    outboxAddressesCleared: await eraseFinishedAddresses(ctx.db, pendingBefore),
    privacyRequestsExpired: await inSlices(
      ctx,
      `UPDATE "privacy_requests" SET "status" = 'expired', "email_normalized" = NULL WHERE "id" IN (SELECT "id" FROM "privacy_requests" WHERE "status" = 'pending' AND "expires_at" < ? LIMIT ${SLICE}) RETURNING 1`,
      [now],
    ),
    legacyConfirmTokensCleared: await inSlices(
      ctx,
      `UPDATE "signatures" SET "confirm_token_hash" = NULL, "confirm_expires_at" = NULL WHERE "id" IN (SELECT "id" FROM "signatures"
        WHERE "confirm_token_hash" IS NOT NULL AND ("confirm_expires_at" IS NULL OR "confirm_expires_at" < ?) LIMIT ${SLICE}) RETURNING 1`,
      [now],
    ),
    legacyKeysRetired: (await retireLegacySecrets(ctx)).length,
    mailFilesDeleted: ports.mailFiles ? await ports.mailFiles.deleteOlderThan(now - ctx.confirmTokenTtlMs) : 0,
    auditEventsDeleted: await purgeAuditEvents(ctx, now - ctx.privacy.auditRetentionDays * DAY_MS),
    webhookAttemptsDeleted: await inSlices(
      ctx,
      `DELETE FROM "webhook_deliveries" WHERE "id" IN (SELECT "id" FROM "webhook_deliveries" WHERE "attempted_at" < ? LIMIT ${SLICE}) RETURNING 1`,
      [now - WEBHOOK_LOG_RETENTION_DAYS * DAY_MS],
    ),
  };
  await flushErasedData(ctx);
  ctx.logger.info('retention run', report);
  return report;
}
