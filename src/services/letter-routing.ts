import { and, isNotNull, not, or, sql, type SQL } from 'drizzle-orm';
import { signatures, targets } from '../db/schema.js';
import type { RegionTally } from '../letters/template/region-totals.js';

/**
 * How a per-target batch splits the supporters between the targets (PRODUCT.md §11):
 * `all` puts everyone in every letter; `jurisdiction` puts each supporter in the letters of the
 * targets whose `jurisdiction` covers their region, and a supporter no target covers (no region,
 * another country, a region nobody serves) in the letters of the embassies, or of every target
 * when the campaign writes to no embassy. A district's few supporters who are not named in full
 * are then folded into the embassies' letters (`LetterSplit`), so no letter singles them out.
 */
export const letterRoutings = ['all', 'jurisdiction'] as const;
export type LetterRouting = (typeof letterRoutings)[number];

type TargetKind = (typeof targets.$inferSelect)['kind'];

/** What routing needs of a target. */
export type RoutableTarget = { id: string; kind: TargetKind; jurisdiction: readonly string[] };

/** Where one target's supporters come from: the codes it serves, and whether it also takes the supporters nobody serves. */
export type TargetRoute = { codes: readonly string[]; takesUnserved: boolean };

/** A campaign's targets as routing sees them, built once per batch or preview. */
export type RoutingPlan = {
  byTarget: ReadonlyMap<string, TargetRoute>;
  /** Every code some target serves: a supporter outside all of them is unserved. */
  served: readonly string[];
  /** The targets that take the unserved supporters, in the campaign's order. */
  fallbackTargetIds: readonly string[];
};

/**
 * The plan for a campaign's targets. A jurisdiction lists ISO 3166-2 codes (JP-27) or, for an
 * office serving a whole country, the country's code (KR); codes are upper case as stored.
 */
export function planRouting(campaignTargets: readonly RoutableTarget[]): RoutingPlan {
  const embassies = campaignTargets.filter((target) => target.kind === 'embassy');
  const fallback = embassies.length > 0 ? embassies : campaignTargets;
  const fallbackIds = new Set(fallback.map((target) => target.id));
  const byTarget = new Map<string, TargetRoute>();
  const served = new Set<string>();
  for (const target of campaignTargets) {
    const codes = [...new Set(target.jurisdiction.map((code) => code.toUpperCase()))];
    for (const code of codes) served.add(code);
    byTarget.set(target.id, { codes, takesUnserved: fallbackIds.has(target.id) });
  }
  return { byTarget, served: [...served].sort(), fallbackTargetIds: fallback.map((target) => target.id) };
}

/**
 * Whether a supporter from `country` (and `region`, when given) is covered by `codes`: their
 * country is listed whole, or their region is, and the region is one of their country's (the
 * same test the letters' region totals make, so a stray code from before the fixed list of
 * regions covers no one).
 */
export function covers(codes: readonly string[], country: string, region: string | null): boolean {
  if (codes.includes(country)) return true;
  return region !== null && region.startsWith(`${country}-`) && codes.includes(region);
}

function routeOf(plan: RoutingPlan, targetId: string): TargetRoute {
  const route = plan.byTarget.get(targetId);
  if (!route) throw new Error(`target ${targetId} is not in the routing plan`);
  return route;
}

/** Whether a target nobody's share reaches still gets its letter (`write`, PRODUCT.md §12) or none (`skip`). */
export const emptyTargetChoices = ['write', 'skip'] as const;
export type EmptyTargets = (typeof emptyTargetChoices)[number];

/** Whether a target gets its letter when that letter would count `count` supporters. */
export const getsLetter = (count: number, emptyTargets: EmptyTargets): boolean => count > 0 || emptyTargets === 'write';

/**
 * Signatures counted per country and region, split by whether the supporter is named in full
 * (confirmed, `nameOnLetter: 'full'`). The others (`initials`, `none`, and erased supporters, who
 * are counted but never named) are the ones k-anonymity protects.
 */
export type ConsentTally = RegionTally & { namedInFull: boolean };

/**
 * How a routed batch divides its supporters between the letters, k-anonymously (PRODUCT.md §8).
 * A target's district share is its supporters not named in full whose region its jurisdiction
 * covers. A share of 1 to `minimum` − 1 people would tell the target that so few signed from its
 * district, so it is folded: it leaves that target's letter and goes to the letters of the
 * targets that take the unserved (the embassies, or every target without one) other than the
 * targets covering it. The target still gets a letter, which reads exactly as if nobody of its
 * share had signed; its supporters named in full stay in it. A share no other letter may take
 * (an embassy's own, with one embassy) is counted in the national total only. Supporters named in
 * full go wherever routing puts them.
 */
export type LetterSplit = {
  plan: RoutingPlan;
  /** PUBLIC_REGION_MIN. */
  minimum: number;
  /** The targets whose district share is folded. */
  folded: ReadonlySet<string>;
  /** Every code a folded target serves: a supporter not named in full covered by one of them has been folded. */
  foldedCodes: readonly string[];
};

