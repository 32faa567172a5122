// `npm run build`: compiles the Node server into dist/node/ with esbuild (a development
// dependency), so production runs plain JavaScript and needs neither tsx nor TypeScript.
// Plain JavaScript itself, so `npm start` can run it before anything is compiled.
//
//   dist/node/cli.js                          the CLI and server (src/cli.ts)
//   dist/node/*-<hash>.js                     what cli.js imports only when first needed (the PDF and
//                                             card code: pdfkit, fontkit and resvg load with it, not at start)
//   dist/node/render-worker-bootstrap.mjs     the letter render thread (src/letters/node/render-worker.ts),
//                                             under the name the render pool starts next to its own code
//   dist/node/sqlite-writer.worker.mjs        the SQLite write thread (plain JavaScript, copied)
//   dist/node/api-reference/                  the API reference's browser bundle and its version, so
//                                             `@scalar/*` is needed at build time only
//   dist/node/fonts/                          the ten Noto faces letters and cards use (57 MB), so the
//                                             @expo-google-fonts packages (270 MB) are needed at build time only
//
// Packages are bundled in (one file loads much faster than hundreds of modules), except the
// package.json "dependencies": those are what the compiled server loads from node_modules, because
// they must stay files there (better-sqlite3 is a native addon, pdfkit and fontkit read data files
// beside their code, the Noto fonts and resvg's WebAssembly are found with require.resolve).
// Everything else is a development dependency: `npm prune --omit=dev` after a build leaves a
// server that runs.
// dist/node/ is two levels under the project root, as src/entry/ is: paths the code finds
// relative to its own file (migrations/, letters/) are the same from either.
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { builtStamp, projectRoot } from './dist-freshness.mjs';

export const outDir = join(projectRoot, 'dist', 'node');

/** Bare module name → package name (`@scope/name/sub` → `@scope/name`). */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function apiReferenceBundle(require) {
  const entry = require.resolve('@scalar/api-reference');
  let folder = dirname(entry);
  while (!readFileSafe(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
  return { version: manifest.version, path: join(folder, 'dist', 'browser', 'standalone.js') };
}

/** The package files of the letter faces, as src/letters/pdf/face-files.ts lists them. */
function fontPackageFiles() {
  const source = readFileSync(join(projectRoot, 'src/letters/pdf/face-files.ts'), 'utf8');
  const files = [...source.matchAll(/'(@expo-google-fonts\/[^']+\.ttf)'/g)].map((match) => match[1]);
  if (files.length === 0) throw new Error('no font files found in src/letters/pdf/face-files.ts');
  return files;
}

function readFileSafe(path) {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

/**
 * Compiles src/ into dist/node/. The files are made in a folder beside it and swapped in at the
 * end, so a server running from dist/node/ never starts a thread from a half-written build, and a
 * build that fails leaves dist/ as it was.
 */
export async function build({ quiet = false } = {}) {
  const require = createRequire(join(projectRoot, 'package.json'));
  let esbuild;
  try {
    esbuild = await import(pathToFileURL(require.resolve('esbuild')).href);
  } catch {
    throw new Error('dist/ must be built, and esbuild (a development dependency) is not installed: run `npm ci` then `npm run build`.');
  }
  const manifest = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
  const keptInNodeModules = new Set(Object.keys(manifest.dependencies ?? {}));
  const started = performance.now();
  const staging = `${outDir}.${process.pid}.new`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const common = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    legalComments: 'none',
    // V8 keeps each script's source in memory for the process's life, as UTF-16 when one character
    // is not Latin-1: the comments (Japanese among them) made cli.js's 4.8 MB a 9.7 MB string.
    // Whitespace and comments go, names stay (stack traces stay readable; the source map maps them).
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    // Bundled CommonJS packages call require() for Node's modules; an ES module has none of its own.
    banner: { js: "import { createRequire as __signetCreateRequire } from 'node:module'; const require = __signetCreateRequire(import.meta.url);" },
    tsconfig: join(projectRoot, 'tsconfig.json'),
    plugins: [
      {
        name: 'files-stay-in-node-modules',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith('node:')) return { path: args.path, external: true };
            return keptInNodeModules.has(packageName(args.path)) ? { path: args.path, external: true } : undefined;
          });
        },
      },
    ],
  };
  // Split at the sources' dynamic import()s: in one file the packages that a lazily loaded module
  // imports (pdfkit, fontkit, resvg) would be imported when cli.js loads, 29 MB and 0.1-0.5 s on
  // Node 24 for a server that renders on its render threads. Chunks sit beside cli.js, so paths
  // found from import.meta.url are the same from every file.
  await esbuild.build({ ...common, entryPoints: { cli: join(projectRoot, 'src/cli.ts') }, outdir: staging, splitting: true, chunkNames: '[name]-[hash]' });
  await esbuild.build({
    ...common,
    entryPoints: [join(projectRoot, 'src/letters/node/render-worker.ts')],
    outfile: join(staging, 'render-worker-bootstrap.mjs'),
  });
  copyFileSync(join(projectRoot, 'src/db/node/sqlite-writer.worker.mjs'), join(staging, 'sqlite-writer.worker.mjs'));
  const reference = apiReferenceBundle(require);
  mkdirSync(join(staging, 'api-reference'), { recursive: true });
  copyFileSync(reference.path, join(staging, 'api-reference', 'standalone.js'));
  writeFileSync(join(staging, 'api-reference', 'version.json'), `${JSON.stringify({ name: '@scalar/api-reference', version: reference.version })}\n`);
  mkdirSync(join(staging, 'fonts'));
  for (const file of fontPackageFiles()) copyFileSync(require.resolve(file), join(staging, 'fonts', basename(file)));
  writeFileSync(join(staging, basename(builtStamp)), `${new Date().toISOString()}\n`);
  const previous = `${outDir}.${process.pid}.old`;
  rmSync(previous, { recursive: true, force: true });
  try {
    renameSync(outDir, previous);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  try {
    renameSync(staging, outDir);
  } catch (error) {
    // Another build of the same sources (a second `npm start`, a parallel test) swapped its own in first.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    rmSync(staging, { recursive: true, force: true });
  }
  rmSync(previous, { recursive: true, force: true });
  if (!quiet) process.stderr.write(`signet: built dist/node in ${Math.round(performance.now() - started)} ms\n`);
}

if (resolve(fileURLToPath(import.meta.url)) === resolve(process.argv[1] ?? '')) {
  build().catch((error) => {
    process.stderr.write(`signet: build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
