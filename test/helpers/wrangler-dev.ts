import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const wranglerBin = join(root, 'node_modules/.bin/wrangler');

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** What wrangler needs to run offline and quietly (no metrics, no update check, logs in the temp dir). */
export function wranglerEnv(stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: stateDir,
    XDG_CONFIG_HOME: join(stateDir, 'config'),
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_LOG_PATH: join(stateDir, 'logs'),
    CLOUDFLARE_API_TOKEN: '',
    NO_COLOR: '1',
    CI: 'true',
    ...extra,
  };
}

/** Stops a child (SIGTERM, SIGKILL after 5 s) and removes its temporary state directory. */
export function stopChild(child: ChildProcess, stateDir: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      rmSync(stateDir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', done);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

export type WranglerDev = {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
};

export type WranglerDevOptions = {
  /** The wrangler config file, relative to the repository root. */
  config: string;
  /** `--var` values (strings). */
  vars?: Record<string, string>;
  /** Where local D1/R2/queue state is kept; a fresh temp dir by default (removed at stop). */
  persistTo?: string;
  /** wrangler's log level (default info, which hides the console.log of Workers other than the first config's). */
  logLevel?: 'info' | 'debug';
  /** Extra arguments, e.g. `--test-scheduled`. */
  args?: string[];
  timeoutMs?: number;
};

/**
 * Runs `wrangler dev --local` (workerd, Miniflare's local D1, R2 and queues)
 * on a free port on 127.0.0.1 and resolves once it answers HTTP.
 */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const stateDir = mkdtempSync(join(tmpdir(), 'signet-wrangler-'));
  const port = await freePort();
  const inspectorPort = await freePort();
  const vars = Object.entries(options.vars ?? {}).flatMap(([key, value]) => ['--var', `${key}:${value}`]);
  const args = [
    'dev',
    '--config', options.config,
    '--local',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--inspector-port', String(inspectorPort),
    '--persist-to', options.persistTo ?? join(stateDir, 'state'),
    '--show-interactive-dev-session=false',
    '--log-level', options.logLevel ?? 'info',
    ...vars,
    ...(options.args ?? []),
  ];
  const child = spawn(wranglerBin, args, { cwd: root, env: wranglerEnv(stateDir), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child, stateDir);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output}`);
    if (/Ready on http/.test(output)) {
      try {
        await fetch(`${url}/__signet_probe_never_a_route`);
        return { url, child, output: () => output, stop };
      } catch {
        // Not listening yet.
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
