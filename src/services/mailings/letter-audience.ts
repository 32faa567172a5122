import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { WriteStatement } from '../../db/database.js';
import { campaignTargets, deliveries, letterBatches, letters, mailingTargetOutcomes, targets } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import { nextWindowOpening } from '../../lib/sending-window.js';
import type { ServiceContext } from '../context.js';
import { deliveryWrites, loadLetterForDelivery } from '../deliveries.js';
import { DEFAULT_LETTER_TEMPLATE, generateLetters, plannedLetterTargets } from '../letters.js';
import type { MailingRow } from './lease-store.js';
import { type CampaignRow, type MailingQueueing, pacedAt, type QueueOutcome } from './queueing.js';

/*
 * Who a letters mailing goes to (one letter per target, routed and folded as
 * the letter batch decides) and queueing them: one delivery per letter
 * through the mailing's channel, each target's outcome recorded; or, dry run,
 * the letters counted.
 */

function letterTemplate(mailing: MailingRow, campaign: CampaignRow): string {
  return mailing.template ?? campaign.letterTemplate ?? DEFAULT_LETTER_TEMPLATE;
}

/**
 * The mailing's letters: one per target at its cut-off (skipping empty
 * targets, one per target whose letter counts someone), written by
 * generateLetters, so routing and its folding are the batch's. Generated
 * once; a rerun finds the batch again by campaign, mode, routing, empty
 * targets, template and cut-off (the same inputs give the same PDFs, so an
 * identical batch made by hand before is used too) instead of rendering it
 * again.
 */
async function lettersFor(q: MailingQueueing, mailing: MailingRow, campaign: CampaignRow) {
  const { ctx } = q;
  const cutoffAt = mailing.cutoffAt ?? mailing.sendAt;
  const template = letterTemplate(mailing, campaign);
  const routing = mailing.routing ?? 'all';
  const emptyTargets = mailing.emptyTargets ?? 'write';
  const languages = mailing.languages ?? undefined;
  const find = async () =>
    (
      await ctx.db.db
        .select({ id: letterBatches.id })
        .from(letterBatches)
        .where(
          and(
            eq(letterBatches.campaignId, campaign.id),
            eq(letterBatches.mode, 'per_target'),
            eq(letterBatches.routing, routing),
            eq(letterBatches.emptyTargets, emptyTargets),
            eq(letterBatches.template, template),
            // A batch in other languages is another letter; null (each target's own) matches only null.
            sql`${letterBatches.languages} is ${languages ? JSON.stringify(languages) : null}`,
            eq(letterBatches.cutoffAt, cutoffAt),
          ),
        )
        .orderBy(desc(letterBatches.createdAt))
        .limit(1)
    )[0];
  let batch = await find();
  if (!batch) {
    await ctx.db.atomic([q.lease.renew(mailing.id, ctx.clock.now())]);
    batch = { id: (await generateLetters(ctx, q.letters, campaign.slug, { mode: 'per_target', routing, emptyTargets, template, cutoffAt, ...(languages ? { languages } : {}) })).batchId };
  }
  return ctx.db.db
    .select({ id: letters.id, targetId: letters.targetId, name: targets.name, email: targets.email })
    .from(letters)
    .innerJoin(targets, eq(targets.id, letters.targetId))
    .where(eq(letters.batchId, batch.id))
    .orderBy(asc(letters.id));
}

/**
 * One delivery per letter through the mailing's channel (`auto`: email to a target with an
 * address, the print queue for the others); a target without an address is skipped for
 * `email`. A letter by email is due at the first opening of the mailing's sending window, on
 * the target's clock (its `timeZone`, else the mailing's), at or after its paced time; the
 * window goes with the outbox message so the sender's retries keep to it. Each target's
 * outcome is written with its delivery, and the skipped ones once everything is queued, so
 * the mailing says what became of every target.
 */
