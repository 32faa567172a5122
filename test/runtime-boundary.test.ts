import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Shared code runs on Node and, later, on Cloudflare Workers (PRODUCT.md §10,
// STYLE.md "Runtime boundary enforced"): it may not import Node-only modules
// or use Node-only globals. Node work lives in src/entry/ and the adapters,
// passed in as ports. This test is the boundary.
const root = fileURLToPath(new URL('..', import.meta.url));
const sharedRoots = ['src/app.ts', 'src/routes', 'src/services', 'src/web', 'src/http', 'src/lib'];
/** Mail composition is shared; the transports and the sender are Node adapters. */
const sharedMailFiles = ['action-email.ts', 'email-html.ts', 'letter-email.ts', 'markdown-email.ts', 'messages.ts', 'privacy-email.ts', 'update-email.ts'].map((name) => `src/mail/${name}`);

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
  const files = [...sharedRoots.flatMap(sourceFiles), ...sharedMailFiles].filter((path) => /\.(ts|tsx|mts)$/.test(path));

  it('covers the shared code', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(files).toContain('src/services/signatures.ts');
    expect(files).toContain('src/mail/messages.ts');
  });

  it('keeps Node-only modules and globals out of shared code', () => {
    const offenders = files.flatMap((path) => {
      const text = code(readFileSync(join(root, path), 'utf8'));
      const found = [nodeOnlyImport.exec(text)?.[0], nodeGlobal.exec(text)?.[0]].filter(Boolean);
      return found.map((what) => `${relative(root, join(root, path))}: ${what}`);
    });
    expect(offenders).toEqual([]);
  });

  it('would catch an offender (the patterns are not vacuous)', () => {
    expect(nodeOnlyImport.test(code("import { readFileSync } from 'node:fs';"))).toBe(true);
    expect(nodeOnlyImport.test(code("import Database from 'better-sqlite3';"))).toBe(true);
    expect(nodeGlobal.test(code('setImmediate(() => {});'))).toBe(true);
    expect(nodeGlobal.test(code('const b = Buffer.from("x");'))).toBe(true);
    expect(nodeGlobal.test(code('const port = process.env.PORT;'))).toBe(true);
    expect(nodeGlobal.test(code('// the process is described here\nconst x = 1;'))).toBe(false);
    expect(nodeGlobal.test(code('(globalThis as { process?: unknown }).process?.x'))).toBe(false);
  });
});
