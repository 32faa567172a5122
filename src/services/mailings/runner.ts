import { and, asc, count, desc, eq, gt, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { WriteStatement } from '../../db/database.js';
import { campaigns, campaignTargets, deliveries, emailSuppressions, letterBatches, letters, mailings, mailingTargetOutcomes, signatures, targets } from '../../db/schema.js';
import { formatCount, formatLetterDate } from '../../letters/template/letter-date.js';
import type { LetterPorts } from '../../letters/letter-ports.js';
import { TemplateError } from '../../letters/template/template-error.js';
import { renderUpdateTemplate, type UpdateTemplate } from '../../letters/template/update-template.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import { newMessageId } from '../../mail/messages.js';
import { unsubscribeUrl } from '../unsubscribe-links.js';
import { composeUpdateEmail, type UpdateEmailInput } from '../../mail/update-email.js';
import type { ServiceContext } from '../context.js';
import { deliveryWrites, loadLetterForDelivery } from '../deliveries.js';
import { ServiceError } from '../../lib/service-errors.js';
import { DEFAULT_LETTER_TEMPLATE, generateLetters, plannedLetterTargets } from '../letters.js';
import { outboxStore } from '../../outbox/outbox-store.js';
import type { NewOutboxMessage, OutboxStore } from '../../outbox/types.js';
import { type Locale } from '../schemas.js';
import { locales } from '../../lib/locales.js';
import { errorKind, positiveInteger } from '../../lib/errors.js';
import { PollLoop } from '../../jobs/poll-loop.js';
import { nextWindowOpening } from '../../lib/sending-window.js';
import { segmentCondition } from '../segments.js';
import { webhookEventWrites } from '../webhooks.js';

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

/** When row `index` of a paced mailing becomes due: the sender's due-time claim does the throttling. */
export function pacedAt(startedAt: number, index: number, ratePerMinute: number | null, now: number): number {
  return ratePerMinute ? startedAt + Math.floor((index * 60_000) / ratePerMinute) : now;
}

/** What a pass over the due mailings needs; the same on every runtime. */
export type MailingPassDeps = {
  ctx: ServiceContext;
  /** Templates, renderer and file store, for `letters` mailings. */
  letters: LetterPorts;
  logger?: Logger;
  /** How long a claim lasts without renewal; must exceed the longest step (rendering a campaign's letters). */
  leaseMs?: number;
  /** Recipients queued per atomic write. */
  batchSize?: number;
  /** Told after rows were queued, so the outbox is sent at once. */
  onQueued?: () => void;
};

/** Bounds on one pass, for a runtime that gives each invocation a time limit (a Cron Trigger). */
export type MailingPassOptions = {
  /** Names the pass's leases. */
  owner: string;
  /** Queue writes (up to `batchSize` recipients each) after which no new one is started. */
  maxBatches?: number;
  /**
   * A `Date.now()` instant after which no new queue write is started: real
   * time, like the invocation's limit, not the injected clock. A dry run is
   * counted in one go (it writes nothing to resume from).
   */
  deadline?: number;
};

/**
 * One pass over the due mailings (what one tick of the Node runner does), on
 * any runtime: sweep paused and cancelled mailings, claim due ones, queue
 * their next batches into the outbox and write their figures. Bounded by
 * `maxBatches` and `deadline`; the leases it took are handed back at the end,
 * so the next pass, whoever runs it, resumes where this one stopped. Nobody
 * is queued twice: each batch is one atomic write, unique per (mailing,
 * recipient), and queueing resumes after the last recipient queued.
 */
export async function runDueMailings(deps: MailingPassDeps, options: MailingPassOptions): Promise<TickResult> {
  const pass = new MailingPass(deps, options.owner, { ...options, stopped: () => false });
  try {
    return await pass.run();
  } finally {
    await pass.handBack();
  }
}

/**
 * Runs due mailings (PRODUCT.md §3 Mailing) in a Node process: a pass
 * (`runDueMailings`) every `pollIntervalMs`, never two at once. The runner
 * keeps the mailings it claimed from tick to tick until they finish, and
 * hands them back when stopped.
 */
export class MailingRunner {
  readonly workerId: string;
  private readonly pass: MailingPass;
  private readonly poll: PollLoop;
  private readonly logger: Logger;

  private ticking: Promise<TickResult> | undefined;

  constructor(options: MailingRunnerOptions) {
    this.workerId = options.workerId ?? newId(options.ctx.clock.now());
    this.logger = options.logger ?? options.ctx.logger;
    this.poll = new PollLoop({
      intervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs ?? 1000),
      pass: async () => {
        await this.tick();
        return false;
      },
      onError: (error) => this.logger.error('mailing tick failed', { workerId: this.workerId, ...errorKind(error) }),
    });
    this.pass = new MailingPass(options, this.workerId, { stopped: () => this.poll.stopping });
  }

  /** One pass: sweep paused and cancelled mailings, claim due ones, queue and count them. Passes never overlap. */
  tick(): Promise<TickResult> {
    const run = (this.ticking ?? Promise.resolve()).catch(() => undefined).then(() => this.runTick());
    this.ticking = run;
    return run;
  }

  /** Ticks every `pollIntervalMs` until `stop()`. */
  start(): void {
    this.poll.start();
  }

  /**
   * Graceful stop: the batch in hand is written, no new one is started, and
   * the leases of the mailings this runner holds are handed back so another
   * process can carry on at once.
   */
  async stop(): Promise<void> {
    await this.poll.stop(async () => this.ticking?.catch(() => undefined));
    await this.pass.handBack();
  }

  private runTick(): Promise<TickResult> {
    if (this.poll.stopping && !this.poll.started) return Promise.resolve({ claimed: 0, queued: 0, finished: 0 });
    return this.pass.run();
  }
}

