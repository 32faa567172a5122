import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiReferenceScript } from '../web/api-docs.js';

/**
 * The standalone bundle of the pinned `@scalar/api-reference` package: /docs
 * then needs no CDN. The compiled server (dist/node/cli.js) reads the copy
 * `npm run build` put beside it, so a production install needs no `@scalar/*`
 * package; from the sources (tsx, vitest) it is read from node_modules.
 */
export function installedApiReferenceScript(): ApiReferenceScript {
  const built = fileURLToPath(new URL('./api-reference/', import.meta.url));
  if (existsSync(join(built, 'version.json'))) return referenceIn(join(built, 'version.json'), join(built, 'standalone.js'));
  // The package's exports do not list the bundle, so its folder is found from the entry point it does export.
  const entry = createRequire(import.meta.url).resolve('@scalar/api-reference');
  let folder = dirname(entry);
  while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
  return referenceIn(join(folder, 'package.json'), join(folder, 'dist', 'browser', 'standalone.js'));
}

function referenceIn(manifestPath: string, bundlePath: string): ApiReferenceScript {
  const { name, version } = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string; version?: string };
  if (name !== '@scalar/api-reference' || typeof version !== 'string' || !existsSync(bundlePath)) {
    throw new Error(`The API reference bundle is missing (${bundlePath}); run npm install, then npm run build.`);
  }
  return { version, read: async () => new Uint8Array(await readFile(bundlePath)) };
}
