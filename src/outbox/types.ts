import type { WriteStatement } from '../db/database.js';
import type { StoredOutboxMessage } from '../db/schema.js';

export const outboxStatuses = ['pending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

/** What a message is, which decides how it is composed and whose address it carries. */
export type OutboxKind = 'confirmation' | 'privacy' | 'update' | 'letter-delivery' | 'account' | 'webhook';

/** One message to queue (see `OutboxStore.enqueue`). */
export type NewOutboxMessage = {
  id: string;
  kind: OutboxKind;
  recipient: string;
  /** The Message-ID it goes out with (src/mail/messages.ts `newMessageId`), so bounces find it again. */
  messageId: string;
  message: StoredOutboxMessage;
  /** When it may first be sent (a paced mailing's rows are due one after another). */
  dueAt: number;
  createdAt: number;
  /** With `recipientKey`: unique per mailing, so a mailing queued again adds nobody twice. */
  mailingId?: string;
  recipientKey?: string;
  /** A signing or privacy link: the confirmation lane's terms (src/outbox/confirmation-lane.ts). */
  lane?: ConfirmationLaneTerms;
};

/**
 * The confirmation lane's source for reminders (src/services/reminders.ts):
 * they take turns as one source, so however many are due they delay a
 * supporter's own link by one turn at most. No keyed IP hash looks like it.
 */
export const REMINDER_SOURCE = 'reminder';

/** How the confirmation lane paces a link. */
export type ConfirmationLaneTerms = {
  /** Who asked: the keyed hash of the requester's IPv4 address or IPv6 /64, '-' without one (served round-robin by it). */
  source: string;
  /** The normalised address (the per-address window). */
  address: string;
  /** What the link confirms: a campaign id, or `privacy:<kind>` (a newer request supersedes an unsent older one). */
  topic: string;
  /** When the link expires: not sent after. */
  expiresAt: number;
};

/**
 * The business write a message goes with: the INSERT applies only if it did,
 * so the caller can put both in one atomic unit without reading in between.
 */
export type EnqueueGuard =
  /** A signing request was held (its nonce is the submission id). */
  | { kind: 'submission'; id: string }
  /** This runner's claim of a signing request's one reminder was the one recorded (src/services/reminders.ts). */
  | { kind: 'reminder'; submissionId: string; reminderId: string }
  /** A supporter's privacy request was held. */
  | { kind: 'privacy-request'; id: string }
  /** The letter delivery was inserted (not a repeat of an idempotency key). */
  | { kind: 'delivery'; id: string }
  /** The mailing is still running under this owner's lease (a runner that lost it adds nothing). */
  | { kind: 'mailing-lease'; mailingId: string; owner: string }
  /** The signing request is still unused: the statements confirming it follow in the same unit (a repeated confirm adds nothing). */
  | { kind: 'unused-submission'; id: string }
  /** The mailing finished at this instant (the runner's write that finished it went first in the unit). */
  | { kind: 'mailing-finished'; mailingId: string; at: number }
  /** The webhook was just disabled by this many failures in a row (so only the attempt that disabled it tells the owner). */
  | { kind: 'webhook-disabled'; webhookId: string; failures: number };

/** What a sender needs of a claimed row. */
export type ClaimedRow = {
  id: string;
  recipient: string;
  messageId: string;
  message: StoredOutboxMessage | null;
  attempts: number;
  nextAttemptAt: number;
  /** The end of this claim's lease: nothing may be sent for the row after it. */
  lockedUntil: number | null;
};

/** How one attempt at a webhook event went: delivered, or failed (retried with backoff unless permanent). */
export type WebhookOutcome = { delivered: true } | { delivered: false; error: string; permanent: boolean };

/**
 * Sends the outbox's webhook rows (`{ compose: 'webhook' }`; src/services/webhook-sender.ts):
 * one attempt, logged, resolving how it went; the outbox then marks the row
 * as for any message (sent, retried later, or failed).
 */
export interface WebhookDelivery {
  deliver(row: ClaimedRow): Promise<WebhookOutcome>;
}

/** A mailing's outbox rows by status (one row per recipient). */
export type MailingProgress = { total: number; sent: number; failed: number; pending: number };

/** Where queueing a mailing stands: rows queued so far and the highest recipient key among them. */
export type MailingCursor = { queued: number; lastKey: string | null };

/**
 * The outbox's delivery verbs, and only those: enqueue, claim, settle
 * (markSent, markFailed, retryLater, defer, releaseLeases, failLeased), a
 * mailing's hold, release, cancel and progress, an organiser's retry, and
 * withdrawing reminders and a withdrawn letter's emails. The protocol they
 * follow (states, leases, who may change what) is the comment at the top of
 * src/outbox/outbox-store.ts.
 * Methods that return statements join the caller's atomic unit and take the
 * caller's `now`; the others are one write or read each, run at once, on the
 * store's clock.
 *
 * Queries that serve another purpose take the `Database` and live beside it:
 * erasure in src/outbox/outbox-erasure.ts, retention in
 * src/outbox/outbox-retention.ts, reads by address and by Message-ID (export,
 * erasure, bounces) in src/outbox/outbox-lookups.ts, and the `/metrics`
 * figures in src/outbox/outbox-figures.ts.
 */
export interface OutboxStore {
  /** Statements inserting pending messages, applied only if `onlyIf` holds when they run. */
  enqueue(messages: readonly NewOutboxMessage[], onlyIf?: EnqueueGuard): WriteStatement[];
  /** Holds a paused mailing's pending messages (no claim picks them until released). */
  holdMailing(mailingId: string, now: number): WriteStatement;
  /** Releases a resumed mailing's held messages, each due after the delay it had left. */
  releaseMailing(mailingId: string, now: number): WriteStatement;
  /** Fails a cancelled mailing's pending messages not being sent right now. */
  cancelMailing(mailingId: string, now: number): WriteStatement;
  /** Sets a mailing's `sent` and `failed` from its messages, when they changed. */
  syncMailingProgress(mailingId: string, now: number): WriteStatement;
  /** failed → pending with a fresh round of attempts (held if its mailing is paused), and its letter delivery queued again. */
  retryFailed(id: string, now: number, options: { held: boolean }): WriteStatement[];
  /** Fails the reminders to `address` for a campaign not being sent right now ('withdrawn'): the request they remind of is settled. */
  withdrawReminders(campaignId: string, address: string, now: number): WriteStatement;
  /** Fails with `error` the emails of a withdrawn letter's deliveries not being sent right now. */
  withdrawLetterEmails(letterId: string, error: string, now: number): WriteStatement;

  /** Leases up to `limit` due messages: the confirmation lane's under its rules, then the others, oldest due first. */
  claim(owner: string, options: { limit: number; leaseMs: number }): Promise<ClaimedRow[]>;
  /**
   * Leases the messages named that are pending, due, and not under another
   * owner's live lease, except the `dispatcher`'s (a dispatched message waits
   * for the consumer of its queue message).
   */
  claimByIds(owner: string, ids: readonly string[], options: { leaseMs: number; dispatcher?: string }): Promise<ClaimedRow[]>;
  /** Leases due messages for publishing (as `claim` picks them), so each is published once per lease; resolves their ids. */
  dispatchDue(owner: string, limit: number, leaseMs: number): Promise<string[]>;
  /** Sent: body erased, lease ended. Only rows `owner` still holds change. */
  markSent(owner: string, ids: readonly string[]): Promise<void>;
  /** Given up on with `error`. */
  markFailed(owner: string, id: string, error: string): Promise<void>;
  /** Pending again with `error`, due at `at`, one attempt counted. */
  retryLater(owner: string, id: string, error: string, at: number): Promise<void>;
  /** Handed back due at `at`, no attempt counted (a sending window not open). */
  defer(owner: string, id: string, at: number): Promise<void>;
  /** Handed back as they were, for any owner to claim at once. */
  releaseLeases(owner: string, ids: readonly string[]): Promise<void>;
  /**
   * Gives up on the rows named that `owner` still holds, live lease or not
   * (the dispatcher's rows whose queue message was dead-lettered: no consumer
   * took them over); resolves how many.
   */
  failLeased(owner: string, ids: readonly string[], error: string): Promise<number>;

  /** Holds again what a retry put back in a paused mailing, fails what came back pending in one cancelled since `cancelledSince`, and brings both's figures up to date. */
  sweepMailings(cancelledSince: number): Promise<void>;
  /** A mailing's messages counted by status. */
  mailingProgress(mailingId: string): Promise<MailingProgress>;
  /** Where queueing a mailing stands, so a runner that took it over carries on after the last recipient queued. */
  mailingCursor(mailingId: string): Promise<MailingCursor>;
  /** The mailings still running whose rows are among `ids` (so a Workers consumer can have their progress settled at once). */
  runningMailingsOf(ids: readonly string[]): Promise<string[]>;
}
