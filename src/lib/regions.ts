// Only the subdivision list is imported: the package's other tables (countries, former codes) are not needed here.
import { iso31662 } from 'iso-3166/2.js';
import type { Locale } from './locales.js';

/**
 * ISO 3166-2 first-level subdivisions (states, prefectures, provinces): the fixed list a
 * supporter's region is chosen from, so that region totals in letters and on pages count like
 * with like and never carry free text. Plain data and Intl only: this module also runs on Workers.
 */
export type RegionLanguage = Locale;

/** A region as offered on the signing form. */
export type RegionOption = { code: string; name: string };

type Entry = { country: string; english: string };

let byCode: Map<string, Entry> | undefined;
let byCountry: Map<string, string[]> | undefined;

// Built on first use rather than at import: a Worker that never names a region pays nothing.
function entries(): Map<string, Entry> {
  if (!byCode) {
    byCode = new Map();
    for (const { code, name, parent } of iso31662) {
      // Second-level entries (a French département under its région) have a subdivision as parent.
      if (/^[A-Z]{2}$/.test(parent)) byCode.set(code, { country: parent, english: name });
    }
  }
  return byCode;
}

/** Whether `code` is a first-level subdivision of `country` (both as stored: upper case). */
export function isRegionOf(code: string, country: string): boolean {
  return entries().get(code)?.country === country;
}

/** Whether `code` is any country's first-level subdivision. */
export function isRegionCode(code: string): boolean {
  return entries().has(code);
}

/** The country a region code belongs to, or undefined for a code that is not on the list. */
export function countryOfRegion(code: string): string | undefined {
  return entries().get(code)?.country;
}

/** A country's first-level subdivision codes, in ISO order (empty for a country without any). */
export function regionsOf(country: string): readonly string[] {
  if (!byCountry) {
    byCountry = new Map();
    for (const [code, entry] of entries()) {
      const codes = byCountry.get(entry.country);
      if (codes) codes.push(code);
      else byCountry.set(entry.country, [code]);
    }
  }
  return byCountry.get(country) ?? [];
}

/**
 * A region's name for a reader of `language`; a code not on the list comes back as given.
 *
 * The package names subdivisions in the romanisation ISO publishes, which for Japan is
 * Kunrei-shiki ("Tôkyô", "Hukusima", "Tiba"): correct, but not how English readers meet these
 * names, so Japan's prefectures carry their usual Hepburn spelling below. Japanese and Chinese
 * readers get the prefectures' own names in kanji: a Chinese reader reads 東京都 or 大阪府 at
 * once, and Chinese writing keeps Japanese place names in their Han form. Korean readers know
 * Japanese places by their Hangul transliteration (도쿄도), seldom by kanji, so Korean has its
 * own column; and Korea's own provinces are given in Hangul, since a Korean page defaults to
 * Korea. Anything else falls back to the package's name.
 */
export function regionName(code: string, language: RegionLanguage): string {
  const entry = entries().get(code);
  if (!entry) return code;
  const local = localNames.get(code);
  if (local) {
    const name = language === 'en' ? local.en : language === 'ko' ? local.ko : local.han;
    if (name) return name;
  }
  return entry.english;
}

const numericCodes = /^[A-Z]{2}-\d+$/;
const optionsCache = new Map<string, RegionOption[]>();

/**
 * A country's regions named for `language`, in the order a reader of that country expects:
 * numbered codes (Japan's prefectures run from Hokkaidō in the north to Okinawa; Korea's follow
 * its administrative order) keep their ISO order, the others are sorted by name.
 */
export function regionOptions(country: string, language: RegionLanguage): readonly RegionOption[] {
  const key = `${language}:${country}`;
  let options = optionsCache.get(key);
  if (!options) {
    const codes = regionsOf(country);
    options = codes.map((code) => ({ code, name: regionName(code, language) }));
    if (!codes.every((code) => numericCodes.test(code))) {
      const collator = new Intl.Collator(language === 'zh' ? 'zh-Hans' : language);
      options.sort((a, b) => collator.compare(a.name, b.name));
    }
    optionsCache.set(key, options);
  }
  return options;
}

type LocalName = { en?: string; han?: string; ko: string };

