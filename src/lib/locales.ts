/**
 * The languages Signet speaks: a campaign's locale and translations, the public pages, emails and
 * letters (PRODUCT.md §3). Defined here once; every other list of languages is this one under the
 * name its domain uses (page languages, letter languages…).
 */
export const locales = ['en', 'ja', 'ko', 'zh'] as const;
export type Locale = (typeof locales)[number];
