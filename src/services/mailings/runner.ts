import type { LetterPorts } from '../../letters/letter-ports.js';
import { PollLoop } from '../../jobs/poll-loop.js';
import { errorKind, positiveInteger } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import type { ServiceContext } from '../context.js';
import { MailingPass, type TickResult } from './pass.js';

export type MailingRunnerOptions = {
  ctx: ServiceContext;
  /** Templates, renderer and file store, for `letters` mailings. */
  letters: LetterPorts;
  /** Names this runner's leases; unique per process. */
  workerId?: string;
  /** How long a claim lasts without renewal; must exceed the longest step (rendering a campaign's letters). */
  leaseMs?: number;
  /** Wait between ticks in `start()`. */
  pollIntervalMs?: number;
  /** Recipients queued per atomic write. */
  batchSize?: number;
  logger?: Logger;
  /** Told after rows were queued, so the outbox sender can look at once. */
  onQueued?: () => void;
};

/**
 * Runs due mailings (PRODUCT.md §3 Mailing) in a Node process: a pass
 * (pass.ts, the same as `runDueMailings`) every `pollIntervalMs`, never two
 * at once. The runner keeps the mailings it claimed from tick to tick until
 * they finish, and hands them back when stopped.
 */
export class MailingRunner {
  readonly workerId: string;
  private readonly pass: MailingPass;
  private readonly poll: PollLoop;
  private readonly logger: Logger;

  private ticking: Promise<TickResult> | undefined;

  constructor(options: MailingRunnerOptions) {
    this.workerId = options.workerId ?? newId(options.ctx.clock.now());
    this.logger = options.logger ?? options.ctx.logger;
    this.poll = new PollLoop({
      intervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs ?? 1000),
      pass: async () => {
        await this.tick();
        return false;
      },
      onError: (error) => this.logger.error('mailing tick failed', { workerId: this.workerId, ...errorKind(error) }),
    });
    this.pass = new MailingPass(options, this.workerId, { stopped: () => this.poll.stopping });
  }

  /** One pass: sweep paused and cancelled mailings, claim due ones, queue and count them. Passes never overlap. */
  tick(): Promise<TickResult> {
    const run = (this.ticking ?? Promise.resolve()).catch(() => undefined).then(() => this.runTick());
    this.ticking = run;
    return run;
  }

  /** Ticks every `pollIntervalMs` until `stop()`. */
  start(): void {
    this.poll.start();
  }

  /**
   * Graceful stop: the batch in hand is written, no new one is started, and
   * the leases of the mailings this runner holds are handed back so another
   * process can carry on at once.
   */
  async stop(): Promise<void> {
    await this.poll.stop(async () => this.ticking?.catch(() => undefined));
    await this.pass.handBack();
  }

  private runTick(): Promise<TickResult> {
    if (this.poll.stopping && !this.poll.started) return Promise.resolve({ claimed: 0, queued: 0, finished: 0 });
    return this.pass.run();
  }
}
