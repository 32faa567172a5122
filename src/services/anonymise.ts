import { and, eq, lte, sql } from 'drizzle-orm';
import type { WriteStatement } from '../db/database.js';
import { mailings, signatureSubmissions, signatures } from '../db/schema.js';
import { eraseCampaignUpdateEmails, eraseOutboxMessages } from '../outbox/outbox-erasure.js';
import { messagesToAddress } from '../outbox/outbox-lookups.js';
import { outboxStore } from '../outbox/outbox-store.js';
import { assertOrganisationAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { requestRedactionsForAddress, requestRedactionsForCampaign } from './letter-redaction-queue.js';
import { webhookEventWrites } from './webhooks.js';

/**
 * Erasure (PRODUCT.md §8), shared by the supporters' own requests, organisers
 * acting on a request received by post, and the retention job.
 *
 * What stays of an erased signature is what the counts need: its campaign,
 * country, region, language and when it was confirmed. Everything that could
 * identify the signer goes: name, email, city, postal code, comment, IP
 * hash, source, consent. Its address becomes `erased:<id>`, unique per row so
 * the (campaign, address) key holds and the same person can sign again.
 * campaigns.signature_count and its deltas are not touched: a confirmed
 * signature stays counted. A pending one was never counted; it is deleted.
 */
const ANONYMISED_SIGNATURE = `"name" = '', "email" = '', "email_normalized" = 'erased:' || "id",
  "city" = NULL, "postal_code" = NULL, "comment" = NULL, "ip_hash" = NULL, "source" = NULL,
  "name_on_letter" = 'none', "show_publicly" = 0, "updates" = 0, "partner_opt_in" = 0,
  "confirmed_at" = CASE WHEN "status" = 'confirmed' THEN "confirmed_at" ELSE NULL END,
  "confirm_token_hash" = NULL, "confirm_expires_at" = NULL, "status" = 'erased'`;

/**
 * Signatures of one address (pending ones deleted, the others anonymised).
 * Parameters: the normalised address and the erasure time; only rows created
 * by then are touched, so a restore applying an old erasure again
 * (src/operations/restore.ts) spares a signature given after it.
 */
const ERASE_ADDRESS_SIGNATURES = [
  `DELETE FROM "signatures" WHERE "email_normalized" = ? AND "created_at" <= ? AND "status" = 'pending'`,
  `UPDATE "signatures" SET ${ANONYMISED_SIGNATURE} WHERE "email_normalized" = ? AND "created_at" <= ? AND "status" <> 'erased'`,
];

/** Who an address's outbox rows were written to: as typed (outbox rows keep the case the supporter used) and normalised. */
async function recipientForms(ctx: ServiceContext, emailNormalized: string): Promise<string[]> {
  const [typedOnSignatures, typedOnSubmissions] = await Promise.all([
    ctx.db.db.selectDistinct({ email: signatures.email }).from(signatures).where(eq(signatures.emailNormalized, emailNormalized)),
    ctx.db.db.selectDistinct({ email: signatureSubmissions.email }).from(signatureSubmissions).where(eq(signatureSubmissions.emailNormalized, emailNormalized)),
  ]);
  const forms = new Set([emailNormalized]);
  for (const { email } of [...typedOnSignatures, ...typedOnSubmissions]) if (email !== '') forms.add(email.trim());
  return [...forms];
}

/**
 * The outbox rows to an address (by any form of it). Letters emailed to
 * targets are not a supporter's data and are left alone.
 */
async function outboxRowsTo(ctx: ServiceContext, emailNormalized: string) {
  return messagesToAddress(ctx.db, await recipientForms(ctx, emailNormalized), emailNormalized);
}

export type AddressErasure = {
  /** Signatures of the address when the erasure was planned (pending ones included). */
  signatureCount: number;
  statements: WriteStatement[];
};

/**
 * The statements that erase everything held about an address, for the caller
 * to run in one atomic write with its own record of the request: every
 * signature (as above), its signing requests and fraudulent requests, the
 * outbox rows to it, its bounces and suppressions, and the address on its
 * privacy requests. Letter batches that may name one of its signatures are
 * queued to be rendered again (src/services/letter-redaction.ts), in the same
 * write.
 *
 * `asOf` limits the erasure to what the address had at that time (a restore
 * applying again an erasure made then); by default, everything.
 */
export async function planAddressErasure(ctx: ServiceContext, emailNormalized: string, options: { asOf?: number } = {}): Promise<AddressErasure> {
  assertOrganisationAccess(ctx.access);
  const now = ctx.clock.now();
  const asOf = options.asOf ?? Number.MAX_SAFE_INTEGER;
  const [[counted], allRows] = await Promise.all([
    ctx.db.db
      .select({ n: sql<number>`count(*)` })
      .from(signatures)
      .where(and(eq(signatures.emailNormalized, emailNormalized), lte(signatures.createdAt, asOf))),
    outboxRowsTo(ctx, emailNormalized),
  ]);
  const rows = allRows.filter((row) => row.createdAt <= asOf);
  // Receivers told of a confirmed signature are told of its erasure (by its identifier only).
  const told = await ctx.db.db
    .select({ id: signatures.id })
    .from(signatures)
    .where(and(eq(signatures.emailNormalized, emailNormalized), lte(signatures.createdAt, asOf), eq(signatures.status, 'confirmed')));
  // First: it finds the batches by the address the statements after it erase.
  const statements: WriteStatement[] = [
    requestRedactionsForAddress(ctx, emailNormalized, asOf, now),
    ...(await webhookEventWrites(ctx, 'signature.erased', told.map((row) => row.id))),
  ];
  for (const text of ERASE_ADDRESS_SIGNATURES) statements.push(ctx.db.statement({ sql: text, params: [emailNormalized, asOf] }));
  statements.push(
    ctx.db.statement({ sql: 'DELETE FROM "signature_submissions" WHERE "email_normalized" = ? AND "created_at" <= ?', params: [emailNormalized, asOf] }),
    ctx.db.statement({ sql: 'DELETE FROM "fraudulent_requests" WHERE "email_normalized" = ? AND "created_at" <= ?', params: [emailNormalized, asOf] }),
  );
  const outbox = outboxStore(ctx);
  // Stripped of address and message; one still waiting fails instead of being sent.
  if (rows.length > 0) statements.push(eraseOutboxMessages(ctx.db, rows.map((row) => row.id)));
  // A mailing's figures count its failed rows; the ones just failed must show there.
  for (const mailingId of new Set(rows.map((row) => row.mailingId).filter((id): id is string => id !== null))) {
    statements.push(outbox.syncMailingProgress(mailingId, now));
  }
  statements.push(
    ctx.db.statement({ sql: 'DELETE FROM "bounces" WHERE "email_normalized" = ? AND "created_at" <= ?', params: [emailNormalized, asOf] }),
    ctx.db.statement({ sql: 'DELETE FROM "email_suppressions" WHERE "email_normalized" = ? AND "created_at" <= ?', params: [emailNormalized, asOf] }),
    ctx.db.statement({ sql: 'UPDATE "privacy_requests" SET "email_normalized" = NULL WHERE "email_normalized" = ? AND "created_at" <= ?', params: [emailNormalized, asOf] }),
  );
  return { signatureCount: Number(counted?.n ?? 0), statements };
}

/**
 * After an erasure: the write-ahead log still holds the pages as they were
 * before, so it is copied into the database file (where secure_delete has
 * zeroed the erased values) and truncated. A reader can keep it from being
 * truncated; the next erasure or retention run tries again.
 */
export async function flushErasedData(ctx: ServiceContext): Promise<void> {
  if (!ctx.db.truncateLog) return;
  const truncated = await ctx.db.truncateLog();
  if (!truncated) ctx.logger.warn('the write-ahead log could not be truncated after an erasure (a reader was active); it will be at the next run');
}

const SLICE = 500;

/**
 * Anonymises the signatures of one campaign (retention), a slice per write so
 * signing elsewhere is never held up for long: pending ones deleted, the
 * others anonymised, its signing requests and fraudulent requests deleted,
 * the update emails to its supporters stripped of address and body, and its
 * letter batches queued to be rendered again without names. Returns the
 * signatures changed.
 */
export async function anonymiseCampaignSignatures(ctx: ServiceContext, campaignId: string): Promise<number> {
  assertOrganisationAccess(ctx.access);
  let changed = 0;
  for (;;) {
    const deleted = await ctx.db.writeReturning({
      sql: `DELETE FROM "signatures" WHERE "id" IN (SELECT "id" FROM "signatures" WHERE "campaign_id" = ? AND "status" = 'pending' LIMIT ${SLICE}) RETURNING "id"`,
      params: [campaignId],
    });
    changed += deleted.length;
    if (deleted.length < SLICE) break;
  }
  for (;;) {
    const anonymised = await ctx.db.writeReturning({
      sql: `UPDATE "signatures" SET ${ANONYMISED_SIGNATURE} WHERE "id" IN (SELECT "id" FROM "signatures" WHERE "campaign_id" = ? AND "status" <> 'erased' LIMIT ${SLICE}) RETURNING "id"`,
      params: [campaignId],
    });
    changed += anonymised.length;
    if (anonymised.length < SLICE) break;
  }
  const campaignMailings = await ctx.db.db.select({ id: mailings.id }).from(mailings).where(eq(mailings.campaignId, campaignId));
  const now = ctx.clock.now();
  const outbox = outboxStore(ctx);
  await ctx.db.atomic([
    // Its letters named supporters who are anonymised now: rendered again, they name nobody.
    ...(changed > 0 ? [requestRedactionsForCampaign(ctx, campaignId, now)] : []),
    ctx.db.statement({ sql: 'DELETE FROM "signature_submissions" WHERE "campaign_id" = ?', params: [campaignId] }),
    ctx.db.statement({ sql: 'DELETE FROM "fraudulent_requests" WHERE "campaign_id" = ?', params: [campaignId] }),
    eraseCampaignUpdateEmails(ctx.db, campaignId),
    ...campaignMailings.map((mailing) => outbox.syncMailingProgress(mailing.id, now)),
  ]);
  return changed;
}
