import type { LetterLanguage } from './types.js';

/**
 * Fixed wording of the appendix, per letter language. `{total}`, `{count}` and `{listed}` are
 * filled with formatted numbers: the petition's signatures, those this letter counts, and those
 * of them it lists by name.
 */
export type AppendixStrings = {
  title: string;
  continued: string;
  columns: { number: string; name: string; city: string; country: string };
  summary: string;
  /** Everyone counted asked to be named: no "the others are only counted". */
  summaryAllNamed: string;
  summaryNoneNamed: string;
  /**
   * A letter that speaks for a share of the petition (routed by jurisdiction). Each says only what
   * is true of this letter: whom it counts and lists, never where the others are.
   */
  shareSummary: string;
  shareSummaryAllNamed: string;
  shareSummaryNoneNamed: string;
  /** No signature counted with this letter; the same words whether nobody signed from its district or a few were folded into another letter. */
  shareSummaryNoneCounted: string;
  regionsTitle: string;
  regionsTitleShare: string;
  regionColumns: { region: string; count: string };
  /**
   * The line that merges regions below `{minimum}` signatures (PRODUCT.md §8), the line of
   * signatures that name no region on the list, and the line that merges both.
   */
  otherRegions: string;
  regionNotStated: string;
  otherRegionsOrNotStated: string;
  total: string;
};

