/**
 * The Cloudflare Workers runtime (PRODUCT.md §10): the same `createApp(deps)`
 * as Node, with D1 for the database, R2 for letter PDFs, Queues for the
 * outbox and Cron Triggers for the periodic work.
 *
 * - `fetch` serves the app, its public pages through the data centre's cache
 *   (src/web/public/edge-cache.ts). When a request queued mail, the rows are
 *   dispatched after the response (`waitUntil`): leased and published as
 *   queue messages (src/outbox/worker/outbox-queue.ts).
 * - `queue` sends the rows a message names and acknowledges it once each row
 *   is marked sent, failed, or rescheduled; a message that keeps failing goes
 *   to the dead-letter queue, whose consumer marks its rows failed so an
 *   organiser sees them (and can retry them) in the outbox.
 * - `scheduled` runs every minute: due mailings (bounded, resumed at the next
 *   minute), the dispatch sweep (rows whose lease ran out or whose retry is
 *   due), count folding, the reminders due (bounded), ended rate-limit windows, letters to render again
 *   after an erasure (bounded); and hourly the retention job (the audit log's
 *   purge included).
 *
 * The per-client limits (signing, privacy requests, dashboard sign-in) count
 * in D1: each isolate's memory is its own, and Cloudflare runs many.
 *
 * Nothing here may import Node-only code: wrangler bundles this file and
 * everything it reaches.
 */
import type { D1Database, ExecutionContext, MessageBatch, Queue, R2Bucket, ScheduledController } from '@cloudflare/workers-types';
import { createApp } from '../app.js';
import { loadWorkerSettings, privacySettings, reminderAfterMs, type WorkerSettings } from '../config.js';
import { CloudflareD1Database } from '../db/d1.js';
import { systemClock } from '../lib/clock.js';
import { Keyring } from '../lib/keyring.js';
import { createJsonLogger, type Logger } from '../lib/logger.js';
import type { MailTransport } from '../mail/transports/transport.js';
import { BatchingAuditSink } from '../services/audit.js';
import type { ServiceContext } from '../services/context.js';
import { runRetention } from '../services/retention.js';
import { runLetterRedactions } from '../services/letter-redaction.js';
import { foldSignatureCounts } from '../services/signatures.js';
import { sendReminders } from '../services/reminders.js';
import { workerApiReferenceScript } from './worker-api-reference.js';
import { workerOgImageRenderer } from './og-image-worker.js';
import type { LetterPorts } from '../letters/letter-ports.js';
import { createWorkerLetterPorts } from '../letters/worker/worker-letter-ports.js';
import { lettersBundle } from '../../.wrangler/generated/letters-bundle.js';
import { r2Fonts } from '../letters/worker/r2-fonts.js';
import { WorkerSmtpTransport } from '../mail/worker/worker-smtp-transport.js';
import { HttpMailTransport } from '../mail/transports/http-mail-transport.js';
import { consumeOutboxBatch, dispatchOutbox, dispatchOutboxSoon, failDeadLetters, type OutboxQueueMessage } from '../outbox/worker/outbox-queue.js';
import { runDueMailings } from '../services/mailings/pass.js';
import { WebhookSender } from '../services/webhook-sender.js';
import { fetchWebhookHttp } from '../lib/webhook-http.js';
import { organisationAccess } from '../services/access.js';
import { Pbkdf2PasswordHasher } from '../lib/passwords.js';
import { DatabaseRateLimiter, SUPPORTER_BUCKETS } from '../services/database-rate-limiter.js';
import { publicPagesVersion } from '../services/public-pages.js';
import { type EdgeCache, serveThroughEdgeCache } from '../web/public/edge-cache.js';

/** The bindings declared in wrangler.toml, and the settings as vars and secrets. */
export type WorkerEnv = Record<string, unknown> & {
  DB: D1Database;
  LETTERS: R2Bucket;
  OUTBOX: Queue<OutboxQueueMessage>;
  MAILINGS: Queue<MailingPassMessage>;
};

/** "Run another mailing pass": a mailing larger than one pass continues at once in a fresh invocation, not a minute later. */
export type MailingPassMessage = { pass: 'mailings' };

/** A mailing pass stops starting new batches after this long, well inside a cron invocation's limits. */
const MAILING_PASS_MS = 20_000;
const RETENTION_MINUTE = 17;
/** The letter redaction starts no new letter after this long, well inside a cron invocation's limits. */
const LETTER_REDACTION_PASS_MS = 20_000;
/** Mailing batches (MAILING_BATCH_SIZE recipients each) per pass; one pass per invocation. */
const MAILING_BATCHES_PER_RUN = 6;

