import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from '../../scripts/build.mjs';
import { distState } from '../../scripts/dist-freshness.mjs';

export const repoRoot = join(import.meta.dirname, '../..');

/** The packages `npm ci --omit=dev` installs, from package-lock.json (top-level folders and nested ones). */
export function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && !entry.dev && !entry.devOptional)
    .map(([path]) => path);
}

/** `npm run build`, unless dist/ is already built from the sources as they are. */
export async function ensureBuilt(): Promise<void> {
  if (distState() !== 'fresh') await build({ quiet: true });
}

/**
 * What a server holds after `npm ci && npm run build && npm prune --omit=dev`, without the
 * minutes an install takes: a copy of dist/, bin/, scripts/, deploy/ and package.json, the
 * shipped migrations/ and letters/, and a node_modules/ with only the production packages
 * (links to the shared install). The compiled server resolves its imports from this folder,
 * so a development package it needed (tsx, esbuild, @scalar/*, hono…) would not be found.
 */
export function productionTree(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'signet-production-'));
  for (const part of ['dist', 'bin', 'scripts', 'deploy', 'package.json']) cpSync(join(repoRoot, part), join(dir, part), { recursive: true, preserveTimestamps: true });
  for (const part of ['migrations', 'letters']) symlinkSync(join(repoRoot, part), join(dir, part));
  for (const path of productionPackages().filter((path) => !path.slice('node_modules/'.length).includes('/node_modules/'))) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    symlinkSync(realpathSync(join(repoRoot, path)), join(dir, path));
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type RunningCommand = { child: ChildProcess; url: string; stdout(): string; stderr(): string; exited: Promise<number | null> };

/** Runs `command args` in `cwd` until its log says it listens (20 s at most). */
export async function startListening(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<RunningCommand> {
  const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')} did not listen:\n${out}\n${err}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"event":"listening".*?"url":"(http:\/\/[^"]+)"/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${out}\n${err}`));
    });
  });
  return { child, url, stdout: () => out, stderr: () => err, exited };
}
