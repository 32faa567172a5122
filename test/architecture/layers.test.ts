import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layers of src/ (STYLE.md "Dependencies point one way"; issue #19): a file
// may import its own layer or a lower one, never a higher one, and no chain of
// imports may come back to where it started (type-only imports count too: a
// type circle still ties two files together). Every folder of src/ has a layer,
// so a new one has to be placed here before it can be imported.
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Highest first. Paths are files or folders under src/. */
export const layers: readonly (readonly string[])[] = [
  // The wiring: the runtimes' entries, the CLI and its operations, the settings they read.
  ['src/entry', 'src/cli.ts', 'src/operations', 'src/config.ts'],
  // The one Hono app every runtime serves.
  ['src/app.ts'],
  // HTTP: routers, pages, middleware.
  ['src/routes', 'src/web', 'src/http'],
  // The verbs, HTTP-free.
  ['src/services'],
  // Ports and adapters grouped by capability.
  ['src/outbox', 'src/mail', 'src/letters', 'src/jobs', 'src/printing', 'src/metrics', 'src/markdown'],
  // The database and the pure helpers.
  ['src/db', 'src/lib'],
];

export function layerOf(path: string): number | undefined {
  const index = layers.findIndex((paths) => paths.some((place) => path === place || path.startsWith(`${place}/`)));
  return index === -1 ? undefined : index;
}

function sourceFiles(path: string): string[] {
  const full = join(root, path);
  if (statSync(full).isFile()) return /\.(ts|tsx|mts|mjs)$/.test(path) && !path.endsWith('.d.ts') ? [path] : [];
  return readdirSync(full).flatMap((name) => sourceFiles(join(path, name)));
}

/** The code without comments, so an example in prose is not an import. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every relative module a file imports or re-exports, statically or dynamically, types included. */
export function importedSpecifiers(text: string): string[] {
  const pattern = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  return [...code(text).matchAll(pattern)].map((match) => (match[1] ?? match[2])!);
}

function resolve(from: string, specifier: string): string | undefined {
  const base = join(dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((candidate) => existsSync(join(root, candidate)) && statSync(join(root, candidate)).isFile());
}

/** File → the source files it imports (outside src/, e.g. the generated letters bundle, is left out). */
export function importGraph(files: readonly string[], read: (path: string) => string): Map<string, string[]> {
  return new Map(
    files.map((file) => [
      file,
      importedSpecifiers(read(file))
        .map((specifier) => resolve(file, specifier))
        .filter((target): target is string => target !== undefined && target.startsWith('src/')),
    ]),
  );
}

export function upwardImports(graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([file, targets]) =>
    targets.filter((target) => (layerOf(target) ?? Infinity) < (layerOf(file) ?? -1)).map((target) => `${file} -> ${target}`),
  );
}

/** The strongly connected components of more than one file (Tarjan), each a circle of imports. */
export function importCircles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || (graph.get(file) ?? []).includes(file)) circles.push(component.sort());
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return circles;
}

describe('the layers of src/', () => {
  const files = sourceFiles('src');
  const graph = importGraph(files, (path) => readFileSync(join(root, path), 'utf8'));

  it('places every source file in a layer', () => {
    expect(files.length).toBeGreaterThan(250);
    expect(files.filter((file) => layerOf(file) === undefined)).toEqual([]);
  });

  it('has no import from a lower layer to a higher one', () => {
    expect([...graph.values()].flat().length).toBeGreaterThan(1000);
    expect(upwardImports(graph)).toEqual([]);
  });

  it('has no import circle', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('would catch an upward import and a circle (the checks are not vacuous)', () => {
    expect(importedSpecifiers("import type { A } from './a.js';\nexport { b } from '../b.js';\nconst c = await import('./c.js');\nimport './d.js';")).toEqual(['./a.js', '../b.js', './c.js', './d.js']);
    expect(importedSpecifiers("// import { x } from './commented.js';\nconst s = 'from \"./string.js\"';")).toEqual([]);
    const sample = new Map([
      ['src/lib/clock.ts', ['src/services/context.ts']],
      ['src/services/context.ts', ['src/lib/clock.ts']],
      ['src/services/signatures.ts', ['src/lib/clock.ts']],
    ]);
    expect(upwardImports(sample)).toEqual(['src/lib/clock.ts -> src/services/context.ts']);
    expect(importCircles(sample)).toEqual([['src/lib/clock.ts', 'src/services/context.ts']]);
  });
});
