import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { WriteStatement } from '../../db/database.js';
import { mailings } from '../../db/schema.js';
import { positiveInteger } from '../../lib/errors.js';
import type { ServiceContext } from '../context.js';

/** A mailing row as the pass reads it. */
export type MailingRow = typeof mailings.$inferSelect;

/** Mailings claimed per pass. */
const CLAIM_LIMIT = 10;

/**
 * The leases one owner (a runner, a Cron pass) holds on running mailings,
 * as outbox senders hold outbox rows: `locked_by` names the owner,
 * `locked_until` says when the claim runs out unless renewed. Every write the
 * pass makes to a mailing it runs is conditional on `held`, so an owner whose
 * lease was taken over writes nothing.
 */
export class MailingLeaseStore {
  private readonly leaseMs: number;

  /**
   * @param owner names this owner's leases; unique per process or invocation.
   * @param leaseMs how long a claim lasts without renewal; must exceed the longest step (rendering a campaign's letters).
   */
  constructor(
    private readonly ctx: ServiceContext,
    readonly owner: string,
    leaseMs: number,
  ) {
    this.leaseMs = positiveInteger('leaseMs', leaseMs);
  }

  /** When a lease taken or renewed at `now` runs out. */
  lockedUntil(now: number): number {
    return now + this.leaseMs;
  }

  /**
   * Claims the due mailings. One statement: the pick and the lease are a
   * single write, so two runners can never both claim a mailing. A `running`
   * mailing is taken over when its lease ran out (its runner crashed) or was
   * handed back; an owner keeps the mailings it holds from tick to tick until
   * they finish.
   */
  claim(now: number): Promise<MailingRow[]> {
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
        lockedUntil: this.lockedUntil(now),
        startedAt: sql`coalesce(${mailings.startedAt}, ${now})`,
        updatedAt: now,
      })
      .where(and(inArray(mailings.id, candidates), due))
      .returning();
  }

  /** The condition every write to a running mailing carries: this owner still holds its lease. */
  held(mailingId: string) {
    return and(eq(mailings.id, mailingId), eq(mailings.status, 'running'), eq(mailings.lockedBy, this.owner));
  }

  /** Renews the lease, in the atomic write of the step it precedes. */
  renew(mailingId: string, now: number): WriteStatement {
    return this.ctx.db.db.update(mailings).set({ lockedUntil: this.lockedUntil(now) }).where(this.held(mailingId));
  }

  /** Whether this owner still holds the mailing's lease. */
  async stillHeld(mailingId: string): Promise<boolean> {
    const [row] = await this.ctx.db.db.select({ id: mailings.id }).from(mailings).where(this.held(mailingId));
    return row !== undefined;
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
}
