/**
 * The outbox protocol: the one place that leases outbox rows and changes
 * their status. Services, the mailing runner, the sender, the dispatcher and
 * the queue consumer go through `OutboxStore`, which holds the delivery verbs
 * only; no module outside src/outbox writes SQL that changes an outbox row's
 * status or lease, and inside it only this store and erasure (which fails a
 * pending row it strips, below). Queries for other purposes live beside the
 * store, each a function of the `Database`: erasure (outbox-erasure.ts),
 * retention (outbox-retention.ts), reads by address and by Message-ID
 * (outbox-lookups.ts), the `/metrics` figures (outbox-figures.ts).
 *
 * States
 *   pending ─claim─▶ pending + lease ─markSent─────▶ sent      (final; body erased)
 *                                    ─markFailed───▶ failed    (an organiser may retry it)
 *                                    ─retryLater───▶ pending, due later, one attempt counted
 *                                    ─defer────────▶ pending, due later, no attempt counted
 *                                    ─releaseLeases▶ pending, as it was
 *   A pending row is due when `next_attempt_at <= now`. A paused mailing's
 *   rows are held: `next_attempt_at` moved to HELD_FROM + the delay they had
 *   left, beyond any real time, so no claim sees them as due; release moves
 *   them back to now + that delay, so a paced mailing carries on at its pace
 *   rather than in one burst. Both are idempotent: only unheld rows are held
 *   and only held rows released.
 *
 * Leases
 *   `locked_by` (an owner: a sender, the dispatcher, a queue consumer; unique
 *   per process or invocation) and `locked_until`. A lease is live while
 *   `locked_until >= now`; a dead one (its owner crashed, or its queue
 *   message never came) is anyone's to take. Claims are one
 *   UPDATE … RETURNING each, so two owners can never both lease a row, and
 *   every write after the claim is conditional on still holding the lease
 *   and the row still pending, so an owner whose lease was taken over
 *   changes nothing. A lease must outlast the longest send, or a message may
 *   be sent twice; a crash sends at most the messages in flight twice.
 *
 * Who may change what
 *   - enqueue: a service or the runner, in the same atomic unit as the
 *     business write it follows from, guarded by it (EnqueueGuard), so mail
 *     goes out if and only if that write committed (a transactional outbox).
 *     A mailing's rows are unique per (mailing_id, recipient_key).
 *   - claim, claimByIds, dispatchDue: whoever sends or publishes. claim and
 *     dispatchDue share each claim among the lanes (below).
 *     dispatchDue leases due rows for the dispatcher, which publishes their
 *     ids as queue messages: a row is published once per lease, and when the
 *     lease runs out unconsumed a sweep dispatches it again. claimByIds (the
 *     consumer) takes rows the dispatcher holds, or whose lease is dead;
 *     never a row sent, failed, held, not due, or under another live lease.
 *   - markSent, markFailed, retryLater, defer, releaseLeases: the lease
 *     holder only. failLeased: the dispatcher, for the rows of a queue
 *     message that was dead-lettered and that no consumer took over.
 *   - holdMailing, releaseMailing, cancelMailing: pause, resume and cancel,
 *     guarded by the mailing's new status. Hold ignores leases (a send in
 *     flight finishes; a row it puts back for a retry is held again by
 *     sweepMailings); cancel leaves rows under a live lease to finish.
 *   - retryFailed: an organiser, failed → pending with attempts from 0.
 *   - withdrawReminders: a confirmation, in its atomic unit; a reminder not
 *     being sent right now fails ('withdrawn').
 *   - withdrawLetterEmails: the letter redaction (src/services/letter-redaction.ts),
 *     for a letter withdrawn after an erasure; its emails not being sent
 *     right now fail.
 *   - eraseOutboxMessages and eraseCampaignUpdateEmails (erasure,
 *     outbox-erasure.ts): personal data out; a pending row erased fails.
 *     eraseSentBodies and eraseFinishedAddresses (retention,
 *     outbox-retention.ts): personal data out of finished rows only.
 *
 * Lanes (src/outbox/lanes.ts)
 *   Due mail waits in lanes: confirmations (signing and privacy links, rows
 *   with lane terms), mailings (update mailings' rows), letters (letters to
 *   targets by email: letters mailings and deliveries), account (sign-in and
 *   account emails), webhooks (signed POSTs to organisers' tools,
 *   src/services/webhook-sender.ts). Every claim, the Node
 *   sender's and the Workers dispatcher's alike, is shared among the lanes
 *   with work waiting, each its weight's share (equal weights: a round-robin
 *   in shares), and a lane's unused share passes to the others (it has fewer
 *   rows due than its share, or its own rules hold them back), so a full
 *   claim is taken whenever enough is due and a backlog in one lane delays
 *   another by at most its share of each claim, never by the backlog.
 *   The confirmation lane keeps its own rules inside its share (global rate,
 *   per-address window, fair by source: src/outbox/confirmation-lane.ts); it
 *   is claimed first and what it leaves goes to the others. Within a lane,
 *   oldest due first. A claim's rows alternate lanes, so a sender working
 *   through it serves every lane from its start. A claim costs a count of
 *   each lane's waiting rows up to the claim's size and two writes (the
 *   confirmation lane's, then every other lane's in one statement), each
 *   through an index of its lane: never a walk of another lane's backlog.
 *
 * Every statement runs on better-sqlite3 and on D1: id lists are one JSON
 * parameter read with json_each, never one parameter per id (D1 binds at
 * most 100).
 */
