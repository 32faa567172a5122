import { eq } from 'drizzle-orm';
import { settingsStore } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import type { ServiceContext } from './context.js';

/**
 * The version of everything the public pages show but the live count: a new one after every
 * organiser write and every change a supporter makes to what is shown of them. Where several
 * processes serve the pages (Cloudflare runs many isolates, each with its own memory), it is
 * part of every cache key (src/web/public/edge-cache.ts), so a change made through one isolate
 * is seen by all at once, and a page of before it is never served again.
 */
const PUBLIC_PAGES_VERSION_KEY = 'public-pages-version';

/** The current version ('' before the first change). */
export async function publicPagesVersion(ctx: ServiceContext): Promise<string> {
  const [row] = await ctx.db.db.select({ value: settingsStore.value }).from(settingsStore).where(eq(settingsStore.key, PUBLIC_PAGES_VERSION_KEY));
  return row?.value ?? '';
}

/** Starts a new version: every page built or cached under the previous one is stale. */
export async function newPublicPagesVersion(ctx: ServiceContext): Promise<void> {
  const value = newId(ctx.clock.now());
  await ctx.db.atomic([
    ctx.db.db.insert(settingsStore).values({ key: PUBLIC_PAGES_VERSION_KEY, value }).onConflictDoUpdate({ target: settingsStore.key, set: { value } }),
  ]);
}
