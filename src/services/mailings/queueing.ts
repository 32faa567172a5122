import type { campaigns } from '../../db/schema.js';
import type { LetterPorts } from '../../letters/letter-ports.js';
import type { OutboxStore } from '../../outbox/types.js';
import type { ServiceContext } from '../context.js';
import type { MailingLeaseStore } from './lease-store.js';

/*
 * What the pass hands an audience (update-audience.ts, letter-audience.ts) to
 * queue a mailing's recipients with, what the audience hands back, and the
 * pacing both share.
 */

/** A campaign row as the pass reads it. */
export type CampaignRow = typeof campaigns.$inferSelect;

/** How far a mailing got in this pass: `complete` once every recipient is queued (or, dry run, counted). */
export type QueueOutcome = { complete: boolean; queued: number; total?: number; skipped?: number };

/** The pass's means and limits, as an audience queueing a mailing sees them. */
export type MailingQueueing = {
  readonly ctx: ServiceContext;
  /** Templates, renderer and file store, for `letters` mailings. */
  readonly letters: LetterPorts;
  readonly outbox: OutboxStore;
  /** Every queue write renews the mailing's lease and applies only while it is held. */
  readonly lease: MailingLeaseStore;
  /** Recipients queued per atomic write. */
  readonly batchSize: number;
  /** Whether to start no new queue write: stopped from outside, or the pass's budget spent. */
  stopped(): boolean;
  /** Whether the runner is stopping: all a dry run heeds, as it writes nothing to resume from. */
  stopping(): boolean;
  /** Counts a queue write against the pass's budget. */
  wroteBatch(): void;
};

/** When row `index` of a paced mailing becomes due: the sender's due-time claim does the throttling. */
export function pacedAt(startedAt: number, index: number, ratePerMinute: number | null, now: number): number {
  return ratePerMinute ? startedAt + Math.floor((index * 60_000) / ratePerMinute) : now;
}
