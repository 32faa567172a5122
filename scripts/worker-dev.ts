/**
 * `npm run worker:dev`: the Worker under `wrangler dev --local` on 127.0.0.1
 * with the settings Node reads (PORT, ADMIN_TOKEN, SMTP_URL, PUBLIC_URL, …)
 * taken from the environment, its local D1 migrated from migrations/, the
 * outbox queue working, and the cron trigger fired every minute (wrangler
 * dev does not fire crons by itself; it exposes /__scheduled for that).
 *
 * The letter fonts go into the local R2 bucket before the Worker starts (the
 * Worker reads them from there on its first letter), once per persist dir:
 * scripts/upload-fonts.ts leaves a marker naming the font package versions.
 *
 * Local state (D1, R2, queues) is kept under WRANGLER_PERSIST_TO
 * (default .wrangler/state). Without SECRET_KEY a key is made once and kept
 * beside it in secret.key (0600), as Node keeps DATA_DIR/secret.key.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerSettingNames } from '../src/config.js';
import { ensureLocalFonts } from './upload-fonts.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const wrangler = join(root, 'node_modules/.bin/wrangler');
const env = process.env;

const port = Number(env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65_535) {
  console.error(`PORT must be a port number, not ${env.PORT}`);
  process.exit(2);
}
const persistTo = resolve(env.WRANGLER_PERSIST_TO ?? join(root, '.wrangler/state'));
mkdirSync(persistTo, { recursive: true });
const cronEveryMs = Number(env.WORKER_DEV_CRON_MS ?? 60_000);

function secretKey(): string {
  if (env.SECRET_KEY) return env.SECRET_KEY;
  const path = join(persistTo, 'secret.key');
  if (!existsSync(path)) {
    writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    console.log(`worker:dev: made a secret key in ${path}`);
  }
  return readFileSync(path, 'utf8').trim();
}

// The settings go to the Worker through an env file (0600), not the command line, so no secret shows in `ps`.
const settings: Record<string, string> = { PUBLIC_URL: `http://127.0.0.1:${port}` };
for (const name of workerSettingNames) {
  const value = env[name];
  if (value !== undefined && value !== '') settings[name] = value;
}
settings.SECRET_KEY = secretKey();
const envFile = join(persistTo, 'worker-dev.vars');
writeFileSync(envFile, Object.entries(settings).map(([key, value]) => `${key}=${JSON.stringify(value)}\n`).join(''), { mode: 0o600 });
chmodSync(envFile, 0o600);

const quiet = { ...env, WRANGLER_SEND_METRICS: 'false' };
const migrate = spawnSync(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo], { cwd: root, env: { ...quiet, CI: 'true' }, stdio: 'inherit' });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const fontsStarted = performance.now();
try {
  if (ensureLocalFonts(persistTo, { env: { ...quiet, CI: 'true' }, quiet: true })) {
    console.log(`worker:dev: put the letter fonts into the local R2 bucket in ${Math.round(performance.now() - fontsStarted)} ms`);
  }
} catch (error) {
  console.error(`worker:dev: the letter fonts: ${(error as Error).message}`);
  process.exit(1);
}

const dev = spawn(
  wrangler,
  ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persistTo, '--env-file', envFile, '--test-scheduled', '--show-interactive-dev-session=false', ...process.argv.slice(2)],
  { cwd: root, env: quiet, stdio: ['inherit', 'pipe', 'inherit'] },
);
let ready = false;
dev.stdout!.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  if (!ready && /Ready on http/.test(chunk.toString())) {
    ready = true;
    console.log(`worker:dev: Signet (Worker) on http://127.0.0.1:${port}; cron every ${cronEveryMs / 1000} s`);
  }
});

// The cron trigger, as Cloudflare fires it: once a minute.
const cron = setInterval(() => {
  if (!ready) return;
  fetch(`http://127.0.0.1:${port}/__scheduled?cron=${encodeURIComponent('* * * * *')}`).catch((error: unknown) => console.error('worker:dev: cron', error));
}, cronEveryMs);

const stop = () => {
  clearInterval(cron);
  dev.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
dev.on('exit', (code) => {
  clearInterval(cron);
  process.exit(code ?? 0);
});
