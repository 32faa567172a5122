import type { Logger } from '../lib/logger.js';

const MINUTE_MS = 60_000;

/**
 * The most confirmation emails (signing and privacy links) this process
 * queues per minute, whoever they are for (CONFIRM_EMAILS_PER_MINUTE). The
 * per-address window keeps one inbox from being flooded; this keeps Signet
 * from being used against many inboxes at once. Past it a request is
 * answered as usual but nothing is held or sent. In memory, per process:
 * with several processes the limit applies to each.
 */
export class ConfirmationEmailBudget {
  private windowStartedAt = Number.NEGATIVE_INFINITY;
  private taken = 0;
  private refused = 0;

  constructor(
    readonly perMinute: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Takes one email from this minute's budget, or answers false. When a new
   * minute begins after one that refused some, one warning says how many
   * (a count only: no address, no campaign).
   */
  take(now: number): boolean {
    if (now - this.windowStartedAt >= MINUTE_MS) {
      if (this.refused > 0) {
        this.logger.warn('confirmation emails over CONFIRM_EMAILS_PER_MINUTE were not sent', {
          notSent: this.refused,
          limitPerMinute: this.perMinute,
          minuteStartedAt: new Date(this.windowStartedAt).toISOString(),
        });
      }
      this.windowStartedAt = now;
      this.taken = 0;
      this.refused = 0;
    }
    if (this.taken < this.perMinute) {
      this.taken += 1;
      return true;
    }
    this.refused += 1;
    return false;
  }
}
