/**
 * Street signatures benchmark (issue #21): importing 100,000 typed-up paper rows through
 * `POST /api/v1/campaigns/:slug/signatures/import` of the real `signet serve` on 127.0.0.1, as
 * one CSV (about 9 MB): the dry run, then the import (one transaction). Each run starts a fresh
 * server on a fresh database, so the server's peak RSS (VmHWM from /proc) belongs to that run.
 *
 * The baseline, measured in the same run: the same rows inserted by a plain better-sqlite3
 * prepared statement in one transaction into a table of the same columns (the floor any import
 * of these rows into SQLite pays), in this process.
 *
 *   npx tsx bench/paper-import.ts                 # 100,000 rows, 3 runs
 *   npx tsx bench/paper-import.ts --rows 20000 --runs 1
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { csvRow } from '../src/lib/csv.js';
import { saveBenchOrganisation, startBenchServer } from './server.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, runs: { type: 'string', default: '3' } } });
const rowCount = Number(values.rows);
const runs = Number(values.runs);
const adminToken = 'bench-admin-token-0123456789abcdef';

// A deterministic mix like a season of street events: Japanese and Latin names, a third named in
// full, a third by initials, a third counted only; one row in ten without an address, one in fifty
// repeating an earlier address, one in a thousand with a mistake.
const family = ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村', 'Smith', 'Kim', 'Nguyen', 'Garcia'];
const given = ['花子', '太郎', 'さくら', '健一', 'Anna', 'Min-jun', 'Linh', 'Jose'];
const regions = ['東京都', 'JP-27', 'Kanagawa', 'JP-01', '福岡県', 'JP-26'];
function csv(): string {
  const lines = [csvRow(['name', 'email', 'region', 'city', 'name_on_letter', 'show_publicly', 'updates', 'collected_at'])];
  for (let i = 1; i <= rowCount; i++) {
    const email = i % 10 === 0 ? '' : i % 50 === 1 && i > 1 ? `supporter${i - 49}@example.org` : `supporter${i}@example.org`;
    lines.push(
      csvRow([
        i % 1000 === 500 ? '' : `${family[i % family.length]} ${given[i % given.length]}`,
        email,
        regions[i % regions.length],
        i % 3 === 0 ? 'Setagaya' : '',
        ['full', 'initials', ''][i % 3],
        i % 4 === 0 ? 'yes' : '',
        i % 5 === 0 ? 'yes' : 'no',
        '2026-11-28',
      ]),
    );
  }
  return lines.join('');
}

/** The floor: the same values through one prepared INSERT in one transaction. */
function baseline(body: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'signet-paper-floor-'));
  try {
    const db = new BetterSqlite3(join(dir, 'floor.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE s (id TEXT PRIMARY KEY, name TEXT, email TEXT, key TEXT UNIQUE, region TEXT, city TEXT, name_on_letter TEXT, show_publicly INTEGER, updates INTEGER, day TEXT)');
    const insert = db.prepare('INSERT INTO s VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING');
    const started = performance.now();
    const rows = body.split('\r\n').slice(1, -1).map((line) => line.split(','));
    db.transaction(() => {
      rows.forEach((cells, i) => insert.run(String(i), cells[0], cells[1], cells[1] || `paper:${i}`, cells[2], cells[3], cells[4] || 'none', cells[5] === 'yes' ? 1 : 0, cells[6] === 'yes' ? 1 : 0, cells[7]));
    })();
    const ms = performance.now() - started;
    db.close();
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function serverPid(url: string): Promise<number> {
  // The bench server is the only process listening on its port; find it through /proc/net is overkill: ask ss.
  const { execFileSync } = await import('node:child_process');
  const port = new URL(url).port;
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  return Number(/pid=(\d+)/.exec(out)![1]);
}

async function oneRun(body: string) {
  const dir = mkdtempSync(join(tmpdir(), 'signet-paper-bench-'));
  const server = await startBenchServer({ DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir, ADMIN_TOKEN: adminToken, PUBLIC_URL: 'http://127.0.0.1', MAIL_FROM: 'Signet <no-reply@example.org>', MAIL_SENDER: 'off' });
  try {
    await saveBenchOrganisation(server.url, adminToken);
    const organiser = { authorization: `Bearer ${adminToken}` };
    const created = await fetch(`${server.url}/api/v1/campaigns`, { method: 'POST', headers: { ...organiser, 'content-type': 'application/json' }, body: JSON.stringify({ slug: 'street', title: '街頭署名', locale: 'ja', timeZone: 'Asia/Tokyo' }) });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
    const pid = await serverPid(server.url);
    const rssBefore = peakRssMb(pid);
    const post = async (query: string) => {
      const started = performance.now();
      const res = await fetch(`${server.url}/api/v1/campaigns/street/signatures/import?country=JP&event=bench&skipInvalid=true${query}`, { method: 'POST', headers: { ...organiser, 'content-type': 'text/csv' }, body });
      const report = (await res.json()) as { imported: number; merged: number; rejectedCount: number };
      const ms = performance.now() - started;
      if (res.status !== 200 && res.status !== 201) throw new Error(`import: ${res.status} ${JSON.stringify(report)}`);
      return { ms, report };
    };
    const dry = await post('&dryRun=true');
    const real = await post('');
    return { dryMs: dry.ms, importMs: real.ms, report: real.report, rssBefore, rssPeak: peakRssMb(pid) };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const body = csv();
console.log(`${rowCount.toLocaleString('en')} rows, ${(Buffer.byteLength(body) / 1024 / 1024).toFixed(1)} MB of CSV; ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (let run = 1; run <= runs; run++) {
  const floorMs = baseline(body);
  const result = await oneRun(body);
  console.log(
    `run ${run}: dry run ${result.dryMs.toFixed(0)} ms, import ${result.importMs.toFixed(0)} ms (${Math.round(rowCount / (result.importMs / 1000)).toLocaleString('en')} rows/s; imported ${result.report.imported}, merged ${result.report.merged}, rejected ${result.report.rejectedCount}); ` +
      `baseline ${floorMs.toFixed(0)} ms (import = ${(result.importMs / floorMs).toFixed(1)} × baseline); server peak RSS ${result.rssPeak.toFixed(0)} MB (${result.rssBefore.toFixed(0)} MB before)`,
  );
}
console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
