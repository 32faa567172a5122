import { and, asc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { campaigns, signatures } from '../../src/db/schema.js';
import { covers, letterReach, letterShare, letterSignatures, planRouting, splitByJurisdiction, type ConsentTally, type RoutableTarget, type RoutingPlan } from '../../src/services/letter-routing.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * The routing rule (src/services/letter-routing.ts) twice: in JavaScript for counts and region
 * totals, in SQL for the names streamed into each letter. The two must agree on every kind of
 * supporter, folded or not, or a letter would name someone it does not count.
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

/** Where a supporter named in full goes: routing alone decides, nothing is folded. */
const routedIn = (plan: RoutingPlan, ids: readonly string[]) => (country: string, region: string | null) =>
  ids.filter((id) => letterReach(splitByJurisdiction(plan, [], 5), id, { country, region, namedInFull: true }) !== null);

describe('routing by jurisdiction', () => {
  it('sends each supporter to the targets covering them, else to the embassy', () => {
    const plan = planRouting(targets);
    const routedTo = routedIn(plan, targets.map((target) => target.id));
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
    const routedTo = routedIn(plan, plan.fallbackTargetIds);
    expect(routedTo('GB', null)).toEqual(['osaka', 'yokohama', 'seoul-desk', 'nobody']);
    expect(routedTo('JP', 'JP-27')).toEqual(['osaka']);
  });

  it('folds a district\'s share of supporters not named in full into the embassy when it is below the minimum, never into a letter that covers them', () => {
    const tally = (region: string, count: number, namedInFull = false): ConsentTally => ({ country: 'JP', region, count, namedInFull });
    const tallies = [tally('JP-27', 2), tally('JP-27', 4, true), tally('JP-14', 1), tally('JP-13', 3), tally('KR-11', 3)];
    tallies[4] = { ...tallies[4]!, country: 'KR' };
    const split = splitByJurisdiction(planRouting(targets), tallies, 5);
    // Below 5: Osaka's 2, Yokohama's 1 (JP-14), the embassy's own 4 (JP-13 and JP-14) and the Seoul desk's 3.
    expect([...split.folded].sort()).toEqual(['embassy', 'osaka', 'seoul-desk', 'yokohama']);
    const share = (id: string) => letterShare(split, id, tallies);
    expect(share('osaka')).toMatchObject({ count: 4, foldedOut: 2, foldedIn: 0 });
    // The embassy takes Osaka's and Seoul's shares, not JP-14's, which its own district covers; its own 4 are folded out with nowhere else to go.
    expect(share('embassy')).toMatchObject({ count: 5, foldedOut: 4, foldedIn: 5 });
    expect(share('yokohama')).toMatchObject({ count: 0, foldedOut: 1, foldedIn: 0 });

    // At the minimum a share stays where routing puts it.
    const kept = splitByJurisdiction(planRouting(targets), tallies, 2);
    expect(letterShare(kept, 'osaka', tallies)).toMatchObject({ count: 6, foldedOut: 0 });
    expect(letterShare(kept, 'yokohama', tallies)).toMatchObject({ count: 0, foldedOut: 1 });

    // Without an embassy every target takes the folded shares, but never back a share of its own.
    const noEmbassy = splitByJurisdiction(planRouting(targets.filter((target) => target.kind !== 'embassy')), tallies, 5);
    // Osaka: its 4 named in full, JP-13's 3 whom nobody serves now, and the 1 + 3 folded out of Yokohama and Seoul.
    expect(letterShare(noEmbassy, 'osaka', tallies)).toMatchObject({ count: 4 + 3 + 1 + 3, foldedOut: 2, foldedIn: 1 + 3 });
    expect(letterReach(noEmbassy, 'osaka', { country: 'JP', region: 'JP-27', namedInFull: false })).toBeNull();
    expect(letterReach(noEmbassy, 'nobody', { country: 'JP', region: 'JP-27', namedInFull: false })).toBe('folded');
  });

  it('selects in SQL exactly the supporters the JavaScript rule puts in each letter, folded or not, for every target', async () => {
    const { database, cleanup: done } = createTestDatabase();
    cleanup = done;
    const now = Date.UTC(2027, 8, 1);
    await database.atomic([
      database.db.insert(campaigns).values({ id: 'campaign-1', slug: 'routing-sql', title: 'Routing', summary: '', locale: 'en', timeZone: 'Asia/Tokyo', status: 'open', createdAt: now, updatedAt: now }),
    ]);
    // Every kind of supporter in every consent, and an erased one (counted, never named) that chose `full`.
    const consents = [
      { nameOnLetter: 'full', status: 'confirmed' },
      { nameOnLetter: 'initials', status: 'confirmed' },
      { nameOnLetter: 'none', status: 'confirmed' },
      { nameOnLetter: 'full', status: 'erased' },
    ] as const;
    const rows = supporters.flatMap((supporter, i) =>
      consents.map((consent, j) => ({
        id: `signature-${String(i).padStart(3, '0')}-${j}`,
        campaignId: 'campaign-1',
        name: `Supporter ${i}`,
        email: `s${i}-${j}@example.org`,
        emailNormalized: `s${i}-${j}@example.org`,
        country: supporter.country,
        region: supporter.region,
        locale: 'en' as const,
        nameOnLetter: consent.nameOnLetter,
        status: consent.status,
        createdAt: now,
        confirmedAt: now,
      })),
    );
    for (const row of rows) await database.atomic([database.db.insert(signatures).values(row)]);
    const tallies: ConsentTally[] = rows.map((row) => ({ country: row.country, region: row.region, count: 1, namedInFull: row.status === 'confirmed' && row.nameOnLetter === 'full' }));

    const plans = [planRouting(targets), planRouting(targets.filter((target) => target.kind !== 'embassy'))];
    for (const plan of plans) {
      // 1: nothing folded; 4: some districts folded; 100: every district with a share folded.
      for (const minimum of [1, 4, 100]) {
        const split = splitByJurisdiction(plan, tallies, minimum);
        if (minimum === 4) expect(split.folded.size).toBeGreaterThan(0);
        for (const targetId of plan.byTarget.keys()) {
          const selected = await database.db
            .select({ id: signatures.id })
            .from(signatures)
            .where(and(eq(signatures.campaignId, 'campaign-1'), letterSignatures(split, targetId)))
            .orderBy(asc(signatures.id));
          const expected = rows.filter((row, i) => letterReach(split, targetId, tallies[i]!) !== null).map((row) => row.id);
          expect(
            selected.map((row) => row.id),
            `${targetId}, minimum ${minimum}`,
          ).toEqual(expected);
        }
      }
    }
  });
});
