/**
 * Letter rendering in workerd (PRODUCT.md §10): the fixture Worker in test/worker/letters-probe/
 * under `wrangler dev --local` renders the embassy petition with N mixed-script names (Japanese,
 * Korean, Simplified and Traditional Chinese, Latin) and uploads it to (Miniflare's) R2.
 *
 *   npx tsx bench/worker-letters.ts                     # 1,000 and 5,000 names, 5 runs each
 *   npx tsx bench/worker-letters.ts --names 20000 --runs 3
 *
 * Per size it prints: wall time seen from Node (request to response, which includes the upload to
 * R2), the Worker's own Date.now() delta (workerd advances its clocks only on I/O, so this is
 * the time up to the last upload), the CPU time of the workerd process during the request (from
 * /proc: every thread, so R2's local simulation and GC are included: an upper bound of the
 * Worker's CPU time), workerd's resident memory after the run, and the same letter rendered by
 * Node in this process for comparison. The first request of the run is reported apart: it pays
 * for reading the font files from R2 (where the bench puts them first, with scripts/upload-fonts.ts)
 * and parsing them.
 *
 * It also asks the Worker's V8 isolate for its heap through wrangler's inspector: the JS heap and
 * the ArrayBuffer backing stores, which together meet Cloudflare's 128 MB per isolate. That takes
 * the `ws` package that wrangler installs (wrangler's inspector refuses Node's own WebSocket).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { uploadLocalFonts } from '../scripts/upload-fonts.js';
import { loadOrganisation, loadTemplate, renderLetter } from '../src/letters/node/index.js';
import { startWranglerDev, wranglerEnv, type WranglerDev } from '../test/helpers/wrangler-dev.js';
import { probeLetterInput } from '../test/worker/letters-probe/probe-letter.js';

const { values } = parseArgs({
  options: {
    names: { type: 'string', multiple: true },
    runs: { type: 'string', default: '5' },
  },
});
const sizes = (values.names ?? ['1000', '5000']).map(Number);
const runs = Number(values.runs);
const lettersDir = fileURLToPath(new URL('../letters', import.meta.url));

/** Every process below `root` (wrangler starts workerd as its child or grandchild). */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended meanwhile.
    }
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const [child, parent] of parents) {
      if (parent === pid) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(root);
  return found;
}

const command = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

/** CPU time of every thread of a process, in ms (schedstat: nanoseconds on the CPU). */
function cpuMs(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return total / 1e6;
}

function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

type Sample = { wallMs: number; dateNowMs: number; cpuMs: number; pages: number; bytes: number };

/** wrangler dev runs two workerd processes (its proxy and the Worker): CPU is summed over both, memory is the larger one's. */
type Workerd = { cpuMs(): number; memoryMb(): { rss: number; peak: number } };

function findWorkerd(wranglerPid: number): Workerd {
  const pids = descendants(wranglerPid).filter((pid) => command(pid) === 'workerd');
  if (pids.length === 0) throw new Error('workerd not found among the processes wrangler started');
  return {
    cpuMs: () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0),
    memoryMb: () => pids.map(memoryMb).reduce((largest, memory) => (memory.rss > largest.rss ? memory : largest)),
  };
}

async function renderOnce(worker: WranglerDev, workerd: Workerd, names: number): Promise<Sample> {
  const cpuBefore = workerd.cpuMs();
  const started = performance.now();
  const response = await fetch(`${worker.url}/render?names=${names}`, { method: 'POST' });
  const body = (await response.json()) as { result: { pages: number; bytes: number }; timing: { dateNowMs: number } };
  const wallMs = performance.now() - started;
  if (response.status !== 200) throw new Error(`the probe answered ${response.status}: ${JSON.stringify(body)}`);
  return { wallMs, dateNowMs: body.timing.dateNowMs, cpuMs: workerd.cpuMs() - cpuBefore, pages: body.result.pages, bytes: body.result.bytes };
}

type HeapUsage = { usedSize: number; totalSize: number; backingStorageSize: number };