export async function queueLetters(q: MailingQueueing, mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
  const { ctx, lease } = q;
  const channel = mailing.channel ?? 'email';
  const batch = await lettersFor(q, mailing, campaign);
  const existing = new Set(
    (await ctx.db.db.select({ letterId: deliveries.letterId }).from(deliveries).where(eq(deliveries.mailingId, mailing.id))).map((row) => row.letterId),
  );
  const hasAddress = (letter: { email: string | null }) => (letter.email ?? '').trim() !== '';
  const deliverable = batch.filter((letter) => channel !== 'email' || hasAddress(letter));
  let queued = 0;
  let emailIndex = 0;
  for (let start = 0; start < deliverable.length; start += q.batchSize) {
    if (q.stopped()) return { complete: false, queued };
    const now = ctx.clock.now();
    const startedAt = mailing.startedAt ?? now;
    const statements: WriteStatement[] = [lease.renew(mailing.id, now)];
    const chunk = deliverable.slice(start, start + q.batchSize);
    for (const letter of chunk) {
      const via = channel === 'auto' ? (hasAddress(letter) ? 'email' : 'print') : channel;
      // Only emails are paced: a letter queued for print waits for the organiser anyway.
      const index = via === 'email' ? emailIndex++ : 0;
      if (existing.has(letter.id)) continue;
      const found = await loadLetterForDelivery(ctx, letter.id);
      const paced = pacedAt(startedAt, index, mailing.ratePerMinute, now);
      // A letter by email reaches the office in its opening hours, on its own clock.
      const window = via === 'email' && mailing.sendingWindow ? { ...mailing.sendingWindow, timeZone: found.target.timeZone ?? mailing.timeZone } : undefined;
      statements.push(
        ...(await deliveryWrites(ctx, q.letters, found, via, {
          id: newId(now),
          now,
          mailingId: mailing.id,
          nextAttemptAt: window ? nextWindowOpening(paced, window, window.timeZone) : paced,
          ...(window ? { window } : {}),
        })),
        recordOutcome(ctx, mailing.id, { targetId: letter.targetId, name: letter.name }, via === 'email' ? 'emailed' : 'queued_for_print', null, now),
      );
      queued++;
    }
    if (statements.length === 1) continue;
    if (!(await lease.stillHeld(mailing.id))) return { complete: false, queued: 0 };
    // Deliveries are unique per (mailing, letter, channel), so a runner that lost its lease meanwhile adds nothing.
    await ctx.db.atomic(statements);
    q.wroteBatch();
  }
  // A target skipped for an empty letter has none: skipped like one without an address, so total + skipped is every target.
  const lettered = new Set(batch.map((letter) => letter.targetId));
  const empty = mailing.emptyTargets === 'skip' ? (await linkedTargets(ctx, campaign)).filter((target) => !lettered.has(target.id)) : [];
  const unreachable = batch.filter((letter) => !deliverable.includes(letter));
  const now = ctx.clock.now();
  const skips = [
    ...unreachable.map((letter) => recordOutcome(ctx, mailing.id, { targetId: letter.targetId, name: letter.name }, 'skipped', 'TARGET_HAS_NO_EMAIL', now)),
    ...empty.map((target) => recordOutcome(ctx, mailing.id, { targetId: target.id, name: target.name }, 'skipped', 'NO_SUPPORTERS_ROUTED', now)),
  ];
  if (skips.length > 0) {
    if (!(await lease.stillHeld(mailing.id))) return { complete: false, queued };
    await ctx.db.atomic([lease.renew(mailing.id, now), ...skips]);
  }
  return { complete: true, queued, skipped: skips.length };
}

/** A target's outcome, once: a rerun after a crash finds it recorded and keeps the first. */
function recordOutcome(
  ctx: ServiceContext,
  mailingId: string,
  target: { targetId: string; name: string },
  outcome: (typeof mailingTargetOutcomes.$inferInsert)['outcome'],
  reason: (typeof mailingTargetOutcomes.$inferInsert)['reason'],
  now: number,
): WriteStatement {
  return ctx.db.db
    .insert(mailingTargetOutcomes)
    .values({ mailingId, targetId: target.targetId, targetName: target.name, outcome, reason, recordedAt: now })
    .onConflictDoNothing();
}

function linkedTargets(ctx: ServiceContext, campaign: CampaignRow) {
  return ctx.db.db
    .select({ id: targets.id, name: targets.name, email: targets.email })
    .from(campaignTargets)
    .innerJoin(targets, eq(targets.id, campaignTargets.targetId))
    .where(eq(campaignTargets.campaignId, campaign.id));
}

/**
 * Dry run: the letters that would go (one per target; skipping empty
 * targets, one per target whose letter counts someone, decided as the batch
 * decides), without rendering or storing any.
 */
export async function countLetters(ctx: ServiceContext, mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
  const planned = await plannedLetterTargets(ctx, campaign.slug, {
    routing: mailing.routing ?? 'all',
    emptyTargets: mailing.emptyTargets ?? 'write',
    cutoffAt: mailing.cutoffAt ?? mailing.sendAt,
  });
  const total = mailing.channel === 'email' ? planned.written.filter((target) => (target.email ?? '').trim() !== '').length : planned.written.length;
  return { complete: true, queued: 0, total, skipped: planned.written.length + planned.skipped.length - total };
}