// Japan's 47 prefectures (JIS X 0401 order = ISO 3166-2:JP) and Korea's 17 first-level divisions.
const localNames = new Map<string, LocalName>([
  ['JP-01', { en: 'Hokkaido', han: '北海道', ko: '홋카이도' }],
  ['JP-02', { en: 'Aomori', han: '青森県', ko: '아오모리현' }],
  ['JP-03', { en: 'Iwate', han: '岩手県', ko: '이와테현' }],
  ['JP-04', { en: 'Miyagi', han: '宮城県', ko: '미야기현' }],
  ['JP-05', { en: 'Akita', han: '秋田県', ko: '아키타현' }],
  ['JP-06', { en: 'Yamagata', han: '山形県', ko: '야마가타현' }],
  ['JP-07', { en: 'Fukushima', han: '福島県', ko: '후쿠시마현' }],
  ['JP-08', { en: 'Ibaraki', han: '茨城県', ko: '이바라키현' }],
  ['JP-09', { en: 'Tochigi', han: '栃木県', ko: '도치기현' }],
  ['JP-10', { en: 'Gunma', han: '群馬県', ko: '군마현' }],
  ['JP-11', { en: 'Saitama', han: '埼玉県', ko: '사이타마현' }],
  ['JP-12', { en: 'Chiba', han: '千葉県', ko: '지바현' }],
  ['JP-13', { en: 'Tokyo', han: '東京都', ko: '도쿄도' }],
  ['JP-14', { en: 'Kanagawa', han: '神奈川県', ko: '가나가와현' }],
  ['JP-15', { en: 'Niigata', han: '新潟県', ko: '니가타현' }],
  ['JP-16', { en: 'Toyama', han: '富山県', ko: '도야마현' }],
  ['JP-17', { en: 'Ishikawa', han: '石川県', ko: '이시카와현' }],
  ['JP-18', { en: 'Fukui', han: '福井県', ko: '후쿠이현' }],
  ['JP-19', { en: 'Yamanashi', han: '山梨県', ko: '야마나시현' }],
  ['JP-20', { en: 'Nagano', han: '長野県', ko: '나가노현' }],
  ['JP-21', { en: 'Gifu', han: '岐阜県', ko: '기후현' }],
  ['JP-22', { en: 'Shizuoka', han: '静岡県', ko: '시즈오카현' }],
  ['JP-23', { en: 'Aichi', han: '愛知県', ko: '아이치현' }],
  ['JP-24', { en: 'Mie', han: '三重県', ko: '미에현' }],
  ['JP-25', { en: 'Shiga', han: '滋賀県', ko: '시가현' }],
  ['JP-26', { en: 'Kyoto', han: '京都府', ko: '교토부' }],
  ['JP-27', { en: 'Osaka', han: '大阪府', ko: '오사카부' }],
  ['JP-28', { en: 'Hyogo', han: '兵庫県', ko: '효고현' }],
  ['JP-29', { en: 'Nara', han: '奈良県', ko: '나라현' }],
  ['JP-30', { en: 'Wakayama', han: '和歌山県', ko: '와카야마현' }],
  ['JP-31', { en: 'Tottori', han: '鳥取県', ko: '돗토리현' }],
  ['JP-32', { en: 'Shimane', han: '島根県', ko: '시마네현' }],
  ['JP-33', { en: 'Okayama', han: '岡山県', ko: '오카야마현' }],
  ['JP-34', { en: 'Hiroshima', han: '広島県', ko: '히로시마현' }],
  ['JP-35', { en: 'Yamaguchi', han: '山口県', ko: '야마구치현' }],
  ['JP-36', { en: 'Tokushima', han: '徳島県', ko: '도쿠시마현' }],
  ['JP-37', { en: 'Kagawa', han: '香川県', ko: '가가와현' }],
  ['JP-38', { en: 'Ehime', han: '愛媛県', ko: '에히메현' }],
  ['JP-39', { en: 'Kochi', han: '高知県', ko: '고치현' }],
  ['JP-40', { en: 'Fukuoka', han: '福岡県', ko: '후쿠오카현' }],
  ['JP-41', { en: 'Saga', han: '佐賀県', ko: '사가현' }],
  ['JP-42', { en: 'Nagasaki', han: '長崎県', ko: '나가사키현' }],
  ['JP-43', { en: 'Kumamoto', han: '熊本県', ko: '구마모토현' }],
  ['JP-44', { en: 'Oita', han: '大分県', ko: '오이타현' }],
  ['JP-45', { en: 'Miyazaki', han: '宮崎県', ko: '미야자키현' }],
  ['JP-46', { en: 'Kagoshima', han: '鹿児島県', ko: '가고시마현' }],
  ['JP-47', { en: 'Okinawa', han: '沖縄県', ko: '오키나와현' }],
  ['KR-11', { ko: '서울특별시' }],
  ['KR-26', { ko: '부산광역시' }],
  ['KR-27', { ko: '대구광역시' }],
  ['KR-28', { ko: '인천광역시' }],
  ['KR-29', { ko: '광주광역시' }],
  ['KR-30', { ko: '대전광역시' }],
  ['KR-31', { ko: '울산광역시' }],
  ['KR-41', { ko: '경기도' }],
  ['KR-42', { ko: '강원특별자치도' }],
  ['KR-43', { ko: '충청북도' }],
  ['KR-44', { ko: '충청남도' }],
  ['KR-45', { ko: '전북특별자치도' }],
  ['KR-46', { ko: '전라남도' }],
  ['KR-47', { ko: '경상북도' }],
  ['KR-48', { ko: '경상남도' }],
  ['KR-49', { ko: '제주특별자치도' }],
  ['KR-50', { ko: '세종특별자치시' }],
]);

let englishCountryNames: Intl.DisplayNames | undefined;

/**
 * A country's English name from its ISO 3166-1 code (the code itself when ICU has none). Made
 * on first use: ICU's display-name data is not needed to start the server, and loading it at
 * start held several megabytes of an idle server's memory.
 */
export function countryNameInEnglish(code: string): string {
  englishCountryNames ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
  return englishCountryNames.of(code) ?? code;
}
