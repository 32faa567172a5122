import { readFileSync } from 'node:fs';
import { and, asc, eq } from 'drizzle-orm';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { CloudflareD1Database } from '../../src/db/d1.js';
import { campaigns, signatures } from '../../src/db/schema.js';
import { letterReach, letterSignatures, planRouting, splitByJurisdiction, type RoutableTarget } from '../../src/services/letter-routing.js';
import { signatureTotals } from '../../src/services/letters.js';
import { migrationsFolder } from '../../src/entry/node.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * The k-anonymous split of routed letters on Cloudflare D1 (Miniflare's D1, workerd's SQLite,
 * migrated from migrations/ as `wrangler d1 migrations apply` does): the tallies grouped by
 * consent and the per-letter conditions (json_each over the jurisdictions, folding) select the
 * same supporters as on better-sqlite3 and as the JavaScript rule.
 */

const targets: RoutableTarget[] = [
  { id: 'embassy', kind: 'embassy', jurisdiction: ['JP-13', 'JP-14'] },
  { id: 'osaka', kind: 'consulate', jurisdiction: ['JP-27', 'JP-28'] },
  { id: 'yokohama', kind: 'consulate', jurisdiction: ['jp-14'] },
  { id: 'seoul-desk', kind: 'official', jurisdiction: ['KR'] },
  { id: 'nobody', kind: 'other', jurisdiction: [] },
];
const places = [['JP', 'JP-13'], ['JP', 'JP-14'], ['JP', 'JP-27'], ['JP', 'JP-01'], ['JP', null], ['KR', 'KR-11'], ['US', 'US-CA'], ['JP', '大阪府'], ['US', 'JP-27']] as const;
const consents = [['full', 'confirmed'], ['initials', 'confirmed'], ['none', 'confirmed'], ['full', 'erased']] as const;
const now = Date.UTC(2027, 8, 1);
const rows = places.flatMap(([country, region], i) =>
  consents.map(([nameOnLetter, status], j) => ({
    id: `signature-${i}-${j}`,
    campaignId: 'campaign-1',
    name: `Supporter ${i}`,
    email: `s${i}-${j}@example.org`,
    emailNormalized: `s${i}-${j}@example.org`,
    country,
    region,
    locale: 'en' as const,
    nameOnLetter,
    status,
    createdAt: now,
    confirmedAt: now,
  })),
);

let miniflare: Miniflare;
let onD1: Database;
const local = createTestDatabase();

beforeAll(async () => {
  miniflare = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null, { status: 404 }) } }', d1Databases: ['DB'] });
  const d1 = await miniflare.getD1Database('DB');
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: { tag: string }[] };
  for (const { tag } of journal.entries) {
    for (const statement of readFileSync(`${migrationsFolder}/${tag}.sql`, 'utf8').split('--> statement-breakpoint')) if (statement.trim()) await d1.prepare(statement).run();
  }
  onD1 = new CloudflareD1Database(d1 as never);
  for (const database of [onD1, local.database]) {
    await database.atomic([database.db.insert(campaigns).values({ id: 'campaign-1', slug: 'routing-d1', title: 'Routing', summary: '', locale: 'en', timeZone: 'Asia/Tokyo', status: 'open', createdAt: now, updatedAt: now })]);
    for (const row of rows) await database.atomic([database.db.insert(signatures).values(row)]);
  }
}, 60_000);

afterAll(async () => {
  await miniflare?.dispose();
  await local.cleanup();
});

const sorted = <T>(items: T[]) => [...items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('routed letters on D1', () => {
  it('tallies by consent and selects each letter\'s supporters as better-sqlite3 and the JavaScript rule do, folded or not', async () => {
    const totals = await signatureTotals({ db: onD1 } as never, 'campaign-1', now);
    const localTotals = await signatureTotals({ db: local.database } as never, 'campaign-1', now);
    expect(totals.count).toBe(rows.length);
    expect(sorted(totals.tallies)).toEqual(sorted(localTotals.tallies));

    for (const plan of [planRouting(targets), planRouting(targets.filter((target) => target.kind !== 'embassy'))]) {
      // 1: nothing folded; 4: three districts folded; 100: every district with a share folded.
      for (const minimum of [1, 4, 100]) {
        const split = splitByJurisdiction(plan, totals.tallies, minimum);
        if (minimum === 4) expect([...split.folded].sort()).toEqual(['osaka', 'seoul-desk', 'yokohama']);
        for (const targetId of plan.byTarget.keys()) {
          const selected = async (database: Database) =>
            (
              await database.db
                .select({ id: signatures.id })
                .from(signatures)
                .where(and(eq(signatures.campaignId, 'campaign-1'), letterSignatures(split, targetId)))
                .orderBy(asc(signatures.id))
            ).map((row) => row.id);
          const expected = rows
            .filter((row) => letterReach(split, targetId, { country: row.country, region: row.region, namedInFull: row.status === 'confirmed' && row.nameOnLetter === 'full' }) !== null)
            .map((row) => row.id)
            .sort();
          expect(await selected(onD1), `D1: ${targetId}, minimum ${minimum}`).toEqual(expected);
          expect(await selected(local.database), `better-sqlite3: ${targetId}, minimum ${minimum}`).toEqual(expected);
        }
      }
    }
  });
});
