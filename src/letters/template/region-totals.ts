import { isRegionOf, regionName } from '../../lib/regions.js';
import { formatCount } from './letter-date.js';
import { appendixStrings } from './letter-strings.js';
import type { LetterLanguage, RegionCount } from './types.js';

/** Signatures counted per country and region, as stored (the region may be missing or free text from before the fixed list). */
export type RegionTally = { country: string; region: string | null; count: number };

/** What the merged line holds: regions below the minimum, signatures with no region on the list, or both. */
export type MergedRegions = { small: boolean; unstated: boolean };

/** One line of a region table: an ISO 3166-2 code, or the line that merges the rest (region null). */
export type RegionLine = { region: string; count: number } | { region: null; count: number; merges: MergedRegions };

/**
 * Region totals as a letter may show them (PRODUCT.md §8), as codes. Only regions on the ISO
 * 3166-2 list are named; a region with fewer than `minimum` signatures is merged, with those that
 * named no region or one that is not on the list, into a last line (region null, saying which of
 * the two it holds). So no line counts so few people that it points at someone, in particular a
 * supporter who chose to be counted only. Largest first, then by code.
 */
export function mergeSmallRegions(tallies: readonly RegionTally[], minimum: number): RegionLine[] {
  const byCode = new Map<string, number>();
  let unstated = 0;
  let small = 0;
  for (const { country, region, count } of tallies) {
    if (region !== null && isRegionOf(region, country)) byCode.set(region, (byCode.get(region) ?? 0) + count);
    else unstated += count;
  }
  const lines: RegionLine[] = [];
  const largestFirst = [...byCode].sort(([codeA, countA], [codeB, countB]) => countB - countA || (codeA < codeB ? -1 : codeA > codeB ? 1 : 0));
  for (const [code, count] of largestFirst) {
    if (count >= minimum) lines.push({ region: code, count });
    else small += count;
  }
  if (small + unstated > 0) lines.push({ region: null, count: small + unstated, merges: { small: small > 0, unstated: unstated > 0 } });
  return lines;
}

/**
 * The label of the merged line, true for what it holds: a lone named signer from a small region
 * is counted under "other regions (fewer than N each)", not under a label that says their region
 * was not stated. It never says which regions were merged.
 */
export function mergedRegionsLabel(language: LetterLanguage, merges: MergedRegions, minimum: number): string {
  const strings = appendixStrings[language];
  const text = merges.small && merges.unstated ? strings.otherRegionsOrNotStated : merges.small ? strings.otherRegions : strings.regionNotStated;
  return text.replace('{minimum}', formatCount(minimum, language));
}

/** `mergeSmallRegions` with the regions named in the letter's language. */
export function publicRegionTotals(tallies: readonly RegionTally[], language: LetterLanguage, minimum: number): RegionCount[] {
  return mergeSmallRegions(tallies, minimum).map((line) => ({
    region: line.region === null ? mergedRegionsLabel(language, line.merges, minimum) : regionName(line.region, language),
    count: line.count,
  }));
}
