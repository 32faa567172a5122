import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { emailSuppressions, outbox, type OutboxMessage, type SendingWindow, type StoredOutboxMessage } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import { type MailLinks, renderStoredMessage } from './messages.js';
import { MailSendError, type MailTransport } from './transport.js';
import { errorKind, positiveInteger } from '../lib/errors.js';
import { maskAddressesIn } from '../lib/mask.js';
import { nextWindowOpening } from '../mailings/sending-window.js';

export type OutboxSenderOptions = {
  database: Database;
  transport: MailTransport;
  clock: Clock;
  logger: Logger;
  /** The From line of every message, e.g. `Signet <no-reply@example.org>`. */
  from: string;
  /** Derives the tokens of the links a message carries as it is sent (they are never stored). */
  links: MailLinks;
  /** Names this sender's leases; unique per process. */
  workerId?: string;
  /** Rows claimed per drain (default 500). */
  batchSize?: number;
  /**
   * Sends in flight at once (default 50). Each holds its slot until its row is
   * durably marked sent, so this must cover the commit wait as well as the
   * send; it is also the most messages a crash can cause to be sent twice.
   */
  concurrency?: number;
  /**
   * Most sends started per second by this sender, for a relay that limits
   * its clients; evenly spaced (a token bucket one token deep). Unlimited
   * when omitted.
   */
  maxPerSecond?: number;
  /** How long a claim lasts; must exceed the longest send, or a second worker may send the same message. */
  leaseMs?: number;
  /** Attempts (the first included) before a message is given up. */
  maxAttempts?: number;
  backoff?: { baseMs: number; maxMs: number };
  /** Wait between drains when the outbox is empty and nobody calls `wake()`. */
  pollIntervalMs?: number;
  /** Source of jitter in [0, 1). */
  random?: () => number;
};

export type DrainResult = { sent: number; failed: number; retried: number };

export type OutboxSenderStats = DrainResult & { inFlight: number; running: boolean };

type OutboxRow = typeof outbox.$inferSelect;
/** What the sender needs of a claimed row. */
type ClaimedRow = Pick<OutboxRow, 'id' | 'recipient' | 'messageId' | 'message' | 'attempts' | 'nextAttemptAt' | 'lockedUntil'>;

/** The claim as SQL text: parameters are the worker id, lease end, now, now, batch size. */
const claimSql = `UPDATE "outbox" SET "locked_by" = ?, "locked_until" = ?
  WHERE "id" IN (SELECT "id" FROM "outbox" WHERE "status" = 'pending' AND "next_attempt_at" <= ?
    AND ("locked_until" IS NULL OR "locked_until" < ?) ORDER BY "next_attempt_at" LIMIT ?)
  RETURNING "id", "recipient", "message_id", "message", "attempts", "next_attempt_at", "locked_until"`;

function claimedRow(values: unknown[]): ClaimedRow {
  const [id, recipient, messageId, message, attempts, nextAttemptAt, lockedUntil] = values as [string, string, string, string | null, number, number, number | null];
  return { id, recipient, messageId, message: message === null ? null : (JSON.parse(message) as StoredOutboxMessage), attempts, nextAttemptAt, lockedUntil };
}
type Outcome = keyof DrainResult | 'skipped';

const maxErrorLength = 1000;
/** The sending window a letter delivery carries (src/mailings/sending-window.ts), if any. */
function windowOf(message: StoredOutboxMessage | null): (SendingWindow & { timeZone: string }) | undefined {
  return message !== null && 'compose' in message && message.compose === 'letter-delivery' ? message.window : undefined;
}

/** Ids marked sent by one UPDATE (passed as one JSON parameter). */
const maxRowsPerWrite = 1000;

/**
 * Marks a group of rows sent, by primary key. The unary `+` keeps SQLite
 * from using outbox_due_idx for `status = 'pending'`: it otherwise prefers
 * that index and checks every pending row against the id list, one table
 * lookup each, so each write cost time in proportion to the whole backlog
 * (most of the writer thread's time at 20,000 pending rows, all of it under
 * the write lock that other senders wait for).
 */