/**
 * The work of one pass. Each pass claims due mailings with one conditional
 * UPDATE … RETURNING (a lease, as outbox senders do), queues their
 * recipients into the outbox in batches, each batch one atomic write that
 * only applies while this owner still holds the lease, with a key unique per
 * (mailing, recipient) so a rerun after a crash never queues anyone twice,
 * and keeps the progress figures current from the mailing's outbox rows
 * until none is pending. Sending is the outbox's job: a mailing's rows are
 * ordinary outbox rows, paced by their due time.
 */
class MailingPass {
  private readonly ctx: ServiceContext;
  private readonly ports: LetterPorts;
  private readonly outbox: OutboxStore;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly logger: Logger;
  private readonly onQueued: (() => void) | undefined;
  /** Queue writes since this pass began, against `maxBatches`. */
  private batches = 0;

  constructor(
    deps: MailingPassDeps,
    private readonly owner: string,
    private readonly limits: { stopped: () => boolean; maxBatches?: number; deadline?: number },
  ) {
    this.ctx = deps.ctx;
    this.ports = deps.letters;
    this.outbox = outboxStore(deps.ctx);
    this.leaseMs = positiveInteger('leaseMs', deps.leaseMs ?? 5 * 60_000);
    this.batchSize = positiveInteger('batchSize', deps.batchSize ?? 500);
    this.logger = deps.logger ?? deps.ctx.logger;
    this.onQueued = deps.onQueued;
  }

  /** Whether to start no new queue write: stopped from outside, or the pass's budget spent. */
  private stopped(): boolean {
    return (
      this.limits.stopped() ||
      (this.limits.maxBatches !== undefined && this.batches >= this.limits.maxBatches) ||
      (this.limits.deadline !== undefined && Date.now() >= this.limits.deadline)
    );
  }