export const appendixStrings: Record<LetterLanguage, AppendixStrings> = {
  en: {
    title: 'Signatories',
    continued: 'Signatories (continued)',
    columns: { number: 'No.', name: 'Name', city: 'City', country: 'Country' },
    summary: '{count} people signed this petition. The {listed} who asked to be named are listed below; the others are counted but not named.',
    summaryAllNamed: '{count} people signed this petition. All of them asked to be named and are listed below.',
    summaryNoneNamed: '{count} people signed this petition. None of them asked to be named, so they are counted but not listed.',
    shareSummary: '{total} people signed this petition; {count} of them are counted with this letter. The {listed} of these who asked to be named are listed below; the others are counted but not named.',
    shareSummaryAllNamed: '{total} people signed this petition; {count} of them are counted with this letter. All of these asked to be named and are listed below.',
    shareSummaryNoneNamed: '{total} people signed this petition; {count} of them are counted with this letter. None of these asked to be named, so they are counted but not listed.',
    shareSummaryNoneCounted: '{total} people signed this petition; none of them is counted with this letter.',
    regionsTitle: 'Signatures by region',
    regionsTitleShare: 'Signatures counted with this letter, by region',
    regionColumns: { region: 'Region', count: 'Signatures' },
    otherRegions: 'Other regions (each with fewer than {minimum})',
    regionNotStated: 'Region not stated',
    otherRegionsOrNotStated: 'Other regions (each with fewer than {minimum}) or not stated',
    total: 'Total',
  },
  ja: {
    title: '署名者一覧',
    continued: '署名者一覧（続き）',
    columns: { number: '番号', name: '氏名', city: '市区町村', country: '国' },
    summary: '本要請には{count}名が署名しました。氏名の記載を希望した{listed}名を以下に記します。その他の方は人数にのみ含めています。',
    summaryAllNamed: '本要請には{count}名が署名しました。全員が氏名の記載を希望したため、以下に記します。',
    summaryNoneNamed: '本要請には{count}名が署名しました。氏名の記載を希望した方はいないため、人数のみを記します。',
    shareSummary: '本要請には{total}名が署名し、本書簡ではそのうち{count}名を数えています。氏名の記載を希望した{listed}名を以下に記します。その他の方は人数にのみ含めています。',
    shareSummaryAllNamed: '本要請には{total}名が署名し、本書簡ではそのうち{count}名を数えています。全員が氏名の記載を希望したため、以下に記します。',
    shareSummaryNoneNamed: '本要請には{total}名が署名し、本書簡ではそのうち{count}名を数えています。氏名の記載を希望した方はいないため、人数のみを記します。',
    shareSummaryNoneCounted: '本要請には{total}名が署名しました。本書簡で数える署名者はいません。',
    regionsTitle: '地域別署名数',
    regionsTitleShare: '本書簡で数えた署名の地域別内訳',
    regionColumns: { region: '地域', count: '署名数' },
    otherRegions: 'その他の地域（{minimum}名未満の地域の合計）',
    regionNotStated: '地域の記載なし',
    otherRegionsOrNotStated: 'その他の地域（{minimum}名未満の地域の合計）・地域の記載なし',
    total: '合計',
  },
  zh: {
    title: '联署人名单',
    continued: '联署人名单（续）',
    columns: { number: '序号', name: '姓名', city: '城市', country: '国家' },
    summary: '共有{count}人签署本请愿书。以下列出其中希望具名的{listed}人，其余签署人只计入总数。',
    summaryAllNamed: '共有{count}人签署本请愿书。全体签署人均希望具名，列于下方。',
    summaryNoneNamed: '共有{count}人签署本请愿书。签署人均未要求具名，因此只计入总数。',
    shareSummary: '共有{total}人签署本请愿书，本信计入其中{count}人。以下列出其中希望具名的{listed}人，其余签署人只计入人数。',
    shareSummaryAllNamed: '共有{total}人签署本请愿书，本信计入其中{count}人。他们均希望具名，列于下方。',
    shareSummaryNoneNamed: '共有{total}人签署本请愿书，本信计入其中{count}人。他们均未要求具名，因此只计入人数。',
    shareSummaryNoneCounted: '共有{total}人签署本请愿书，本信未计入其中任何人。',
    regionsTitle: '各地区签名数',
    regionsTitleShare: '本信计入的签名（按地区）',
    regionColumns: { region: '地区', count: '签名数' },
    otherRegions: '其他地区（各不足{minimum}人的地区合计）',
    regionNotStated: '未注明地区',
    otherRegionsOrNotStated: '其他地区（各不足{minimum}人的地区合计）或未注明地区',
    total: '合计',
  },
  ko: {
    title: '서명자 명단',
    continued: '서명자 명단 (계속)',
    columns: { number: '번호', name: '이름', city: '도시', country: '국가' },
    summary: '총 {count}명이 이 청원에 서명했습니다. 이름 기재를 원한 {listed}명을 아래에 적고, 나머지 분들은 인원수에만 포함했습니다.',
    summaryAllNamed: '총 {count}명이 이 청원에 서명했습니다. 모두 이름 기재를 원하여 아래에 적습니다.',
    summaryNoneNamed: '총 {count}명이 이 청원에 서명했습니다. 이름 기재를 원한 분이 없어 인원수만 적습니다.',
    shareSummary: '총 {total}명이 이 청원에 서명했으며, 이 서한에는 그중 {count}명을 집계했습니다. 이름 기재를 원한 {listed}명을 아래에 적고, 나머지 분들은 인원수에만 포함했습니다.',
    shareSummaryAllNamed: '총 {total}명이 이 청원에 서명했으며, 이 서한에는 그중 {count}명을 집계했습니다. 모두 이름 기재를 원하여 아래에 적습니다.',
    shareSummaryNoneNamed: '총 {total}명이 이 청원에 서명했으며, 이 서한에는 그중 {count}명을 집계했습니다. 이름 기재를 원한 분이 없어 인원수만 적습니다.',
    shareSummaryNoneCounted: '총 {total}명이 이 청원에 서명했으며, 이 서한에 집계한 서명은 없습니다.',
    regionsTitle: '지역별 서명 수',
    regionsTitleShare: '이 서한에 집계한 서명 (지역별)',
    regionColumns: { region: '지역', count: '서명 수' },
    otherRegions: '기타 지역 ({minimum}명 미만 지역의 합계)',
    regionNotStated: '지역 미기재',
    otherRegionsOrNotStated: '기타 지역 ({minimum}명 미만 지역의 합계) 또는 지역 미기재',
    total: '합계',
  },
};

export function fillCounts(text: string, counts: { total: string; count: string; listed: string }): string {
  return text.replace('{total}', counts.total).replace('{count}', counts.count).replace('{listed}', counts.listed);
}
