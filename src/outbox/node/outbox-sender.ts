import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import { errorKind, positiveInteger } from '../../lib/errors.js';
import { PollLoop } from '../../jobs/poll-loop.js';
import { OutboxDelivery, type DeliverOutboxDeps } from '../deliver.js';

/** The Node sender: the delivery's settings (src/outbox/deliver.ts), its own lease name and polling. */
export type OutboxSenderOptions = Pick<DeliverOutboxDeps, 'database' | 'transport' | 'clock' | 'logger' | 'from' | 'links' | 'concurrency' | 'maxPerSecond' | 'maxAttempts' | 'backoff' | 'random' | 'confirmationLane' | 'webhooks'> & {
  /** Names this sender's leases; unique per process. */
  workerId?: string;
  /** Rows claimed per drain (default 500). */
  batchSize?: number;
  /** How long a claim lasts; must exceed the longest send, or a second worker may send the same message. */
  leaseMs?: number;
  /** Wait between drains when the outbox is empty and nobody calls `wake()`. */
  pollIntervalMs?: number;
};

export type DrainResult = { sent: number; failed: number; retried: number };

export type OutboxSenderStats = DrainResult & { inFlight: number; running: boolean };

/**
 * Delivers the transactional outbox from a Node process: the polling loop
 * (timers, `wake()`, a graceful stop) around the runtime-neutral
 * `OutboxDelivery` (src/outbox/deliver.ts), which claims rows with a lease,
 * sends them and marks them through the outbox store. Any number of senders
 * can share a database without sending a message twice.
 */
export class OutboxSender {
  readonly workerId: string;
  private readonly delivery: OutboxDelivery;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly poll: PollLoop;

  /** Drains run one after another: a drain started while another runs waits for it. */
  private drainChain: Promise<unknown> = Promise.resolve();

  constructor(options: OutboxSenderOptions) {
    this.logger = options.logger;
    this.workerId = options.workerId ?? newId(options.clock.now());
    this.batchSize = positiveInteger('batchSize', options.batchSize ?? 500);
    // A full batch suggests more rows are due: keep going rather than wait.
    this.poll = new PollLoop({
      intervalMs: options.pollIntervalMs ?? 1000,
      pass: async () => (await this.drainSerially(true)).claimed >= this.batchSize,
      onError: (error) => this.logger.error('outbox drain failed', { workerId: this.workerId, ...errorKind(error) }),
    });
    this.delivery = new OutboxDelivery({
      database: options.database,
      transport: options.transport,
      clock: options.clock,
      logger: options.logger,
      from: options.from,
      links: options.links,
      owner: this.workerId,
      leaseMs: options.leaseMs ?? 5 * 60_000,
      concurrency: options.concurrency,
      maxPerSecond: options.maxPerSecond,
      maxAttempts: options.maxAttempts,
      backoff: options.backoff,
      random: options.random,
      ...(options.confirmationLane ? { confirmationLane: options.confirmationLane } : {}),
      ...(options.webhooks ? { webhooks: options.webhooks } : {}),
      endOfTurn: setImmediate,
    });
  }

  /** Claims one batch of due messages and sends them; resolves when every claimed row is settled. */
  async drainOnce(): Promise<DrainResult> {
    return (await this.drainSerially(false)).result;
  }

  /** Drains in a loop until `stop()`: at once again after a full batch, else after the poll interval or a `wake()`. */
  start(): void {
    this.poll.start();
  }

  /** Ends the current wait, so mail enqueued just now goes out without waiting for the poll. */
  wake(): void {
    // A wake() that comes during a drain may be for a row its claim missed: the next wait ends at once.
    this.poll.wake();
  }

  /**
   * Stops claiming, lets the sends in flight finish and records them, and
   * hands back the claimed rows not yet started so another sender can take
   * them at once.
   */
  async stop(): Promise<void> {
    await this.poll.stop(() => this.drainChain);
  }

  /** Totals since this sender was created. */
  stats(): OutboxSenderStats {
    const { sent, failed, retried } = this.delivery.totals;
    return { sent, failed, retried, inFlight: this.delivery.inFlight, running: this.poll.running };
  }

  /** A drain started while another runs waits for it; `continuous` is the start() loop's pipelined drain (see OutboxDelivery.drain). */
  private drainSerially(continuous: boolean): Promise<{ result: DrainResult; claimed: number }> {
    const drain = this.drainChain.then(async () => {
      const { result, claimed } = await this.delivery.drain({ limit: this.batchSize, continuous, stopped: () => this.poll.stopping });
      return { result: { sent: result.sent, failed: result.failed, retried: result.retried }, claimed };
    });
    this.drainChain = drain.catch(() => undefined);
    return drain;
  }
}
