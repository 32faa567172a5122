import { getRequestListener, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../app.js';
import { privacySettings, reminderAfterMs, type Settings } from '../config.js';
import { SqliteDatabase } from '../db/node/better-sqlite3.js';
import { runPeriodically } from '../jobs/periodic.js';
import { createLetterFiles, createLocalLetterPorts } from '../letters/node/letter-store.js';
import { createLetterRenderPool, type LetterRenderPool } from '../letters/node/render-pool.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { createJsonLogger, type Logger } from '../lib/logger.js';
import { Keyring } from '../lib/keyring.js';
import { FileTransport } from '../mail/node/file-transport.js';
import { createMailFileCleaner } from '../mail/node/mail-file-cleaner.js';
import { OutboxSender } from '../outbox/node/outbox-sender.js';
import { SmtpTransport } from '../mail/node/smtp-transport.js';
import type { MailTransport } from '../mail/transports/transport.js';
import { MailingRunner } from '../services/mailings/runner.js';
import { IppPrinter } from '../printing/node/ipp-printer.js';
import type { ServiceContext } from '../services/context.js';
import { retireLegacySecrets } from '../services/installation.js';
import { loadRootSecret } from './secret-key.js';
import { databaseStartupError, listenOn, prepareDataPaths } from './startup-checks.js';
import { createPrometheusMetrics } from '../metrics/node/prometheus-metrics.js';
import { FrontCache } from '../http/node/front-cache.js';
import { routePatternFor } from '../http/answering-route.js';
import { UNMATCHED_ROUTE } from '../http/request-metrics.js';
import { installedApiReferenceScript } from './api-reference-script.js';
import { nodeOgImageRenderer } from './og-image-node.js';
import { secureDataDirectory, tightenDataDirectory } from '../lib/node/private-files.js';
import { runPrintJobs } from '../services/print-jobs.js';
import { runRetention, type RetentionPorts } from '../services/retention.js';
import { runLetterRedactions } from '../services/letter-redaction.js';
import { createErasureLedgerFile, erasureLedgerPath } from '../operations/erasure-ledger-file.js';
import { foldSignatureCounts } from '../services/signatures.js';
import { sendReminders } from '../services/reminders.js';
import { ensureBootstrapToken } from '../services/tokens.js';
import { issueOwnerSetupLink } from '../services/accounts.js';
import { ScryptPasswordHasher } from './node-passwords.js';
import { BatchingAuditSink } from '../services/audit.js';
import { organisationAccess } from '../services/access.js';
import { WebhookSender } from '../services/webhook-sender.js';
import { nodeWebhookHttp } from '../lib/node/webhook-http.js';

export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const migrationsFolder = join(projectRoot, 'migrations');
/** The letter templates and `organisation.json` (the organisation profile's seed and logo), versioned with the code. */
export const lettersDir = join(projectRoot, 'letters');

const COUNT_FOLD_INTERVAL_MS = 2_000;
const RETENTION_INTERVAL_MS = 3_600_000;
/** The first retention run waits a little, so a restart is not slowed by it and short-lived processes (tests, one-off commands) do not run it. */
const RETENTION_FIRST_RUN_MS = 5 * 60_000;
const PRINT_JOBS_INTERVAL_MS = 3_000;
/** Each erasure wakes the letter redaction at once; this round picks up what a crash or a failure left. */
const LETTER_REDACTION_INTERVAL_MS = 60_000;
/** Reminders are due by the hour; a minute late is on time. */
const REMINDERS_INTERVAL_MS = 60_000;
/** Reminders queued per run on Node (one SQLite transaction): a surge's reminders go within minutes, paced by the confirmation lane. */
const REMINDERS_PER_RUN = 500;


/**
 * Opens the database (applying migrations), loads the root secret (making
 * the key file at first start) and builds the service context. Keys an
 * earlier version kept in the database are retired here (installation.ts).
 * DATA_DIR and DATABASE_PATH are checked first: a path that cannot be used
 * throws a StartupError naming it, with nothing written. DATA_DIR is then
 * made, or set to 0700: nothing under it is reachable by other users
 * (src/lib/node/private-files.ts).
 */
export async function openServices(settings: Settings, logger: Logger, clock: Clock = systemClock) {
  prepareDataPaths(settings);
  const dataDir = secureDataDirectory(settings.DATA_DIR);
  if (dataDir.state === 'tightened') logger.info('DATA_DIR was readable by other users; set to 0700', { path: resolve(settings.DATA_DIR) });
  if (dataDir.state === 'left') logger.warn('DATA_DIR is readable by other users and was left as it is; run chmod 700 on it', { path: resolve(settings.DATA_DIR), mode: dataDir.mode.toString(8), reason: dataDir.reason });
  const root = loadRootSecret(settings, logger);
  if (root.source === 'new key file') logger.info('secret key file created; keep it out of database backups and back it up separately', { path: root.path });
  if (root.previous) logger.info('a previous secret key is set: links made under it still work until it is removed');
  const keys = await Keyring.create(root.secret, root.previous);
  let database: SqliteDatabase;
  try {
    database = new SqliteDatabase({ path: settings.DATABASE_PATH, migrationsFolder });
  } catch (error) {
    throw databaseStartupError(error, settings.DATABASE_PATH);
  }
  const ctx: ServiceContext = {
    db: database,
    clock,
    logger,
    publicUrl: settings.PUBLIC_URL.replace(/\/+$/, ''),
    mailFrom: settings.MAIL_FROM,
    confirmTokenTtlMs: settings.CONFIRM_TOKEN_TTL_HOURS * 3_600_000,
    keys,
    privacy: privacySettings(settings),
    access: organisationAccess,
    passwords: new ScryptPasswordHasher(),
    erasureLedger: createErasureLedgerFile(erasureLedgerPath(settings)),
    webhookAllowPrivate: settings.WEBHOOK_ALLOW_PRIVATE,
  };
  try {
    const retired = await retireLegacySecrets(ctx);
    if (retired.length > 0) logger.info('legacy keys deleted from the database', { keys: retired });
  } catch (error) {
    await database.close();
    throw error;
  }
  return { database, ctx };
}

/** The retention job's Node ports: the mail files the file transport writes under DATA_DIR/mail. */
export function retentionPorts(settings: Settings): RetentionPorts {
  return { mailFiles: createMailFileCleaner(join(settings.DATA_DIR, 'mail')) };
}

export function createMailTransport(settings: Settings): MailTransport {
  // Letter PDFs are attached from under DATA_DIR, the only place a transport reads files from.
  return settings.SMTP_URL
    ? new SmtpTransport({ url: settings.SMTP_URL, dataDir: settings.DATA_DIR, maxConnections: settings.SMTP_POOL_SIZE, maxMessages: settings.SMTP_MAX_MESSAGES })
    : new FileTransport({ directory: join(settings.DATA_DIR, 'mail'), dataDir: settings.DATA_DIR });
}

export type RunningServer = {
  url: string;
  server: ServerType;
  bootstrapToken: string | null;
  /** While nobody has an account: the link that creates the owner (a new one at each start; older ones stop working). */
  ownerSetupUrl: string | null;
  /** Graceful stop: no new connections, mail in flight finished, database closed. */
  close(): Promise<void>;
};

/** The background work of a process: the outbox sender, the mailing runner, the count folder, the reminders and, with PRINTER_URL, the print dispatcher. */
function startBackground(settings: Settings, ctx: ServiceContext, database: SqliteDatabase, logger: Logger, letterRenderPool: LetterRenderPool) {
  const sender = new OutboxSender({
    database,
    transport: createMailTransport(settings),
    clock: ctx.clock,
    logger,
    from: settings.MAIL_FROM,
    links: { publicUrl: ctx.publicUrl, keys: ctx.keys },
    confirmationLane: ctx.privacy,
    webhooks: new WebhookSender({
      database,
      clock: ctx.clock,
      logger,
      keys: ctx.keys,
      http: nodeWebhookHttp,
      allowPrivate: settings.WEBHOOK_ALLOW_PRIVATE,
      publicUrl: ctx.publicUrl,
      mailFrom: settings.MAIL_FROM,
    }),
    ...(settings.MAIL_RATE_PER_SECOND > 0 ? { maxPerSecond: settings.MAIL_RATE_PER_SECOND } : {}),
  });
  if (settings.MAIL_SENDER === 'on') sender.start();
  const letters = createLocalLetterPorts({ lettersDir, dataDir: settings.DATA_DIR, pool: letterRenderPool });
  const runner = new MailingRunner({ ctx, letters, logger, onQueued: () => sender.wake() });
  runner.start();
  const redactions = runPeriodically('letter-redaction', LETTER_REDACTION_INTERVAL_MS, () => runLetterRedactions(ctx, letters), logger);
  // A start picks up what the last process left (or what a restore queued).
  redactions.runNow();
  const countFolder = runPeriodically('fold-signature-counts', COUNT_FOLD_INTERVAL_MS, () => foldSignatureCounts(ctx), logger);
  const retention = runPeriodically('retention', RETENTION_INTERVAL_MS, () => runRetention(ctx, retentionPorts(settings)), logger);
  const remindAfter = reminderAfterMs(settings);
  const reminders =
    remindAfter === null
      ? null
      : runPeriodically(
          'reminders',
          REMINDERS_INTERVAL_MS,
          async () => {
            const reminded = await sendReminders(ctx, { afterMs: remindAfter, batch: REMINDERS_PER_RUN });
            // Counts only: which addresses were reminded is personal data.
            if (reminded.queued + reminded.blocked > 0) logger.info('reminders queued', reminded);
            if (reminded.queued > 0) sender.wake();
          },
          logger,
        );
  const firstRetention = setTimeout(retention.runNow, RETENTION_FIRST_RUN_MS);
  firstRetention.unref();
  // With PRINTER_URL, queued print deliveries go to that printer; claims keep several processes from printing one twice.
  const printPorts = settings.PRINTER_URL ? { printer: new IppPrinter({ url: settings.PRINTER_URL }), files: createLetterFiles(settings.DATA_DIR) } : null;
  const printJobs = printPorts ? runPeriodically('print-jobs', PRINT_JOBS_INTERVAL_MS, () => runPrintJobs(ctx, printPorts), logger) : null;
  // What an earlier version left in Signet's folders under DATA_DIR (files 0644 under the usual
  // umask), set to 0600 and 0700 while the server already answers: DATA_DIR itself is 0700 by now.
  const tightening = tightenDataDirectory(settings.DATA_DIR).then(
    (changed) => {
      if (changed.directories + changed.files > 0) logger.info('modes under DATA_DIR set to 0600 (files) and 0700 (directories)', changed);
    },
    (error: unknown) => logger.warn('could not set the modes under DATA_DIR', { error: (error as Error).message }),
  );
  return {
    sender,
    /** Renders the letters an erasure queued now rather than at the next round. */
    wakeRedactions: redactions.runNow,
    /** Runner first (it finishes the batch in hand), then the sender, so what was queued is sent or handed back. */
    async stop() {
      await tightening;
      await countFolder.stop();
      clearTimeout(firstRetention);
      await retention.stop();
      await reminders?.stop();
      await printJobs?.stop();
      await redactions.stop();
      await runner.stop();
      await sender.stop();
      await foldSignatureCounts(ctx);
    },
  };
}

export type RunningWorker = {
  /** Graceful stop: the mailing batch in hand and the mail in flight finished, database closed. */
  close(): Promise<void>;
};

/**
 * The background work without HTTP (`signet worker`): outbox sender, mailing
 * runner and count folder, e.g. on a second machine beside servers started
 * with MAIL_SENDER=off. Leases keep any number of them from doing a job twice.
 */
export async function startWorker(settings: Settings, logger: Logger = createJsonLogger(settings.LOG_LEVEL)): Promise<RunningWorker> {
  const { database, ctx } = await openServices(settings, logger);
  const letterRenderPool = createLetterRenderPool();
  const background = startBackground(settings, ctx, database, logger, letterRenderPool);
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await background.stop();
      await letterRenderPool.close();
      await database.close();
    })());
  return { close };
}