type Runtime = {
  settings: WorkerSettings;
  logger: Logger;
  ctx: ServiceContext;
  app: ReturnType<typeof createApp>;
  audit: BatchingAuditSink;
  letters: LetterPorts;
  rateLimiter: DatabaseRateLimiter;
  /** REMINDER_AFTER_HOURS in ms; null: no reminders. */
  reminderAfterMs: number | null;
  /** `mailQueued` is set when a request queued mail; the response's `waitUntil` dispatches it. */
  state: { mailQueued: boolean };
};

let runtime: Promise<Runtime> | null = null;

/** Built once per isolate from `env` (bindings and settings do not change within one). */
function runtimeFor(env: WorkerEnv): Promise<Runtime> {
  runtime ??= buildRuntime(env).catch((error: unknown) => {
    runtime = null;
    throw error;
  });
  return runtime;
}

async function buildRuntime(env: WorkerEnv): Promise<Runtime> {
  const settings = loadWorkerSettings(env);
  const logger = createJsonLogger(settings.LOG_LEVEL);
  const keys = await Keyring.create(settings.SECRET_KEY, settings.SECRET_KEY_PREVIOUS);
  const database = new CloudflareD1Database(env.DB);
  const publicUrl = settings.PUBLIC_URL.replace(/\/+$/, '');
  const ctx: ServiceContext = {
    db: database,
    clock: systemClock,
    logger,
    publicUrl,
    mailFrom: settings.MAIL_FROM,
    confirmTokenTtlMs: settings.CONFIRM_TOKEN_TTL_HOURS * 3_600_000,
    keys,
    privacy: privacySettings(settings),
    access: organisationAccess,
    // workerd has no scrypt; PBKDF2 at its maximum of 100,000 iterations.
    passwords: new Pbkdf2PasswordHasher(),
    webhookAllowPrivate: settings.WEBHOOK_ALLOW_PRIVATE,
  };
  // Flushed at the end of each request (waitUntil): an isolate may be frozen before its timer fires.
  const audit = new BatchingAuditSink(database, logger);
  const state = { mailQueued: false };
  const letters = letterPorts(env);
  const rateLimiter = new DatabaseRateLimiter(database, { logger, failOpenBuckets: SUPPORTER_BUCKETS });
  const app = createApp({
    database,
    audit,
    clock: systemClock,
    logger,
    publicUrl,
    mailFrom: settings.MAIL_FROM,
    confirmTokenTtlMs: ctx.confirmTokenTtlMs,
    adminToken: settings.ADMIN_TOKEN,
    signRateLimit: settings.SIGN_RATE_LIMIT,
    rateLimiter,
    // Cloudflare sets the client's address; there is no proxy of ours in front.
    trustProxy: false,
    clientAddress: (c) => c.req.header('cf-connecting-ip') ?? undefined,
    keys,
    privacy: ctx.privacy,
    onMailQueued: () => {
      state.mailQueued = true;
    },
    letters,
    metricsToken: settings.METRICS_TOKEN,
    apiReferenceScript: workerApiReferenceScript,
    passwords: ctx.passwords,
    embedOrigins: settings.EMBED_ORIGINS,
    ogImageRenderer: workerOgImageRenderer(env.LETTERS),
    publicPagesAcrossIsolates: true,
    webhookAllowPrivate: settings.WEBHOOK_ALLOW_PRIVATE,
  });
  return { settings, logger, ctx, app, audit, letters, rateLimiter, reminderAfterMs: reminderAfterMs(settings), state };
}

function letterPorts(env: WorkerEnv) {
  return createWorkerLetterPorts({ bucket: env.LETTERS, templates: lettersBundle, fonts: () => r2Fonts(env.LETTERS) });
}

function mailTransport({ settings, letters }: Runtime): MailTransport {
  const readAttachment = (storedPath: string) => letters.files.readBytes(storedPath);
  if (settings.MAIL_API_URL) return new HttpMailTransport({ url: settings.MAIL_API_URL, token: settings.MAIL_API_TOKEN ?? '', readAttachment });
  return new WorkerSmtpTransport({ url: settings.SMTP_URL!, readAttachment });
}

/** The Queues side of the outbox for this runtime. */
function outboxQueue(run: Runtime, env: WorkerEnv) {
  return { ctx: run.ctx, logger: run.logger, queue: env.OUTBOX };
}

/**
 * One bounded pass of the mailing runner, its mail dispatched; when it queued a full pass a
 * message asks for the next one at once (the cron would otherwise take a minute per pass).
 */
