import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Shared code runs on Node and on Cloudflare Workers (PRODUCT.md §10,
// STYLE.md "Runtime boundary enforced"): it may not import Node-only modules
// or use Node-only globals. Node work lives in src/entry/ and the adapters,
// passed in as ports. This test is the boundary: the shared folders by name,
// and every file the Worker's entry reaches.
const root = fileURLToPath(new URL('..', import.meta.url));
const sharedRoots = ['src/app.ts', 'src/routes', 'src/services', 'src/web', 'src/http', 'src/lib', 'src/outbox', 'src/mail', 'src/markdown', 'src/letters/template'];
/** The PDF layout and the Worker's letter adapters use pdfkit (its browser build on Workers), and nothing else of Node's. */
const pdfkitAllowed = (path: string) => path.startsWith('src/letters/pdf/') || path.startsWith('src/letters/worker/');
/** Worker adapters may use what workerd implements under nodejs_compat: node:crypto's incremental hash (WebCrypto has none). */
const workerdModuleAllowed = (path: string, imported: string) => path.startsWith('src/letters/worker/') && /['"]node:crypto['"]/.test(imported);

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
  if (path.split('/').at(-1) === 'node') return [];
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
  const files = sharedRoots.flatMap(sourceFiles).filter((path) => /\.(ts|tsx|mts)$/.test(path));

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

  it('keeps them out of everything the Worker entry reaches', () => {
    const bundled = reachableFrom('src/entry/worker.ts');
    // The walk follows imports: the app, the services, the D1 adapter, the outbox, letters and mail for Workers.
    for (const path of ['src/app.ts', 'src/services/signatures.ts', 'src/db/d1.ts', 'src/outbox/deliver.ts', 'src/letters/pdf/pdf-letter.ts', 'src/mail/worker/worker-smtp-transport.ts']) expect(bundled).toContain(path);
    expect(bundled.some((path) => path.startsWith('src/letters/node/') || path === 'src/db/better-sqlite3.ts' || path === 'src/mail/node/smtp-transport.ts')).toBe(false);
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
