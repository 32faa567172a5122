import { initWasm, Resvg, type InitInput } from '@resvg/resvg-wasm';
import { cardSvg } from './og-card-svg.js';
import { OgFonts } from './og-fonts.js';
import type { OgCard, OgFontSource, OgImageRenderer } from './og-image-port.js';

let wasmReady: Promise<void> | undefined;

/** resvg's WebAssembly is one instance per process or isolate, and initWasm refuses a second call. */
function initResvg(wasm: () => Promise<InitInput> | InitInput): Promise<void> {
  if (!wasmReady) {
    const starting = Promise.resolve(wasm()).then((input) => initWasm(input));
    wasmReady = starting;
    starting.catch(() => {
      if (wasmReady === starting) wasmReady = undefined;
    });
  }
  return wasmReady;
}

export type OgImageRendererOptions = {
  /**
   * resvg's .wasm: its bytes on Node (src/entry/og-image-node.ts), the module wrangler compiled
   * on Workers (src/entry/og-image-worker.ts).
   */
  wasm: () => Promise<InitInput> | InitInput;
  fonts: OgFontSource;
};

/**
 * The Open Graph card renderer: SVG with outlined text (og-card-svg.ts) rasterised by resvg
 * (WebAssembly, so the same code runs on Node and in workerd). One card at a time: a render
 * takes the CPU for tens of milliseconds and a burst of crawlers must not pile them up.
 */
export function createOgImageRenderer(options: OgImageRendererOptions): OgImageRenderer {
  const fonts = new OgFonts(options.fonts);
  let previous: Promise<unknown> = Promise.resolve();
  const renderNow = async (card: OgCard): Promise<Uint8Array<ArrayBuffer>> => {
    await initResvg(options.wasm);
    const svg = await cardSvg(fonts, card);
    const resvg = new Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: false } });
    try {
      const image = resvg.render();
      try {
        // A copy out of the WebAssembly memory, over an ordinary ArrayBuffer.
        return image.asPng() as Uint8Array<ArrayBuffer>;
      } finally {
        image.free();
      }
    } finally {
      resvg.free();
    }
  };
  return {
    render(card) {
      const result = previous.then(() => renderNow(card));
      previous = result.catch(() => undefined);
      return result;
    },
  };
}
