import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { emailSuppressions, type OutboxMessage, type SendingWindow, type StoredOutboxMessage } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { errorKind, positiveInteger } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { maskAddressesIn } from '../lib/mask.js';
import type { MailLinks } from '../mail/mail-links.js';
import { renderStoredMessage } from '../mail/messages.js';
import { OrganisationSender } from '../mail/organisation-sender.js';
import { MailSendError, type MailTransport } from '../mail/transports/transport.js';
import { nextWindowOpening } from '../lib/sending-window.js';
import type { ConfirmationLaneLimits } from './confirmation-lane.js';
import { outboxStore } from './outbox-store.js';
import type { ClaimedRow, OutboxStore, WebhookDelivery } from './types.js';

/** What delivering the outbox needs; the same on every runtime. */
export type DeliverOutboxDeps = {
  database: Database;
  transport: MailTransport;
  clock: Clock;
  logger: Logger;
  /** MAIL_FROM, e.g. `Signet <no-reply@example.org>`: its address sends every message, under the organisation's name once set (src/mail/organisation-sender.ts). */
  from: string;
  /** Derives the tokens of the links a message carries as it is sent (they are never stored). */
  links: MailLinks;
  /** Names the leases taken; unique per process (Node) or per invocation (a queue consumer). */
  owner: string;
  /** How long a claim lasts; must exceed the longest send, or a second owner may send the same message. */
  leaseMs: number;
  /** The owner `dispatchDue` leases under: its live leases are taken over when rows are claimed by id. */
  dispatcher?: string;
  /** CONFIRM_EMAIL_LIMIT and CONFIRM_EMAILS_PER_MINUTE for the confirmation lane's claims (the services' privacy settings); the defaults without. */
  confirmationLane?: ConfirmationLaneLimits;
  /**
   * Sends in flight at once (default 100). Each holds its slot until its row is
   * durably marked sent, so this must cover the commit wait as well as the
   * send; it is also the most messages a crash can cause to be sent twice.
   * 100 rather than 50: with 50, slots waiting for the commit left the SMTP
   * pool short of messages (bench/mail.ts: 50 → 150 gave +15 % on 2 cores).
   */
  concurrency?: number;
  /** Most sends started per second, evenly spaced (a token bucket one token deep); unlimited when omitted. */
  maxPerSecond?: number;
  /** Attempts (the first included) before a message is given up (default 10). */
  maxAttempts?: number;
  backoff?: { baseMs: number; maxMs: number };
  /** Source of jitter in [0, 1). */
  random?: () => number;
  /** Sends the webhook rows (src/services/webhook-sender.ts); without it they fail, named as such. */
  webhooks?: WebhookDelivery;
  /**
   * Runs a callback once the current turn of the event loop is done, so the
   * sends that start in one turn share one suppression lookup. Node passes
   * `setImmediate`; the default, a zero timeout, works everywhere.
   */
  endOfTurn?: (callback: () => void) => void;
};

/** What one call did; `skipped` rows were not sent and stay pending (not claimed, not yet in their window, lease lost, or not recorded). */
export type DeliverResult = { sent: number; failed: number; retried: number; skipped: number };

type Outcome = keyof DeliverResult;

/** Rows claimed per call when the caller names no limit. */
const DEFAULT_LIMIT = 500;
const maxErrorLength = 1000;
/** Ids marked sent by one UPDATE (passed as one JSON parameter). */
const maxRowsPerWrite = 1000;
/**
 * How long the first sent row waits for others to share its write. Each
 * write is a commit (an fsync under synchronous=FULL) and a round trip to the
 * writer thread; marking as soon as one row was sent made groups of two or
 * three, and the slots they freed started their sends a few at a time, each
 * few with its own suppression lookup (bench/mail.ts, docs/benchmarks.md).
 */
const sentMarkGatherMs = 5;