import { and, count, eq, gt, or, sql, type SQL } from 'drizzle-orm';
import type { Database, WriteStatement } from '../db/database.js';
import { deliveries, mailings, outbox, type StoredOutboxMessage } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { claimConfirmationLane, type ConfirmationLaneLimits } from './confirmation-lane.js';
import { interleave, KIND_LANES, kindLanesClaimParams, kindLanesClaimSql, LANE_WEIGHTS, laneOfKind, shareClaim, waitingQuery } from './lanes.js';
import {
  REMINDER_SOURCE,
  type ClaimedRow,
  type EnqueueGuard,
  type MailingCursor,
  type MailingProgress,
  type NewOutboxMessage,
  type OutboxStore,
} from './types.js';

/** Where held rows start (see the protocol above): far beyond any real time, reversible without another column. */
export const HELD_FROM = 1e15;

/** Whether a pending row's due time means it is held (its mailing paused). */
export function isHeld(nextAttemptAt: number): boolean {
  return nextAttemptAt >= HELD_FROM;
}

/**
 * An email's progress as a reader sees it, from its outbox row (for a join on
 * `outbox`): a pending row under a live lease is being sent.
 */
export function sendingPhase(now: number): SQL<'queued' | 'sending' | 'sent' | 'failed'> {
  return sql`CASE WHEN ${outbox.status} = 'sent' THEN 'sent'
    WHEN ${outbox.status} = 'failed' THEN 'failed'
    WHEN ${outbox.lockedUntil} > ${now} THEN 'sending'
    ELSE 'queued' END`;
}

const INSERT_COLUMNS = `"id", "kind", "recipient", "message_id", "message", "status", "attempts", "next_attempt_at", "created_at", "mailing_id", "recipient_key",
  "lane_source", "lane_address", "lane_topic", "expires_at", "lane_turn"`;
const INSERT_VALUES = `?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, ?, ?`;
/**
 * A confirmation-lane row's turn (src/outbox/confirmation-lane.ts): two index
 * lookups, the second through the index it names (without statistics SQLite
 * would walk every pending row through outbox_due_idx). Parameter: its source.
 */