/**
 * Wires SQLite, the mail sender, the mailing runner and the count folder, and serves the app.
 * The port is bound first: a port in use or an unusable path stops the start (a StartupError
 * naming the setting) before a database, a key or a first-start token exists, so the token
 * and the owner-setup link are only made once the server can be reached. Requests that come
 * in meanwhile wait for the app.
 */
export async function startServer(settings: Settings, logger: Logger = createJsonLogger(settings.LOG_LEVEL)): Promise<RunningServer> {
  let handle: (request: Request, env: unknown) => Response | Promise<Response>;
  let appReady!: (app: ReturnType<typeof createApp>) => void;
  const pendingApp = new Promise<ReturnType<typeof createApp>>((resolve) => (appReady = resolve));
  handle = (request, env) => pendingApp.then((app) => app.fetch(request, env));
  let app: ReturnType<typeof createApp> | undefined;
  const metrics = createPrometheusMetrics({ processMetrics: true });
  // The public pages answered from memory before the app runs (a surge of readers); the app drops them on every change.
  const frontCache = new FrontCache({ logger, metrics, routeOf: (path) => (app && routePatternFor(app, 'GET', path)) ?? UNMATCHED_ROUTE });
  const server: Server = createServer(frontCache.listener(getRequestListener((request, env) => handle(request, env), { hostname: settings.HOST })));
  await listenOn(server, settings);
  let opened: Awaited<ReturnType<typeof openServices>>;
  try {
    opened = await openServices(settings, logger);
  } catch (error) {
    // Requests that came in meanwhile wait for an app that will not come; they are cut off.
    await new Promise<void>((done) => {
      server.close(() => done());
      (server as Server).closeAllConnections();
    });
    throw error;
  }
  const { database, ctx } = opened;
  const bootstrapToken = await ensureBootstrapToken(ctx, settings.ADMIN_TOKEN);
  const ownerSetupUrl = await issueOwnerSetupLink(ctx);

  const letterRenderPool = createLetterRenderPool();
  const background = startBackground(settings, ctx, database, logger, letterRenderPool);
  const audit = new BatchingAuditSink(database, logger);

  app = createApp({
    database,
    audit,
    clock: ctx.clock,
    logger,
    publicUrl: ctx.publicUrl,
    mailFrom: ctx.mailFrom,
    confirmTokenTtlMs: ctx.confirmTokenTtlMs,
    adminToken: settings.ADMIN_TOKEN,
    signRateLimit: settings.SIGN_RATE_LIMIT,
    trustProxy: settings.TRUST_PROXY,
    webhookAllowPrivate: settings.WEBHOOK_ALLOW_PRIVATE,
    keys: ctx.keys,
    privacy: ctx.privacy,
    clientAddress: (c) => getConnInfo(c).remote.address,
    onMailQueued: () => background.sender.wake(),
    letters: createLocalLetterPorts({ lettersDir, dataDir: settings.DATA_DIR, pool: letterRenderPool }),
    metrics,
    metricsToken: settings.METRICS_TOKEN,
    apiReferenceScript: installedApiReferenceScript(),
    passwords: ctx.passwords,
    embedOrigins: settings.EMBED_ORIGINS,
    ogImageRenderer: nodeOgImageRenderer(),
    ...(ctx.erasureLedger ? { erasureLedger: ctx.erasureLedger } : {}),
    onLettersToRedact: background.wakeRedactions,
    onPublicPagesChanged: () => frontCache.clear(),
  });

  handle = app.fetch;
  appReady(app);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.PORT;
  const url = `http://${settings.HOST.includes(':') ? `[${settings.HOST}]` : settings.HOST}:${port}`;

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((done) => server.close(() => done()));
      // The last requests' audit events, before the database closes.
      await audit.flush();
      await background.stop();
      await letterRenderPool.close();
      await database.close();
    })());

  return { url, server, bootstrapToken, ownerSetupUrl, close };
}
