import { and, asc, count, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import { emailSuppressions, signatures } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import { newMessageId } from '../../mail/messages.js';
import { composeUpdateEmail } from '../../mail/update-email.js';
import type { NewOutboxMessage } from '../../outbox/types.js';
import type { ServiceContext } from '../context.js';
import { segmentCondition } from '../segments.js';
import { unsubscribeUrl } from '../unsubscribe-links.js';
import type { MailingRow } from './lease-store.js';
import { type CampaignRow, type MailingQueueing, pacedAt, type QueueOutcome } from './queueing.js';
import { updateContent, updateInput } from './update-content.js';

/*
 * Who an update mailing goes to (its segment included), and queueing them:
 * one outbox row per supporter, or, dry run, every email composed and counted.
 */

/** Supporters an update goes to: confirmed by the cut-off, consented, not unsubscribed, address not suppressed, in the mailing's segment. */
function updateRecipients(ctx: ServiceContext, mailing: MailingRow, after: string | null, limit: number) {
  const cutoffAt = mailing.cutoffAt ?? mailing.sendAt;
  return ctx.db.db
    .select({ id: signatures.id, name: signatures.name, email: signatures.email, locale: signatures.locale })
    .from(signatures)
    .where(
      and(
        eq(signatures.campaignId, mailing.campaignId),
        eq(signatures.status, 'confirmed'),
        eq(signatures.updates, true),
        isNull(signatures.unsubscribedAt),
        lte(signatures.confirmedAt, cutoffAt),
        after === null ? undefined : gt(signatures.id, after),
        segmentCondition(mailing.segment),
        sql`not exists (select 1 from ${emailSuppressions} where ${emailSuppressions.emailNormalized} = ${signatures.emailNormalized})`,
      ),
    )
    .orderBy(asc(signatures.id))
    .limit(limit);
}

/** Supporters of the segment who consented by the cut-off: the queued ones plus those left out (unsubscribed, suppressed); outside the segment is not skipped, just not addressed. */
export async function consentingCount(ctx: ServiceContext, mailing: MailingRow): Promise<number> {
  const [row] = await ctx.db.db
    .select({ n: count() })
    .from(signatures)
    .where(
      and(
        eq(signatures.campaignId, mailing.campaignId),
        eq(signatures.status, 'confirmed'),
        lte(signatures.confirmedAt, mailing.cutoffAt ?? mailing.sendAt),
        or(eq(signatures.updates, true), sql`${signatures.unsubscribedAt} is not null`),
        segmentCondition(mailing.segment),
      ),
    );
  return row?.n ?? 0;
}

/**
 * Queues the update, resuming after the highest signature id already queued
 * (ids are queued in order and each batch is atomic, so that is where a
 * crashed run stopped); the pacing index is the number of rows queued before.
 */
export async function queueUpdates(q: MailingQueueing, mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
  const { ctx, outbox, lease } = q;
  const content = await updateContent(ctx, q.letters, mailing, campaign);
  let queued = 0;
  for (;;) {
    if (q.stopped()) return { complete: false, queued };
    const cursor = await outbox.mailingCursor(mailing.id);
    const recipients = await updateRecipients(ctx, mailing, cursor.lastKey, q.batchSize);
    if (recipients.length === 0) return { complete: true, queued };
    const now = ctx.clock.now();
    const startedAt = mailing.startedAt ?? now;
    const messages: NewOutboxMessage[] = [];
    for (const [i, recipient] of recipients.entries()) {
      const id = newId(now);
      messages.push({
        id,
        kind: 'update',
        recipient: recipient.email.trim(),
        messageId: newMessageId(ctx.mailFrom, id),
        message: { compose: 'update', input: updateInput(content, campaign, recipient) },
        dueAt: pacedAt(startedAt, cursor.queued + i, mailing.ratePerMinute, now),
        createdAt: now,
        mailingId: mailing.id,
        recipientKey: recipient.id,
      });
    }
    await ctx.db.atomic([lease.renew(mailing.id, now), ...outbox.enqueue(messages, { kind: 'mailing-lease', mailingId: mailing.id, owner: lease.owner })]);
    q.wroteBatch();
    if (!(await lease.stillHeld(mailing.id))) return { complete: false, queued };
    queued += recipients.length;
  }
}

/**
 * Dry run: every would-be email is composed in memory (so a body that
 * cannot render shows now) and counted, in one go whatever the pass's
 * budget: there is nothing written to resume from.
 */
export async function countUpdates(q: MailingQueueing, mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
  const { ctx } = q;
  const content = await updateContent(ctx, q.letters, mailing, campaign);
  let total = 0;
  let after: string | null = null;
  for (;;) {
    if (q.stopping()) return { complete: false, queued: 0 };
    const recipients = await updateRecipients(ctx, mailing, after, q.batchSize);
    for (const recipient of recipients) {
      composeUpdateEmail(updateInput(content, campaign, recipient), await unsubscribeUrl(ctx, recipient.id), recipient.email);
    }
    total += recipients.length;
    const last = recipients[recipients.length - 1];
    if (!last) break;
    after = last.id;
  }
  return { complete: true, queued: 0, total, skipped: Math.max(0, (await consentingCount(ctx, mailing)) - total) };
}
