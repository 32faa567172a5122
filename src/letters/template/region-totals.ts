import { isRegionOf, regionName } from '../../lib/regions.js';
import { appendixStrings } from './letter-strings.js';
import type { LetterLanguage, RegionCount } from './types.js';

/** Signatures counted per country and region, as stored (the region may be missing or free text from before the fixed list). */
export type RegionTally = { country: string; region: string | null; count: number };

/** One line of a region table: an ISO 3166-2 code, or null for the line that merges the rest. */
export type RegionLine = { region: string | null; count: number };

/**
 * Region totals as a letter may show them (PRODUCT.md §8), as codes. Only regions on the ISO
 * 3166-2 list are named; a region with fewer than `minimum` signatures is merged, with those that
 * named no region or one that is not on the list, into a last line (null: "other regions or not
 * stated"). So no line counts so few people that it points at someone, in particular a supporter
 * who chose to be counted only. Largest first, then by code.
 */
export function mergeSmallRegions(tallies: readonly RegionTally[], minimum: number): RegionLine[] {
  const byCode = new Map<string, number>();
  let other = 0;
  for (const { country, region, count } of tallies) {
    if (region !== null && isRegionOf(region, country)) byCode.set(region, (byCode.get(region) ?? 0) + count);
    else other += count;
  }
  const lines: RegionLine[] = [];
  const largestFirst = [...byCode].sort(([codeA, countA], [codeB, countB]) => countB - countA || (codeA < codeB ? -1 : codeA > codeB ? 1 : 0));
  for (const [code, count] of largestFirst) {
    if (count >= minimum) lines.push({ region: code, count });
    else other += count;
  }
  if (other > 0) lines.push({ region: null, count: other });
  return lines;
}

/** `mergeSmallRegions` with the regions named in the letter's language. */
export function publicRegionTotals(tallies: readonly RegionTally[], language: LetterLanguage, minimum: number): RegionCount[] {
  return mergeSmallRegions(tallies, minimum).map(({ region, count }) => ({
    region: region === null ? appendixStrings[language].otherRegions : regionName(region, language),
    count,
  }));
}
