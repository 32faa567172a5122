import type { FaceName } from '../../letters/pdf/font-faces.js';
import type { PageLanguage } from '../i18n/index.js';

/** What the campaign's Open Graph card shows, already in the page language. */
export type OgCard = {
  language: PageLanguage;
  title: string;
  /** The language the title is written in (it may be untranslated): picks the Han face. */
  titleLanguage: string;
  /** "12,345 signatures", "目標20,000人のうち12,345人が署名"… */
  countText: string;
  /** Signatures / goal, capped at 1; null when the campaign has no goal (no bar is drawn). */
  progress: number | null;
  organisation: string | undefined;
};

/** The card's size, as Facebook, X and LINE expect for a large preview. */
export const OG_IMAGE_WIDTH = 1200;
export const OG_IMAGE_HEIGHT = 630;

/**
 * Where the card's font files come from: the letters' Noto faces (src/letters/pdf/face-files.ts),
 * read from node_modules on Node and from the letters R2 bucket on Workers. Asked only for the
 * faces a card needs, once per process or isolate.
 */
export interface OgFontSource {
  load(face: FaceName): Promise<Uint8Array | ArrayBuffer>;
}

/** Renders a card as a PNG of OG_IMAGE_WIDTH × OG_IMAGE_HEIGHT (src/web/og-image/og-image-renderer.ts). */
export interface OgImageRenderer {
  render(card: OgCard): Promise<Uint8Array<ArrayBuffer>>;
}