const LANE_TURN = `max((SELECT coalesce(max("lane_turn") + 1, 0) FROM "outbox" WHERE "lane_source" = ? AND "status" = 'pending' AND "lane_turn" IS NOT NULL),
    (SELECT coalesce(min("lane_turn"), 0) FROM "outbox" INDEXED BY "outbox_lane_turn_idx" WHERE "status" = 'pending' AND "lane_turn" IS NOT NULL))`;

/** The condition of each guard, and its parameters. */
const guards: { [K in EnqueueGuard['kind']]: { sql: string; params: (guard: Extract<EnqueueGuard, { kind: K }>) => string[] } } = {
  submission: { sql: `EXISTS (SELECT 1 FROM "signature_submissions" WHERE "id" = ?)`, params: (guard) => [guard.id] },
  reminder: { sql: `EXISTS (SELECT 1 FROM "signature_submissions" WHERE "id" = ? AND "reminder_id" = ?)`, params: (guard) => [guard.submissionId, guard.reminderId] },
  'privacy-request': { sql: `EXISTS (SELECT 1 FROM "privacy_requests" WHERE "id" = ?)`, params: (guard) => [guard.id] },
  delivery: { sql: `EXISTS (SELECT 1 FROM "deliveries" WHERE "id" = ?)`, params: (guard) => [guard.id] },
  'mailing-lease': {
    sql: `EXISTS (SELECT 1 FROM "mailings" WHERE "id" = ? AND "status" = 'running' AND "locked_by" = ?)`,
    params: (guard) => [guard.mailingId, guard.owner],
  },
  'unused-submission': { sql: `EXISTS (SELECT 1 FROM "signature_submissions" WHERE "id" = ? AND "confirmed_at" IS NULL)`, params: (guard) => [guard.id] },
  'mailing-finished': {
    sql: `EXISTS (SELECT 1 FROM "mailings" WHERE "id" = ? AND "status" = 'finished' AND "finished_at" = CAST(? AS INTEGER))`,
    params: (guard) => [guard.mailingId, String(guard.at)],
  },
  'webhook-disabled': {
    sql: `EXISTS (SELECT 1 FROM "webhooks" WHERE "id" = ? AND "disabled_at" IS NOT NULL AND "consecutive_failures" = CAST(? AS INTEGER))`,
    params: (guard) => [guard.webhookId, String(guard.failures)],
  },
};

function guardParams(guard: EnqueueGuard): string[] {
  return (guards[guard.kind].params as (guard: EnqueueGuard) => string[])(guard);
}

/** The INSERT for each guard, whether the row belongs to a mailing and whether to the confirmation lane, built once (enqueue is on the signing hot path). */
const insertSqlCache = new Map<string, string>();
function insertSql(guard: EnqueueGuard['kind'] | undefined, inMailing: boolean, inLane: boolean): string {
  const key = `${guard ?? ''}:${inMailing}:${inLane}`;
  let text = insertSqlCache.get(key);
  if (text === undefined) {
    // A mailing queued again adds nobody twice; elsewhere a conflict is a bug and must fail the unit.
    const onConflict = inMailing ? ` ON CONFLICT ("mailing_id", "recipient_key") DO NOTHING` : '';
    const values = `${INSERT_VALUES}, ${inLane ? LANE_TURN : 'NULL'}`;
    text =
      guard === undefined
        ? `INSERT INTO "outbox" (${INSERT_COLUMNS}) VALUES (${values})${onConflict}`
        : `INSERT INTO "outbox" (${INSERT_COLUMNS}) SELECT ${values} WHERE ${guards[guard].sql}${onConflict}`;
    insertSqlCache.set(key, text);
  }
  return text;
}

const RETURNED_COLUMNS = `"id", "recipient", "message_id", "message", "attempts", "next_attempt_at", "locked_until"`;

/**
 * The claim of rows by id: parameters are the owner, lease end, the ids as
 * one JSON array, now, now, the dispatcher (or null). The unary `+` keeps
 * SQLite on the primary key (see markSentSql); a held row is never due.
 */
