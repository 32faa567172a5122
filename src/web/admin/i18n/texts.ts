import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { createContext, useContext } from 'hono/jsx';
import { parseAcceptLanguage } from '../../i18n/index.js';

/**
 * The dashboard's languages (PRODUCT.md §11). Texts live in typed catalogues,
 * one per area of the dashboard (src/web/admin/i18n/*.ts): English defines
 * the keys and Japanese must give every one, so a missing translation fails
 * the type check, and test/web/admin/admin-i18n.test.ts fails when a Japanese text
 * is the English one left untranslated.
 */
export const dashboardLanguages = ['en', 'ja'] as const;
export type DashboardLanguage = (typeof dashboardLanguages)[number];

export type Catalogue<T extends Record<string, string>> = { readonly en: T; readonly ja: { readonly [K in keyof T]: string } };

/** A catalogue's texts in one language, as `useTexts`/`textsFor` give them (for passing to helpers). */
export type TextsOf<C> = C extends Catalogue<infer T> ? { readonly [K in keyof T]: string } : never;

/** One area's texts. Placeholders are `{name}`, filled with `interpolate` (src/web/i18n). */
export function catalogue<const T extends Record<string, string>>(en: T, ja: { [K in keyof T]: string }): Catalogue<T> {
  return { en, ja };
}

export function isDashboardLanguage(value: unknown): value is DashboardLanguage {
  return typeof value === 'string' && (dashboardLanguages as readonly string[]).includes(value);
}

/** The cookie the dashboard remembers an explicit choice in (path /admin, apart from the public pages' `lang`). */
export const DASHBOARD_LANGUAGE_COOKIE = 'admin_lang';

/**
 * `?lang=` (remembered in a cookie) beats the cookie beats the signed-in
 * user's saved language beats Accept-Language beats English.
 */
export function negotiateDashboardLanguage(c: Context, savedByUser?: DashboardLanguage): DashboardLanguage {
  const query = c.req.query('lang');
  if (isDashboardLanguage(query)) {
    const secure = new URL(c.req.url).protocol === 'https:';
    setCookie(c, DASHBOARD_LANGUAGE_COOKIE, query, { path: '/admin', sameSite: 'Lax', secure, maxAge: 365 * 86_400 });
    return query;
  }
  const cookie = getCookie(c, DASHBOARD_LANGUAGE_COOKIE);
  if (isDashboardLanguage(cookie)) return cookie;
  if (savedByUser) return savedByUser;
  for (const preference of parseAcceptLanguage(c.req.header('accept-language'))) {
    if (isDashboardLanguage(preference.language)) return preference.language;
  }
  return 'en';
}

/** The language the page being rendered is in; renderPage provides it around every page. */
export const DashboardLanguageContext = createContext<DashboardLanguage>('en');

/** Inside a component: the catalogue's texts in the page's language. */
export function useTexts<T extends Record<string, string>>(texts: Catalogue<T>): { readonly [K in keyof T]: string } {
  return texts[useContext(DashboardLanguageContext)];
}

/** Inside a component: the page's language (for numbers, dates and language names). */
export function useDashboardLanguage(): DashboardLanguage {
  return useContext(DashboardLanguageContext);
}

/** In a handler: the catalogue's texts in the request's language (set by the dashboard's language middleware). */
export function textsFor<T extends Record<string, string>>(c: Context, texts: Catalogue<T>): { readonly [K in keyof T]: string } {
  const language = (c.get('language') as DashboardLanguage | undefined) ?? 'en';
  return texts[language];
}

/** BCP 47 tags for Intl: British English keeps day-month order and 24-hour times, as the dashboard always had. */
export const intlLocale: Record<DashboardLanguage, string> = { en: 'en-GB', ja: 'ja-JP' };

const numberFormats = new Map<DashboardLanguage, Intl.NumberFormat>();

/** 12,345 / 12,345 — grouped in the viewer's language. */
export function formatNumber(language: DashboardLanguage, value: number): string {
  let format = numberFormats.get(language);
  if (!format) {
    format = new Intl.NumberFormat(intlLocale[language]);
    numberFormats.set(language, format);
  }
  return format.format(value);
}

/** A date and time in the viewer's language, in `timeZone` (named after it). */
export function formatDateTime(language: DashboardLanguage, at: string | number | Date, timeZone = 'UTC'): string {
  const formatted = new Intl.DateTimeFormat(intlLocale[language], { timeZone, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(new Date(at));
  return `${formatted} (${timeZone})`;
}

/** A calendar date (`YYYY-MM-DD` or an instant) in the viewer's language. */
export function formatDate(language: DashboardLanguage, at: string | number | Date, timeZone = 'UTC'): string {
  return new Intl.DateTimeFormat(intlLocale[language], { timeZone, dateStyle: 'medium' }).format(new Date(at));
}
