import type { LetterLanguage } from './types.js';

// en-GB gives "22 September 2027": day-month order reads naturally to recipients everywhere,
// where "September 22, 2027" is a US convention.
const dateLocales: Record<LetterLanguage, string> = { en: 'en-GB', ja: 'ja-JP', ko: 'ko-KR', zh: 'zh-CN' };

/** The letter's date as written in its language, on the calendar day of `timeZone` (e.g. ja → 2027年9月22日). */
export function formatLetterDate(at: number, language: LetterLanguage, timeZone: string): string {
  return new Intl.DateTimeFormat(dateLocales[language], { timeZone, year: 'numeric', month: 'long', day: 'numeric' }).format(at);
}

/** Counts as written in the letter's language (12,345). */
export function formatCount(count: number, language: LetterLanguage): string {
  return new Intl.NumberFormat(dateLocales[language]).format(count);
}
