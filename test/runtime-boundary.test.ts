import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Shared code runs on Node and on Cloudflare Workers (PRODUCT.md §10,
// STYLE.md "Runtime folders, not file lists"): it may not import Node-only
// modules or use Node-only globals. The boundary is drawn by folders, never by
// a list of files:
// - a folder named node/ holds Node-only adapters; one named worker/ holds
//   Workers-only adapters (they may use what workerd implements under
//   nodejs_compat: node:crypto's incremental hash, which WebCrypto lacks);
// - src/entry/, src/operations/ and src/cli.ts wire the runtimes and the CLI
//   (what the Worker's entry reaches is checked file by file below);
// - everything else under src/ is shared.
const root = fileURLToPath(new URL('..', import.meta.url));
const wiring = ['src/entry/', 'src/operations/', 'src/cli.ts'];
const folders = (path: string) => path.split('/').slice(0, -1);
const isNodeOnly = (path: string) => folders(path).includes('node');
const isWorkerOnly = (path: string) => folders(path).includes('worker');
const isWiring = (path: string) => wiring.some((prefix) => path === prefix || path.startsWith(prefix));
const isShared = (path: string) => !isNodeOnly(path) && !isWorkerOnly(path) && !isWiring(path);
/** The PDF layout and the Worker adapters use pdfkit (its browser build on Workers), and nothing else of Node's. */
const pdfkitAllowed = (path: string) => path.startsWith('src/letters/pdf/') || isWorkerOnly(path);
/** Worker adapters may use what workerd implements under nodejs_compat: node:crypto's incremental hash (WebCrypto has none). */
const workerdModuleAllowed = (path: string, imported: string) => isWorkerOnly(path) && /['"]node:crypto['"]/.test(imported);

/** Every source file reachable by relative imports from `entry` (what wrangler bundles from it, besides packages). */
function reachableFrom(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const text = code(readFileSync(join(root, path), 'utf8'));
    for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = join(dirname(path), match[1]!);
      const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), `${target}.ts`];
      const found = candidates.find((candidate) => /\.(ts|tsx|mts)$/.test(candidate) && existsSync(join(root, candidate)));
      if (found && !found.startsWith('node_modules') && !found.startsWith('.wrangler')) pending.push(found);
    }
  }
  return [...seen];
}

function sourceFiles(path: string): string[] {
  const full = join(root, path);
  if (statSync(full).isFile()) return [path];
  return readdirSync(full).flatMap((name) => sourceFiles(join(path, name)));
}

const nodeOnlyImport = /\bfrom\s+['"](node:[^'"]+|fs|path|os|crypto|child_process|worker_threads|better-sqlite3|nodemailer|pdfkit|prom-client|smtp-server)['"]|\bimport\(\s*['"](node:|better-sqlite3|nodemailer|pdfkit)/;
/** A use of a Node global (not `.process` on another object, not a type annotation). */
const nodeGlobal = /(?<![.\w$])(setImmediate|Buffer|process|__dirname|require)\s*(\.|\()/;

/** The code without comments, so prose about "the process" does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('the runtime boundary', () => {
  const everything = sourceFiles('src').filter((path) => /\.(ts|tsx|mts|mjs)$/.test(path) && !path.endsWith('.d.ts'));
  const files = everything.filter(isShared);

  it('covers the shared code', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(files).toContain('src/services/signatures.ts');
    expect(files).toContain('src/mail/messages.ts');
  });

  const offendersIn = (paths: string[]) =>
    paths.flatMap((path) => {
      const text = code(readFileSync(join(root, path), 'utf8'));
      const imports = [...text.matchAll(new RegExp(nodeOnlyImport.source, 'g'))].map((match) => match[0]);
      const refused = imports.filter((imported) => !((pdfkitAllowed(path) && /['"]pdfkit['"]/.test(imported)) || workerdModuleAllowed(path, imported)));
      const found = [...refused, nodeGlobal.exec(text)?.[0]].filter(Boolean);
      return found.map((what) => `${relative(root, join(root, path))}: ${what}`);
    });

  it('keeps Node-only modules and globals out of shared code', () => {
    expect(offendersIn(files)).toEqual([]);
  });

  it('has the Node adapters in node/ folders and the Worker adapters in worker/ folders', () => {
    // Every file outside the wiring that needs Node, and every Node adapter the tree knows of, is in a node/ folder.
    const adapters = everything.filter((path) => !isWiring(path));
    expect(offendersIn(adapters.filter((path) => !isNodeOnly(path)))).toEqual([]);
    for (const path of ['src/db/node/better-sqlite3.ts', 'src/mail/node/smtp-transport.ts', 'src/mail/node/file-transport.ts', 'src/outbox/node/outbox-sender.ts', 'src/letters/node/render-pool.ts']) expect(adapters).toContain(path);
    for (const path of ['src/mail/worker/worker-smtp-transport.ts', 'src/outbox/worker/outbox-queue.ts', 'src/letters/worker/worker-letter-ports.ts']) expect(adapters).toContain(path);
  });

  it('keeps them out of everything the Worker entry reaches', () => {
    const bundled = reachableFrom('src/entry/worker.ts');
    // The walk follows imports: the app, the services, the D1 adapter, the outbox, letters and mail for Workers.
    for (const path of ['src/app.ts', 'src/services/signatures.ts', 'src/db/d1.ts', 'src/outbox/deliver.ts', 'src/letters/pdf/pdf-letter.ts', 'src/mail/worker/worker-smtp-transport.ts']) expect(bundled).toContain(path);
    expect(bundled.filter(isNodeOnly)).toEqual([]);
    expect(offendersIn(bundled)).toEqual([]);
  });

  it('would catch an offender (the patterns are not vacuous)', () => {
    expect(nodeOnlyImport.test(code("import { readFileSync } from 'node:fs';"))).toBe(true);
    expect(nodeOnlyImport.test(code("import Database from 'better-sqlite3';"))).toBe(true);
    expect(nodeOnlyImport.test(code("import type { Readable } from 'node:stream';"))).toBe(true);
    expect(nodeGlobal.test(code('setImmediate(() => {});'))).toBe(true);
    expect(nodeGlobal.test(code('const b = Buffer.from("x");'))).toBe(true);
    expect(nodeGlobal.test(code('const port = process.env.PORT;'))).toBe(true);
    expect(nodeGlobal.test(code('// the process is described here\nconst x = 1;'))).toBe(false);
    expect(nodeGlobal.test(code('(globalThis as { process?: unknown }).process?.x'))).toBe(false);
  });
});
