import { formatCount, formatLetterDate } from './letter-date.js';
import { cityForLetter, nameForLetter } from './signatory-names.js';
import type { LetterDocument, LetterLanguage } from './types.js';

const countryNames = new Map<string, string>();

/** A country code as its name in the letter's language (JP → 日本 / Japan); unknown codes print as given. */
export function countryName(code: string, language: LetterLanguage): string {
  const key = `${language}:${code}`;
  let name = countryNames.get(key);
  if (name === undefined) {
    try {
      name = new Intl.DisplayNames([language], { type: 'region', fallback: 'code' }).of(code.toUpperCase()) ?? code;
    } catch {
      name = code;
    }
    if (countryNames.size >= 2000) countryNames.clear();
    countryNames.set(key, name);
  }
  return name;
}

/**
 * The data a template is rendered with; its shape is `letterVariables`. Numbers arrive formatted
 * for the letter's language, and `signer` is null outside per-signer letters so that
 * `{{#signer}}…{{/signer}}` prints only in them. `signatures.byRegion` arrives as the caller
 * built it: callers that send letters merge small regions first (src/letters/template/region-totals.ts).
 * `signatures.total` is the whole petition's count, `signatures.count` this letter's share of it
 * (the same number unless the letter is routed by jurisdiction).
 */
export function buildLetterView(input: LetterDocument, listed: number) {
  const language = input.template.language;
  const { campaign, target, organisation, recipientSignature: signer } = input;
  const address = target.postalAddress;
  const signatory = { name: organisation.representative?.name ?? '', title: organisation.representative?.title ?? '' };
  return {
    campaign: { slug: campaign.slug, title: campaign.title, summary: campaign.summary, url: campaign.url ?? '' },
    target: {
      name: target.name,
      title: target.title,
      organisation: target.organisation,
      salutation: target.salutation,
      language: target.language,
      postalAddress: {
        lines: address.lines,
        postalCode: address.postalCode ?? '',
        city: address.city ?? '',
        region: address.region ?? '',
        country: countryName(address.country, language),
      },
    },
    signatures: {
      count: formatCount(input.signatures.count, language),
      total: formatCount(input.signatures.total ?? input.signatures.count, language),
      listed: formatCount(listed, language),
      byRegion: input.signatures.byRegion.map(({ region, count }) => ({ region, count: formatCount(count, language) })),
    },
    date: formatLetterDate(input.date, language, campaign.timeZone),
    organisation: {
      name: organisation.name,
      addressLines: organisation.addressLines,
      country: countryName(organisation.country, language),
      postalAddress: {
        lines: organisation.postalAddress?.lines ?? organisation.addressLines,
        postalCode: organisation.postalAddress?.postalCode ?? '',
        city: organisation.postalAddress?.city ?? '',
        region: organisation.postalAddress?.region ?? '',
        country: countryName(organisation.country, language),
      },
      email: organisation.email ?? '',
      website: organisation.website ?? '',
      phone: organisation.phone ?? '',
      logo: organisation.logo ?? '',
      signatory,
      // The name organisation.json gave the signatory, kept for templates written before the profile.
      representative: signatory,
    },
    // The supporter's own letter shows of them what the appendix would: `none` leaves every field empty.
    signer: signer
      ? {
          name: nameForLetter(signer),
          city: cityForLetter(signer),
          country: signer.nameOnLetter === 'none' ? '' : countryName(signer.country, language),
        }
      : null,
  };
}
