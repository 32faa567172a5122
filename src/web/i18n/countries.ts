import { escapeHtml } from '../../lib/html.js';
import { htmlLang, type PageLanguage } from './index.js';

// ISO 3166-1 alpha-2, every officially assigned code.
const codes = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE
GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP
KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF
NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN
SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`.split(/\s+/);

export const countryCodes: ReadonlySet<string> = new Set(codes);

/** The country the form preselects for a page language when the browser names none. */
export const defaultCountry: Record<PageLanguage, string | undefined> = { en: undefined, ja: 'JP', ko: 'KR', zh: undefined };

export type CountryOption = { code: string; name: string };

const optionsByLanguage = new Map<PageLanguage, CountryOption[]>();

/** Every country, named and sorted in the page's language (built once per language). */
export function countryOptions(language: PageLanguage): CountryOption[] {
  let options = optionsByLanguage.get(language);
  if (!options) {
    const names = new Intl.DisplayNames([htmlLang[language]], { type: 'region' });
    const collator = new Intl.Collator(htmlLang[language]);
    options = codes.map((code) => ({ code, name: names.of(code) ?? code })).sort((a, b) => collator.compare(a.name, b.name));
    optionsByLanguage.set(language, options);
  }
  return options;
}

const optionsHtmlByLanguage = new Map<PageLanguage, string>();

/**
 * The `<option>`s of every country as HTML, with `selected` on `code`: the
 * list is escaped and joined once per language, since rendering 250 elements
 * was the largest part of building a campaign page.
 */
export function countryOptionsHtml(language: PageLanguage, code: string): string {
  let html = optionsHtmlByLanguage.get(language);
  if (html === undefined) {
    html = countryOptions(language)
      .map((option) => `<option value="${option.code}">${escapeHtml(option.name)}</option>`)
      .join('');
    optionsHtmlByLanguage.set(language, html);
  }
  const selected = code.toUpperCase();
  // Only a known code is marked; anything else leaves the list untouched.
  return countryCodes.has(selected) ? html.replace(`<option value="${selected}">`, `<option value="${selected}" selected="">`) : html;
}

export function countryName(code: string, language: PageLanguage): string {
  return countryOptions(language).find((option) => option.code === code)?.name ?? code;
}
