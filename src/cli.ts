import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { loadSettings, SettingsError, type Settings } from './config.js';
import { openServices, startServer } from './entry/node.js';
import { createJsonLogger, silentLogger } from './lib/logger.js';
import { listCampaigns } from './services/campaigns.js';
import { ServiceError } from './services/errors.js';
import { importTargets } from './services/target-import.js';
import { createToken, CreateTokenInput, scopes } from './services/tokens.js';

const usage = `Usage: signet <command> [options]

Commands:
  serve                                   start the HTTP server, mail sender and jobs (default for npm start)
  migrate                                 apply database migrations and exit
  token create --name NAME --scopes S,S   create an API token and print it once
                                          scopes: ${scopes.join(', ')}
  targets import FILE                     import targets from a .json or .csv file (all rows or none)
  campaign list [--status S]              list campaigns

Settings come from the environment (see README): PORT, HOST, DATABASE_PATH, PUBLIC_URL,
ADMIN_TOKEN, SMTP_URL, MAIL_FROM, DATA_DIR, SIGN_RATE_LIMIT, TRUST_PROXY, LOG_LEVEL.`;

function fail(message: string): never {
  process.stderr.write(`signet: ${message}\n`);
  process.exit(1);
}

async function serveCommand(settings: Settings) {
  const logger = createJsonLogger(settings.LOG_LEVEL);
  const running = await startServer(settings, logger);
  logger.info('listening', { url: running.url, publicUrl: settings.PUBLIC_URL, mail: settings.SMTP_URL ? 'smtp' : 'files' });
  if (running.bootstrapToken) {
    // Printed once, to the terminal only (not the JSON log), so a new user can start at once.
    process.stderr.write(
      `\nFirst start: an admin API token was created. It is shown only now; keep it safe:\n\n  ${running.bootstrapToken}\n\n` +
        `Try: curl -H "Authorization: Bearer <token>" ${settings.PUBLIC_URL}/api/v1/campaigns\nAPI docs: ${settings.PUBLIC_URL}/docs\n\n`,
    );
  }
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

async function withServices<T>(settings: Settings, task: (ctx: ReturnType<typeof openServices>['ctx']) => Promise<T>): Promise<T> {
  const { database, ctx } = openServices(settings, silentLogger);
  try {
    return await task(ctx);
  } finally {
    await database.close();
  }
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      status: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command = 'serve', sub, arg] = positionals;
  if (values.help || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const settings = loadSettings(process.env);

  switch (command) {
    case 'serve':
      return serveCommand(settings);
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
      process.stdout.write(`Imported ${result.created} targets from ${arg}\n`);
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
    default:
      fail(`unknown command "${command}"\n\n${usage}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof SettingsError) fail(error.message);
  if (error instanceof ServiceError) {
    const details = error.details ? `\n${JSON.stringify(error.details, null, 2)}` : '';
    fail(`${error.code}: ${error.message}${details}`);
  }
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
});
