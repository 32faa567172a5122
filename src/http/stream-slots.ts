import { RateLimited } from '../lib/service-errors.js';

/** Open progress streams one token may hold at once (API and dashboard together). */
export const MAX_EVENT_STREAMS_PER_TOKEN = 5;
/** What a refused client is told to wait: a slot frees as soon as one of its streams ends. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Counts long-lived streams per holder (a token id) and refuses one past the
 * cap, so a script that opens streams in a loop cannot pin the server's
 * connections and database polls. In memory: each process counts its own.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(readonly limitPerHolder: number = MAX_EVENT_STREAMS_PER_TOKEN) {}

  /**
   * Takes a slot for `holder`, or throws RateLimited (429 with Retry-After).
   * The returned release may be called any number of times; only the first counts.
   */
  acquire(holder: string): () => void {
    const count = this.open.get(holder) ?? 0;
    if (count >= this.limitPerHolder) {
      throw new RateLimited(
        RETRY_AFTER_SECONDS,
        `This token already has ${this.limitPerHolder} progress streams open; close one (or wait for a mailing to finish) and try again.`,
      );
    }
    this.open.set(holder, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(holder) ?? 1) - 1;
      if (left > 0) this.open.set(holder, left);
      else this.open.delete(holder);
    };
  }

  /** Streams `holder` has open now. */
  held(holder: string): number {
    return this.open.get(holder) ?? 0;
  }
}
