import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ApiReferenceScript } from '../web/api-docs.js';

/**
 * The standalone bundle of the pinned `@scalar/api-reference` package, read
 * from node_modules: /docs then needs no CDN. The package's exports do not
 * list the bundle, so its folder is found from the entry point it does export.
 */
export function installedApiReferenceScript(): ApiReferenceScript {
  const entry = createRequire(import.meta.url).resolve('@scalar/api-reference');
  let folder = dirname(entry);
  while (!existsSync(join(folder, 'package.json')) && dirname(folder) !== folder) folder = dirname(folder);
  const { name, version } = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name?: string; version?: string };
  const bundlePath = join(folder, 'dist', 'browser', 'standalone.js');
  if (name !== '@scalar/api-reference' || typeof version !== 'string' || !existsSync(bundlePath)) {
    throw new Error(`The API reference bundle is missing (${bundlePath}); run npm install.`);
  }
  return { version, read: async () => new Uint8Array(await readFile(bundlePath)) };
}
