import { readFileSync } from 'node:fs';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { CloudflareD1Database } from '../../../src/db/d1.js';
import { campaigns, mailings, outbox } from '../../../src/db/schema.js';
import { createTestDatabase, migrationsFolder } from '../../helpers/db.js';

/** A freshly migrated database on one driver, and how to close it. */
export type OpenDatabase = { database: Database; close: () => Promise<void> };

/**
 * The two drivers every outbox query must run on (STYLE: drizzle's
 * sqlite-common suite): better-sqlite3 on a temp file, and Cloudflare D1
 * (Miniflare's, workerd's SQLite, migrated from migrations/ as
 * `wrangler d1 migrations apply` does), where a statement binds at most 100
 * parameters.
 */
export const drivers: { name: string; open: () => Promise<OpenDatabase> }[] = [
  {
    name: 'better-sqlite3',
    open: async () => {
      const { database, cleanup } = createTestDatabase();
      return { database, close: cleanup };
    },
  },
  {
    name: 'D1',
    open: async () => {
      const miniflare = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null, { status: 404 }) } }', d1Databases: ['DB'] });
      const d1 = await miniflare.getD1Database('DB');
      const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: { tag: string }[] };
      for (const { tag } of journal.entries) {
        for (const statement of readFileSync(`${migrationsFolder}/${tag}.sql`, 'utf8').split('--> statement-breakpoint')) if (statement.trim()) await d1.prepare(statement).run();
      }
      return { database: new CloudflareD1Database(d1 as never), close: () => miniflare.dispose() };
    },
  },
];

/** Empties the tables these tests write, so each test starts from none on a database opened once per driver. */
export async function emptyOutbox(database: Database): Promise<void> {
  await database.atomic([database.db.delete(outbox), database.db.delete(mailings), database.db.delete(campaigns)]);
}

/**
 * For a describe block on one driver: the database opened once before its tests and closed
 * after them, the outbox emptied before each test. Returns how a test reaches it.
 */
export function useOutboxDatabase(open: () => Promise<OpenDatabase>): () => Database {
  let opened: OpenDatabase | undefined;
  beforeAll(async () => {
    opened = await open();
  }, 60_000);
  afterAll(async () => {
    await opened?.close();
  });
  beforeEach(async () => {
    await emptyOutbox(opened!.database);
  });
  return () => opened!.database;
}

let serial = 0;

/** An outbox row as stored, pending and due at `now` unless `overrides` say otherwise. */
export function outboxRow(now: number, overrides: Partial<typeof outbox.$inferInsert> = {}): typeof outbox.$inferInsert {
  const n = serial++;
  const id = overrides.id ?? `row-${String(n).padStart(6, '0')}`;
  return {
    id,
    kind: 'confirmation',
    recipient: `supporter${n}@example.org`,
    messageId: `<${id}@signet.test>`,
    message: { compose: 'update', input: { subject: `News ${n}` } },
    nextAttemptAt: now,
    createdAt: now,
    ...overrides,
  };
}

/** Inserts the rows, one statement each (a few parameters apiece, well under D1's limit), in one atomic unit. */
export async function insertRows(database: Database, rows: (typeof outbox.$inferInsert)[]): Promise<void> {
  if (rows.length > 0) await database.atomic(rows.map((row) => database.db.insert(outbox).values(row)));
}

/**
 * A campaign with one update mailing, finished unless `mailing` says otherwise; resolves the
 * mailing's id (`mailing-of-<campaignId>`).
 */
export async function insertCampaignMailing(
  database: Database,
  now: number,
  campaignId: string,
  mailing: { status?: 'running' | 'paused' | 'cancelled' | 'finished'; lockedBy?: string | null; lockedUntil?: number | null } = {},
): Promise<string> {
  const mailingId = `mailing-of-${campaignId}`;
  await database.atomic([
    database.db.insert(campaigns).values({ id: campaignId, slug: campaignId, title: 'A campaign', locale: 'en', status: 'closed', createdAt: now, updatedAt: now }),
    database.db.insert(mailings).values({
      id: mailingId,
      campaignId,
      kind: 'update',
      sendAtLocal: '2026-01-01T09:00',
      timeZone: 'UTC',
      sendAt: now,
      subject: 'News',
      body: 'News',
      status: mailing.status ?? 'finished',
      lockedBy: mailing.lockedBy ?? null,
      lockedUntil: mailing.lockedUntil ?? null,
      startedAt: now,
      createdAt: now,
      updatedAt: now,
    }),
  ]);
  return mailingId;
}
