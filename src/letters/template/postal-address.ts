import type { PostalAddress } from './types.js';

const eastAsianScript = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const eastAsianCountries = new Set(['JP', 'CN', 'TW', 'KR', 'HK', 'MO']);
// Countries whose postal code follows the town: "Minato-ku, Tokyo 106-0046", "Springfield, IL 62701".
const codeAfterTown = new Set(['JP', 'US', 'CA', 'AU', 'KR', 'CN', 'TW', 'HK', 'MO', 'SG', 'IN', 'BR']);

const englishRegionNames = new Intl.DisplayNames(['en'], { type: 'region' });

const present = (parts: (string | undefined)[]): string[] => parts.map((part) => part?.trim() ?? '').filter(Boolean);

/** True when the address is written in its country's own script, which orders it from country down to street. */
export function isEastAsianOrder(address: PostalAddress): boolean {
  return eastAsianCountries.has(address.country) && eastAsianScript.test([address.region, address.city, ...address.lines].join(''));
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
  const country = address.country === senderCountry ? [] : [(englishRegionNames.of(address.country) ?? address.country).toUpperCase()];
  const [firstLine, ...moreLines] = present(address.lines);
  if (isEastAsianOrder(address)) {
    const separator = address.country === 'KR' ? ' ' : '';
    const locality = present([address.region, address.city, firstLine]).join(separator);
    if (address.country === 'JP') {
      return present([address.postalCode && `〒${address.postalCode}`, locality, ...moreLines, ...addressee, ...country]);
    }
    return present([locality, ...moreLines, address.postalCode, ...addressee, ...country]);
  }
  const town = codeAfterTown.has(address.country)
    ? [present([address.city, present([address.region, address.postalCode]).join(' ')]).join(', ')]
    : address.country === 'GB'
      ? present([address.city, address.postalCode])
      : [present([address.postalCode, address.city]).join(' ')];
  return present([...addressee, firstLine, ...moreLines, ...town, ...country]);
}
