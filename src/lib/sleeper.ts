/**
 * The wait between the passes of a polling loop (the outbox sender, the
 * mailing runner): it ends after the poll interval or at `wake()`, whichever
 * comes first. A wake() while nobody waits ends the next wait at once, so
 * work announced during a pass is not left for the next poll.
 */
export class Sleeper {
  private wakeSleeper: (() => void) | undefined;
  private wakeRequested = false;

  constructor(private readonly intervalMs: number) {}

  sleep(): Promise<void> {
    if (this.wakeRequested) {
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.intervalMs);
      this.wakeSleeper = done;
    });
  }

  /** Ends the current wait, or else the next one at once. */
  wake(): void {
    if (this.wakeSleeper) this.wakeSleeper();
    else this.wakeRequested = true;
  }

  /** Ends the current wait, if any (a stop: there is no next one). */
  interrupt(): void {
    this.wakeSleeper?.();
  }
}
