import { and, asc, count, desc, eq, gt, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { WriteStatement } from '../db/database.js';
import { campaigns, campaignTargets, deliveries, emailSuppressions, letterBatches, letters, mailings, outbox, signatures, targets } from '../db/schema.js';
import { formatCount, formatLetterDate } from '../letters/letter-date.js';
import type { LetterPorts } from '../letters/letter-ports.js';
import { TemplateError } from '../letters/template-error.js';
import { renderUpdateTemplate, type UpdateTemplate } from '../letters/update-template.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import { newMessageId } from '../mail/messages.js';
import { unsubscribeUrl } from '../services/unsubscribe-links.js';
import { composeUpdateEmail, type UpdateEmailInput } from '../mail/update-email.js';
import type { ServiceContext } from '../services/context.js';
import { deliveryWrites, loadLetterForDelivery } from '../services/deliveries.js';
import { ServiceError } from '../services/errors.js';
import { DEFAULT_LETTER_TEMPLATE, generateLetters } from '../services/letters.js';
import { cancelPendingStatement, HELD_FROM, holdPendingStatement, outboxProgressStatement } from '../services/mailings.js';
import { locales, type Locale } from '../services/schemas.js';
import { errorKind, positiveInteger } from '../lib/errors.js';
import { nextWindowOpening } from './sending-window.js';

export type MailingRunnerOptions = {
  ctx: ServiceContext;
  /** Templates, renderer and file store, for `letters` mailings. */
  letters: LetterPorts;
  /** Names this runner's leases; unique per process. */
  workerId?: string;
  /** How long a claim lasts without renewal; must exceed the longest step (rendering a campaign's letters). */
  leaseMs?: number;
  /** Wait between ticks in `start()`. */
  pollIntervalMs?: number;
  /** Recipients queued per atomic write. */
  batchSize?: number;
  logger?: Logger;
  /** Told after rows were queued, so the outbox sender can look at once. */
  onQueued?: () => void;
};

export type TickResult = { claimed: number; queued: number; finished: number };

type MailingRow = typeof mailings.$inferSelect;
type CampaignRow = typeof campaigns.$inferSelect;
/** How far a mailing got in this tick: `complete` once every recipient is queued (or, dry run, counted). */
type QueueOutcome = { complete: boolean; queued: number; total?: number; skipped?: number };

/** Mailings claimed per tick. */
const CLAIM_LIMIT = 10;
/** Cancelled mailings whose in-flight emails are still swept and counted. */
const CANCEL_SWEEP_MS = 24 * 3_600_000;

const INSERT_UPDATE_SQL = `INSERT INTO "outbox" ("id", "kind", "recipient", "message_id", "message", "status", "attempts", "next_attempt_at", "created_at", "mailing_id", "recipient_key")
  SELECT ?, 'update', ?, ?, ?, 'pending', 0, ?, ?, ?, ?
  WHERE EXISTS (SELECT 1 FROM "mailings" WHERE "id" = ? AND "status" = 'running' AND "locked_by" = ?)
  ON CONFLICT ("mailing_id", "recipient_key") DO NOTHING`;


/** When row `index` of a paced mailing becomes due: the sender's due-time claim does the throttling. */
export function pacedAt(startedAt: number, index: number, ratePerMinute: number | null, now: number): number {
  return ratePerMinute ? startedAt + Math.floor((index * 60_000) / ratePerMinute) : now;
}

/**
 * Runs due mailings (PRODUCT.md §3 Mailing). Each tick claims due mailings
 * with one conditional UPDATE … RETURNING (a lease, as the outbox sender
 * does), queues their recipients into the outbox in batches, each batch one
 * atomic write that only applies while this runner still holds the lease,
 * with ON CONFLICT (mailing_id, recipient_key) DO NOTHING so a rerun after a
 * crash never queues anyone twice, and keeps the progress figures current
 * from the mailing's outbox rows until none is pending. Sending is the
 * outbox sender's job: a mailing's rows are ordinary outbox rows, paced by
 * their `next_attempt_at`.
 */
export class MailingRunner {
  readonly workerId: string;
  private readonly ctx: ServiceContext;
  private readonly ports: LetterPorts;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly logger: Logger;
  private readonly onQueued: (() => void) | undefined;

  private stopping = false;
  private loop: Promise<void> | undefined;
  private ticking: Promise<TickResult> | undefined;
  private wakeSleeper: (() => void) | undefined;

  constructor(options: MailingRunnerOptions) {
    this.ctx = options.ctx;
    this.ports = options.letters;
    this.workerId = options.workerId ?? newId(options.ctx.clock.now());
    this.leaseMs = positiveInteger('leaseMs', options.leaseMs ?? 5 * 60_000);
    this.pollIntervalMs = positiveInteger('pollIntervalMs', options.pollIntervalMs ?? 1000);
    this.batchSize = positiveInteger('batchSize', options.batchSize ?? 500);
    this.logger = options.logger ?? options.ctx.logger;
    this.onQueued = options.onQueued;
  }

  /** One pass: sweep paused and cancelled mailings, claim due ones, queue and count them. Passes never overlap. */
  tick(): Promise<TickResult> {
    const run = (this.ticking ?? Promise.resolve()).catch(() => undefined).then(() => this.runTick());
    this.ticking = run;
    return run;
  }

  /** Ticks every `pollIntervalMs` until `stop()`. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /**
   * Graceful stop: the batch in hand is written, no new one is started, and
   * the leases of the mailings this runner holds are handed back so another
   * process can carry on at once.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeSleeper?.();
    await this.loop;
    await this.ticking?.catch(() => undefined);
    this.loop = undefined;
    await this.ctx.db.atomic([
      this.ctx.db.db
        .update(mailings)
        .set({ lockedBy: null, lockedUntil: null })
        .where(and(eq(mailings.lockedBy, this.workerId), eq(mailings.status, 'running'))),
    ]);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.tick();
      } catch (error) {
        this.logger.error('mailing tick failed', { workerId: this.workerId, ...errorKind(error) });
      }
      if (this.stopping) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.wakeSleeper = undefined;
          resolve();
        };
        const timer = setTimeout(done, this.pollIntervalMs);
        this.wakeSleeper = done;
      });
    }
  }

  private async runTick(): Promise<TickResult> {
    const result: TickResult = { claimed: 0, queued: 0, finished: 0 };
    if (this.stopping && !this.loop) return result;
    await this.sweep();
    const claimed = await this.claim(this.ctx.clock.now());
    result.claimed = claimed.length;
    for (const mailing of claimed) {
      if (this.stopping) break;
      try {
        const outcome = await this.queue(mailing);
        result.queued += outcome.queued;
        if (outcome.queued > 0) this.onQueued?.();
        if (await this.settle(mailing, outcome)) result.finished++;
      } catch (error) {
        await this.recordError(mailing, error);
      }
    }
    return result;
  }

  /**
   * One statement: the pick and the lease are a single write, so two runners
   * can never both claim a mailing. A `running` mailing is taken over when its
   * lease ran out (its runner crashed) or was handed back; this runner keeps
   * the mailings it holds from tick to tick until they finish.
   */
  private claim(now: number): Promise<MailingRow[]> {
    const { db } = this.ctx.db;
    const due = or(
      and(eq(mailings.status, 'scheduled'), lte(mailings.sendAt, now)),
      and(eq(mailings.status, 'running'), or(isNull(mailings.lockedUntil), lt(mailings.lockedUntil, now), eq(mailings.lockedBy, this.workerId))),
    );
    const candidates = db.select({ id: mailings.id }).from(mailings).where(due).orderBy(asc(mailings.sendAt)).limit(CLAIM_LIMIT);
    return db
      .update(mailings)
      .set({
        status: 'running',
        lockedBy: this.workerId,
        lockedUntil: now + this.leaseMs,
        startedAt: sql`coalesce(${mailings.startedAt}, ${now})`,
        updatedAt: now,
      })
      .where(and(inArray(mailings.id, candidates), due))
      .returning();
  }

  /** Conditional on holding the lease, so a runner whose lease was taken over writes nothing. */
  private held(mailingId: string) {
    return and(eq(mailings.id, mailingId), eq(mailings.status, 'running'), eq(mailings.lockedBy, this.workerId));
  }

  private renewLease(mailingId: string, now: number): WriteStatement {
    return this.ctx.db.db.update(mailings).set({ lockedUntil: now + this.leaseMs }).where(this.held(mailingId));
  }

  private async stillHeld(mailingId: string): Promise<boolean> {
    const [row] = await this.ctx.db.db.select({ id: mailings.id }).from(mailings).where(this.held(mailingId));
    return row !== undefined;
  }

  /**
   * Paused mailings: rows a sender put back for a retry since the pause are
   * held again, and the figures follow sends that were in flight. Cancelled ones: rows that were being sent at the cancel and
   * came back pending are failed, and the figures follow the late results.
   */
  private async sweep(): Promise<void> {
    const now = this.ctx.clock.now();
    // Only mailings with work to do, so an idle tick writes nothing: a pending row not yet held
    // (paused) or not yet failed (cancelled), or figures behind their outbox rows.
    const settledRows = sql`(select count(*) from ${outbox} where ${outbox.mailingId} = ${mailings.id} and ${outbox.status} in ('sent', 'failed'))`;
    const behind = sql`(${mailings.kind} = 'update' or ${mailings.channel} = 'email') and ${mailings.sent} + ${mailings.failed} <> ${settledRows}`;
    const rows = await this.ctx.db.db
      .select({ id: mailings.id, status: mailings.status })
      .from(mailings)
      .where(
        or(
          and(
            eq(mailings.status, 'paused'),
            or(sql`exists (select 1 from ${outbox} where ${outbox.mailingId} = ${mailings.id} and ${outbox.status} = 'pending' and ${outbox.nextAttemptAt} < ${HELD_FROM})`, behind),
          ),
          and(
            eq(mailings.status, 'cancelled'),
            gt(mailings.finishedAt, now - CANCEL_SWEEP_MS),
            or(sql`exists (select 1 from ${outbox} where ${outbox.mailingId} = ${mailings.id} and ${outbox.status} = 'pending')`, behind),
          ),
        ),
      );
    if (rows.length === 0) return;
    await this.ctx.db.atomic(
      rows.flatMap((row) =>
        row.status === 'paused'
          ? [holdPendingStatement(this.ctx, row.id, now), outboxProgressStatement(this.ctx, row.id, now)]
          : [cancelPendingStatement(this.ctx, row.id, now), outboxProgressStatement(this.ctx, row.id, now)],
      ),
    );
  }

  private async queue(mailing: MailingRow): Promise<QueueOutcome> {
    const [campaign] = await this.ctx.db.db.select().from(campaigns).where(eq(campaigns.id, mailing.campaignId));
    if (!campaign) throw new ServiceError('NOT_FOUND', 'The campaign of this mailing no longer exists.');
    if (mailing.kind === 'update') return mailing.dryRun ? this.countUpdates(mailing, campaign) : this.queueUpdates(mailing, campaign);
    return mailing.dryRun ? this.countLetters(mailing, campaign) : this.queueLetters(mailing, campaign);
  }

  /** Supporters an update goes to: confirmed by the cut-off, consented, not unsubscribed, address not suppressed. */
  private updateRecipients(mailing: MailingRow, after: string | null) {
    const cutoffAt = mailing.cutoffAt ?? mailing.sendAt;
    return this.ctx.db.db
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
          sql`not exists (select 1 from ${emailSuppressions} where ${emailSuppressions.emailNormalized} = ${signatures.emailNormalized})`,
        ),
      )
      .orderBy(asc(signatures.id))
      .limit(this.batchSize);
  }

  /** Supporters who consented by the cut-off: the queued ones plus those left out (unsubscribed, suppressed). */
  private async consentingCount(mailing: MailingRow): Promise<number> {
    const [row] = await this.ctx.db.db
      .select({ n: count() })
      .from(signatures)
      .where(
        and(
          eq(signatures.campaignId, mailing.campaignId),
          eq(signatures.status, 'confirmed'),
          lte(signatures.confirmedAt, mailing.cutoffAt ?? mailing.sendAt),
          or(eq(signatures.updates, true), sql`${signatures.unsubscribedAt} is not null`),
        ),
      );
    return row?.n ?? 0;
  }

  /**
   * What each supporter's update says, by their locale: the organiser's
   * subject and body, or the mailing's update template rendered in the
   * supporter's language (English when it has no such variant), once per locale.
   */
  private async updateContent(mailing: MailingRow, campaign: CampaignRow): Promise<(locale: Locale) => { subject: string; body: string }> {
    if (mailing.template === null) {
      if (mailing.subject === null || mailing.body === null) throw new ServiceError('UPDATE_CONTENT_MISSING', 'The update has neither a subject and a body nor a template.');
      const content = { subject: mailing.subject, body: mailing.body };
      return () => content;
    }
    const name = mailing.template;
    const variants = new Map<Locale, UpdateTemplate>();
    for (const locale of locales) {
      try {
        variants.set(locale, await this.ports.loadUpdateTemplate(name, locale));
      } catch (error) {
        if (!(error instanceof TemplateError && error.code === 'TEMPLATE_NOT_FOUND')) throw error;
      }
    }
    const fallback = variants.get('en');
    if (!fallback) throw new ServiceError('UPDATE_TEMPLATE_NOT_FOUND', `There is no update template "${name}": letters/updates/${name}/en.md was not found.`);
    const cutoffAt = mailing.cutoffAt ?? mailing.sendAt;
    const [counted] = await this.ctx.db.db
      .select({ n: count() })
      .from(signatures)
      .where(and(eq(signatures.campaignId, campaign.id), eq(signatures.status, 'confirmed'), lte(signatures.confirmedAt, cutoffAt)));
    const rendered = new Map<Locale, { subject: string; body: string }>();
    return (locale) => {
      let content = rendered.get(locale);
      if (!content) {
        const template = variants.get(locale) ?? fallback;
        const language = template.language;
        const translation = campaign.translations[language];
        content = renderUpdateTemplate(template, {
          campaign: {
            slug: campaign.slug,
            title: translation?.title ?? campaign.title,
            summary: translation?.summary ?? campaign.summary,
            url: `${this.ctx.publicUrl}/c/${campaign.slug}`,
          },
          signatures: { count: formatCount(counted?.n ?? 0, language) },
          date: formatLetterDate(mailing.sendAt, language, campaign.timeZone),
        });
        rendered.set(locale, content);
      }
      return content;
    };
  }

  private async updateInput(
    content: (locale: Locale) => { subject: string; body: string },
    campaign: CampaignRow,
    recipient: { id: string; name: string; locale: UpdateEmailInput['locale'] },
  ): Promise<UpdateEmailInput> {
    const { subject, body } = content(recipient.locale);
    return {
      locale: recipient.locale,
      supporterName: recipient.name,
      campaignTitle: campaign.translations[recipient.locale]?.title ?? campaign.title,
      subject,
      bodyMarkdown: body,
      signatureId: recipient.id,
    };
  }

  /**
   * Queues the update, resuming after the highest signature id already queued
   * (ids are queued in order and each batch is atomic, so that is where a
   * crashed run stopped); the pacing index is the number of rows queued before.
   */
  private async queueUpdates(mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
    const content = await this.updateContent(mailing, campaign);
    let queued = 0;
    for (;;) {
      if (this.stopping) return { complete: false, queued };
      const [done] = await this.ctx.db.db
        .select({ n: count(), last: sql<string | null>`max(${outbox.recipientKey})` })
        .from(outbox)
        .where(eq(outbox.mailingId, mailing.id));
      const before = done?.n ?? 0;
      const recipients = await this.updateRecipients(mailing, done?.last ?? null);
      if (recipients.length === 0) return { complete: true, queued };
      const now = this.ctx.clock.now();
      const startedAt = mailing.startedAt ?? now;
      const statements: WriteStatement[] = [this.renewLease(mailing.id, now)];
      for (const [i, recipient] of recipients.entries()) {
        const id = newId(now);
        const message = { compose: 'update', input: await this.updateInput(content, campaign, recipient) };
        statements.push(
          this.ctx.db.statement({
            sql: INSERT_UPDATE_SQL,
            params: [
              id,
              recipient.email.trim(),
              newMessageId(this.ctx.mailFrom, id),
              JSON.stringify(message),
              pacedAt(startedAt, before + i, mailing.ratePerMinute, now),
              now,
              mailing.id,
              recipient.id,
              mailing.id,
              this.workerId,
            ],
          }),
        );
      }
      await this.ctx.db.atomic(statements);
      if (!(await this.stillHeld(mailing.id))) return { complete: false, queued };
      queued += recipients.length;
    }
  }

  /** Dry run: every would-be email is composed in memory (so a body that cannot render shows now) and counted. */
  private async countUpdates(mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
    const content = await this.updateContent(mailing, campaign);
    let total = 0;
    let after: string | null = null;
    for (;;) {
      if (this.stopping) return { complete: false, queued: 0 };
      const recipients = await this.updateRecipients(mailing, after);
      for (const recipient of recipients) {
        composeUpdateEmail(await this.updateInput(content, campaign, recipient), await unsubscribeUrl(this.ctx, recipient.id), recipient.email);
      }
      total += recipients.length;
      const last = recipients[recipients.length - 1];
      if (!last) break;
      after = last.id;
    }
    return { complete: true, queued: 0, total, skipped: Math.max(0, (await this.consentingCount(mailing)) - total) };
  }

  private letterTemplate(mailing: MailingRow, campaign: CampaignRow): string {
    return mailing.template ?? campaign.letterTemplate ?? DEFAULT_LETTER_TEMPLATE;
  }

  /**
   * The mailing's letters: one per target at its cut-off. Generated once; a
   * rerun finds the batch again by campaign, mode, template and cut-off (the
   * same inputs give the same PDFs, so an identical batch made by hand before
   * is used too) instead of rendering it again.
   */
  private async lettersFor(mailing: MailingRow, campaign: CampaignRow) {
    const cutoffAt = mailing.cutoffAt ?? mailing.sendAt;
    const template = this.letterTemplate(mailing, campaign);
    const find = async () =>
      (
        await this.ctx.db.db
          .select({ id: letterBatches.id })
          .from(letterBatches)
          .where(
            and(
              eq(letterBatches.campaignId, campaign.id),
              eq(letterBatches.mode, 'per_target'),
              eq(letterBatches.template, template),
              eq(letterBatches.cutoffAt, cutoffAt),
            ),
          )
          .orderBy(desc(letterBatches.createdAt))
          .limit(1)
      )[0];
    let batch = await find();
    if (!batch) {
      await this.ctx.db.atomic([this.renewLease(mailing.id, this.ctx.clock.now())]);
      batch = { id: (await generateLetters(this.ctx, this.ports, campaign.slug, { mode: 'per_target', template, cutoffAt })).batchId };
    }
    return this.ctx.db.db
      .select({ id: letters.id, targetId: letters.targetId, email: targets.email })
      .from(letters)
      .innerJoin(targets, eq(targets.id, letters.targetId))
      .where(eq(letters.batchId, batch.id))
      .orderBy(asc(letters.id));
  }

  /**
   * One delivery per letter through the mailing's channel; targets without an
   * address are skipped for email. A letter by email is due at the first
   * opening of the mailing's sending window, on the target's clock (its
   * `timeZone`, else the mailing's), at or after its paced time; the window
   * goes with the outbox message so the sender's retries keep to it.
   */
  private async queueLetters(mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
    const channel = mailing.channel ?? 'email';
    const batch = await this.lettersFor(mailing, campaign);
    const existing = new Set(
      (await this.ctx.db.db.select({ letterId: deliveries.letterId }).from(deliveries).where(and(eq(deliveries.mailingId, mailing.id), eq(deliveries.channel, channel)))).map(
        (row) => row.letterId,
      ),
    );
    const deliverable = batch.filter((letter) => channel === 'print' || (letter.email ?? '').trim() !== '');
    let queued = 0;
    for (let start = 0; start < deliverable.length; start += this.batchSize) {
      if (this.stopping) return { complete: false, queued };
      const now = this.ctx.clock.now();
      const startedAt = mailing.startedAt ?? now;
      const statements: WriteStatement[] = [this.renewLease(mailing.id, now)];
      const chunk = deliverable.slice(start, start + this.batchSize);
      for (const [i, letter] of chunk.entries()) {
        if (existing.has(letter.id)) continue;
        const found = await loadLetterForDelivery(this.ctx, letter.id);
        const paced = pacedAt(startedAt, start + i, mailing.ratePerMinute, now);
        // A letter by email reaches the office in its opening hours, on its own clock.
        const window = channel === 'email' && mailing.sendingWindow ? { ...mailing.sendingWindow, timeZone: found.target.timeZone ?? mailing.timeZone } : undefined;
        statements.push(
          ...(await deliveryWrites(this.ctx, this.ports, found, channel, {
            id: newId(now),
            now,
            mailingId: mailing.id,
            nextAttemptAt: window ? nextWindowOpening(paced, window, window.timeZone) : paced,
            ...(window ? { window } : {}),
          })),
        );
        queued++;
      }
      if (statements.length === 1) continue;
      if (!(await this.stillHeld(mailing.id))) return { complete: false, queued: 0 };
      // Deliveries are unique per (mailing, letter, channel), so a runner that lost its lease meanwhile adds nothing.
      await this.ctx.db.atomic(statements);
    }
    return { complete: true, queued, skipped: batch.length - deliverable.length };
  }

  /** Dry run: the letters that would go (one per target), without rendering or storing any. */
  private async countLetters(mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
    const linked = await this.ctx.db.db
      .select({ email: targets.email })
      .from(campaignTargets)
      .innerJoin(targets, eq(targets.id, campaignTargets.targetId))
      .where(eq(campaignTargets.campaignId, campaign.id));
    const total = mailing.channel === 'print' ? linked.length : linked.filter((target) => (target.email ?? '').trim() !== '').length;
    return { complete: true, queued: 0, total, skipped: linked.length - total };
  }

  /**
   * Writes the figures and, once everything is queued and nothing is pending,
   * finishes the mailing. `sent`/`failed` are counts of the mailing's outbox
   * rows by status (print deliveries count as sent once in the print queue).
   */
  private async settle(mailing: MailingRow, outcome: QueueOutcome): Promise<boolean> {
    const now = this.ctx.clock.now();
    let figures: { total: number; sent: number; failed: number; skipped: number; pending: number };
    if (mailing.dryRun) {
      figures = { total: outcome.total ?? 0, sent: 0, failed: 0, skipped: outcome.skipped ?? 0, pending: 0 };
    } else if (mailing.kind === 'letters' && mailing.channel === 'print') {
      const [row] = await this.ctx.db.db.select({ n: count() }).from(deliveries).where(eq(deliveries.mailingId, mailing.id));
      const n = row?.n ?? 0;
      figures = { total: n, sent: n, failed: 0, skipped: outcome.skipped ?? 0, pending: 0 };
    } else {
      const [row] = await this.ctx.db.db
        .select({
          total: count(),
          sent: sql<number>`coalesce(sum(${outbox.status} = 'sent'), 0)`,
          failed: sql<number>`coalesce(sum(${outbox.status} = 'failed'), 0)`,
          pending: sql<number>`coalesce(sum(${outbox.status} = 'pending'), 0)`,
        })
        .from(outbox)
        .where(eq(outbox.mailingId, mailing.id));
      const total = row?.total ?? 0;
      const skipped = mailing.kind === 'update' ? Math.max(0, (await this.consentingCount(mailing)) - total) : (outcome.skipped ?? 0);
      figures = { total, sent: Number(row?.sent ?? 0), failed: Number(row?.failed ?? 0), skipped, pending: Number(row?.pending ?? 0) };
    }
    const finished = outcome.complete && figures.pending === 0;
    const changed = or(
      sql`${mailings.sent} <> ${figures.sent}`,
      sql`${mailings.failed} <> ${figures.failed}`,
      outcome.complete ? or(sql`${mailings.total} <> ${figures.total}`, sql`${mailings.skipped} <> ${figures.skipped}`) : undefined,
    );
    await this.ctx.db.atomic([
      this.ctx.db.db
        .update(mailings)
        .set({
          sent: figures.sent,
          failed: figures.failed,
          ...(outcome.complete ? { total: figures.total, skipped: figures.skipped } : {}),
          lockedUntil: now + this.leaseMs,
          // updatedAt moves only with the figures, so the events stream sends a new event only on a change.
          updatedAt: finished ? now : sql`CASE WHEN ${changed} THEN ${now} ELSE ${mailings.updatedAt} END`,
          ...(finished ? { status: 'finished' as const, finishedAt: now, lockedBy: null, lockedUntil: null } : {}),
        })
        .where(this.held(mailing.id)),
    ]);
    if (!finished) return false;
    const [row] = await this.ctx.db.db.select({ finishedAt: mailings.finishedAt }).from(mailings).where(and(eq(mailings.id, mailing.id), eq(mailings.status, 'finished')));
    return row?.finishedAt === now;
  }

  /**
   * A service error (a template that cannot be used, a campaign gone) will not go away by trying again: the mailing
   * fails with its message. Anything else (the database busy, a disk full) is
   * logged and retried on the next tick.
   */
  private async recordError(mailing: MailingRow, error: unknown): Promise<void> {
    if (error instanceof ServiceError) {
      this.logger.warn('mailing failed', { workerId: this.workerId, mailingId: mailing.id, code: error.code });
      const now = this.ctx.clock.now();
      await this.ctx.db.atomic([
        this.ctx.db.db
          .update(mailings)
          .set({ status: 'failed', lastError: `${error.code}: ${error.message}`.slice(0, 1000), finishedAt: now, updatedAt: now, lockedBy: null, lockedUntil: null })
          .where(this.held(mailing.id)),
      ]);
      return;
    }
    this.logger.error('mailing run failed', { workerId: this.workerId, mailingId: mailing.id, ...errorKind(error) });
  }
}
