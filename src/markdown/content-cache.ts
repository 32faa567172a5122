/** How much a content cache may hold: entries, and characters of source over all entries. */
export type ContentCacheLimits = { maxEntries: number; maxChars: number };

/**
 * Room for a few dozen bodies at the 50,000-character limit, or hundreds of ordinary ones;
 * each rendering is a small multiple of its source, so a full cache stays within tens of MB.
 */
export const defaultContentCacheLimits: ContentCacheLimits = { maxEntries: 500, maxChars: 2_000_000 };

/**
 * `render` remembered by its source text: a campaign body is rendered once per version and
 * language, not once per page view or per recipient of a mailing. The source itself is the
 * key (not a hash of it), so two bodies can never share an entry however they were crafted;
 * a changed body is a new key, and the least recently used entries make room for it. A source
 * larger than the whole budget is rendered every time, never kept. `render` must be pure.
 */
export function memoByContent<T>(render: (source: string) => T, limits: ContentCacheLimits = defaultContentCacheLimits): (source: string) => T {
  const entries = new Map<string, T>();
  let chars = 0;
  return (source) => {
    const cached = entries.get(source);
    if (cached !== undefined) {
      entries.delete(source);
      entries.set(source, cached);
      return cached;
    }
    const rendered = render(source);
    if (source.length > limits.maxChars) return rendered;
    entries.set(source, rendered);
    chars += source.length;
    for (const oldest of entries.keys()) {
      if (chars <= limits.maxChars && entries.size <= limits.maxEntries) break;
      entries.delete(oldest);
      chars -= oldest.length;
    }
    return rendered;
  };
}
