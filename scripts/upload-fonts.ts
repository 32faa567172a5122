/**
 * `npm run worker:fonts`: puts the ten letter faces (the TTFs the Node renderer reads, `fontFiles`
 * in src/letters/pdf/face-files.ts) into the Worker's letters bucket as `fonts/<face>.ttf`, where
 * the Worker reads them on its first letter (src/letters/worker/r2-fonts.ts). Run it once per
 * account, and again after the @expo-google-fonts packages change.
 *
 *   npm run worker:fonts                                    # the bucket on Cloudflare (--remote)
 *   npm run worker:fonts -- --local [--persist-to DIR]      # wrangler dev's local bucket (default .wrangler/state)
 *   npm run worker:fonts -- --bucket NAME                   # another bucket than signet-letters
 *
 * One `wrangler r2 bulk put` for the ten files (one wrangler start instead of ten). Locally,
 * `npm run worker:dev` does this itself once per persist dir (`ensureLocalFonts`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { fontFilePath } from '../src/letters/node/font-files.js';
import { fontFiles, type FaceName, type FaceWeight } from '../src/letters/pdf/font-faces.js';
import type { FaceScript } from '../src/letters/pdf/font-runs.js';
import { fontFaceNames, fontObjectKey } from '../src/letters/worker/r2-fonts.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const wrangler = join(root, 'node_modules/.bin/wrangler');

/** The bucket `LETTERS` names in wrangler.toml. */
export const lettersBucket = 'signet-letters';

export type FontUpload = {
  /** Default `signet-letters`. */
  bucket?: string;
  /** Cloudflare's bucket (default), or wrangler dev's local one under `persistTo`. */
  local?: { persistTo: string };
  /** wrangler's environment (default this process's, without metrics). */
  env?: NodeJS.ProcessEnv;
  /** Where wrangler's output goes (default inherited). */
  quiet?: boolean;
};

const facePath = (face: FaceName) => {
  const [script, weight] = face.split('-') as [FaceScript, FaceWeight];
  return fontFilePath(script, weight);
};

/** Puts the ten faces into the bucket; throws with wrangler's output when it fails. */
export function uploadFonts(options: FontUpload = {}): void {
  const bucket = options.bucket ?? lettersBucket;
  const dir = mkdtempSync(join(tmpdir(), 'signet-fonts-'));
  try {
    const list = join(dir, 'fonts.json');
    writeFileSync(list, JSON.stringify(fontFaceNames.map((face) => ({ key: fontObjectKey(face), file: facePath(face) }))));
    const where = options.local ? ['--local', '--persist-to', resolve(options.local.persistTo)] : ['--remote'];
    const run = spawnSync(wrangler, ['r2', 'bulk', 'put', bucket, '--filename', list, '--content-type', 'font/ttf', ...where], {
      cwd: root,
      env: { ...(options.env ?? process.env), WRANGLER_SEND_METRICS: 'false' },
      stdio: options.quiet ? 'pipe' : 'inherit',
      encoding: 'utf8',
    });
    if (run.status !== 0) {
      throw new Error(`wrangler r2 bulk put ${bucket} failed (${run.error?.message ?? `exit ${run.status}`})${options.quiet ? `:\n${run.stdout}${run.stderr}` : ''}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The font packages and their versions: what the fonts in a bucket were uploaded from. */
export function fontPackageVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const face of fontFaceNames) {
    const name = fontFiles[face].split('/').slice(0, 2).join('/');
    // <package>/<weight folder>/<file>.ttf
    const packageJson = join(dirname(dirname(facePath(face))), 'package.json');
    versions[name] = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  }
  return versions;
}

const localMarker = (persistTo: string, bucket: string) => ({
  path: join(persistTo, `fonts-${bucket}.json`),
  text: `${JSON.stringify({ bucket, keys: fontFaceNames.map(fontObjectKey), packages: fontPackageVersions() }, null, 2)}\n`,
});

/** Puts the faces into the local bucket under `persistTo` and leaves the marker `ensureLocalFonts` looks for. */
export function uploadLocalFonts(persistTo: string, options: Omit<FontUpload, 'local'> = {}): void {
  const bucket = options.bucket ?? lettersBucket;
  mkdirSync(persistTo, { recursive: true });
  uploadFonts({ ...options, local: { persistTo } });
  const marker = localMarker(persistTo, bucket);
  writeFileSync(marker.path, marker.text);
}

/**
 * Puts the faces into the local bucket under `persistTo` unless they are there already: a marker
 * file there (fonts-<bucket>.json) names the font package versions they were uploaded from.
 * Returns whether it uploaded.
 */
export function ensureLocalFonts(persistTo: string, options: Omit<FontUpload, 'local'> = {}): boolean {
  const bucket = options.bucket ?? lettersBucket;
  const marker = localMarker(persistTo, bucket);
  if (existsSync(marker.path) && readFileSync(marker.path, 'utf8') === marker.text && existsSync(join(persistTo, 'v3/r2', bucket))) return false;
  uploadLocalFonts(persistTo, options);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      local: { type: 'boolean', default: false },
      remote: { type: 'boolean', default: false },
      'persist-to': { type: 'string' },
      bucket: { type: 'string', default: lettersBucket },
    },
  });
  if (values.local && values.remote) {
    console.error('worker:fonts: --local or --remote, not both');
    process.exit(2);
  }
  if (values['persist-to'] && !values.local) {
    console.error('worker:fonts: --persist-to goes with --local');
    process.exit(2);
  }
  const persistTo = resolve(values['persist-to'] ?? join(root, '.wrangler/state'));
  try {
    if (values.local) uploadLocalFonts(persistTo, { bucket: values.bucket });
    else uploadFonts({ bucket: values.bucket });
  } catch (error) {
    console.error(`worker:fonts: ${(error as Error).message}`);
    process.exit(1);
  }
  console.log(`worker:fonts: the ${fontFaceNames.length} letter faces are in ${values.bucket}${values.local ? ` (local, ${persistTo})` : ''} under fonts/`);
}