async function mailingPass(run: Runtime, env: WorkerEnv, owner: string) {
  const result = await runDueMailings(
    { ctx: run.ctx, letters: run.letters, logger: run.logger, batchSize: run.settings.MAILING_BATCH_SIZE },
    { owner, maxBatches: MAILING_BATCHES_PER_RUN, deadline: Date.now() + MAILING_PASS_MS },
  );
  if (result.queued > 0) await dispatchOutbox(outboxQueue(run, env));
  if (result.queued >= run.settings.MAILING_BATCH_SIZE * MAILING_BATCHES_PER_RUN) await env.MAILINGS.send({ pass: 'mailings' });
  return result;
}

function deliverMessages(run: Runtime, env: WorkerEnv, batch: MessageBatch<OutboxQueueMessage>): Promise<void> {
  const requestMailingPass = async () => {
    await env.MAILINGS.send({ pass: 'mailings' });
  };
  const webhooks = new WebhookSender({
    database: run.ctx.db,
    clock: run.ctx.clock,
    logger: run.logger,
    keys: run.ctx.keys,
    http: fetchWebhookHttp,
    allowPrivate: run.settings.WEBHOOK_ALLOW_PRIVATE,
    publicUrl: run.ctx.publicUrl,
    mailFrom: run.settings.MAIL_FROM,
  });
  return consumeOutboxBatch({ ...outboxQueue(run, env), transport: mailTransport(run), from: run.settings.MAIL_FROM, requestMailingPass, webhooks }, batch);
}

export default {
  async fetch(request: Request, env: WorkerEnv, executionContext: ExecutionContext): Promise<Response> {
    let run: Runtime;
    try {
      run = await runtimeFor(env);
    } catch (error) {
      // Bad settings (SettingsError names each one, never its value): logged for `wrangler tail`, and the one error shape for the client.
      console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'the Worker cannot start', error: error instanceof Error ? error.message : String(error) }));
      const requestId = crypto.randomUUID();
      return Response.json({ error: { code: 'INTERNAL', message: 'Signet is not configured correctly; the operator will find the reason in the logs.', requestId } }, { status: 500 });
    }
    const response = await serveThroughEdgeCache(request, {
      cache: (globalThis as unknown as { caches: { default: EdgeCache } }).caches.default,
      version: () => publicPagesVersion(run.ctx),
      app: async (forApp) => run.app.fetch(forApp, env, executionContext as never),
      waitUntil: (work) => executionContext.waitUntil(work),
    });
    executionContext.waitUntil(run.audit.flush());
    if (run.state.mailQueued) {
      run.state.mailQueued = false;
      executionContext.waitUntil(dispatchOutboxSoon(outboxQueue(run, env)));
    }
    return response;
  },

  async queue(batch: MessageBatch<OutboxQueueMessage | MailingPassMessage>, env: WorkerEnv): Promise<void> {
    const run = await runtimeFor(env);
    if (batch.queue.endsWith('-dlq')) {
      await failDeadLetters(run, (batch as MessageBatch<OutboxQueueMessage>).messages);
      return;
    }
    if (batch.queue.endsWith('-mailings')) {
      // One pass per invocation (max_batch_size 1), each with its own query budget.
      await mailingPass(run, env, `queue-${crypto.randomUUID()}`);
      batch.ackAll();
      return;
    }
    await deliverMessages(run, env, batch as MessageBatch<OutboxQueueMessage>);
  },

  async scheduled(controller: ScheduledController, env: WorkerEnv): Promise<void> {
    const run = await runtimeFor(env);
    {
      const mailings = await mailingPass(run, env, `cron-${controller.scheduledTime}`);
      const folded = await foldSignatureCounts(run.ctx);
      // Before the dispatch, so a reminder queued now goes in this invocation.
      const reminders = run.reminderAfterMs === null ? null : await sendReminders(run.ctx, { afterMs: run.reminderAfterMs });
      const dispatched = await dispatchOutbox(outboxQueue(run, env));
      const rateLimitWindowsPurged = await run.rateLimiter.purgeEnded(run.ctx.clock.now());
      // Letters an erasure queued to be rendered again: bounded per invocation, resumed at the next minute.
      const redacted = await runLetterRedactions(run.ctx, run.letters, { owner: `cron-${controller.scheduledTime}`, deadline: Date.now() + LETTER_REDACTION_PASS_MS });
      run.logger.info('cron', { mailings, folded, reminders, dispatched, rateLimitWindowsPurged, redacted });
      if (new Date(controller.scheduledTime).getUTCMinutes() === RETENTION_MINUTE) run.logger.info('retention', { ...(await runRetention(run.ctx)) });
    }
  },
};