const markSentSql = `UPDATE "outbox" SET "status" = 'sent', "sent_at" = ?, "message" = NULL, "attempts" = "attempts" + 1,
  "last_error" = NULL, "locked_by" = NULL, "locked_until" = NULL
  WHERE "id" IN (SELECT value FROM json_each(?)) AND +"locked_by" = ? AND +"status" = 'pending'`;

/** Hands claimed rows back (by primary key, as above). */
const releaseSql = `UPDATE "outbox" SET "locked_by" = NULL, "locked_until" = NULL
  WHERE "id" IN (SELECT value FROM json_each(?)) AND +"locked_by" = ? AND +"status" = 'pending'`;


/**
 * Delivers the transactional outbox. Rows are claimed with a lease by one
 * UPDATE … RETURNING, so any number of senders can share a database without
 * sending a message twice; a crashed sender's lease simply runs out and the
 * row is claimed again. Every write after the claim is conditional on still
 * holding the lease, so a sender whose lease was taken over changes nothing.
 */
export class OutboxSender {
  readonly workerId: string;
  private readonly database: Database;
  private readonly transport: MailTransport;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly from: string;
  private readonly links: MailLinks;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly pollIntervalMs: number;
  private readonly random: () => number;
  /** Milliseconds between sends under `maxPerSecond`; 0 when unlimited. */
  private readonly sendIntervalMs: number;
  private nextSendAt = 0;
  /** Rows sent and waiting for the one write that marks them all sent. */
  private sentQueue: { id: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private sentFlush: Promise<void> | undefined;

  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Drains run one after another: a drain started while another runs waits for it. */
  private drainChain: Promise<unknown> = Promise.resolve();
  private wakeSleeper: (() => void) | undefined;
  private wakeRequested = false;
  private inFlight = 0;
  private suppressionLookup: ReturnType<OutboxSender['prepareSuppressionLookup']> | undefined;
  /** Recipients whose suppression lookup runs at the end of this event-loop turn. */
  private suppressionBatch: { emails: Set<string>; found: Promise<Set<string>> } | undefined;
  private readonly totals: DrainResult = { sent: 0, failed: 0, retried: 0 };

  constructor(options: OutboxSenderOptions) {
    this.database = options.database;
    this.transport = options.transport;
    this.clock = options.clock;
    this.logger = options.logger;
    this.from = options.from;
    this.links = options.links;
    this.workerId = options.workerId ?? newId(options.clock.now());
    this.batchSize = positiveInteger('batchSize', options.batchSize ?? 500);
    this.concurrency = positiveInteger('concurrency', options.concurrency ?? 50);
    this.leaseMs = positiveInteger('leaseMs', options.leaseMs ?? 5 * 60_000);
    this.maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? 10);
    this.backoff = options.backoff ?? { baseMs: 30_000, maxMs: 60 * 60_000 };
    if (!(this.backoff.baseMs >= 0 && this.backoff.maxMs >= this.backoff.baseMs)) {
      throw new RangeError('backoff needs 0 <= baseMs <= maxMs');
    }
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.random = options.random ?? Math.random;
    const maxPerSecond = options.maxPerSecond ?? Infinity;
    if (!(maxPerSecond > 0)) throw new RangeError('maxPerSecond must be positive');
    this.sendIntervalMs = 1000 / maxPerSecond;
  }

  /** Claims one batch of due messages and sends them; resolves when every claimed row is settled. */
  async drainOnce(): Promise<DrainResult> {
    return (await this.drainSerially(false)).result;
  }

  /** Drains in a loop until `stop()`: at once again after a full batch, else after the poll interval or a `wake()`. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Ends the current wait, so mail enqueued just now goes out without waiting for the poll. */
  wake(): void {
    if (this.wakeSleeper) this.wakeSleeper();
    else this.wakeRequested = true;
  }

