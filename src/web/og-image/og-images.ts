import type { Clock } from '../../lib/clock.js';
import type { OgCard, OgImageRenderer } from './og-image-port.js';

/** How long a card is reused, and how long browsers and crawlers may keep it (Cache-Control max-age). */
export const OG_IMAGE_MAX_AGE_SECONDS = 600;
/** Cards kept per process: a few campaigns in four languages. */
const MAX_CARDS = 200;

type CachedCard = { content: string; renderedAt: number; image: Promise<{ png: Uint8Array<ArrayBuffer>; etag: string }> };

async function etagOf(card: OgCard): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(card)));
  return `"${[...new Uint8Array(digest).slice(0, 12)].map((byte) => byte.toString(16).padStart(2, '0')).join('')}"`;
}

/**
 * The rendered cards of one process or isolate, per campaign and language. A card is rendered
 * again when its title, goal or organisation changed, or when it is older than
 * OG_IMAGE_MAX_AGE_SECONDS (then with the new count): a campaign that gains a signature a second
 * still costs one render per language every ten minutes, and concurrent requests share one.
 */
export class OgImages {
  private readonly cards = new Map<string, CachedCard>();

  constructor(
    private readonly renderer: OgImageRenderer,
    private readonly clock: Clock,
  ) {}

  image(key: string, card: OgCard): Promise<{ png: Uint8Array<ArrayBuffer>; etag: string }> {
    const now = this.clock.now();
    const content = JSON.stringify([card.language, card.title, card.titleLanguage, card.organisation, card.progress === null]);
    const cached = this.cards.get(key);
    if (cached && cached.content === content && now - cached.renderedAt < OG_IMAGE_MAX_AGE_SECONDS * 1000) return cached.image;
    const image = Promise.all([this.renderer.render(card), etagOf(card)]).then(([png, etag]) => ({ png, etag }));
    const entry = { content, renderedAt: now, image };
    this.cards.delete(key);
    if (this.cards.size >= MAX_CARDS) this.cards.delete(this.cards.keys().next().value!);
    this.cards.set(key, entry);
    image.catch(() => {
      if (this.cards.get(key) === entry) this.cards.delete(key);
    });
    return image;
  }
}

/**
 * The count in the card's URL, to two significant digits (12,345 → 12000): the URL changes as the
 * campaign grows, without a new one for every signature.
 */
export function ogImageVersion(count: number): number {
  if (count < 100) return count;
  const step = 10 ** (Math.floor(Math.log10(count)) - 1);
  return Math.floor(count / step) * step;
}
