/**
 * The outbox on Cloudflare Queues (wired by src/entry/worker.ts):
 *
 * - dispatch: due rows are leased to the queue (DISPATCH_OWNER) and their ids
 *   published, IDS_PER_MESSAGE per message; a row is published once per lease,
 *   and the cron's sweep publishes it again when that lease runs out.
 * - consume: a batch's rows are sent together (src/outbox/deliver.ts), leased
 *   under the consumer's own name, and the batch is acknowledged once every
 *   row is sent, failed, or rescheduled; otherwise it is retried.
 * - dead letters: a message that failed every retry has its rows marked
 *   failed, so an organiser sees them (and can retry them) in the outbox.
 */
import type { Message, MessageBatch, Queue } from '@cloudflare/workers-types';
import type { Logger } from '../../lib/logger.js';
import type { MailLinks } from '../../mail/mail-links.js';
import type { MailTransport } from '../../mail/transports/transport.js';
import { deliverOutbox } from '../deliver.js';
import { outboxStore } from '../outbox-store.js';
import type { WebhookDelivery } from '../types.js';

/** One queue message: outbox rows leased for dispatch (ids), sent by the consumer. */
export type OutboxQueueMessage = { ids: string[] };

/** How long a dispatched row stays leased to the queue before the sweep publishes it again. */
const DISPATCH_LEASE_MS = 10 * 60_000;
/** Rows per dispatch; one queue message carries at most this many ids. */
const DISPATCH_LIMIT = 500;
const IDS_PER_MESSAGE = 20;
const SEND_CONCURRENCY = 5;

/** The owner name of this isolate's leases (the dispatcher's rows are leased to the queue). */
const DISPATCH_OWNER = 'queue';

/** What the Queues side of the outbox needs from the Worker's runtime. */
export type OutboxQueueDeps = {
  /** The store's parts and the links mail carries (the Worker's ServiceContext has them all). */
  ctx: Parameters<typeof outboxStore>[0] & MailLinks;
  logger: Logger;
  queue: Queue<OutboxQueueMessage>;
};

/** Leases due rows and publishes their ids; a row is published once per lease. Resolves how many. */
export async function dispatchOutbox({ ctx, queue }: OutboxQueueDeps): Promise<number> {
  let published = 0;
  for (;;) {
    const ids = await outboxStore(ctx).dispatchDue(DISPATCH_OWNER, DISPATCH_LIMIT, DISPATCH_LEASE_MS);
    if (ids.length === 0) return published;
    const messages = [];
    for (let start = 0; start < ids.length; start += IDS_PER_MESSAGE) messages.push({ body: { ids: ids.slice(start, start + IDS_PER_MESSAGE) } });
    // sendBatch takes at most 100 messages.
    for (let start = 0; start < messages.length; start += 100) await queue.sendBatch(messages.slice(start, start + 100));
    published += ids.length;
    if (ids.length < DISPATCH_LIMIT) return published;
  }
}

let dispatching: Promise<void> | null = null;
let dispatchAgain = false;

/**
 * Dispatch after a request, coalesced per isolate: while one dispatch runs, later requests only
 * ask for one more round, so a burst of signatures costs a few lease writes, not one each.
 */
export function dispatchOutboxSoon(deps: OutboxQueueDeps): Promise<void> {
  if (dispatching) {
    dispatchAgain = true;
    return dispatching;
  }
  dispatching = (async () => {
    try {
      do {
        dispatchAgain = false;
        await dispatchOutbox(deps);
      } while (dispatchAgain);
    } catch (error) {
      deps.logger.error('dispatch failed; the sweep retries', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      dispatching = null;
    }
  })();
  return dispatching;
}

/** What consuming a batch needs besides the runtime: the transport (closed afterwards), the sender, and the mailing pass to ask for. */
export type ConsumeOutboxDeps = Pick<OutboxQueueDeps, 'ctx' | 'logger'> & {
  transport: MailTransport;
  from: string;
  /** Asks for a mailing pass now: a mailing's progress and its end are settled by a pass. */
  requestMailingPass: () => Promise<void>;
  /** Sends the webhook rows (made by the entry: the sender lives with the services). */
  webhooks?: WebhookDelivery;
};

/** Sends the rows a batch of messages names and acknowledges the batch, or retries it when the delivery failed. */
export async function consumeOutboxBatch({ ctx, logger, transport, from, requestMailingPass, webhooks }: ConsumeOutboxDeps, batch: MessageBatch<OutboxQueueMessage>): Promise<void> {
  const consumer = `consumer-${crypto.randomUUID()}`;
  // The whole batch's rows at once, so SEND_CONCURRENCY sessions stay busy across messages.
  const ids = batch.messages.flatMap((message) => message.body.ids);
  try {
    await deliverOutbox(
      {
        database: ctx.db,
        transport,
        clock: ctx.clock,
        logger,
        from,
        links: { publicUrl: ctx.publicUrl, keys: ctx.keys },
        // Each consumer invocation leases under its own name, taking rows over from the dispatcher.
        owner: consumer,
        dispatcher: DISPATCH_OWNER,
        leaseMs: DISPATCH_LEASE_MS,
        // A Worker invocation has at most 6 outgoing connections open at once; one SMTP session per send.
        concurrency: SEND_CONCURRENCY,
        ...(webhooks ? { webhooks } : {}),
      },
      { ids },
    );
    // Every row is now sent, failed, or rescheduled (the sweep dispatches it again when due).
    batch.ackAll();
  } catch (error) {
    // Rows already marked are skipped when a message comes back; the others are sent then.
    logger.error('outbox batch not delivered; retried', { error: error instanceof Error ? error.message : String(error), messages: batch.messages.length });
    batch.retryAll();
  } finally {
    await transport.close();
  }
  // A mailing's progress and its end are settled by a pass: ask for one now rather than at the next cron.
  try {
    if ((await outboxStore(ctx).runningMailingsOf(ids)).length > 0) await requestMailingPass();
  } catch (error) {
    logger.warn('mailing pass not requested; the cron settles it', { error: error instanceof Error ? error.message : String(error) });
  }
}

/** Messages that failed every retry: their rows are marked failed, visible and retryable in the outbox. */
export async function failDeadLetters({ ctx, logger }: Pick<OutboxQueueDeps, 'ctx' | 'logger'>, messages: readonly Message<OutboxQueueMessage>[]): Promise<void> {
  for (const message of messages) {
    const failed = await outboxStore(ctx).failLeased(DISPATCH_OWNER, message.body.ids, 'dead-lettered: the queue consumer failed on every attempt');
    logger.error('outbox rows dead-lettered', { rows: failed });
    message.ack();
  }
}
