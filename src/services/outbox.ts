import { and, desc, eq } from 'drizzle-orm';
import * as v from 'valibot';
import type { WriteStatement } from '../db/database.js';
import { deliveries, emailSuppressions, mailings, outbox } from '../db/schema.js';
import { uuidPattern } from '../lib/ids.js';
import { isHeld, outboxStore } from '../outbox/outbox-store.js';
import { outboxStatuses, type OutboxStatus } from '../outbox/types.js';
import { assertOrganisationAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound } from '../lib/service-errors.js';
import { afterCursor, decodeCursor, PageQuery, toPage, type Page } from './pagination.js';
import { isoOrNull } from './schemas.js';
import { normalizeEmail } from './signatures.js';
import { maskAddress, maskAddressesIn } from '../lib/mask.js';

export const OutboxListQuery = v.object({
  ...PageQuery.entries,
  status: v.optional(v.picklist(outboxStatuses, `must be one of ${outboxStatuses.join(', ')}`)),
});
export type OutboxListQuery = v.InferOutput<typeof OutboxListQuery>;

/** One outbox message without its body: enough to see who did not get what, and why. */
export type OutboxItemView = {
  id: string;
  /** `confirmation`, `update` or `letter-delivery`. */
  kind: string;
  status: OutboxStatus;
  /** A target's address in full (organisers wrote it in); a supporter's masked, e.g. `a***@example.org`. */
  recipient: string;
  attempts: number;
  lastError: string | null;
  /** When it is due; null while its mailing is paused. */
  nextAttemptAt: string | null;
  createdAt: string;
  sentAt: string | null;
  mailingId: string | null;
  deliveryId: string | null;
  targetId: string | null;
};

export { maskAddress } from '../lib/mask.js';

function selectItems(ctx: ServiceContext) {
  return ctx.db.db
    .select({
      id: outbox.id,
      kind: outbox.kind,
      status: outbox.status,
      recipient: outbox.recipient,
      attempts: outbox.attempts,
      lastError: outbox.lastError,
      nextAttemptAt: outbox.nextAttemptAt,
      createdAt: outbox.createdAt,
      sentAt: outbox.sentAt,
      mailingId: outbox.mailingId,
      deliveryId: deliveries.id,
      targetId: deliveries.targetId,
    })
    .from(outbox)
    .leftJoin(deliveries, eq(deliveries.outboxId, outbox.id));
}

type ItemRow = Awaited<ReturnType<ReturnType<typeof selectItems>['where']>>[number];

function toView(row: ItemRow): OutboxItemView {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    recipient: row.kind === 'letter-delivery' ? row.recipient : maskAddress(row.recipient),
    attempts: row.attempts,
    // Masked when stored since 0.2; rows failed before that may still quote the address.
    lastError: row.lastError === null ? null : maskAddressesIn(row.lastError),
    nextAttemptAt: row.status === 'pending' && !isHeld(row.nextAttemptAt) ? new Date(row.nextAttemptAt).toISOString() : null,
    createdAt: new Date(row.createdAt).toISOString(),
    sentAt: isoOrNull(row.sentAt),
    mailingId: row.mailingId,
    deliveryId: row.deliveryId,
    targetId: row.targetId,
  };
}

/** Outbox messages, newest first, optionally in one status (`?status=failed`: the dead ones), without bodies. */
export async function listOutbox(ctx: ServiceContext, query: OutboxListQuery): Promise<Page<OutboxItemView>> {
  assertOrganisationAccess(ctx.access);
  const after = decodeCursor(query.cursor);
  const rows = await selectItems(ctx)
    .where(
      and(
        query.status ? eq(outbox.status, query.status) : undefined,
        afterCursor(outbox.createdAt, outbox.id, after),
      ),
    )
    .orderBy(desc(outbox.createdAt), desc(outbox.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toView);
}

async function findItem(ctx: ServiceContext, idParam: string): Promise<ItemRow | undefined> {
  const id = idParam.toLowerCase();
  if (!uuidPattern.test(id)) return undefined;
  const [row] = await selectItems(ctx).where(eq(outbox.id, id));
  return row;
}

/**
 * Gives a failed message another round of attempts: pending again, due now
 * (held, if its mailing is paused), attempts from 0, and its letter delivery
 * back to `queued`, all in one atomic step. A finished mailing it belongs to
 * is running again until the message is settled, so its figures follow; the
 * message of a cancelled mailing stays failed (409 INVALID_TRANSITION), and
 * so does one to a suppressed address (409 ADDRESS_SUPPRESSED: lift the
 * suppression first).
 */
export async function retryOutboxMessage(ctx: ServiceContext, idParam: string): Promise<OutboxItemView> {
  assertOrganisationAccess(ctx.access);
  const row = await findItem(ctx, idParam);
  if (!row) throw new NotFound('Outbox message');
  if (row.status !== 'failed') {
    throw new Conflict('INVALID_TRANSITION', `A ${row.status} message cannot be retried; only failed ones can.`, { status: row.status });
  }
  const [suppressed] = await ctx.db.db
    .select({ reason: emailSuppressions.reason })
    .from(emailSuppressions)
    .where(eq(emailSuppressions.emailNormalized, normalizeEmail(row.recipient)));
  if (suppressed) {
    throw new Conflict('ADDRESS_SUPPRESSED', 'The address is suppressed (a hard bounce or a complaint); lift the suppression before retrying.', {
      reason: suppressed.reason,
    });
  }
  const [mailing] = row.mailingId ? await ctx.db.db.select({ status: mailings.status }).from(mailings).where(eq(mailings.id, row.mailingId)) : [];
  if (mailing?.status === 'cancelled') {
    throw new Conflict('INVALID_TRANSITION', 'The message belongs to a cancelled mailing.', { mailingStatus: mailing.status });
  }

  const now = ctx.clock.now();
  const store = outboxStore(ctx);
  const statements: WriteStatement[] = store.retryFailed(row.id, now, { held: mailing?.status === 'paused' });
  if (row.mailingId) {
    statements.push(
      ctx.db.db
        .update(mailings)
        .set({ status: 'running', finishedAt: null, lockedBy: null, lockedUntil: null, updatedAt: now })
        .where(and(eq(mailings.id, row.mailingId), eq(mailings.status, 'finished'))),
      store.syncMailingProgress(row.mailingId, now),
    );
  }
  await ctx.db.atomic(statements);
  const updated = await findItem(ctx, row.id);
  if (!updated || updated.status !== 'pending' || updated.attempts !== 0) {
    throw new Conflict('INVALID_TRANSITION', 'The message changed meanwhile; read it again.', { status: updated?.status });
  }
  return toView(updated);
}