  /**
   * Stops claiming, lets the sends in flight finish and records them, and
   * hands back the claimed rows not yet started so another sender can take
   * them at once.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeSleeper?.();
    await this.loop;
    await this.drainChain;
    this.loop = undefined;
  }

  /** Totals since this sender was created. */
  stats(): OutboxSenderStats {
    return { ...this.totals, inFlight: this.inFlight, running: this.loop !== undefined && !this.stopping };
  }

  private drainSerially(continuous: boolean): Promise<{ result: DrainResult; claimed: number }> {
    const drain = this.drainChain.then(() => this.drain(continuous));
    this.drainChain = drain.catch(() => undefined);
    return drain;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let claimed = 0;
      try {
        claimed = (await this.drainSerially(true)).claimed;
      } catch (error) {
        this.logger.error('outbox drain failed', { workerId: this.workerId, ...errorKind(error) });
      }
      if (this.stopping) break;
      // A full batch suggests more rows are due: keep going rather than wait.
      if (claimed >= this.batchSize) continue;
      await this.idle();
    }
  }

  private idle(): Promise<void> {
    if (this.wakeRequested) {
      // A wake() that came during the drain may be for a row the claim missed.
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      this.wakeSleeper = done;
    });
  }

  /**
   * Claims a batch and sends it. When `continuous` (the start() loop), the
   * next batch is claimed while the last `concurrency` rows of this one are
   * still to start, and the same workers go on with it: waiting for a batch
   * to settle before claiming the next left the pool short of work for the
   * batch's slowest sends, its last commit and the claim. `claimed` is then
   * the size of the last claim, so a full one still means "more are due".
   */
  private async drain(continuous: boolean): Promise<{ result: DrainResult; claimed: number }> {
    const result: DrainResult = { sent: 0, failed: 0, retried: 0 };
    if (this.stopping) return { result, claimed: 0 };
    let rows = await this.claim(this.clock.now());
    if (rows.length === 0) return { result, claimed: 0 };

    let total = rows.length;
    let lastClaim = rows.length;
    let next = 0;
    let prefetch: Promise<void> | undefined;
    const refill = () => {
      if (!continuous || prefetch || this.stopping || lastClaim < this.batchSize || rows.length - next > this.concurrency) return;
      prefetch = this.claim(this.clock.now()).then(
        (claimed) => {
          // Rows already started are dropped, so a long run does not keep every row it sent.
          rows = rows.slice(next).concat(claimed);
          next = 0;
          total += claimed.length;
          lastClaim = claimed.length;
          prefetch = undefined;
        },
        (error: unknown) => {
          this.logger.error('outbox drain failed', { workerId: this.workerId, ...errorKind(error) });
          lastClaim = 0;
          prefetch = undefined;
        },
      );
    };
    const work = async () => {
      for (;;) {
        refill();
        if (next < rows.length && !this.stopping) {
          const outcome = await this.deliver(rows[next++]!);
          if (outcome !== 'skipped') {
            result[outcome]++;
            this.totals[outcome]++;
          }
        } else if (prefetch && !this.stopping) {
          await prefetch;
        } else {
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: continuous ? this.concurrency : Math.min(this.concurrency, rows.length) }, work));
    // A claim still running when stop() came: its rows are handed back below with the rest.
    while (prefetch) await prefetch;
    if (next < rows.length) await this.release(rows.slice(next));

    this.logger.debug('outbox drained', { workerId: this.workerId, claimed: total, ...result });
    return { result, claimed: lastClaim };
  }

  private async claim(now: number): Promise<ClaimedRow[]> {
    // One statement: SQLite runs the pick and the lease as a single write,
    // so two senders can never both lease a row. The outer WHERE is only the
    // id list, so the update looks rows up by primary key instead of walking
    // every due row again.
    // writeReturning keeps the event loop serving the sends in flight while the claim waits for the write lock.
    const rows = await this.database.writeReturning({ sql: claimSql, params: [this.workerId, now + this.leaseMs, now, now, this.batchSize] });
    return rows.map(claimedRow);
  }

  /** Sends one claimed row and records the outcome; never throws, so one bad row cannot stall the batch. */
  private async deliver(row: ClaimedRow): Promise<Outcome> {
    try {
      const window = windowOf(row.message);
      if (window) {
        // A row due inside the window may be claimed just after it closed (or released there by a resume): it waits for the next opening.
        const now = this.clock.now();
        const opening = nextWindowOpening(now, window, window.timeZone);
        if (opening > now) {
          await this.defer(row, opening);
          return 'skipped';
        }
      }
      await this.throttle();
      if (row.lockedUntil === null || this.clock.now() >= row.lockedUntil) {
        // The lease ran out while the row waited its turn: another sender may own it now.
        await this.release([row]);
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
      this.inFlight++;
      try {
        await this.transport.send({ ...message, from: this.from, messageId: row.messageId });
      } catch (error) {
        failure =
          error instanceof MailSendError
            ? error
            : new MailSendError(`Unexpected ${errorKind(error).error} from the transport`, { permanent: false, cause: error });
      } finally {
        this.inFlight--;
      }
      if (failure) return await this.recordFailure(row, failure);
      await this.recordSuccess(row);
      return 'sent';
    } catch (error) {
      // Most likely the database refused the write. The lease keeps the row
      // until it expires; it is then sent again, since we cannot know more.
      this.logger.error('outbox row not recorded', { workerId: this.workerId, outboxId: row.id, ...errorKind(error) });
      return 'skipped';
    }
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
        setImmediate(() => {
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

  private held(row: ClaimedRow) {
    return and(eq(outbox.id, row.id), eq(outbox.lockedBy, this.workerId), eq(outbox.status, 'pending'));
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
   * that finish while a write commits go into the next one.
   */
  private async flushSent(): Promise<void> {
    while (this.sentQueue.length > 0) {
      const group = this.sentQueue.splice(0, maxRowsPerWrite);
      const ids = JSON.stringify(group.map((entry) => entry.id));
      try {
        // The body is erased: it holds personal data and a live confirmation token.
        await this.database.atomic([this.database.statement({ sql: markSentSql, params: [this.clock.now(), ids, this.workerId] })]);
        for (const entry of group) entry.resolve();
      } catch (error) {
        for (const entry of group) entry.reject(error);
      }
    }
    this.sentFlush = undefined;
  }

  private async recordFailure(row: ClaimedRow, failure: MailSendError): Promise<'failed' | 'retried'> {
    const { db } = this.database;
    const attempts = row.attempts + 1;
    const giveUp = failure.permanent || attempts >= this.maxAttempts;
    const now = this.clock.now();
    await this.database.atomic([
      db
        .update(outbox)
        .set({
          status: giveUp ? 'failed' : 'pending',
          attempts: sql`${outbox.attempts} + 1`,
          lastError: maskAddressesIn(failure.message).slice(0, maxErrorLength),
          nextAttemptAt: giveUp ? row.nextAttemptAt : this.retryAt(row, now + this.backoffDelay(attempts)),
          lockedBy: null,
          lockedUntil: null,
        })
        .where(this.held(row)),
    ]);
    this.logger.warn(giveUp ? 'outbox message failed' : 'outbox message deferred', {
      workerId: this.workerId,
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

  /** Hands a claimed row back, due at `at`, without counting an attempt. */
  private defer(row: ClaimedRow, at: number): Promise<void> {
    return this.database.atomic([
      this.database.db.update(outbox).set({ nextAttemptAt: at, lockedBy: null, lockedUntil: null }).where(this.held(row)),
    ]);
  }

  private release(rows: ClaimedRow[]): Promise<void> {
    const ids = JSON.stringify(rows.map((row) => row.id));
    return this.database.atomic([this.database.statement({ sql: releaseSql, params: [ids, this.workerId] })]);
  }

}