type Located = { country: string; region: string | null; namedInFull: boolean };

/** How a supporter reaches a target's letter: its own district, as one nobody serves, or folded out of another district; null: not at all. */
export type LetterReach = 'district' | 'unserved' | 'folded' | null;

function districtShare(codes: readonly string[], tallies: readonly ConsentTally[]): number {
  let share = 0;
  for (const tally of tallies) if (!tally.namedInFull && covers(codes, tally.country, tally.region)) share += tally.count;
  return share;
}

/** The split of a routed batch or preview, from the tallies at its cut-off. */
export function splitByJurisdiction(plan: RoutingPlan, tallies: readonly ConsentTally[], minimum: number): LetterSplit {
  const folded = new Set<string>();
  const foldedCodes = new Set<string>();
  for (const [targetId, route] of plan.byTarget) {
    const share = districtShare(route.codes, tallies);
    if (share > 0 && share < minimum) {
      folded.add(targetId);
      for (const code of route.codes) foldedCodes.add(code);
    }
  }
  return { plan, minimum, folded, foldedCodes: [...foldedCodes].sort() };
}

/** Whether, and how, a supporter is in a target's letter. `letterSignatures` is the same rule in SQL. */
export function letterReach(split: LetterSplit, targetId: string, supporter: Located): LetterReach {
  const { plan } = split;
  const route = routeOf(plan, targetId);
  const { country, region, namedInFull } = supporter;
  // A target never takes back, folded from elsewhere, a supporter its own district covers.
  if (covers(route.codes, country, region)) return namedInFull || !split.folded.has(targetId) ? 'district' : null;
  if (!route.takesUnserved) return null;
  if (!covers(plan.served, country, region)) return 'unserved';
  return !namedInFull && covers(split.foldedCodes, country, region) ? 'folded' : null;
}

/** One target's share: the tallies its letter counts (its count and region totals), and for the organiser what folding moved. */
export type LetterShareTallies = {
  tallies: ConsentTally[];
  count: number;
  /** Its district share, when folded out of its letter (0 otherwise). */
  foldedOut: number;
  /** Supporters folded out of other districts that its letter counts. */
  foldedIn: number;
};

export function letterShare(split: LetterSplit, targetId: string, tallies: readonly ConsentTally[]): LetterShareTallies {
  const kept: ConsentTally[] = [];
  let count = 0;
  let foldedIn = 0;
  for (const tally of tallies) {
    const reach = letterReach(split, targetId, tally);
    if (reach === null) continue;
    kept.push(tally);
    count += tally.count;
    if (reach === 'folded') foldedIn += tally.count;
  }
  const foldedOut = split.folded.has(targetId) ? districtShare(routeOf(split.plan, targetId).codes, tallies) : 0;
  return { tallies: kept, count, foldedOut, foldedIn };
}

/** The tallies of the supporters no target's jurisdiction covers. */
export function unservedTallies(plan: RoutingPlan, tallies: readonly RegionTally[]): RegionTally[] {
  return tallies.filter((tally) => !covers(plan.served, tally.country, tally.region));
}

/**
 * `covers` as SQL over the signatures table. The codes go in as one JSON array read with
 * json_each, so a jurisdiction of any length binds one parameter (D1 allows 100 per statement).
 * Never NULL: a signature without a region is simply not covered by a region code.
 */
function coveredBy(codes: readonly string[]): SQL {
  const list = JSON.stringify(codes);
  return or(
    sql`${signatures.country} in (select value from json_each(${list}))`,
    and(
      isNotNull(signatures.region),
      sql`substr(${signatures.region}, 1, length(${signatures.country}) + 1) = ${signatures.country} || '-'`,
      sql`${signatures.region} in (select value from json_each(${list}))`,
    ),
  )!;
}

/** `ConsentTally.namedInFull` as SQL (both columns are NOT NULL, so never NULL either). */
export const namedInFull = sql`(${signatures.status} = 'confirmed' and ${signatures.nameOnLetter} = 'full')`;

/**
 * `letterReach(…) !== null` as a condition on the signatures table, for streaming one letter's
 * named supporters page by page without holding the others. Agrees with `letterReach` row for row.
 */
export function letterSignatures(split: LetterSplit, targetId: string): SQL {
  const route = routeOf(split.plan, targetId);
  const district = coveredBy(route.codes);
  const fromDistrict = split.folded.has(targetId) ? and(district, namedInFull)! : district;
  if (!route.takesUnserved) return fromDistrict;
  const unserved = not(coveredBy(split.plan.served));
  if (split.foldedCodes.length === 0) return or(fromDistrict, unserved)!;
  return or(fromDistrict, unserved, and(not(district), not(namedInFull), coveredBy(split.foldedCodes)))!;
}