type InspectorSocket = {
  on(event: 'open' | 'error' | 'message', listener: (data: unknown) => void): void;
  send(text: string): void;
};

/** The isolate's heap through the DevTools protocol on wrangler's inspector port, or null without the `ws` package. */
async function isolateHeap(worker: WranglerDev): Promise<(() => Promise<HeapUsage>) | null> {
  let Socket: new (url: string) => InspectorSocket;
  try {
    Socket = createRequire(import.meta.url)('ws') as typeof Socket;
  } catch {
    return null;
  }
  const args = worker.child.spawnargs;
  const port = args[args.indexOf('--inspector-port') + 1];
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new Socket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.on('open', resolve);
    socket.on('error', reject);
  });
  let id = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  return () =>
    new Promise<HeapUsage>((resolve) => {
      const call = ++id;
      waiting.set(call, (result) => resolve(result as HeapUsage));
      socket.send(JSON.stringify({ id: call, method: 'Runtime.getHeapUsage' }));
    });
}

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
const heapText = (heap: HeapUsage | null) =>
  heap ? `; isolate JS heap ${mb(heap.usedSize)} MB used of ${mb(heap.totalSize)} MB, ArrayBuffers ${mb(heap.backingStorageSize)} MB` : '';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number) => Math.round(value);

async function nodeWallMs(names: number): Promise<number> {
  const input = probeLetterInput(await loadTemplate(lettersDir, 'embassy-petition', 'ja'), await loadOrganisation(lettersDir), names);
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-'));
  try {
    const started = performance.now();
    await renderLetter(input, join(dir, 'letter.pdf'), { createdAt: input.date });
    return performance.now() - started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { mkdtempSync: makeTempDir, rmSync: removeDir } = await import('node:fs');
const { tmpdir: tempRoot } = await import('node:os');
const stateDir = makeTempDir(join(tempRoot(), 'signet-bench-worker-'));
const persistTo = join(stateDir, 'state');
uploadLocalFonts(persistTo, { bucket: 'signet-letters-probe', env: wranglerEnv(stateDir), quiet: true });
const worker = await startWranglerDev({ config: 'test/worker/letters-probe/wrangler.toml', persistTo, timeoutMs: 180_000 });
try {
  const workerd = findWorkerd(worker.child.pid!);
  const heap = await isolateHeap(worker);
  const idle = workerd.memoryMb();
  console.log(`workerd idle: ${idle.rss} MB resident${heapText(heap && (await heap()))}`);
  const first = await renderOnce(worker, workerd, sizes[0]!);
  console.log(
    `first request (${sizes[0]} names, reads the fonts from R2 and parses them): wall ${round(first.wallMs)} ms, Date.now ${first.dateNowMs} ms, CPU ${round(first.cpuMs)} ms; workerd ${workerd.memoryMb().rss} MB resident${heapText(heap && (await heap()))}`,
  );
  if (!heap) console.log('(no isolate heap figures: the ws package is not installed)');
  await nodeWallMs(10); // Node's first letter parses its fonts too.
  for (const names of sizes) {
    const samples: Sample[] = [];
    for (let run = 0; run < runs; run++) samples.push(await renderOnce(worker, workerd, names));
    const node: number[] = [];
    for (let run = 0; run < runs; run++) node.push(await nodeWallMs(names));
    const memory = workerd.memoryMb();
    const { pages, bytes } = samples[0]!;
    console.log(
      `${names} names (${pages} pages, ${(bytes / 1e6).toFixed(2)} MB), median of ${runs}: ` +
        `workerd wall ${round(median(samples.map((s) => s.wallMs)))} ms, Date.now ${round(median(samples.map((s) => s.dateNowMs)))} ms, ` +
        `CPU ${round(median(samples.map((s) => s.cpuMs)))} ms; workerd ${memory.rss} MB resident (peak ${memory.peak} MB); ` +
        `Node in process ${round(median(node))} ms${heapText(heap && (await heap()))}`,
    );
  }
} finally {
  await worker.stop();
  removeDir(stateDir, { recursive: true, force: true });
}
