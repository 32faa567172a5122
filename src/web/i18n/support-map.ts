import type { PageLanguage } from './index.js';

/**
 * The map of support's words (src/web/support-map.tsx), in every page language: the campaign
 * page shows it in en, ja, ko and zh, the dashboard in en and ja. Kept apart from the page
 * catalogues so the map is one self-contained piece.
 */
export type SupportMapTexts = {
  heading: string;
  /** The SVG's aria-label: the table beside it carries the figures. */
  mapLabel: string;
  prefectureCaption: string;
  prefecture: string;
  countryCaption: string;
  country: string;
  supporters: string;
  otherPrefectures: string;
  otherCountries: string;
  /** Why a small prefecture or country is not named ({minimum}). */
  mergedNote: string;
  /** A tile's <title>: {name} and {count}. */
  tileCount: string;
  /** A tile's <title> where the prefecture is below the minimum (or has nobody): {name}, {minimum}. */
  tileMerged: string;
  /** The legend's entry for those tiles ({minimum}). */
  legendMerged: string;
};

export const supportMapTexts: Record<PageLanguage, SupportMapTexts> = {
  en: {
    heading: 'Where support comes from',
    mapLabel: 'Map of Japan by prefecture, shaded by the number of supporters. The table beside it gives the figures.',
    prefectureCaption: 'Supporters in Japan by prefecture',
    prefecture: 'Prefecture',
    countryCaption: 'Supporters by country',
    country: 'Country',
    supporters: 'Supporters',
    otherPrefectures: 'Other prefectures or not stated',
    otherCountries: 'Other countries',
    mergedNote: 'A prefecture or country with fewer than {minimum} supporters is not shown on its own but counted under “other”, so that nobody can be singled out.',
    tileCount: '{name}: {count}',
    tileMerged: '{name}: fewer than {minimum} (counted under other prefectures)',
    legendMerged: 'Fewer than {minimum}',
  },
  ja: {
    heading: '賛同の広がり',
    mapLabel: '都道府県別の賛同者数を色の濃さで示した日本地図。数は横の表にあります。',
    prefectureCaption: '都道府県別の賛同者数（日本）',
    prefecture: '都道府県',
    countryCaption: '国・地域別の賛同者数',
    country: '国・地域',
    supporters: '賛同者数',
    otherPrefectures: 'その他の都道府県・未記入',
    otherCountries: 'その他の国・地域',
    mergedNote: '賛同者が{minimum}人未満の都道府県や国・地域は、個人が特定されないよう単独では示さず「その他」に含めています。',
    tileCount: '{name}：{count}人',
    tileMerged: '{name}：{minimum}人未満（その他の都道府県に含む）',
    legendMerged: '{minimum}人未満',
  },
  ko: {
    heading: '지지가 모인 곳',
    mapLabel: '도도부현별 서명자 수를 색의 농도로 나타낸 일본 지도입니다. 수치는 옆의 표에 있습니다.',
    prefectureCaption: '일본 도도부현별 서명자 수',
    prefecture: '도도부현',
    countryCaption: '국가별 서명자 수',
    country: '국가',
    supporters: '서명자 수',
    otherPrefectures: '기타 도도부현 또는 미기재',
    otherCountries: '기타 국가',
    mergedNote: '서명자가 {minimum}명 미만인 도도부현이나 국가는 개인이 특정되지 않도록 따로 표시하지 않고 ‘기타’에 포함합니다.',
    tileCount: '{name}: {count}명',
    tileMerged: '{name}: {minimum}명 미만(기타 도도부현에 포함)',
    legendMerged: '{minimum}명 미만',
  },
  zh: {
    heading: '支持来自哪里',
    mapLabel: '按都道府县以颜色深浅显示支持者人数的日本地图。具体数字见旁边的表格。',
    prefectureCaption: '日本各都道府县的支持者人数',
    prefecture: '都道府县',
    countryCaption: '各国家和地区的支持者人数',
    country: '国家或地区',
    supporters: '支持者人数',
    otherPrefectures: '其他都道府县或未填写',
    otherCountries: '其他国家和地区',
    mergedNote: '支持者少于{minimum}人的都道府县或国家和地区不单独显示，而计入“其他”，以免任何人被识别出来。',
    tileCount: '{name}：{count}人',
    tileMerged: '{name}：少于{minimum}人（计入其他都道府县）',
    legendMerged: '少于{minimum}人',
  },
};
