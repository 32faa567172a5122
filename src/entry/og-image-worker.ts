// A CompiledWasm module (wrangler.toml [[rules]]): workerd may not compile WebAssembly from bytes at run time.
import resvgWasm from '@resvg/resvg-wasm/index_bg.wasm';
import { fontObjectKey, LetterFontMissing, type FontBucket } from '../letters/worker/r2-fonts.js';
import { createOgImageRenderer } from '../web/og-image/og-image-renderer.js';
import type { OgImageRenderer } from '../web/og-image/og-image-port.js';

/**
 * The Open Graph card renderer on Workers: resvg's .wasm bundled with the Worker (2.5 MB), the
 * fonts from the letters R2 bucket (`npm run worker:fonts`), only the faces a card needs.
 */
export function workerOgImageRenderer(bucket: FontBucket): OgImageRenderer {
  return createOgImageRenderer({
    wasm: () => resvgWasm,
    fonts: {
      load: async (face) => {
        const object = await bucket.get(fontObjectKey(face));
        if (!object) throw new LetterFontMissing(face);
        return object.arrayBuffer();
      },
    },
  });
}
