import { escapeHtml } from '../../lib/html.js';
import { countryOfRegion, regionOptions, regionsOf } from '../../lib/regions.js';
import { countryName } from './countries.js';
import type { PageLanguage } from './index.js';

/**
 * The countries whose regions the signing form offers: the country chosen (or preselected), the
 * country of a region already chosen (so a form shown again keeps it), then the countries the
 * campaign writes to. Countries without subdivisions on the ISO list are left out.
 */
export function regionCountries(chosen: { country: string; region: string }, targetCountries: readonly string[]): string[] {
  const candidates = [chosen.country.trim().toUpperCase(), countryOfRegion(chosen.region.trim().toUpperCase()) ?? '', ...targetCountries];
  return [...new Set(candidates)].filter((country) => country !== '' && regionsOf(country).length > 0);
}

const groupHtml = new Map<string, string>();

/**
 * One `<optgroup>` of `<option>`s per country, labelled and named in the page's language, with
 * `selected` on `region`. Each group is escaped and joined once per language: Japan alone is 47
 * options, and the campaign page is the busiest page there is.
 */
export function regionOptgroupsHtml(language: PageLanguage, countries: readonly string[], region: string): string {
  const html = countries
    .map((country) => {
      const key = `${language}:${country}`;
      let group = groupHtml.get(key);
      if (group === undefined) {
        const options = regionOptions(country, language)
          .map((option) => `<option value="${option.code}">${escapeHtml(option.name)}</option>`)
          .join('');
        group = `<optgroup label="${escapeHtml(countryName(country, language))}">${options}</optgroup>`;
        groupHtml.set(key, group);
      }
      return group;
    })
    .join('');
  const selected = region.trim().toUpperCase();
  // Only a code on the list can match an option; anything else leaves every option unselected.
  return selected === '' || countryOfRegion(selected) === undefined ? html : html.replace(`<option value="${selected}">`, `<option value="${selected}" selected="">`);
}
