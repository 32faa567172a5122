import { createWriteStream, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { loadSettings, SettingsError, type Settings } from './config.js';
import { PRIVATE_FILE_MODE } from './lib/node/private-files.js';
import { lettersDir, openServices, retentionPorts, startServer, startWorker } from './entry/node.js';
import { SecretKeyError } from './entry/secret-key.js';
import { StartupError } from './entry/startup-checks.js';
import { createLocalLetterPorts } from './letters/node/letter-store.js';
import { createJsonLogger, silentLogger, type Logger } from './lib/logger.js';
import { backupCommand, doctorCommand, restoreCommand } from './operations/commands.js';
import { listCampaigns } from './services/campaigns.js';
import { ServiceError } from './lib/service-errors.js';
import { generateLetters, GenerateLettersInput, PreviewLetterQuery, previewLetter } from './services/letters.js';
import { CreateMailingInput, finalMailingStatuses, getMailingView, scheduleMailing, type MailingView } from './services/mailings/schedule.js';
import { runRetention } from './services/retention.js';
import { importTargets } from './services/target-import.js';
import { createToken, CreateTokenInput, scopes } from './services/tokens.js';

const usage = `Usage: signet <command> [options]

Commands:
  serve                                   start the HTTP server, mail sender and jobs (default for npm start)
  worker                                  run the mail sender, mailing runner and jobs (printing too, with PRINTER_URL) without HTTP
  migrate                                 apply database migrations and exit
  token create --name NAME --scopes S,S   create an API token and print it once
                                          scopes: ${scopes.join(', ')}
  targets import FILE                     import targets from a .json or .csv file (all rows or none; again: updates, never duplicates)
  campaign list [--status S]              list campaigns
  letters generate CAMPAIGN [--mode per_target|per_signer] [--routing all|jurisdiction] [--empty-targets write|skip] [--cutoff ISO] [--template NAME]
                   [--languages ja,zh]
                                          render and store a campaign's letters (default per_target, everyone to every target, cut-off now;
                                          --empty-targets skip: no letter to a target whose letter would count no one;
                                          --languages: each letter in these languages in order, one PDF per target; default the target's)
  letters preview CAMPAIGN --target ID [--template NAME] [--language L | --languages ja,zh] [-o FILE.pdf]
                                          render a draft letter for one target (to stdout without -o)
  mailing schedule --campaign SLUG --kind update|letters --send-at 2027-09-22T09:00 --time-zone Asia/Tokyo
                   [--subject S --body-file F | --template T] [--channel auto|email|print] [--routing all|jurisdiction] [--empty-targets write|skip]
                   [--languages ja,zh] [--rate N] [--cutoff ISO] [--dry-run]
                                          schedule a mailing for a local time in a time zone
  mailing status ID [--watch]             a mailing's status and progress (--watch: live until it ends)
  backup FILE                             copy the database to FILE while servers run (SQLite online backup), then check the copy;
                                          the secret key is not in it: back it up separately
  restore FILE                            replace the database with a backup (refused while any process has it open)
                                          and erase again whoever the erasure ledger says was erased since
  doctor                                  check settings, database, migrations, secret key, SMTP, fonts, disk space (and printer)
  retention run                           run the retention job now (RETENTION_DAYS, PENDING_TTL_DAYS, IP hashes,
                                          sent mail bodies and files, audit events past AUDIT_RETENTION_DAYS)
                                          and print what it did, in counts

Settings come from the environment (see README): PORT, HOST, DATABASE_PATH, PUBLIC_URL,
ADMIN_TOKEN, SMTP_URL, MAIL_FROM, DATA_DIR, SIGN_RATE_LIMIT, TRUST_PROXY, LOG_LEVEL, PRINTER_URL.`;

function fail(message: string): never {
  process.stderr.write(`signet: ${message}\n`);
  process.exit(1);
}

/** SIGTERM or SIGINT: stop gracefully once, then exit 0 (or 1 if stopping failed). */
function closeOnSignals(running: { close(): Promise<void> }, logger: Logger) {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * The one first-start block, on the terminal only (never the JSON log), once the server
 * listens: the owner-setup link while nobody has an account (a new one at each start, the
 * older ones stop working), and the admin API token made when there was none (shown only now).
 */
function firstStartBlock(publicUrl: string, ownerSetupUrl: string | null, bootstrapToken: string | null): string {
  if (!ownerSetupUrl && !bootstrapToken) return '';
  const parts = ['\nFirst start:\n'];
  if (ownerSetupUrl) {
    parts.push(
      `\n  Create the owner account of the dashboard here (the link works once, for 24 hours;\n  each start prints a new one until the owner exists):\n\n    ${ownerSetupUrl}\n`,
    );
  }
  if (bootstrapToken) {
    parts.push(
      `\n  An admin API token for scripts was made. It is shown only now; keep it safe:\n\n    ${bootstrapToken}\n\n` +
        `  Try: curl -H "Authorization: Bearer <token>" ${publicUrl}/api/v1/campaigns\n`,
    );
  }
  parts.push(`\n  Dashboard: ${publicUrl}/admin   API docs: ${publicUrl}/docs\n\n`);
  return parts.join('');
}

async function serveCommand(settings: Settings) {
  const logger = createJsonLogger(settings.LOG_LEVEL);
  const running = await startServer(settings, logger);
  logger.info('listening', { url: running.url, publicUrl: settings.PUBLIC_URL, mail: settings.SMTP_URL ? 'smtp' : 'files', printing: settings.PRINTER_URL ? 'ipp' : 'off' });
  process.stderr.write(firstStartBlock(settings.PUBLIC_URL.replace(/\/+$/, ''), running.ownerSetupUrl, running.bootstrapToken));
  closeOnSignals(running, logger);
}

async function withServices<T>(settings: Settings, task: (ctx: Awaited<ReturnType<typeof openServices>>['ctx']) => Promise<T>): Promise<T> {
  const { database, ctx } = await openServices(settings, silentLogger);
  try {
    return await task(ctx);
  } finally {
    await database.close();
  }
}

type LetterOptions = { mode?: string | undefined; routing?: string | undefined; 'empty-targets'?: string | undefined; cutoff?: string | undefined; template?: string | undefined; target?: string | undefined; language?: string | undefined; languages?: string | undefined; output?: string | undefined };

/** `ja,zh` as given on the command line: the languages in order. */
const commaList = (text: string): string[] => text.split(',').map((item) => item.trim()).filter(Boolean);

function parseOrFail<T extends v.GenericSchema>(schema: T, input: unknown, what: string): v.InferOutput<T> {
  const parsed = v.safeParse(schema, input);
  if (!parsed.success) fail(`${what}: ${parsed.issues.map((i) => `${i.path?.map((p) => p.key).join('.') ?? ''}: ${i.message}`).join('; ')}`);
  return parsed.output;
}

/** `letters generate` and `letters preview`: the same verbs as the HTTP routes, rendered in process. */
async function lettersCommand(settings: Settings, sub: string | undefined, slug: string | undefined, values: LetterOptions) {
  const ports = createLocalLetterPorts({ lettersDir, dataDir: settings.DATA_DIR });
  if (sub === 'generate' && slug) {
    const input = parseOrFail(
      GenerateLettersInput,
      {
        mode: values.mode ?? 'per_target',
        ...(values.routing ? { routing: values.routing } : {}),
        ...(values['empty-targets'] ? { emptyTargets: values['empty-targets'] } : {}),
        ...(values.template ? { template: values.template } : {}),
        ...(values.cutoff ? { cutoffAt: values.cutoff } : {}),
        ...(values.languages ? { languages: commaList(values.languages) } : {}),
      },
      'letters generate',
    );
    const targetNames = new Map<string, string>();
    const result = await withServices(settings, (ctx) =>
      generateLetters(ctx, ports, slug, input, ({ index, total, targetName, letter }) => {
        targetNames.set(letter.id, targetName);
        process.stderr.write(`[${index}/${total}] ${targetName} … ${letter.pages} page${letter.pages === 1 ? '' : 's'}\n`);
      }),
    );
    const rows = [['TARGET', 'PAGES', 'BYTES', 'SHA256'], ...result.letters.map((l) => [targetNames.get(l.id) ?? l.targetId, String(l.pages), String(l.bytes), l.sha256.slice(0, 12)])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) process.stdout.write(`${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}\n`);
    for (const skipped of result.skippedTargets) process.stdout.write(`No letter for ${skipped.targetName}: its letter would count no one\n`);
    process.stdout.write(`Batch ${result.batchId}: ${result.letters.length} letters (${result.mode}, ${result.template}, cut-off ${result.cutoffAt}) in ${settings.DATA_DIR}/letters/${result.batchId}/\n`);
    return;
  }
  if (sub === 'preview' && slug) {
    if (!values.target) fail('usage: signet letters preview CAMPAIGN --target ID [-o FILE.pdf]');
    if (!values.output && process.stdout.isTTY) fail('letters preview: give -o FILE.pdf (or redirect stdout)');
    const query = parseOrFail(PreviewLetterQuery, { target: values.target, template: values.template, language: values.language, languages: values.languages }, 'letters preview');
    await withServices(settings, async (ctx) => {
      const preview = await previewLetter(ctx, ports, slug, query);
      await pipeline(Readable.fromWeb(preview.body as NodeReadableStream<Uint8Array>), values.output ? createWriteStream(values.output, { mode: PRIVATE_FILE_MODE }) : process.stdout);
    });
    if (values.output) process.stderr.write(`Wrote ${values.output}\n`);
    return;
  }
  fail('usage: signet letters generate CAMPAIGN [--mode per_target|per_signer] [--routing all|jurisdiction] [--empty-targets write|skip] [--cutoff ISO] [--template NAME] [--languages ja,zh]\n       signet letters preview CAMPAIGN --target ID [--languages ja,zh] [-o FILE.pdf]');
}

/** Runs until SIGTERM or SIGINT, then stops gracefully (the batch in hand and the mail in flight finish). */
async function workerCommand(settings: Settings) {
  const logger = createJsonLogger(settings.LOG_LEVEL);
  const worker = await startWorker(settings, logger);
  logger.info('worker started', { mail: settings.SMTP_URL ? 'smtp' : 'files', sender: settings.MAIL_SENDER, printing: settings.PRINTER_URL ? 'ipp' : 'off' });
  closeOnSignals(worker, logger);
}

type MailingOptions = {
  campaign?: string | undefined;
  kind?: string | undefined;
  'send-at'?: string | undefined;
  'time-zone'?: string | undefined;
  subject?: string | undefined;
  'body-file'?: string | undefined;
  template?: string | undefined;
  channel?: string | undefined;
  routing?: string | undefined;
  'empty-targets'?: string | undefined;
  languages?: string | undefined;
  rate?: string | undefined;
  cutoff?: string | undefined;
  'dry-run'?: boolean | undefined;
  watch?: boolean | undefined;
};

function progressLine(view: MailingView): string {
  const { total, sent, failed, skipped } = view.progress;
  return `${view.status}: sent ${sent}, failed ${failed} of ${total} (skipped ${skipped})${view.dryRun ? ' [dry run]' : ''}`;
}

/** `mailing schedule` (the same verb as POST /mailings) and `mailing status [--watch]`. */
async function mailingCommand(settings: Settings, sub: string | undefined, id: string | undefined, values: MailingOptions) {
  if (sub === 'schedule') {
    const rate = values.rate === undefined ? undefined : /^\d+$/.test(values.rate) ? Number(values.rate) : fail('mailing schedule: --rate must be a whole number');
    const input = parseOrFail(
      CreateMailingInput,
      {
        campaign: values.campaign,
        kind: values.kind,
        sendAt: values['send-at'],
        timeZone: values['time-zone'],
        ...(values.subject !== undefined ? { subject: values.subject } : {}),
        ...(values['body-file'] !== undefined ? { body: readFileSync(values['body-file'], 'utf8') } : {}),
        ...(values.template !== undefined ? { template: values.template } : {}),
        ...(values.channel !== undefined ? { channel: values.channel } : {}),
        ...(values.routing !== undefined ? { routing: values.routing } : {}),
        ...(values['empty-targets'] !== undefined ? { emptyTargets: values['empty-targets'] } : {}),
        ...(values.languages !== undefined ? { languages: commaList(values.languages) } : {}),
        ...(rate !== undefined ? { ratePerMinute: rate } : {}),
        ...(values.cutoff !== undefined ? { cutoffAt: values.cutoff } : {}),
        ...(values['dry-run'] ? { dryRun: true } : {}),
      },
      'mailing schedule',
    );
    const templates = createLocalLetterPorts({ lettersDir, dataDir: settings.DATA_DIR });
    const mailing = await withServices(settings, (ctx) => scheduleMailing(ctx, input, templates));
    process.stdout.write(
      `Mailing ${mailing.id} scheduled: ${mailing.kind} for ${mailing.campaign} at ${mailing.sendAtLocal} ${mailing.timeZone} (${mailing.sendAt})${mailing.dryRun ? ', dry run' : ''}\n`,
    );
    for (const warning of mailing.warnings) process.stdout.write(`Warning ${warning.code}: ${warning.message}\n`);
    return;
  }
  if (sub === 'status' && id) {
    await withServices(settings, async (ctx) => {
      let view = await getMailingView(ctx, id);
      process.stdout.write(`Mailing ${view.id} (${view.kind}, ${view.campaign}) at ${view.sendAtLocal} ${view.timeZone}\n`);
      if (!values.watch) {
        process.stdout.write(`${progressLine(view)}\n`);
        if (view.lastError) process.stdout.write(`last error: ${view.lastError}\n`);
        return;
      }
      // On a terminal one line is rewritten in place; piped, a line is printed for every change.
      const live = process.stdout.isTTY === true;
      let shown = '';
      for (;;) {
        const line = progressLine(view);
        if (line !== shown) {
          process.stdout.write(live ? `\r\x1b[2K${line}` : `${line}\n`);
          shown = line;
        }
        if (finalMailingStatuses.includes(view.status)) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
        view = await getMailingView(ctx, id);
      }
      if (live) process.stdout.write('\n');
      if (view.lastError) process.stdout.write(`last error: ${view.lastError}\n`);
    });
    return;
  }
  fail('usage: signet mailing schedule --campaign SLUG --kind update|letters --send-at LOCAL --time-zone ZONE [options]\n       signet mailing status ID [--watch]');
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      status: { type: 'string' },
      mode: { type: 'string' },
      routing: { type: 'string' },
      'empty-targets': { type: 'string' },
      cutoff: { type: 'string' },
      template: { type: 'string' },
      target: { type: 'string' },
      language: { type: 'string' },
      languages: { type: 'string' },
      output: { type: 'string', short: 'o' },
      campaign: { type: 'string' },
      kind: { type: 'string' },
      'send-at': { type: 'string' },
      'time-zone': { type: 'string' },
      subject: { type: 'string' },
      'body-file': { type: 'string' },
      channel: { type: 'string' },
      rate: { type: 'string' },
      'dry-run': { type: 'boolean' },
      watch: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command = 'serve', sub, arg] = positionals;
  if (values.help || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  // The doctor reports invalid settings as one of its checks rather than stopping at them.
  if (command === 'doctor') return doctorCommand(process.env);
  const settings = loadSettings(process.env);

  switch (command) {
    case 'serve':
      return serveCommand(settings);
    case 'worker':
      return workerCommand(settings);
    case 'backup':
      return backupCommand(settings, sub);
    case 'restore':
      return restoreCommand(settings, sub);
    case 'migrate':
      await withServices(settings, async () => undefined);
      process.stdout.write(`Migrations applied to ${settings.DATABASE_PATH}\n`);
      return;
    case 'token': {
      if (sub !== 'create') fail(`unknown token command "${sub ?? ''}"\n\n${usage}`);
      const parsed = v.safeParse(CreateTokenInput, { name: values.name ?? '', scopes: (values.scopes ?? '').split(',').filter(Boolean) });
      if (!parsed.success) fail(`token create: ${parsed.issues.map((i) => `${i.path?.map((p) => p.key).join('.')}: ${i.message}`).join('; ')}`);
      const created = await withServices(settings, (ctx) => createToken(ctx, parsed.output));
      process.stdout.write(`Token "${created.name}" (${created.scopes.join(', ')}), shown only now:\n${created.token}\n`);
      return;
    }
    case 'targets': {
      if (sub !== 'import' || !arg) fail(`usage: signet targets import FILE`);
      const format = extname(arg).toLowerCase() === '.csv' ? 'csv' : 'json';
      const content = readFileSync(arg, 'utf8');
      const result = await withServices(settings, (ctx) => importTargets(ctx, { format, content }));
      process.stdout.write(`Imported ${arg}: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged\n`);
      return;
    }
    case 'campaign': {
      if (sub !== 'list') fail(`usage: signet campaign list [--status S]`);
      const status = values.status as 'draft' | 'open' | 'closed' | 'archived' | undefined;
      await withServices(settings, async (ctx) => {
        let cursor: string | undefined;
        const rows: string[][] = [['SLUG', 'STATUS', 'SIGNATURES', 'TITLE']];
        do {
          const page = await listCampaigns(ctx, { limit: 500, cursor, status });
          for (const c of page.items) rows.push([c.slug, c.status, String(c.signatureCount), c.title]);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows) process.stdout.write(`${r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')}\n`);
      });
      return;
    }
    case 'letters':
      return lettersCommand(settings, sub, arg, values);
    case 'mailing':
      return mailingCommand(settings, sub, arg, values);
    case 'retention': {
      if (sub !== 'run') fail('usage: signet retention run');
      const report = await withServices(settings, (ctx) => runRetention(ctx, retentionPorts(settings)));
      const width = Math.max(...Object.keys(report).map((key) => key.length));
      for (const [key, count] of Object.entries(report)) process.stdout.write(`${key.padEnd(width)}  ${count}
`);
      return;
    }
    default:
      fail(`unknown command "${command}"\n\n${usage}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof SettingsError || error instanceof StartupError || error instanceof SecretKeyError) fail(error.message);
  if (error instanceof ServiceError) {
    const details = error.details ? `\n${JSON.stringify(error.details, null, 2)}` : '';
    fail(`${error.code}: ${error.message}${details}`);
  }
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
});
