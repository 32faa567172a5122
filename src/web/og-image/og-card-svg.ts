import { facesNeeded, hanFaceFor, type OgFonts, type TextShaper } from './og-fonts.js';
import { wrapLines } from './og-card-lines.js';
import { OG_IMAGE_HEIGHT, OG_IMAGE_WIDTH, type OgCard } from './og-image-port.js';

// The supporter pages' colours (src/web/assets/site-css.ts), so the card looks like the page it opens.
const colours = { text: '#1b1b1f', muted: '#4a4f57', accent: '#1d4ed8', track: '#dbe3f8', background: '#ffffff' };
const MARGIN = 80;
const TEXT_WIDTH = OG_IMAGE_WIDTH - 2 * MARGIN;
/** Title sizes tried in turn: the largest at which the title fits in three lines, else the last with an ellipsis. */
const TITLE_SIZES = [72, 62, 54];
const TITLE_MAX_LINES = 3;

function fitTitle(shaper: TextShaper, title: string): { size: number; lines: string[] } {
  for (const size of TITLE_SIZES) {
    const fits = (line: string) => shaper.width(line, size) <= TEXT_WIDTH;
    const wrapped = wrapLines(title, TITLE_MAX_LINES, fits);
    if (!wrapped.truncated || size === TITLE_SIZES[TITLE_SIZES.length - 1]) return { size, lines: wrapped.lines };
  }
  throw new Error('unreachable: the last title size always returns');
}

/** One line that must not wrap (the organisation's name, the count), shortened with an ellipsis when too wide. */
function singleLine(shaper: TextShaper, text: string, size: number): string {
  return wrapLines(text, 1, (line) => shaper.width(line, size) <= TEXT_WIDTH).lines[0] ?? '';
}

/**
 * The card as SVG with every text drawn as outlines (no <text>): the organisation's name at the
 * top, the title in up to three lines, then the count and, with a goal, the progress bar.
 */
export async function cardSvg(fonts: OgFonts, card: OgCard): Promise<string> {
  const hanFace = hanFaceFor(card.titleLanguage);
  const texts = [card.title, card.countText, card.organisation ?? ''];
  const shaper = await fonts.shaper(facesNeeded(texts, hanFace), hanFace);
  const title = fitTitle(shaper, card.title);
  const lineHeight = Math.round(title.size * 1.3);
  const parts: string[] = [
    `<rect width="${OG_IMAGE_WIDTH}" height="${OG_IMAGE_HEIGHT}" fill="${colours.background}"/>`,
    `<rect width="${OG_IMAGE_WIDTH}" height="16" fill="${colours.accent}"/>`,
  ];
  if (card.organisation) {
    parts.push(`<path fill="${colours.muted}" d="${shaper.outline(singleLine(shaper, card.organisation, 34), 34, MARGIN, 104)}"/>`);
  }
  const titleTop = 150;
  title.lines.forEach((line, index) => {
    parts.push(`<path fill="${colours.text}" d="${shaper.outline(line, title.size, MARGIN, titleTop + title.size + index * lineHeight)}"/>`);
  });
  const countBaseline = card.progress === null ? 550 : 500;
  parts.push(`<path fill="${colours.accent}" d="${shaper.outline(singleLine(shaper, card.countText, 46), 46, MARGIN, countBaseline)}"/>`);
  if (card.progress !== null) {
    const filled = Math.round(TEXT_WIDTH * Math.min(1, Math.max(0, card.progress)));
    parts.push(`<rect x="${MARGIN}" y="530" width="${TEXT_WIDTH}" height="28" rx="14" fill="${colours.track}"/>`);
    if (filled > 0) parts.push(`<rect x="${MARGIN}" y="530" width="${Math.max(filled, 28)}" height="28" rx="14" fill="${colours.accent}"/>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${OG_IMAGE_WIDTH}" height="${OG_IMAGE_HEIGHT}" viewBox="0 0 ${OG_IMAGE_WIDTH} ${OG_IMAGE_HEIGHT}">${parts.join('')}</svg>`;
}
