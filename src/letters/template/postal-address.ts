import { countryNameInEnglish, isRegionOf, regionName } from '../../lib/regions.js';
import type { PostalAddress } from './types.js';

const eastAsianScript = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const eastAsianCountries = new Set(['JP', 'CN', 'TW', 'KR', 'HK', 'MO']);
// Countries whose postal code follows the town: "Minato-ku, Tokyo 106-0046", "Springfield, IL 62701".
const codeAfterTown = new Set(['JP', 'US', 'CA', 'AU', 'KR', 'CN', 'TW', 'HK', 'MO', 'SG', 'IN', 'BR']);

const present = (parts: (string | undefined)[]): string[] => parts.map((part) => part?.trim() ?? '').filter(Boolean);

/** True when the address is written in its country's own script, which orders it from country down to street. */
export function isEastAsianOrder(address: PostalAddress): boolean {
  return eastAsianCountries.has(address.country) && eastAsianScript.test([address.region, address.city, ...address.lines].join(''));
}

/**
 * The region as the address writes it. A region given as its ISO 3166-2 code (the organisation
 * form and the target form offer the list) is named in the address's own script: 東京都 in
 * 〒100-0001 東京都千代田区…, Tokyo in "Chiyoda-ku, Tokyo 100-0001", 서울특별시 in a Hangul address.
 * Anything else is printed as typed.
 */
function regionAsWritten(address: PostalAddress, eastAsian: boolean): string | undefined {
  const region = address.region?.trim();
  if (!region || !isRegionOf(region.toUpperCase(), address.country)) return region;
  const code = region.toUpperCase();
  return regionName(code, !eastAsian ? 'en' : address.country === 'KR' ? 'ko' : 'ja');
}

/**
 * The address in its country's order, without addressee or country: East Asian addresses in their
 * own script from large to small (〒106-0046 / 東京都港区元麻布3-4-33), everything else street first.
 */
function addressInOrder(address: PostalAddress): { eastAsian: boolean; lines: string[] } {
  const eastAsian = isEastAsianOrder(address);
  const region = regionAsWritten(address, eastAsian);
  const [firstLine, ...moreLines] = present(address.lines);
  if (eastAsian) {
    const separator = address.country === 'KR' ? ' ' : '';
    const locality = present([region, address.city, firstLine]).join(separator);
    if (address.country === 'JP') return { eastAsian, lines: present([address.postalCode && `〒${address.postalCode}`, locality, ...moreLines]) };
    return { eastAsian, lines: present([locality, ...moreLines, address.postalCode]) };
  }
  const town = codeAfterTown.has(address.country)
    ? [present([address.city, present([region, address.postalCode]).join(' ')]).join(', ')]
    : address.country === 'GB'
      ? present([address.city, address.postalCode])
      : [present([address.postalCode, address.city]).join(' ')];
  return { eastAsian, lines: present([firstLine, ...moreLines, ...town]) };
}

/**
 * The recipient block as printed in the envelope window.
 *
 * East Asian addresses in their own script go from large to small, with the addressee last:
 * 〒106-0046 / 東京都港区元麻布3-4-33 / embassy / ambassador. Everything else puts the addressee
 * first and the street before the town. The country is printed only for mail that crosses a
 * border, in English capitals as the UPU recommends for the country of destination.
 */
export function addressBlockLines(addressee: string[], address: PostalAddress, senderCountry: string): string[] {
  const country = address.country === senderCountry ? [] : [countryNameInEnglish(address.country).toUpperCase()];
  const { eastAsian, lines } = addressInOrder(address);
  return eastAsian ? [...lines, ...present(addressee), ...country] : [...present(addressee), ...lines, ...country];
}

/**
 * An address on one line, for lists and pages, in the same order as a letter writes it:
 * "〒106-0046 東京都港区元麻布3-4-33", "3-4-33 Moto-Azabu, Minato-ku, Tokyo 106-0046, Japan". An
 * address in its own East Asian script says its country by its script and postal mark, so only
 * the others end with `countryName(country)`.
 */
export function addressOnOneLine(address: PostalAddress, countryName: (code: string) => string): string {
  const { eastAsian, lines } = addressInOrder(address);
  return eastAsian ? lines.join(' ') : [...lines, countryName(address.country)].join(', ');
}