function isWebhookEvent(message: StoredOutboxMessage | null): boolean {
  return message !== null && 'compose' in message && message.compose === 'webhook';
}

/** The sending window a letter delivery carries (src/lib/sending-window.ts), if any. */
function windowOf(message: StoredOutboxMessage | null): (SendingWindow & { timeZone: string }) | undefined {
  return message !== null && 'compose' in message && message.compose === 'letter-delivery' ? message.window : undefined;
}

/**
 * Claims, sends and marks outbox rows: the part of sending that is the same
 * on every runtime. Claims are leases taken through the outbox store; every
 * write after one is conditional on still holding the lease, so an owner
 * whose lease was taken over changes nothing. One instance keeps what
 * outlives a batch: the send pace, the group commit of sent rows, totals.
 */
export class OutboxDelivery {
  readonly owner: string;
  readonly store: OutboxStore;
  private readonly database: Database;
  private readonly transport: MailTransport;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sender: OrganisationSender;
  private readonly links: MailLinks;
  private readonly leaseMs: number;
  private readonly dispatcher: string | undefined;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly random: () => number;
  private readonly endOfTurn: (callback: () => void) => void;
  private readonly webhooks: WebhookDelivery | undefined;
  /** Milliseconds between sends under `maxPerSecond`; 0 when unlimited. */
  private readonly sendIntervalMs: number;
  private nextSendAt = 0;
  /** Rows sent and waiting for the one write that marks them all sent. */
  private sentQueue: { id: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private sentFlush: Promise<void> | undefined;
  private suppressionLookup: ReturnType<OutboxDelivery['prepareSuppressionLookup']> | undefined;
  /** Recipients whose suppression lookup runs at the end of this turn of the event loop. */
  private suppressionBatch: { emails: Set<string>; found: Promise<Set<string>> } | undefined;
  private sending = 0;
  /** Totals since this instance was created. */
  readonly totals: DeliverResult = { sent: 0, failed: 0, retried: 0, skipped: 0 };

  constructor(deps: DeliverOutboxDeps) {
    this.database = deps.database;
    this.transport = deps.transport;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.sender = new OrganisationSender(deps.database, deps.from, deps.clock, deps.logger);
    this.links = deps.links;
    this.owner = deps.owner;
    // Two consumers under the dispatcher's name could both take one dispatched row.
    if (deps.dispatcher !== undefined && deps.dispatcher === deps.owner) throw new RangeError('owner must differ from dispatcher');
    this.dispatcher = deps.dispatcher;
    this.leaseMs = positiveInteger('leaseMs', deps.leaseMs);
    this.concurrency = positiveInteger('concurrency', deps.concurrency ?? 100);
    this.maxAttempts = positiveInteger('maxAttempts', deps.maxAttempts ?? 10);
    this.backoff = deps.backoff ?? { baseMs: 30_000, maxMs: 60 * 60_000 };
    if (!(this.backoff.baseMs >= 0 && this.backoff.maxMs >= this.backoff.baseMs)) {
      throw new RangeError('backoff needs 0 <= baseMs <= maxMs');
    }
    this.random = deps.random ?? Math.random;
    this.endOfTurn = deps.endOfTurn ?? ((callback) => setTimeout(callback, 0));
    this.webhooks = deps.webhooks;
    const maxPerSecond = deps.maxPerSecond ?? Infinity;
    if (!(maxPerSecond > 0)) throw new RangeError('maxPerSecond must be positive');
    this.sendIntervalMs = 1000 / maxPerSecond;
    this.store = outboxStore({ db: deps.database, clock: deps.clock, logger: deps.logger, ...(deps.confirmationLane ? { privacy: deps.confirmationLane } : {}) });
  }

  /** Sends under way (between the start of a send and its row being marked). */
  get inFlight(): number {
    return this.sending;
  }

  /**
   * Claims rows (those named by `ids`, else up to `limit` due ones), sends
   * them `concurrency` at a time and resolves once every claimed row is
   * settled. `stopped` is asked before each send: once it answers true, the
   * sends in flight finish and the rows not started are handed back.
   *
   * `continuous` (a long-running loop): the next batch of due rows is claimed
   * while the last `concurrency` rows of this one are still to start, and the
   * same workers go on with it, for as long as claims come back full: waiting
   * for a batch to settle before claiming the next left the pool short of
   * work for the batch's slowest sends, its last commit and the claim.
   * `claimed` is then the size of the last claim, so a full one still means
   * "more are due".
   */
  async drain(request: { ids?: readonly string[]; limit?: number; continuous?: boolean; stopped?: () => boolean }): Promise<{ result: DeliverResult; claimed: number }> {
    const result: DeliverResult = { sent: 0, failed: 0, retried: 0, skipped: 0 };
    const stopped = request.stopped ?? (() => false);
    const limit = request.limit ?? DEFAULT_LIMIT;
    const byIds = request.ids !== undefined;
    const continuous = !byIds && request.continuous === true;
    if (stopped()) return { result, claimed: 0 };
    let rows = byIds ? await this.claimByIds(request.ids!) : await this.claim(limit);
    // Named rows not claimed are sent, failed or someone else's: nothing to do here.
    if (byIds) this.count(result, 'skipped', new Set(request.ids).size - rows.length);
    if (rows.length === 0) return { result, claimed: 0 };

    let total = rows.length;
    let lastClaim = rows.length;
    let next = 0;
    let prefetch: Promise<void> | undefined;
    const refill = () => {
      if (!continuous || prefetch || stopped() || lastClaim < limit || rows.length - next > this.concurrency) return;
      prefetch = this.claim(limit).then(
        (claimed) => {
          // Rows already started are dropped, so a long run does not keep every row it sent.
          rows = rows.slice(next).concat(claimed);
          next = 0;
          total += claimed.length;
          lastClaim = claimed.length;
          prefetch = undefined;
        },
        (error: unknown) => {
          this.logger.error('outbox drain failed', { workerId: this.owner, ...errorKind(error) });
          lastClaim = 0;
          prefetch = undefined;
        },
      );
    };
    const work = async () => {
      for (;;) {
        refill();
        if (next < rows.length && !stopped()) {
          this.count(result, await this.deliver(rows[next++]!));
        } else if (prefetch && !stopped()) {
          await prefetch;
        } else {
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: continuous ? this.concurrency : Math.min(this.concurrency, rows.length) }, work));
    // A claim still running when the stop came: its rows are handed back below with the rest.
    while (prefetch) await prefetch;
    if (next < rows.length) {
      const unstarted = rows.slice(next);
      await this.store.releaseLeases(this.owner, unstarted.map((row) => row.id));
      this.count(result, 'skipped', unstarted.length);
    }

    this.logger.debug('outbox drained', { workerId: this.owner, claimed: total, ...result });
    return { result, claimed: lastClaim };
  }

  private count(result: DeliverResult, outcome: Outcome, n = 1): void {
    result[outcome] += n;
    this.totals[outcome] += n;
  }

  private claim(limit: number): Promise<ClaimedRow[]> {
    return this.store.claim(this.owner, { limit, leaseMs: this.leaseMs });
  }

  private claimByIds(ids: readonly string[]): Promise<ClaimedRow[]> {
    return this.store.claimByIds(this.owner, ids, { leaseMs: this.leaseMs, ...(this.dispatcher === undefined ? {} : { dispatcher: this.dispatcher }) });
  }

  /** Sends one claimed row and records the outcome; never throws, so one bad row cannot stall the batch. */
  private async deliver(row: ClaimedRow): Promise<Outcome> {
    try {
      if (isWebhookEvent(row.message)) return await this.deliverWebhook(row);
      const window = windowOf(row.message);
      if (window) {
        // A row due inside the window may be claimed just after it closed (or released there by a resume): it waits for the next opening.
        const now = this.clock.now();
        const opening = nextWindowOpening(now, window, window.timeZone);
        if (opening > now) {
          await this.store.defer(this.owner, row.id, opening);
          return 'skipped';
        }
      }
      await this.throttle();
      if (row.lockedUntil === null || this.clock.now() >= row.lockedUntil) {
        // The lease ran out while the row waited its turn: another owner may hold it now.
        await this.store.releaseLeases(this.owner, [row.id]);
        return 'skipped';
      }
      if (row.message === null) {
        return await this.recordFailure(row, new MailSendError('The message body is missing', { permanent: true }));
      }
      if (await this.isSuppressed(row.recipient)) {
        return await this.recordFailure(row, new MailSendError('suppressed', { permanent: true, code: 'SUPPRESSED' }));
      }
      let message: OutboxMessage;
      try {
        message = await renderStoredMessage(row.message, row.recipient, this.links);
      } catch (error) {
        return await this.recordFailure(row, new MailSendError('The stored message cannot be rendered', { permanent: true, cause: error }));
      }
      let failure: MailSendError | undefined;
      this.sending++;
      try {
        await this.transport.send({ ...message, from: await this.sender.fromLine(message.locale), messageId: row.messageId });
      } catch (error) {
        failure =
          error instanceof MailSendError
            ? error
            : new MailSendError(`Unexpected ${errorKind(error).error} from the transport`, { permanent: false, cause: error });
      } finally {
        this.sending--;
      }
      if (failure) return await this.recordFailure(row, failure);
      await this.recordSuccess(row);
      return 'sent';
    } catch (error) {
      // Most likely the database refused the write. The lease keeps the row
      // until it expires; it is then sent again, since we cannot know more.
      this.logger.error('outbox row not recorded', { workerId: this.owner, outboxId: row.id, ...errorKind(error) });
      return 'skipped';
    }
  }

  /**
   * A webhook event: not an email, so neither the mail pace nor suppressions
   * apply; the webhook sender makes the attempt and logs it, and the row is
   * marked as any other (sent, retried with backoff, or failed).
   */
  private async deliverWebhook(row: ClaimedRow): Promise<Outcome> {
    if (row.lockedUntil === null || this.clock.now() >= row.lockedUntil) {
      await this.store.releaseLeases(this.owner, [row.id]);
      return 'skipped';
    }
    if (!this.webhooks) return await this.recordFailure(row, new MailSendError('No webhook sender in this process', { permanent: true }));
    this.sending++;
    let outcome;
    try {
      outcome = await this.webhooks.deliver(row);
    } finally {
      this.sending--;
    }
    if (!outcome.delivered) return await this.recordFailure(row, new MailSendError(outcome.error, { permanent: outcome.permanent }));
    await this.recordSuccess(row);
    return 'sent';
  }

  /**
   * A hard bounce or a complaint since the row was queued, looked up just
   * before the send. The sends that start in one turn of the event loop
   * (a group commit frees many slots at once) share one lookup by primary
   * key: a read per message cost the sending process more than its render,
   * as each read after a commit re-reads the pages another connection changed.
   */
  private isSuppressed(recipient: string): Promise<boolean> {
    const email = recipient.trim().toLowerCase();
    let batch = this.suppressionBatch;
    if (!batch) {
      const emails = new Set<string>();
      const found = new Promise<Set<string>>((resolve, reject) =>
        this.endOfTurn(() => {
          this.suppressionBatch = undefined;
          this.lookUpSuppressed([...emails]).then(resolve, reject);
        }),
      );
      batch = this.suppressionBatch = { emails, found };
    }
    batch.emails.add(email);
    return batch.found.then((suppressed) => suppressed.has(email));
  }

  private async lookUpSuppressed(emails: string[]): Promise<Set<string>> {
    this.suppressionLookup ??= this.prepareSuppressionLookup();
    const rows = await this.suppressionLookup.all({ emails: JSON.stringify(emails) });
    return new Set(rows.map((row) => row.email));
  }

  private prepareSuppressionLookup() {
    return this.database.db
      .select({ email: emailSuppressions.emailNormalized })
      .from(emailSuppressions)
      .where(sql`${emailSuppressions.emailNormalized} in (select value from json_each(${sql.placeholder('emails')}))`)
      .prepare();
  }

  /**
   * Waits for this send's turn under `maxPerSecond`. Real monotonic time, not
   * the injected clock: the pace is what the relay sees, and the wait is a
   * real timer anyway. No burst: an idle sender saves up no tokens.
   */
  private async throttle(): Promise<void> {
    if (this.sendIntervalMs === 0) return;
    const now = performance.now();
    const at = Math.max(now, this.nextSendAt);
    this.nextSendAt = at + this.sendIntervalMs;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }

  /** Resolves once the row is durably marked sent; until then its message counts as in flight. */
  private recordSuccess(row: ClaimedRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.sentQueue.push({ id: row.id, resolve, reject });
      this.sentFlush ??= this.flushSent();
    });
  }

  /**
   * Marks sent rows with one UPDATE per write rather than one per message
   * (per-message statements cost more CPU than the send at high rates): rows
   * that finish while a write commits, or in the few milliseconds before it
   * starts, go into the same one.
   */
  private async flushSent(): Promise<void> {
    while (this.sentQueue.length > 0) {
      if (this.sentQueue.length < this.concurrency / 2) await new Promise((resolve) => setTimeout(resolve, sentMarkGatherMs));
      const group = this.sentQueue.splice(0, maxRowsPerWrite);
      try {
        await this.store.markSent(this.owner, group.map((entry) => entry.id));
        for (const entry of group) entry.resolve();
      } catch (error) {
        for (const entry of group) entry.reject(error);
      }
    }
    this.sentFlush = undefined;
  }

  private async recordFailure(row: ClaimedRow, failure: MailSendError): Promise<'failed' | 'retried'> {
    const attempts = row.attempts + 1;
    const giveUp = failure.permanent || attempts >= this.maxAttempts;
    const error = maskAddressesIn(failure.message).slice(0, maxErrorLength);
    if (giveUp) await this.store.markFailed(this.owner, row.id, error);
    else await this.store.retryLater(this.owner, row.id, error, this.retryAt(row, this.clock.now() + this.backoffDelay(attempts)));
    this.logger.warn(giveUp ? 'outbox message failed' : 'outbox message deferred', {
      workerId: this.owner,
      outboxId: row.id,
      attempts,
      permanent: failure.permanent,
      responseCode: failure.responseCode,
      code: failure.code,
    });
    return giveUp ? 'failed' : 'retried';
  }

  /**
   * Exponential, capped, with "equal jitter": half of the delay is fixed so a
   * struggling relay gets a real pause, half is random so a burst of failures
   * does not come back as a burst.
   */
  private backoffDelay(attempts: number): number {
    const delay = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (attempts - 1));
    return Math.round(delay / 2 + this.random() * (delay / 2));
  }

  /** A retry of a letter delivery waits for its window to open again. */
  private retryAt(row: ClaimedRow, at: number): number {
    const window = windowOf(row.message);
    return window ? nextWindowOpening(at, window, window.timeZone) : at;
  }
}

/**
 * Delivers outbox rows once, on any runtime: the rows named by `ids` (a queue
 * consumer's message; rows sent, failed, held, not due or under another
 * owner's live lease are skipped), else up to `limit` due rows. Resolves once
 * every row claimed is marked sent, failed or pending again, so a queue
 * message can be acknowledged then.
 */
export async function deliverOutbox(deps: DeliverOutboxDeps, request: { ids?: readonly string[]; limit?: number } = {}): Promise<DeliverResult> {
  return (await new OutboxDelivery(deps).drain(request)).result;
}
