import { and, isNotNull, or, sql, type SQL } from 'drizzle-orm';
import { signatures, targets } from '../db/schema.js';
import type { RegionTally } from '../letters/template/region-totals.js';

/**
 * How a per-target batch splits the supporters between the targets (PRODUCT.md §11):
 * `all` puts everyone in every letter; `jurisdiction` puts each supporter in the letters of the
 * targets whose `jurisdiction` covers their region, and a supporter no target covers (no region,
 * another country, a region nobody serves) in the letters of the embassies, or of every target
 * when the campaign writes to no embassy.
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

/** Whether a supporter's signature goes into this target's letter. */
export function routesTo(plan: RoutingPlan, targetId: string, country: string, region: string | null): boolean {
  const route = routeOf(plan, targetId);
  if (covers(route.codes, country, region)) return true;
  return route.takesUnserved && !covers(plan.served, country, region);
}

/** The per-region tallies of the supporters routed to one target (the counts and region totals of its letter). */
export function routedTallies(plan: RoutingPlan, targetId: string, tallies: readonly RegionTally[]): RegionTally[] {
  return tallies.filter((tally) => routesTo(plan, targetId, tally.country, tally.region));
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

/**
 * `routesTo` as a condition on the signatures table, for streaming one target's named
 * supporters page by page without holding the others. Agrees with `routesTo` row for row.
 */
export function routedSignatures(plan: RoutingPlan, targetId: string): SQL {
  const route = routeOf(plan, targetId);
  if (!route.takesUnserved) return coveredBy(route.codes);
  return or(coveredBy(route.codes), sql`not (${coveredBy(plan.served)})`)!;
}
