// Starts the fixture of this folder: two Signet Workers (the real src/entry/worker.ts, each in
// its own isolate) on one local D1 behind a router Worker, in workerd through `wrangler dev`.
// Used by limits-across-isolates.test.ts and ip-rules.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWranglerDev, wranglerBin, wranglerEnv } from '../../helpers/wrangler-dev.js';

const fixture = 'test/worker/limits-isolates';
/** As in the fixture's signet-a.toml and signet-b.toml. */
export const fixtureAdminToken = 'limits-admin-token-0123456789abcdef';

export type TwoIsolateSignet = {
  /** The router's URL: `${url}/a/…` reaches Signet A, `${url}/b/…` Signet B. */
  url: string;
  output(): string;
  stop(): Promise<void>;
};

/** Bundles the letters, migrates a fresh D1 and starts both Workers (stop() removes the state). */
export async function startTwoIsolateSignet(options: { logLevel?: 'debug' } = {}): Promise<TwoIsolateSignet> {
  const stateDir = mkdtempSync(join(tmpdir(), 'signet-two-isolates-'));
  const persistTo = join(stateDir, 'state');
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bundle-letters.ts'], { stdio: 'ignore' });
  execFileSync(wranglerBin, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo, '--config', `${fixture}/signet-a.toml`], {
    env: wranglerEnv(stateDir),
    stdio: 'ignore',
  });
  const worker = await startWranglerDev({
    config: `${fixture}/router.toml`,
    args: ['--config', `${fixture}/signet-a.toml`, '--config', `${fixture}/signet-b.toml`],
    ...options,
    persistTo,
    timeoutMs: 120_000,
  });
  return {
    url: worker.url,
    output: () => worker.output(),
    async stop() {
      await worker.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