const claimByIdsSql = `UPDATE "outbox" SET "locked_by" = ?, "locked_until" = ?
  WHERE "id" IN (SELECT value FROM json_each(?)) AND +"status" = 'pending' AND +"next_attempt_at" <= ?
    AND ("locked_until" IS NULL OR "locked_until" < ? OR "locked_by" = ?)
  RETURNING ${RETURNED_COLUMNS}`;

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

/** Hands claimed rows back (by primary key, as above); a lane row handed back unsent no longer counts against its limits. */
const releaseSql = `UPDATE "outbox" SET "locked_by" = NULL, "locked_until" = NULL, "claimed_at" = NULL
  WHERE "id" IN (SELECT value FROM json_each(?)) AND +"locked_by" = ? AND +"status" = 'pending'`;

/** Gives up on rows an owner still holds: parameters are the error, the ids as one JSON array, the owner. */
const failLeasedSql = `UPDATE "outbox" SET "status" = 'failed', "last_error" = ?, "locked_by" = NULL, "locked_until" = NULL
  WHERE "id" IN (SELECT value FROM json_each(?)) AND +"locked_by" = ? AND +"status" = 'pending'
  RETURNING "id"`;

/** The writes of one lease holder on one row; parameters end with the id and the owner. */
const markFailedSql = `UPDATE "outbox" SET "status" = 'failed', "attempts" = "attempts" + 1, "last_error" = ?, "locked_by" = NULL, "locked_until" = NULL
  WHERE "id" = ? AND +"locked_by" = ? AND +"status" = 'pending'`;
const retryLaterSql = `UPDATE "outbox" SET "attempts" = "attempts" + 1, "last_error" = ?, "next_attempt_at" = ?, "locked_by" = NULL, "locked_until" = NULL
  WHERE "id" = ? AND +"locked_by" = ? AND +"status" = 'pending'`;
const deferSql = `UPDATE "outbox" SET "next_attempt_at" = ?, "locked_by" = NULL, "locked_until" = NULL
  WHERE "id" = ? AND +"locked_by" = ? AND +"status" = 'pending'`;

function claimedRow(values: unknown[]): ClaimedRow {
  const [id, recipient, messageId, message, attempts, nextAttemptAt, lockedUntil] = values as [string, string, string, string | null, number, number, number | null];
  return { id, recipient, messageId, message: message === null ? null : (JSON.parse(message) as StoredOutboxMessage), attempts, nextAttemptAt, lockedUntil };
}

