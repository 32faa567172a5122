import type { ApiReferenceScript } from '../web/api-docs.js';
// A Text module (wrangler.toml [[rules]]): the pinned bundle travels inside the Worker, so /docs needs no CDN.
import standalone from '../../node_modules/@scalar/api-reference/dist/browser/standalone.js';
import manifest from '../../node_modules/@scalar/api-reference/package.json';

let bytes: Uint8Array | undefined;

/** The API reference's script on Workers, as src/entry/api-reference-script.ts gives it on Node. */
export const workerApiReferenceScript: ApiReferenceScript = {
  version: manifest.version,
  // Encoded on the first request for /docs, not at every isolate start.
  read: async () => (bytes ??= new TextEncoder().encode(standalone)),
};
