import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { en, type Messages } from './en.js';
import { ja } from './ja.js';
import { ko } from './ko.js';
import { zh } from './zh.js';
import { type Locale, locales } from '../../lib/locales.js';

export type { Messages } from './en.js';

/** The page languages, in the order the language switch shows them. */
export const pageLanguages = locales;
export type PageLanguage = Locale;

export const catalogs: Record<PageLanguage, Messages> = { en, ja, ko, zh };

/** The `lang` / `hreflang` value: the Chinese copy is written in simplified characters. */
export const htmlLang: Record<PageLanguage, string> = { en: 'en', ja: 'ja', ko: 'ko', zh: 'zh-Hans' };

/** Open Graph locales (language_TERRITORY, as Facebook and others expect). */
export const ogLocale: Record<PageLanguage, string> = { en: 'en_US', ja: 'ja_JP', ko: 'ko_KR', zh: 'zh_CN' };

/** The cookie a visitor's explicit choice (`?lang=`) is remembered in. */
export const LANGUAGE_COOKIE = 'lang';

export function isPageLanguage(value: unknown): value is PageLanguage {
  return typeof value === 'string' && (pageLanguages as readonly string[]).includes(value);
}

type Preference = { language: string; region: string | undefined; q: number };

/** Accept-Language as a list of tags ordered by quality (q=0 dropped; ties keep their order). */
export function parseAcceptLanguage(header: string | undefined): Preference[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParam ? Number(qParam.slice(2)) : 1;
      const [language = '', ...rest] = tag.trim().toLowerCase().split('-');
      const region = rest.find((subtag) => /^[a-z]{2}$/.test(subtag))?.toUpperCase();
      return { language, region, q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((p) => p.q > 0 && p.language !== '')
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map(({ language, region, q }) => ({ language, region, q }));
}

/** `?lang=` beats the `lang` cookie beats Accept-Language beats English. */
export function negotiateLanguage(c: Context): PageLanguage {
  const query = c.req.query('lang');
  if (isPageLanguage(query)) return query;
  const cookie = getCookie(c, LANGUAGE_COOKIE);
  if (isPageLanguage(cookie)) return cookie;
  for (const preference of parseAcceptLanguage(c.req.header('accept-language'))) {
    if (isPageLanguage(preference.language)) return preference.language;
  }
  return 'en';
}

/** The region the browser names with this language (en-GB → GB), if any: a better default country than a guess. */
export function preferredRegion(c: Context, language: PageLanguage): string | undefined {
  return parseAcceptLanguage(c.req.header('accept-language')).find((p) => p.language === language && p.region)?.region;
}

/**
 * Fills `{name}` placeholders. With only string values it returns a string;
 * with elements (a link in a sentence) it returns the pieces to render in order.
 */
export function interpolate(template: string, values: Record<string, string | number>): string;
export function interpolate<T>(template: string, values: Record<string, T | string | number>): (T | string)[];
export function interpolate<T>(template: string, values: Record<string, T | string | number>): string | (T | string)[] {
  const pieces = template.split(/\{(\w+)\}/).map((piece, index) => {
    if (index % 2 === 0) return piece;
    const value = values[piece];
    if (value === undefined) return `{${piece}}`;
    return typeof value === 'number' ? String(value) : value;
  });
  return pieces.every((piece) => typeof piece === 'string') ? pieces.join('') : pieces.filter((piece) => piece !== '');
}

/** A language's name in the page's language (日本語 → "Japanese" on an English page). */
export function languageName(language: string, inLanguage: PageLanguage): string {
  try {
    return new Intl.DisplayNames([htmlLang[inLanguage]], { type: 'language' }).of(language) ?? language;
  } catch {
    return language;
  }
}
