#!/usr/bin/env node
// The CLI in this very process, so SIGTERM and SIGINT reach the server whoever sends them
// (systemd, a terminal, `kill` of `npm start`). It runs the compiled dist/node/cli.js, building
// it first when it is missing or older than src/ (which needs the development dependencies).
import { build } from '../scripts/build.mjs';
import { distState } from '../scripts/dist-freshness.mjs';

const state = distState();
if (state !== 'fresh') {
  try {
    await build();
  } catch (error) {
    const why = state === 'stale' ? 'dist/ is older than src/' : 'dist/ has not been built';
    process.stderr.write(`signet: ${why}, and building it failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
await import('../dist/node/cli.js');
