import { and, asc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { campaigns, signatures } from '../../src/db/schema.js';
import { covers, planRouting, routedSignatures, routesTo, type RoutableTarget } from '../../src/services/letter-routing.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * The routing rule (src/services/letter-routing.ts) twice: in JavaScript for counts and region
 * totals, in SQL for the names streamed into each letter. The two must agree on every kind of
 * supporter, or a letter would name someone it does not count.
 */

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

const targets: RoutableTarget[] = [
  { id: 'embassy', kind: 'embassy', jurisdiction: ['JP-13', 'JP-14'] },
  { id: 'osaka', kind: 'consulate', jurisdiction: ['JP-27', 'JP-28'] },
  // Overlaps the embassy on JP-14: a supporter there goes to both.
  { id: 'yokohama', kind: 'consulate', jurisdiction: ['jp-14'] },
  // A whole country by its code.
  { id: 'seoul-desk', kind: 'official', jurisdiction: ['KR'] },
  { id: 'nobody', kind: 'other', jurisdiction: [] },
];

/** Every kind of supporter: served regions, a whole served country, no region, unserved regions and countries, and rows that do not hold together. */
const supporters: { country: string; region: string | null }[] = [
  { country: 'JP', region: 'JP-13' },
  { country: 'JP', region: 'JP-14' },
  { country: 'JP', region: 'JP-27' },
  { country: 'JP', region: 'JP-01' },
  { country: 'JP', region: null },
  { country: 'KR', region: 'KR-11' },
  { country: 'KR', region: null },
  { country: 'US', region: 'US-CA' },
  { country: 'GB', region: null },
  // From before the fixed list of regions: free text, never a match.
  { country: 'JP', region: '大阪府' },
  // A region of another country than the supporter's: the region does not count.
  { country: 'US', region: 'JP-27' },
];

describe('routing by jurisdiction', () => {
  it('sends each supporter to the targets covering them, else to the embassy', () => {
    const plan = planRouting(targets);
    const routedTo = (country: string, region: string | null) => targets.filter((target) => routesTo(plan, target.id, country, region)).map((target) => target.id);
    expect(routedTo('JP', 'JP-27')).toEqual(['osaka']);
    expect(routedTo('JP', 'JP-13')).toEqual(['embassy']);
    expect(routedTo('JP', 'JP-14')).toEqual(['embassy', 'yokohama']);
    expect(routedTo('KR', 'KR-11')).toEqual(['seoul-desk']);
    expect(routedTo('KR', null)).toEqual(['seoul-desk']);
    for (const [country, region] of [
      ['JP', null],
      ['JP', 'JP-01'],
      ['US', 'US-CA'],
      ['JP', '大阪府'],
      ['US', 'JP-27'],
    ] as const) {
      expect(routedTo(country, region), `${country} ${region}`).toEqual(['embassy']);
    }
    expect(covers(['JP-27'], 'US', 'JP-27')).toBe(false);
  });

  it('sends the uncovered to every target when there is no embassy', () => {
    const plan = planRouting(targets.filter((target) => target.kind !== 'embassy'));
    expect(plan.fallbackTargetIds).toEqual(['osaka', 'yokohama', 'seoul-desk', 'nobody']);
    expect(['osaka', 'yokohama', 'seoul-desk', 'nobody'].filter((id) => routesTo(plan, id, 'GB', null))).toEqual(['osaka', 'yokohama', 'seoul-desk', 'nobody']);
    expect(['osaka', 'yokohama', 'seoul-desk', 'nobody'].filter((id) => routesTo(plan, id, 'JP', 'JP-27'))).toEqual(['osaka']);
  });

  it('selects in SQL exactly the supporters the JavaScript rule routes, for every target', async () => {
    const { database, cleanup: done } = createTestDatabase();
    cleanup = done;
    const now = Date.UTC(2027, 8, 1);
    await database.atomic([
      database.db.insert(campaigns).values({ id: 'campaign-1', slug: 'routing-sql', title: 'Routing', summary: '', locale: 'en', timeZone: 'Asia/Tokyo', status: 'open', createdAt: now, updatedAt: now }),
    ]);
    const rows = supporters.map((supporter, i) => ({
      id: `signature-${String(i).padStart(3, '0')}`,
      campaignId: 'campaign-1',
      name: `Supporter ${i}`,
      email: `s${i}@example.org`,
      emailNormalized: `s${i}@example.org`,
      country: supporter.country,
      region: supporter.region,
      locale: 'en' as const,
      status: 'confirmed' as const,
      createdAt: now,
      confirmedAt: now,
    }));
    for (const row of rows) await database.atomic([database.db.insert(signatures).values(row)]);

    for (const plan of [planRouting(targets), planRouting(targets.filter((target) => target.kind !== 'embassy'))]) {
      for (const targetId of plan.byTarget.keys()) {
        const selected = await database.db
          .select({ id: signatures.id })
          .from(signatures)
          .where(and(eq(signatures.campaignId, 'campaign-1'), routedSignatures(plan, targetId)))
          .orderBy(asc(signatures.id));
        const expected = rows.filter((row) => routesTo(plan, targetId, row.country, row.region)).map((row) => row.id);
        expect(
          selected.map((row) => row.id),
          targetId,
        ).toEqual(expected);
      }
    }
  });
});