/** The outbox on the `Database` port: SQLite on Node, D1 on Workers. */
class SqlOutboxStore implements OutboxStore {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly lane: ConfirmationLaneLimits | undefined,
    private readonly logger: Logger | undefined,
  ) {}

  enqueue(messages: readonly NewOutboxMessage[], onlyIf?: EnqueueGuard): WriteStatement[] {
    const extra = onlyIf ? guardParams(onlyIf) : [];
    return messages.map((message) => {
      const inMailing = message.mailingId !== undefined;
      return this.database.statement({
        sql: insertSql(onlyIf?.kind, inMailing, message.lane !== undefined),
        params: [
          message.id,
          message.kind,
          message.recipient,
          message.messageId,
          JSON.stringify(message.message),
          message.dueAt,
          message.createdAt,
          message.mailingId ?? null,
          message.recipientKey ?? null,
          message.lane?.source ?? null,
          message.lane?.address ?? null,
          message.lane?.topic ?? null,
          message.lane?.expiresAt ?? null,
          ...(message.lane ? [message.lane.source] : []),
          ...extra,
        ],
      });
    });
  }

  holdMailing(mailingId: string, now: number): WriteStatement {
    return this.database.statement(sql`UPDATE ${outbox} SET "next_attempt_at" = ${HELD_FROM} + max(0, "next_attempt_at" - ${now})
      WHERE "mailing_id" = ${mailingId} AND "status" = 'pending' AND "next_attempt_at" < ${HELD_FROM}
        AND EXISTS (SELECT 1 FROM ${mailings} WHERE "id" = ${mailingId} AND "status" = 'paused')`);
  }

  releaseMailing(mailingId: string, now: number): WriteStatement {
    return this.database.statement(sql`UPDATE ${outbox} SET "next_attempt_at" = ${now} + ("next_attempt_at" - ${HELD_FROM})
      WHERE "mailing_id" = ${mailingId} AND "status" = 'pending' AND "next_attempt_at" >= ${HELD_FROM}
        AND EXISTS (SELECT 1 FROM ${mailings} WHERE "id" = ${mailingId} AND "status" IN ('running', 'scheduled'))`);
  }

  /**
   * Fails with last_error 'cancelled'. A row under a live lease is being
   * sent right now: it is left to finish (sent, or back to pending and failed
   * by the next sweepMailings).
   */
  cancelMailing(mailingId: string, now: number): WriteStatement {
    return this.database.statement(sql`UPDATE ${outbox} SET "status" = 'failed', "last_error" = 'cancelled', "locked_by" = NULL, "locked_until" = NULL
      WHERE "mailing_id" = ${mailingId} AND "status" = 'pending' AND ("locked_until" IS NULL OR "locked_until" < ${now})
        AND EXISTS (SELECT 1 FROM ${mailings} WHERE "id" = ${mailingId} AND "status" = 'cancelled')`);
  }

  /**
   * One row per recipient, so nobody is counted twice; only for mailings
   * that send email and have queued some, and only writes when a figure changed.
   */
  syncMailingProgress(mailingId: string, now: number): WriteStatement {
    const sent = sql`(SELECT count(*) FROM ${outbox} WHERE "mailing_id" = ${mailingId} AND "status" = 'sent')`;
    const failed = sql`(SELECT count(*) FROM ${outbox} WHERE "mailing_id" = ${mailingId} AND "status" = 'failed')`;
    return this.database.statement(sql`UPDATE ${mailings} SET "sent" = ${sent}, "failed" = ${failed}, "updated_at" = ${now}
      WHERE "id" = ${mailingId} AND ("kind" = 'update' OR "channel" = 'email') AND ("sent" <> ${sent} OR "failed" <> ${failed})
        AND EXISTS (SELECT 1 FROM ${outbox} WHERE "mailing_id" = ${mailingId})`);
  }

  /** An email delivery's state is its outbox row's, so the delivery goes back to queued with it (a bounce mark cleared). */
  retryFailed(id: string, now: number, options: { held: boolean }): WriteStatement[] {
    const { db } = this.database;
    return [
      db
        .update(outbox)
        .set({ status: 'pending', attempts: 0, nextAttemptAt: options.held ? HELD_FROM : now, lastError: null, lockedBy: null, lockedUntil: null })
        .where(and(eq(outbox.id, id), eq(outbox.status, 'failed'))),
      db
        .update(deliveries)
        .set({ status: 'queued', lastError: null, updatedAt: now })
        .where(and(eq(deliveries.outboxId, id), eq(deliveries.channel, 'email'), sql`exists (select 1 from ${outbox} where ${outbox.id} = ${id} and ${outbox.status} = 'pending')`)),
    ];
  }

  /** Through outbox_lane_address_idx: an address has a handful of lane rows. */
  withdrawReminders(campaignId: string, address: string, now: number): WriteStatement {
    return this.database.statement({
      sql: `UPDATE "outbox" SET "status" = 'failed', "last_error" = 'withdrawn', "locked_by" = NULL, "locked_until" = NULL
        WHERE "lane_address" = ? AND "lane_topic" = ? AND "lane_source" = '${REMINDER_SOURCE}' AND "status" = 'pending' AND ("locked_until" IS NULL OR "locked_until" < ?)`,
      params: [address, campaignId, now],
    });
  }

  /** An email being sent right now is left to its sender (its attachment is read as it goes). */
  withdrawLetterEmails(letterId: string, error: string, now: number): WriteStatement {
    return this.database.statement({
      sql: `UPDATE "outbox" SET "status" = 'failed', "last_error" = ?, "locked_by" = NULL, "locked_until" = NULL
WHERE "id" IN (SELECT "outbox_id" FROM "deliveries" WHERE "letter_id" = ? AND "channel" = 'email' AND "outbox_id" IS NOT NULL)
  AND "status" = 'pending' AND ("locked_until" IS NULL OR "locked_until" < ?)`,
      params: [error, letterId, now],
    });
  }

  async claim(owner: string, options: { limit: number; leaseMs: number }): Promise<ClaimedRow[]> {
    return (await this.claimShared(owner, options.limit, options.leaseMs, RETURNED_COLUMNS, true)).map(claimedRow);
  }

  async claimByIds(owner: string, ids: readonly string[], options: { leaseMs: number; dispatcher?: string }): Promise<ClaimedRow[]> {
    if (ids.length === 0) return [];
    const now = this.clock.now();
    const rows = await this.database.writeReturning({
      sql: claimByIdsSql,
      params: [owner, now + options.leaseMs, JSON.stringify(ids), now, now, options.dispatcher ?? null],
    });
    return rows.map(claimedRow);
  }

  async dispatchDue(owner: string, limit: number, leaseMs: number): Promise<string[]> {
    return (await this.claimShared(owner, limit, leaseMs, `"id"`, false)).map((row) => row[0] as string);
  }

  /**
   * The one claim of the Node sender and the Workers dispatcher (see "Lanes"
   * above): the kind lanes' waiting rows are counted up to `limit`, the
   * confirmation lane takes its share under its own rules, and what it
   * leaves is shared among the kind lanes, leased in one statement.
   * `paced`: for a sender that polls (see the confirmation lane's pace); the
   * dispatcher runs on requests and once a minute. writeReturning keeps a
   * sender's event loop serving the sends in flight while a claim waits for
   * the write lock.
   */
  private async claimShared(owner: string, limit: number, leaseMs: number, returning: string, paced: boolean): Promise<unknown[][]> {
    const now = this.clock.now();
    const leaseEnd = now + leaseMs;
    const waiting = (await this.database.db.values<number[]>(waitingQuery(now, limit)))[0] ?? KIND_LANES.map(() => 0);
    const lanes = [{ weight: LANE_WEIGHTS.confirmations, waiting: limit }, ...KIND_LANES.map(({ name }, i) => ({ weight: LANE_WEIGHTS[name], waiting: Number(waiting[i] ?? 0) }))];
    // The confirmation lane's rules decide what it can take; counted as able to take it all, it gets its full share.
    const [confirmationShare = 0] = shareClaim(limit, lanes);
    const confirmations = confirmationShare > 0 ? await claimConfirmationLane(this.database, this.lane, this.logger, { owner, limit: confirmationShare, leaseEnd, now, returning, paced }) : [];
    const quotas = shareClaim(limit - confirmations.length, lanes.slice(1));
    if (quotas.every((quota) => quota === 0)) return confirmations;
    const rows = await this.database.writeReturning({
      sql: kindLanesClaimSql(returning),
      params: kindLanesClaimParams(owner, leaseEnd, now, quotas),
    });
    const byLane = KIND_LANES.map(({ name }) => rows.filter((row) => laneOfKind(row[0] as string) === name).map((row) => row.slice(1)));
    return interleave([confirmations, ...byLane]);
  }

  markSent(owner: string, ids: readonly string[]): Promise<void> {
    // The body is erased: it holds personal data and a live confirmation token.
    return this.database.atomic([this.database.statement({ sql: markSentSql, params: [this.clock.now(), JSON.stringify(ids), owner] })]);
  }

  markFailed(owner: string, id: string, error: string): Promise<void> {
    return this.database.atomic([this.database.statement({ sql: markFailedSql, params: [error, id, owner] })]);
  }

  retryLater(owner: string, id: string, error: string, at: number): Promise<void> {
    return this.database.atomic([this.database.statement({ sql: retryLaterSql, params: [error, at, id, owner] })]);
  }

  defer(owner: string, id: string, at: number): Promise<void> {
    return this.database.atomic([this.database.statement({ sql: deferSql, params: [at, id, owner] })]);
  }

  releaseLeases(owner: string, ids: readonly string[]): Promise<void> {
    return this.database.atomic([this.database.statement({ sql: releaseSql, params: [JSON.stringify(ids), owner] })]);
  }

  async failLeased(owner: string, ids: readonly string[], error: string): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.database.writeReturning({ sql: failLeasedSql, params: [error, JSON.stringify(ids), owner] })).length;
  }

  async sweepMailings(cancelledSince: number): Promise<void> {
    const now = this.clock.now();
    // Only mailings with work to do, so an idle sweep writes nothing: a pending row not yet held
    // (paused) or not yet failed (cancelled), or figures behind their outbox rows.
    const settledRows = sql`(select count(*) from ${outbox} where ${outbox.mailingId} = ${mailings.id} and ${outbox.status} in ('sent', 'failed'))`;
    const behind = sql`(${mailings.kind} = 'update' or ${mailings.channel} = 'email') and ${mailings.sent} + ${mailings.failed} <> ${settledRows}`;
    const rows = await this.database.db
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
            gt(mailings.finishedAt, cancelledSince),
            or(sql`exists (select 1 from ${outbox} where ${outbox.mailingId} = ${mailings.id} and ${outbox.status} = 'pending')`, behind),
          ),
        ),
      );
    if (rows.length === 0) return;
    await this.database.atomic(
      rows.flatMap((row) => [
        row.status === 'paused' ? this.holdMailing(row.id, now) : this.cancelMailing(row.id, now),
        this.syncMailingProgress(row.id, now),
      ]),
    );
  }

  async mailingProgress(mailingId: string): Promise<MailingProgress> {
    const [row] = await this.database.db
      .select({
        total: count(),
        sent: sql<number>`coalesce(sum(${outbox.status} = 'sent'), 0)`,
        failed: sql<number>`coalesce(sum(${outbox.status} = 'failed'), 0)`,
        pending: sql<number>`coalesce(sum(${outbox.status} = 'pending'), 0)`,
      })
      .from(outbox)
      .where(eq(outbox.mailingId, mailingId));
    return { total: row?.total ?? 0, sent: Number(row?.sent ?? 0), failed: Number(row?.failed ?? 0), pending: Number(row?.pending ?? 0) };
  }

  async mailingCursor(mailingId: string): Promise<MailingCursor> {
    const [row] = await this.database.db
      .select({ n: count(), last: sql<string | null>`max(${outbox.recipientKey})` })
      .from(outbox)
      .where(eq(outbox.mailingId, mailingId));
    return { queued: row?.n ?? 0, lastKey: row?.last ?? null };
  }

  async runningMailingsOf(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.database.db
      .selectDistinct({ mailingId: outbox.mailingId })
      .from(outbox)
      .innerJoin(mailings, eq(mailings.id, outbox.mailingId))
      .where(and(sql`${outbox.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`, eq(mailings.status, 'running')));
    return rows.map((row) => row.mailingId).filter((id): id is string => id !== null);
  }
}

/**
 * The outbox of a database; `deps` is any object with the database and the
 * clock (a ServiceContext is one). Claims follow the confirmation lane's
 * limits in `privacy` (the defaults without), and warn through `logger` of
 * what the lane deferred.
 */
export function outboxStore(deps: { db: Database; clock: Clock; logger?: Logger; privacy?: ConfirmationLaneLimits }): OutboxStore {
  return new SqlOutboxStore(deps.db, deps.clock, deps.privacy, deps.logger);
}
