// Whether dist/ was built from the sources as they are: shared by `npm run build`,
// `npm start` and the `signet` bin. Plain JavaScript, so it runs before any build.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Written last by a build that succeeded. */
export const builtStamp = join(projectRoot, 'dist', 'node', '.built');

/** What a build reads: a change to any of them makes dist/ stale. */
const inputs = ['src', 'package.json', 'tsconfig.json', 'scripts/build.mjs'];

function newestChange(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    // A production copy may ship dist/ without the sources it was built from.
    if (error.code === 'ENOENT') return 0;
    throw error;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

/** 'fresh', 'stale' (sources changed since the build) or 'missing' (never built, or the last build failed). */
export function distState() {
  let built;
  try {
    built = statSync(builtStamp).mtimeMs;
  } catch {
    return 'missing';
  }
  const changed = Math.max(...inputs.map((input) => newestChange(join(projectRoot, input))));
  return changed > built ? 'stale' : 'fresh';
}
