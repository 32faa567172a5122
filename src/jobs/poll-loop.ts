import { Sleeper } from '../lib/sleeper.js';

/** How a poll loop runs its passes. */
export type PollLoopOptions = {
  /** Wait between passes when a pass found nothing more to do and nobody calls `wake()`. */
  intervalMs: number;
  /** One pass; resolves true when more work is due at once (e.g. a full batch), so the loop goes on without waiting. */
  pass: () => Promise<boolean>;
  /** A failed pass is reported here and the loop goes on: one bad pass does not stop the polling. */
  onError: (error: unknown) => void;
};

/**
 * The polling loop of a long-running process (the outbox sender, the mailing
 * runner): passes one after another until `stop()`, waiting `intervalMs`
 * between them unless a pass asks to go on or `wake()` ends the wait.
 */
export class PollLoop {
  private readonly sleeper: Sleeper;
  private loop: Promise<void> | undefined;
  private stopRequested = false;

  constructor(private readonly options: PollLoopOptions) {
    this.sleeper = new Sleeper(options.intervalMs);
  }

  /** True from `stop()` until the next `start()`: a pass in progress should finish what it holds and start nothing new. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** True while the loop was started and not asked to stop. */
  get running(): boolean {
    return this.loop !== undefined && !this.stopRequested;
  }

  /** True from `start()` until `stop()` has resolved. */
  get started(): boolean {
    return this.loop !== undefined;
  }

  start(): void {
    if (this.loop) return;
    this.stopRequested = false;
    this.loop = this.run();
  }

  /** Ends the current wait, or else the next one at once, so work announced just now is not left for the next poll. */
  wake(): void {
    this.sleeper.wake();
  }

  /**
   * Asks the loop to stop, ends its wait, and resolves when its pass in progress has returned
   * and then `finish` (the owner's own wind-down, e.g. sends in flight) has.
   */
  async stop(finish?: () => Promise<unknown>): Promise<void> {
    this.stopRequested = true;
    this.sleeper.interrupt();
    await this.loop;
    await finish?.();
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopRequested) {
      let again = false;
      try {
        again = await this.options.pass();
      } catch (error) {
        this.options.onError(error);
      }
      if (this.stopRequested) break;
      if (again) continue;
      await this.sleeper.sleep();
    }
  }
}
