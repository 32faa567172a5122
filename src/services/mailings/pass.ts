import { and, count, eq, or, sql } from 'drizzle-orm';
import { campaigns, deliveries, mailings } from '../../db/schema.js';
import type { LetterPorts } from '../../letters/letter-ports.js';
import { errorKind, positiveInteger } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { ServiceError } from '../../lib/service-errors.js';
import { outboxStore } from '../../outbox/outbox-store.js';
import type { OutboxStore } from '../../outbox/types.js';
import type { ServiceContext } from '../context.js';
import { webhookEventWrites } from '../webhooks.js';
import { countLetters, queueLetters } from './letter-audience.js';
import { MailingLeaseStore, type MailingRow } from './lease-store.js';
import type { MailingQueueing, QueueOutcome } from './queueing.js';
import { consentingCount, countUpdates, queueUpdates } from './update-audience.js';

export type TickResult = { claimed: number; queued: number; finished: number };

/** Cancelled mailings whose in-flight emails are still swept and counted. */
const CANCEL_SWEEP_MS = 24 * 3_600_000;

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
 * The work of one pass. Each pass claims due mailings (a lease, as outbox
 * senders do: lease-store.ts), queues their recipients into the outbox in
 * batches through their audience (update-audience.ts, letter-audience.ts),
 * each batch one atomic write that only applies while this owner still holds
 * the lease, with a key unique per (mailing, recipient) so a rerun after a
 * crash never queues anyone twice, and keeps the progress figures current
 * from the mailing's outbox rows until none is pending. Sending is the
 * outbox's job: a mailing's rows are ordinary outbox rows, paced by their due
 * time.
 */
export class MailingPass {
  private readonly ctx: ServiceContext;
  private readonly outbox: OutboxStore;
  private readonly lease: MailingLeaseStore;
  private readonly logger: Logger;
  private readonly onQueued: (() => void) | undefined;
  private readonly queueing: MailingQueueing;
  /** Queue writes since this pass began, against `maxBatches`. */
  private batches = 0;

  /**
   * @param owner names the pass's leases.
   * @param limits `stopped`: the runner is stopping; `maxBatches` and `deadline` as in MailingPassOptions.
   */
  constructor(
    deps: MailingPassDeps,
    owner: string,
    private readonly limits: { stopped: () => boolean; maxBatches?: number; deadline?: number },
  ) {
    this.ctx = deps.ctx;
    this.outbox = outboxStore(deps.ctx);
    this.lease = new MailingLeaseStore(deps.ctx, owner, deps.leaseMs ?? 5 * 60_000);
    this.logger = deps.logger ?? deps.ctx.logger;
    this.onQueued = deps.onQueued;
    this.queueing = {
      ctx: deps.ctx,
      letters: deps.letters,
      outbox: this.outbox,
      lease: this.lease,
      batchSize: positiveInteger('batchSize', deps.batchSize ?? 500),
      stopped: () => this.stopped(),
      stopping: () => this.limits.stopped(),
      wroteBatch: () => {
        this.batches++;
      },
    };
  }

  /** Whether to start no new queue write: stopped from outside, or the pass's budget spent. */
  private stopped(): boolean {
    return (
      this.limits.stopped() ||
      (this.limits.maxBatches !== undefined && this.batches >= this.limits.maxBatches) ||
      (this.limits.deadline !== undefined && Date.now() >= this.limits.deadline)
    );
  }

  /** Sweeps paused and cancelled mailings, claims due ones, queues and counts them. */
  async run(): Promise<TickResult> {
    const result: TickResult = { claimed: 0, queued: 0, finished: 0 };
    this.batches = 0;
    await this.outbox.sweepMailings(this.ctx.clock.now() - CANCEL_SWEEP_MS);
    const claimed = await this.lease.claim(this.ctx.clock.now());
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
  handBack(): Promise<void> {
    return this.lease.handBack();
  }

  private async queue(mailing: MailingRow): Promise<QueueOutcome> {
    const [campaign] = await this.ctx.db.db.select().from(campaigns).where(eq(campaigns.id, mailing.campaignId));
    if (!campaign) throw new ServiceError('NOT_FOUND', 'The campaign of this mailing no longer exists.');
    if (mailing.kind === 'update') return mailing.dryRun ? countUpdates(this.queueing, mailing, campaign) : queueUpdates(this.queueing, mailing, campaign);
    return mailing.dryRun ? countLetters(this.ctx, mailing, campaign) : queueLetters(this.queueing, mailing, campaign);
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
      figures = { ...progress, skipped: Math.max(0, (await consentingCount(this.ctx, mailing)) - progress.total) };
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
          lockedUntil: this.lease.lockedUntil(now),
          // updatedAt moves only with the figures, so the events stream sends a new event only on a change.
          updatedAt: finished ? now : sql`CASE WHEN ${changed} THEN ${now} ELSE ${mailings.updatedAt} END`,
          ...(finished ? { status: 'finished' as const, finishedAt: now, lockedBy: null, lockedUntil: null } : {}),
        })
        .where(this.lease.held(mailing.id)),
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
      this.logger.warn('mailing failed', { workerId: this.lease.owner, mailingId: mailing.id, code: error.code });
      const now = this.ctx.clock.now();
      await this.ctx.db.atomic([
        this.ctx.db.db
          .update(mailings)
          .set({ status: 'failed', lastError: `${error.code}: ${error.message}`.slice(0, 1000), finishedAt: now, updatedAt: now, lockedBy: null, lockedUntil: null })
          .where(this.lease.held(mailing.id)),
      ]);
      return;
    }
    this.logger.error('mailing run failed', { workerId: this.lease.owner, mailingId: mailing.id, ...errorKind(error) });
  }
}