  async run(): Promise<TickResult> {
    const result: TickResult = { claimed: 0, queued: 0, finished: 0 };
    this.batches = 0;
    await this.outbox.sweepMailings(this.ctx.clock.now() - CANCEL_SWEEP_MS);
    const claimed = await this.claim(this.ctx.clock.now());
    result.claimed = claimed.length;
    for (const mailing of claimed) {
      if (this.stopped()) break;
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

  /** Hands back the leases of the running mailings this owner holds, so anyone can carry on at once. */
  async handBack(): Promise<void> {
    await this.ctx.db.atomic([
      this.ctx.db.db
        .update(mailings)
        .set({ lockedBy: null, lockedUntil: null })
        .where(and(eq(mailings.lockedBy, this.owner), eq(mailings.status, 'running'))),
    ]);
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
      and(eq(mailings.status, 'running'), or(isNull(mailings.lockedUntil), lt(mailings.lockedUntil, now), eq(mailings.lockedBy, this.owner))),
    );
    const candidates = db.select({ id: mailings.id }).from(mailings).where(due).orderBy(asc(mailings.sendAt)).limit(CLAIM_LIMIT);
    return db
      .update(mailings)
      .set({
        status: 'running',
        lockedBy: this.owner,
        lockedUntil: now + this.leaseMs,
        startedAt: sql`coalesce(${mailings.startedAt}, ${now})`,
        updatedAt: now,
      })
      .where(and(inArray(mailings.id, candidates), due))
      .returning();
  }

  /** Conditional on holding the lease, so a runner whose lease was taken over writes nothing. */
  private held(mailingId: string) {
    return and(eq(mailings.id, mailingId), eq(mailings.status, 'running'), eq(mailings.lockedBy, this.owner));
  }

  private renewLease(mailingId: string, now: number): WriteStatement {
    return this.ctx.db.db.update(mailings).set({ lockedUntil: now + this.leaseMs }).where(this.held(mailingId));
  }

  private async stillHeld(mailingId: string): Promise<boolean> {
    const [row] = await this.ctx.db.db.select({ id: mailings.id }).from(mailings).where(this.held(mailingId));
    return row !== undefined;
  }

  private async queue(mailing: MailingRow): Promise<QueueOutcome> {
    const [campaign] = await this.ctx.db.db.select().from(campaigns).where(eq(campaigns.id, mailing.campaignId));
    if (!campaign) throw new ServiceError('NOT_FOUND', 'The campaign of this mailing no longer exists.');
    if (mailing.kind === 'update') return mailing.dryRun ? this.countUpdates(mailing, campaign) : this.queueUpdates(mailing, campaign);
    return mailing.dryRun ? this.countLetters(mailing, campaign) : this.queueLetters(mailing, campaign);
  }

  /** Supporters an update goes to: confirmed by the cut-off, consented, not unsubscribed, address not suppressed, in the mailing's segment. */
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
          segmentCondition(mailing.segment),
          sql`not exists (select 1 from ${emailSuppressions} where ${emailSuppressions.emailNormalized} = ${signatures.emailNormalized})`,
        ),
      )
      .orderBy(asc(signatures.id))
      .limit(this.batchSize);
  }

  /** Supporters of the segment who consented by the cut-off: the queued ones plus those left out (unsubscribed, suppressed); outside the segment is not skipped, just not addressed. */
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
          segmentCondition(mailing.segment),
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
      if (this.stopped()) return { complete: false, queued };
      const cursor = await this.outbox.mailingCursor(mailing.id);
      const recipients = await this.updateRecipients(mailing, cursor.lastKey);
      if (recipients.length === 0) return { complete: true, queued };
      const now = this.ctx.clock.now();
      const startedAt = mailing.startedAt ?? now;
      const messages: NewOutboxMessage[] = [];
      for (const [i, recipient] of recipients.entries()) {
        const id = newId(now);
        messages.push({
          id,
          kind: 'update',
          recipient: recipient.email.trim(),
          messageId: newMessageId(this.ctx.mailFrom, id),
          message: { compose: 'update', input: await this.updateInput(content, campaign, recipient) },
          dueAt: pacedAt(startedAt, cursor.queued + i, mailing.ratePerMinute, now),
          createdAt: now,
          mailingId: mailing.id,
          recipientKey: recipient.id,
        });
      }
      await this.ctx.db.atomic([this.renewLease(mailing.id, now), ...this.outbox.enqueue(messages, { kind: 'mailing-lease', mailingId: mailing.id, owner: this.owner })]);
      this.batches++;
      if (!(await this.stillHeld(mailing.id))) return { complete: false, queued };
      queued += recipients.length;
    }
  }

  /**
   * Dry run: every would-be email is composed in memory (so a body that
   * cannot render shows now) and counted, in one go whatever the pass's
   * budget: there is nothing written to resume from.
   */
  private async countUpdates(mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
    const content = await this.updateContent(mailing, campaign);
    let total = 0;
    let after: string | null = null;
    for (;;) {
      if (this.limits.stopped()) return { complete: false, queued: 0 };
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
   * The mailing's letters: one per target at its cut-off (skipping empty
   * targets, one per target whose letter counts someone), written by
   * generateLetters, so routing and its folding are the batch's. Generated
   * once; a rerun finds the batch again by campaign, mode, routing, empty
   * targets, template and cut-off (the same inputs give the same PDFs, so an
   * identical batch made by hand before is used too) instead of rendering it
   * again.
   */
  private async lettersFor(mailing: MailingRow, campaign: CampaignRow) {
    const cutoffAt = mailing.cutoffAt ?? mailing.sendAt;
    const template = this.letterTemplate(mailing, campaign);
    const routing = mailing.routing ?? 'all';
    const emptyTargets = mailing.emptyTargets ?? 'write';
    const languages = mailing.languages ?? undefined;
    const find = async () =>
      (
        await this.ctx.db.db
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
      await this.ctx.db.atomic([this.renewLease(mailing.id, this.ctx.clock.now())]);
      batch = { id: (await generateLetters(this.ctx, this.ports, campaign.slug, { mode: 'per_target', routing, emptyTargets, template, cutoffAt, ...(languages ? { languages } : {}) })).batchId };
    }
    return this.ctx.db.db
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
  private async queueLetters(mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
    const channel = mailing.channel ?? 'email';
    const batch = await this.lettersFor(mailing, campaign);
    const existing = new Set(
      (await this.ctx.db.db.select({ letterId: deliveries.letterId }).from(deliveries).where(eq(deliveries.mailingId, mailing.id))).map((row) => row.letterId),
    );
    const hasAddress = (letter: { email: string | null }) => (letter.email ?? '').trim() !== '';
    const deliverable = batch.filter((letter) => channel !== 'email' || hasAddress(letter));
    let queued = 0;
    let emailIndex = 0;
    for (let start = 0; start < deliverable.length; start += this.batchSize) {
      if (this.stopped()) return { complete: false, queued };
      const now = this.ctx.clock.now();
      const startedAt = mailing.startedAt ?? now;
      const statements: WriteStatement[] = [this.renewLease(mailing.id, now)];
      const chunk = deliverable.slice(start, start + this.batchSize);
      for (const letter of chunk) {
        const via = channel === 'auto' ? (hasAddress(letter) ? 'email' : 'print') : channel;
        // Only emails are paced: a letter queued for print waits for the organiser anyway.
        const index = via === 'email' ? emailIndex++ : 0;
        if (existing.has(letter.id)) continue;
        const found = await loadLetterForDelivery(this.ctx, letter.id);
        const paced = pacedAt(startedAt, index, mailing.ratePerMinute, now);
        // A letter by email reaches the office in its opening hours, on its own clock.
        const window = via === 'email' && mailing.sendingWindow ? { ...mailing.sendingWindow, timeZone: found.target.timeZone ?? mailing.timeZone } : undefined;
        statements.push(
          ...(await deliveryWrites(this.ctx, this.ports, found, via, {
            id: newId(now),
            now,
            mailingId: mailing.id,
            nextAttemptAt: window ? nextWindowOpening(paced, window, window.timeZone) : paced,
            ...(window ? { window } : {}),
          })),
          this.recordOutcome(mailing.id, { targetId: letter.targetId, name: letter.name }, via === 'email' ? 'emailed' : 'queued_for_print', null, now),
        );
        queued++;
      }
      if (statements.length === 1) continue;
      if (!(await this.stillHeld(mailing.id))) return { complete: false, queued: 0 };
      // Deliveries are unique per (mailing, letter, channel), so a runner that lost its lease meanwhile adds nothing.
      await this.ctx.db.atomic(statements);
      this.batches++;
    }
    // A target skipped for an empty letter has none: skipped like one without an address, so total + skipped is every target.
    const lettered = new Set(batch.map((letter) => letter.targetId));
    const empty = mailing.emptyTargets === 'skip' ? (await this.linkedTargets(campaign)).filter((target) => !lettered.has(target.id)) : [];
    const unreachable = batch.filter((letter) => !deliverable.includes(letter));
    const now = this.ctx.clock.now();
    const skips = [
      ...unreachable.map((letter) => this.recordOutcome(mailing.id, { targetId: letter.targetId, name: letter.name }, 'skipped', 'TARGET_HAS_NO_EMAIL', now)),
      ...empty.map((target) => this.recordOutcome(mailing.id, { targetId: target.id, name: target.name }, 'skipped', 'NO_SUPPORTERS_ROUTED', now)),
    ];
    if (skips.length > 0) {
      if (!(await this.stillHeld(mailing.id))) return { complete: false, queued };
      await this.ctx.db.atomic([this.renewLease(mailing.id, now), ...skips]);
    }
    return { complete: true, queued, skipped: skips.length };
  }

  /** A target's outcome, once: a rerun after a crash finds it recorded and keeps the first. */
  private recordOutcome(
    mailingId: string,
    target: { targetId: string; name: string },
    outcome: (typeof mailingTargetOutcomes.$inferInsert)['outcome'],
    reason: (typeof mailingTargetOutcomes.$inferInsert)['reason'],
    now: number,
  ): WriteStatement {
    return this.ctx.db.db
      .insert(mailingTargetOutcomes)
      .values({ mailingId, targetId: target.targetId, targetName: target.name, outcome, reason, recordedAt: now })
      .onConflictDoNothing();
  }

  private linkedTargets(campaign: CampaignRow) {
    return this.ctx.db.db
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
  private async countLetters(mailing: MailingRow, campaign: CampaignRow): Promise<QueueOutcome> {
    const planned = await plannedLetterTargets(this.ctx, campaign.slug, {
      routing: mailing.routing ?? 'all',
      emptyTargets: mailing.emptyTargets ?? 'write',
      cutoffAt: mailing.cutoffAt ?? mailing.sendAt,
    });
    const total = mailing.channel === 'email' ? planned.written.filter((target) => (target.email ?? '').trim() !== '').length : planned.written.length;
    return { complete: true, queued: 0, total, skipped: planned.written.length + planned.skipped.length - total };
  }

  /**
   * Writes the figures and, once everything is queued and nothing is pending,
   * finishes the mailing. `sent`/`failed` are counts of the mailing's outbox
   * rows by status (print deliveries count as sent once in the print queue).
   * `total` is what was queued (so `sent + failed` never exceeds it); the
   * recipients left out are `skipped`, beside it and never in it.
   */
  private async settle(mailing: MailingRow, outcome: QueueOutcome): Promise<boolean> {
    const now = this.ctx.clock.now();
    let figures: { total: number; sent: number; failed: number; skipped: number; pending: number };
    if (mailing.dryRun) {
      figures = { total: outcome.total ?? 0, sent: 0, failed: 0, skipped: outcome.skipped ?? 0, pending: 0 };
    } else if (mailing.kind === 'letters') {
      const [row] = await this.ctx.db.db
        .select({ n: count() })
        .from(deliveries)
        .where(and(eq(deliveries.mailingId, mailing.id), eq(deliveries.channel, 'print')));
      const printed = row?.n ?? 0;
      const emailed = await this.outbox.mailingProgress(mailing.id);
      figures = { ...emailed, total: emailed.total + printed, sent: emailed.sent + printed, skipped: outcome.skipped ?? 0 };
    } else {
      const progress = await this.outbox.mailingProgress(mailing.id);
      figures = { ...progress, skipped: Math.max(0, (await this.consentingCount(mailing)) - progress.total) };
    }
    const finished = outcome.complete && figures.pending === 0;
    // Queued only if this write is the one that finished it (another runner's would carry another instant).
    const events = finished ? await webhookEventWrites(this.ctx, 'mailing.finished', [mailing.id], { kind: 'mailing-finished', mailingId: mailing.id, at: now }) : [];
    const changed = or(
      sql`${mailings.sent} <> ${figures.sent}`,
      sql`${mailings.failed} <> ${figures.failed}`,
      sql`${mailings.total} <> ${figures.total}`,
      outcome.complete ? sql`${mailings.skipped} <> ${figures.skipped}` : undefined,
    );
    await this.ctx.db.atomic([
      this.ctx.db.db
        .update(mailings)
        .set({
          sent: figures.sent,
          failed: figures.failed,
          // The total grows with what is queued, so the figures never show more sent than there is to send.
          total: figures.total,
          ...(outcome.complete ? { skipped: figures.skipped } : {}),
          lockedUntil: now + this.leaseMs,
          // updatedAt moves only with the figures, so the events stream sends a new event only on a change.
          updatedAt: finished ? now : sql`CASE WHEN ${changed} THEN ${now} ELSE ${mailings.updatedAt} END`,
          ...(finished ? { status: 'finished' as const, finishedAt: now, lockedBy: null, lockedUntil: null } : {}),
        })
        .where(this.held(mailing.id)),
      ...events,
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
      this.logger.warn('mailing failed', { workerId: this.owner, mailingId: mailing.id, code: error.code });
      const now = this.ctx.clock.now();
      await this.ctx.db.atomic([
        this.ctx.db.db
          .update(mailings)
          .set({ status: 'failed', lastError: `${error.code}: ${error.message}`.slice(0, 1000), finishedAt: now, updatedAt: now, lockedBy: null, lockedUntil: null })
          .where(this.held(mailing.id)),
      ]);
      return;
    }
    this.logger.error('mailing run failed', { workerId: this.owner, mailingId: mailing.id, ...errorKind(error) });
  }
}
