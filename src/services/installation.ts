import { eq, inArray } from 'drizzle-orm';
import { settingsStore } from '../db/schema.js';
import type { ServiceContext } from './context.js';

/**
 * Keys that versions before 0.2 made and kept in the settings table, beside
 * the data they protect. Keys now come from the root secret
 * (src/lib/keyring.ts); these are only read to honour what was handed out
 * under them, and deleted once that has expired:
 * - `ip-hash-key` and `form-token-key`: deleted at the first start of this
 *   version (IP hashes are compared only with hashes made the same day;
 *   a form token lives 4 hours, so an open form is at worst sent again);
 * - `unsubscribe-key`: unsubscribe links in update emails already sent keep
 *   working for LEGACY_UNSUBSCRIBE_DAYS after the upgrade, then the key goes.
 */
export const LEGACY_UNSUBSCRIBE_DAYS = 90;

const RETIRE_AT_KEY = 'legacy-unsubscribe-key-retire-at';

async function readSetting(ctx: ServiceContext, key: string): Promise<string | undefined> {
  return (await ctx.db.db.select().from(settingsStore).where(eq(settingsStore.key, key)))[0]?.value;
}

/** A key an earlier version stored, or null once retired (never made anew). */
export async function legacySecret(ctx: ServiceContext, key: 'unsubscribe-key'): Promise<string | null> {
  return (await readSetting(ctx, key)) ?? null;
}

/**
 * Deletes the legacy keys whose tokens can no longer be in use, and sets the
 * date the unsubscribe key goes. Run at every start and by the retention job;
 * returns the keys deleted.
 */
export async function retireLegacySecrets(ctx: ServiceContext): Promise<string[]> {
  const now = ctx.clock.now();
  const rows = await ctx.db.db.select().from(settingsStore).where(inArray(settingsStore.key, ['ip-hash-key', 'form-token-key', 'unsubscribe-key', RETIRE_AT_KEY]));
  const held = new Map(rows.map((row) => [row.key, row.value]));
  const retired = ['ip-hash-key', 'form-token-key'].filter((key) => held.has(key));
  const statements = [];
  if (held.has('unsubscribe-key')) {
    const retireAt = Number(held.get(RETIRE_AT_KEY));
    if (!Number.isFinite(retireAt) || !held.has(RETIRE_AT_KEY)) {
      statements.push(
        ctx.db.db
          .insert(settingsStore)
          .values({ key: RETIRE_AT_KEY, value: String(now + LEGACY_UNSUBSCRIBE_DAYS * 86_400_000) })
          .onConflictDoNothing(),
      );
    } else if (retireAt <= now) {
      retired.push('unsubscribe-key', RETIRE_AT_KEY);
    }
  }
  if (retired.length > 0) statements.push(ctx.db.db.delete(settingsStore).where(inArray(settingsStore.key, retired)));
  if (statements.length > 0) await ctx.db.atomic(statements);
  return retired.filter((key) => key !== RETIRE_AT_KEY);
}
