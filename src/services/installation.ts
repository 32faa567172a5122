import { eq } from 'drizzle-orm';
import { settingsStore } from '../db/schema.js';
import { randomToken } from '../lib/secrets.js';
import type { ServiceContext } from './context.js';

/**
 * A secret made once per installation and kept in the database (e.g. the
 * key for hashing client IPs), so every process and restart agrees on it.
 */
export async function installationSecret(ctx: ServiceContext, key: string): Promise<string> {
  const read = async () => (await ctx.db.db.select().from(settingsStore).where(eq(settingsStore.key, key)))[0]?.value;
  const existing = await read();
  if (existing) return existing;
  await ctx.db.atomic([ctx.db.db.insert(settingsStore).values({ key, value: randomToken(32) }).onConflictDoNothing()]);
  // Another process may have won the race; the stored value is the one to use.
  return (await read())!;
}
