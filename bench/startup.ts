/**
 * Start-up time and idle memory of the Node server (PRODUCT.md §14: first `200` on /healthz
 * ≤ 0.5 s after start, idle RSS ≤ 120 MB).
 *
 *   npx tsx bench/startup.ts [--runs 5] [--idle-seconds 10] [--command "node bin/signet.js serve"]
 *
 * Each run starts the command on a fresh temporary DATA_DIR on 127.0.0.1 ("cold": the key file is
 * made and every migration applied), stops it with SIGTERM, starts it again on the same database
 * ("warm": an upgrade's or a reboot's start) and measures, for each start, the time from spawn to
 * the first `200` on GET /healthz (polled every 5 ms). After the warm start the server stays idle
 * for --idle-seconds and the resident memory of the whole process tree (the command and its
 * descendants: npm's and tsx's wrappers count, a service runs them too) is read from /proc.
 * Also reported: how long SIGTERM takes to stop the tree. Medians over the runs.
 *
 * Compare `--command "npx tsx src/cli.ts serve"` (how `npm start` ran before issue #20) with the
 * default (what `npm start` runs now) and `--command "npm start"` (with npm's wrapper).
 * Another Node version: `--command "/path/to/node /path/to/tree/bin/signet.js serve"`, where the
 * tree is a production install made with that Node (better-sqlite3 is built for one version); the
 * `node` reported is then that binary's version.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'idle-seconds': { type: 'string', default: '10' },
    command: { type: 'string', default: 'node bin/signet.js serve' },
  },
});
const runs = Number(values.runs);
const idleMs = Number(values['idle-seconds']) * 1000;
const command = values.command!;
const [program] = command.split(/\s+/);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The pid and all its descendants, from /proc. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process ended while the table was read.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

function rssMegabytes(pids: number[]): number {
  let kilobytes = 0;
  for (const pid of pids) {
    try {
      kilobytes += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Gone already.
    }
  }
  return kilobytes / 1024;
}

async function start(dir: string, port: number): Promise<{ child: ChildProcess; firstOkMs: number }> {
  const started = performance.now();
  const args = command.split(/\s+/).slice(1);
  const child = spawn(program!, args, {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, DATA_DIR: dir, DATABASE_PATH: join(dir, 'signet.db'), LOG_LEVEL: 'warn' },
  });
  const deadline = started + 60_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode} before answering`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.status === 200) return { child, firstOkMs: performance.now() - started };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  child.kill('SIGKILL');
  throw new Error(`${command} did not answer within 60 s`);
}

/** SIGTERM to the command's own process, as `kill` or systemd would send it; the time until every process of its tree is gone. */
async function stop(child: ChildProcess): Promise<number> {
  const tree = processTree(child.pid!);
  const started = performance.now();
  child.kill('SIGTERM');
  while (tree.some((pid) => readdirSync('/proc').includes(String(pid)))) {
    if (performance.now() - started > 10_000) {
      for (const pid of tree) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      return Number.POSITIVE_INFINITY;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
const cold: number[] = [];
const warm: number[] = [];
const rss: number[] = [];
const stops: number[] = [];
const processes: number[] = [];
for (let run = 0; run < runs; run++) {
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-startup-'));
  try {
    const port = await freePort();
    const first = await start(dir, port);
    cold.push(first.firstOkMs);
    await stop(first.child);
    const second = await start(dir, port);
    warm.push(second.firstOkMs);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const tree = processTree(second.child.pid!);
    processes.push(tree.length);
    rss.push(rssMegabytes(tree));
    stops.push(await stop(second.child));
    process.stderr.write(`run ${run + 1}: cold ${cold.at(-1)!.toFixed(0)} ms, warm ${warm.at(-1)!.toFixed(0)} ms, idle RSS ${rss.at(-1)!.toFixed(0)} MB (${tree.length} processes), SIGTERM ${stops.at(-1)!.toFixed(0)} ms\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(
  JSON.stringify(
    {
      command,
      runs,
      firstOkColdMs: Math.round(median(cold)),
      firstOkWarmMs: Math.round(median(warm)),
      idleRssMb: Math.round(median(rss)),
      processes: median(processes),
      sigtermStopMs: Math.round(median(stops)),
      // The Node that ran the command (`--command "/path/to/node …"` for another version), else the bench's own.
      node: basename(program!) === 'node' ? spawnSync(program!, ['--version'], { encoding: 'utf8' }).stdout.trim() : process.version,
    },
    null,
    2,
  ),
);
