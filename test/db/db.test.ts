import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { campaigns } from '../../src/db/schema.js';
import { createTestDatabase } from '../helpers/db.js';

describe('SqliteDatabase', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => cleanup?.());

  const campaignRow = (id: string, slug: string) => ({
    id, slug, title: 't', locale: 'en' as const, createdAt: 1, updatedAt: 1,
  });

  it('applies migrations and durable pragmas', async () => {
    const t = createTestDatabase();
    cleanup = t.cleanup;
    expect(t.database.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(t.database.sqlite.pragma('synchronous', { simple: true })).toBe(2);
    expect(t.database.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = await t.database.db.all<{ name: string }>(sql`select name from sqlite_master where type='table'`);
    expect(tables.map((r) => r.name)).toEqual(expect.arrayContaining(['campaigns', 'signatures', 'outbox', 'api_tokens']));
  });

  it('groups concurrent writes into one transaction and isolates a failing unit', async () => {
    const t = createTestDatabase();
    cleanup = t.cleanup;
    const { db } = t.database;
    const writes = Array.from({ length: 50 }, (_, i) =>
      t.database.atomic([db.insert(campaigns).values(campaignRow(`id-${i}`, `slug-${i}`))]),
    );
    // A duplicate slug fails alone; the other 50 still commit.
    const failing = t.database.atomic([
      db.insert(campaigns).values(campaignRow('id-x', 'slug-x')),
      db.insert(campaigns).values(campaignRow('id-y', 'slug-1')),
    ]);
    const results = await Promise.allSettled([...writes, failing]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(50);
    expect(results[50]!.status).toBe('rejected');
    const rows = await db.select({ id: campaigns.id }).from(campaigns);
    expect(rows).toHaveLength(50);
    expect(rows.some((r) => r.id === 'id-x')).toBe(false); // all-or-nothing per unit
  });
});
