import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { builtOrInstalled } from '../letters/node/font-files.js';
import { fontFiles } from '../letters/pdf/face-files.js';
import type { OgFontSource, OgImageRenderer } from '../web/og-image/og-image-port.js';

const require = createRequire(import.meta.url);

/** The letters' Noto faces (the same files as src/letters/node/font-files.ts). */
export const nodeOgFontSource: OgFontSource = {
  load: (face) => readFile(builtOrInstalled(fontFiles[face])),
};

/**
 * The Open Graph card renderer on Node: resvg's .wasm read from its package, fonts from
 * node_modules. resvg and fontkit load with the first card, not with the server.
 */
export function nodeOgImageRenderer(fonts: OgFontSource = nodeOgFontSource): OgImageRenderer {
  let renderer: Promise<OgImageRenderer> | undefined;
  const loaded = () =>
    (renderer ??= import('../web/og-image/og-image-renderer.js').then(({ createOgImageRenderer }) =>
      createOgImageRenderer({ wasm: () => readFile(require.resolve('@resvg/resvg-wasm/index_bg.wasm')), fonts }),
    ));
  return { render: async (card) => (await loaded()).render(card) };
}
