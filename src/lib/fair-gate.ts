import { positiveInteger } from './errors.js';

/**
 * Who waits for a turn: `source` groups a client's requests (a keyed hash of
 * its address, an IPv6 client as its /64); `trusted` is for requests that
 * already proved something an attacker cannot mint (a sign-in device cookie
 * of the account, a mailed link, a session).
 */
export type GateLane = { source: string; trusted: boolean };

export type FairGateLimits = {
  /** Turns at once. */
  concurrency: number;
  /** Untrusted requests one source may have waiting; past it that source is refused. */
  waitingPerSource: number;
  /** Untrusted requests waiting over every source together. */
  waitingUntrusted: number;
  /** Trusted requests waiting (a queue of their own that untrusted ones never fill). */
  waitingTrusted: number;
};

type Waiter = () => void;

/**
 * A gate for scarce work (a memory-hard hash) that one source cannot
 * monopolise: trusted requests are served first, in order; untrusted ones
 * wait in a queue per source, and the sources are served in turn (round
 * robin), so a source with many requests waiting delays its own, not the
 * others'. Every queue is bounded, so memory is too: past a bound `enter`
 * answers null and the caller refuses the request (429) at once.
 */
export class FairGate {
  private running = 0;
  private readonly trusted: Waiter[] = [];
  /** Map order is the round-robin order: a served source moves to the back. */
  private readonly untrusted = new Map<string, Waiter[]>();
  private untrustedWaiting = 0;

  constructor(private readonly limits: FairGateLimits) {
    positiveInteger('concurrency', limits.concurrency);
    positiveInteger('waitingPerSource', limits.waitingPerSource);
    positiveInteger('waitingUntrusted', limits.waitingUntrusted);
    positiveInteger('waitingTrusted', limits.waitingTrusted);
  }

  /**
   * A turn for `lane`: resolves (with the function that ends the turn) when
   * it is this request's turn, or null at once when its queue is full.
   */
  enter(lane: GateLane): Promise<() => void> | null {
    if (this.running < this.limits.concurrency) {
      this.running += 1;
      return Promise.resolve(this.turn());
    }
    if (lane.trusted) {
      if (this.trusted.length >= this.limits.waitingTrusted) return null;
      return new Promise((resolve) => this.trusted.push(() => resolve(this.turn())));
    }
    const queue = this.untrusted.get(lane.source);
    if ((queue?.length ?? 0) >= this.limits.waitingPerSource || this.untrustedWaiting >= this.limits.waitingUntrusted) return null;
    this.untrustedWaiting += 1;
    return new Promise((resolve) => {
      const waiter = () => resolve(this.turn());
      if (queue) queue.push(waiter);
      else this.untrusted.set(lane.source, [waiter]);
    });
  }

  /** The end of one turn; ending it twice frees one slot only. */
  private turn(): () => void {
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      // The slot passes straight to the next in line (running stays the same), or is freed.
      const next = this.trusted.shift() ?? this.nextUntrusted();
      if (next) next();
      else this.running -= 1;
    };
  }

  private nextUntrusted(): Waiter | undefined {
    const first = this.untrusted.entries().next();
    if (first.done) return undefined;
    const [source, queue] = first.value;
    const waiter = queue.shift()!;
    this.untrusted.delete(source);
    if (queue.length > 0) this.untrusted.set(source, queue);
    this.untrustedWaiting -= 1;
    return waiter;
  }
}
