import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { fraudulentRequests, signatures } from '../../../src/db/schema.js';
import { createTestApp } from '../../helpers/app.js';
import { migrationsFolder } from '../../helpers/db.js';
import { queuedMail } from '../../helpers/signing.js';
import { liveCount, signAndConfirmFrom, type TestApp } from '../../helpers/abuse.js';

let t: TestApp | undefined;
afterEach(async () => t?.cleanup());

const CAMPAIGN = '0190f5a0-0000-7000-8000-000000000001';
const MARK = '0190f5a0-0000-7000-8000-000000000002';
const HAND_MARKED = '0190f5a0-0000-7000-8000-000000000003';
const SLUG = 'save-refugees';
const AUG_31 = Date.UTC(2027, 7, 31);
const IP_HASH = '0123456789abcdef0123456789abcdef';

/** A database as version 0.x left it at migration 0008: a campaign where a blocked request marked victim@example.org fraudulent. */
async function databaseAtMigration0008(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'signet-0008-'));
  const older = join(dir, 'migrations-0008');
  cpSync(migrationsFolder, older, { recursive: true });
  const journalPath = join(older, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { idx: number }[] };
  writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.filter((entry) => entry.idx <= 8) }));
  const db = new BetterSqlite3(join(dir, 'signet.db'));
  const { drizzle } = await import('drizzle-orm/better-sqlite3');
  const { migrate } = await import('drizzle-orm/better-sqlite3/migrator');
  migrate(drizzle(db), { migrationsFolder: older });
  db.prepare(`INSERT INTO campaigns (id, slug, title, locale, status, time_zone, signature_count, created_at, updated_at) VALUES (?, ?, 'Save North Korean refugees', 'en', 'open', 'Asia/Tokyo', 1, ?, ?)`).run(
    CAMPAIGN,
    SLUG,
    AUG_31,
    AUG_31,
  );
  const insert = db.prepare(
    `INSERT INTO signatures (id, campaign_id, name, email, email_normalized, country, locale, status, ip_hash, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?, 'JP', 'en', 'fraudulent', ?, ?, ?)`,
  );
  // What RECORD_FRAUDULENT_SQL wrote for a blocked request.
  insert.run(MARK, CAMPAIGN, 'Typed by a bot', 'Victim@example.org', 'victim@example.org', IP_HASH, AUG_31, null);
  // A confirmed, counted signature someone marked by hand afterwards.
  insert.run(HAND_MARKED, CAMPAIGN, 'Hand Marked', 'hand@example.org', 'hand@example.org', null, AUG_31 - 60_000, AUG_31 - 30_000);
  db.close();
  return dir;
}

describe('migration 0010: fraud marks leave signatures', () => {
  it('turns a fraudulent signature into a fraudulent request, so the address signs, is mailed and counts', async () => {
    t = createTestApp({ databaseDir: await databaseAtMigration0008() });
    await signAndConfirmFrom(t, SLUG, 'victim@example.org', '198.51.100.20');
    expect(await queuedMail(t, 'victim@example.org')).toHaveLength(1);
    const [victim] = await t.database.db.select().from(signatures).where(eq(signatures.emailNormalized, 'victim@example.org'));
    expect(victim).toMatchObject({ status: 'confirmed', name: 'Jane Doe' });
    // The victim, and not the hand-marked signature, which leaves the count as an invalidation would.
    expect(await liveCount(t, SLUG)).toBe(1);

    // The mark is kept as the request it was, for review; the hand-marked one stays a signature, invalidated (no bulk action named).
    expect(await t.database.db.select({ id: fraudulentRequests.id, email: fraudulentRequests.email, name: fraudulentRequests.name, ipHash: fraudulentRequests.ipHash, blockedBy: fraudulentRequests.blockedBy, createdAt: fraudulentRequests.createdAt }).from(fraudulentRequests)).toEqual([
      { id: MARK, email: 'Victim@example.org', name: 'Typed by a bot', ipHash: IP_HASH, blockedBy: null, createdAt: AUG_31 },
    ]);
    expect(await t.database.db.select({ status: signatures.status, invalidatedBy: signatures.invalidatedBy }).from(signatures).where(eq(signatures.id, HAND_MARKED))).toEqual([
      { status: 'invalidated', invalidatedBy: null },
    ]);
    const listed = await t.request('GET', `/api/v1/campaigns/${SLUG}/fraudulent-requests`);
    expect(await listed.json()).toEqual({ items: [{ id: MARK, createdAt: new Date(AUG_31).toISOString(), ipHash: IP_HASH, domain: 'example.org', blockedBy: null }], nextCursor: null });
  });
});
