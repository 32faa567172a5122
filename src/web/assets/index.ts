import { siteCss } from './site-css.js';

/** A short content hash (cyrb53): enough to bust caches, not meant to resist anyone. */
export function contentHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/**
 * The supporter pages' stylesheet at a path that changes with its content, so
 * it can be cached for a year (`immutable`). Under /assets/site.*, apart from
 * the dashboard's own assets.
 */
export const siteStylesheet = { path: `/assets/site.${contentHash(siteCss)}.css`, body: siteCss } as const;
