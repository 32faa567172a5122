import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopChild, wranglerEnv } from './wrangler-dev.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

export type WorkerDevProcess = {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Fires the cron trigger now (what worker:dev does every minute) and resolves when it has run. */
  tick: () => Promise<void>;
  stop: () => Promise<void>;
};

/**
 * Runs `npm run worker:dev` as a user would (scripts/worker-dev.ts: local D1
 * migrated, wrangler dev --local on 127.0.0.1) with the given settings in its
 * environment and fresh local state, and resolves once the Worker answers.
 */
export async function startWorkerDevProcess(settings: Record<string, string>): Promise<WorkerDevProcess> {
  const stateDir = mkdtempSync(join(tmpdir(), 'signet-worker-dev-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/worker-dev.ts'), '--inspector-port', String(await freePort())], {
    cwd: root,
    env: wranglerEnv(stateDir, {
      PORT: String(port),
      WRANGLER_PERSIST_TO: join(stateDir, 'state'),
      // The tests fire the cron themselves (tick), so its timing is theirs.
      WORKER_DEV_CRON_MS: '3600000',
      ...settings,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child, stateDir);
  const tick = async () => {
    const response = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
    if (!response.ok) throw new Error(`cron trigger answered ${response.status}: ${await response.text()}`);
  };
  const deadline = Date.now() + 90_000;
  while (!/worker:dev: Signet \(Worker\) on/.test(output)) {
    if (child.exitCode !== null) throw new Error(`worker:dev exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`worker:dev did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, child, output: () => output, tick, stop };
}
