import { count, eq, sql } from 'drizzle-orm';
import { campaigns, fraudulentRequests, mailings, signatures } from '../db/schema.js';
import type { MailingStatus, OperationalFigures, SignatureStatus } from '../metrics/metrics-port.js';
import { readOutboxFigures } from '../outbox/outbox-figures.js';
import { assertOrganisationAccess } from './access.js';
import type { ServiceContext } from './context.js';

const signatureStatuses: SignatureStatus[] = ['pending', 'confirmed', 'invalidated', 'fraudulent', 'erased'];
const mailingStatuses: MailingStatus[] = ['scheduled', 'running', 'paused', 'cancelled', 'finished', 'failed'];

/** Rows of `signatures` with this status in every campaign, counted one campaign at a time through the (campaign, status) index. */
const signaturesWithStatus = (status: Exclude<SignatureStatus, 'fraudulent'>) =>
  // Qualified by hand: drizzle leaves columns unqualified in a one-table select, which would bind "id" to signatures.
  sql<number>`coalesce(sum((SELECT count(*) FROM "signatures" AS "s" WHERE "s"."campaign_id" = "campaigns"."id" AND "s"."status" = ${status})), 0)`;

/**
 * The figures `/metrics` reports, read at scrape time. Each query is cheap on
 * a large database because none of them reads the rows of the big states
 * (confirmed signatures, sent mail): those are whole-table counts (SQLite
 * counts a table from its smallest index without decoding rows) minus the
 * small states, which are index ranges (one per campaign and state), so
 * the cost follows the rows outside the big states. Measured: README, Metrics.
 */
export async function readOperationalFigures(ctx: ServiceContext): Promise<OperationalFigures> {
  assertOrganisationAccess(ctx.access);
  const [[signatureTotal], [others], [fraudulent], outbox, mailingRows, running] = await Promise.all([
    ctx.db.db.select({ n: count() }).from(signatures),
    ctx.db.db
      .select({
        pending: signaturesWithStatus('pending'),
        invalidated: signaturesWithStatus('invalidated'),
        erased: signaturesWithStatus('erased'),
      })
      .from(campaigns),
    // A small table: retention deletes its rows after PENDING_TTL_DAYS.
    ctx.db.db.select({ n: count() }).from(fraudulentRequests),
    readOutboxFigures(ctx.db, ctx.clock.now()),
    ctx.db.db.select({ status: mailings.status, n: count() }).from(mailings).groupBy(mailings.status),
    ctx.db.db
      .select({ id: mailings.id, campaign: campaigns.slug, kind: mailings.kind, total: mailings.total, sent: mailings.sent, failed: mailings.failed, skipped: mailings.skipped })
      .from(mailings)
      .innerJoin(campaigns, eq(campaigns.id, mailings.campaignId))
      .where(eq(mailings.status, 'running')),
  ]);

  const small = { pending: Number(others?.pending ?? 0), invalidated: Number(others?.invalidated ?? 0), erased: Number(others?.erased ?? 0) };
  const signaturesByStatus = Object.fromEntries(signatureStatuses.map((status) => [status, 0])) as Record<SignatureStatus, number>;
  Object.assign(signaturesByStatus, small, {
    confirmed: (signatureTotal?.n ?? 0) - small.pending - small.invalidated - small.erased,
    fraudulent: fraudulent?.n ?? 0,
  });


  const mailingsByStatus = Object.fromEntries(mailingStatuses.map((status) => [status, 0])) as Record<MailingStatus, number>;
  for (const row of mailingRows) mailingsByStatus[row.status] = row.n;

  return { signaturesByStatus, outboxByStatus: outbox.byStatus, outboxDue: outbox.due, mailingsByStatus, runningMailings: running };
}
