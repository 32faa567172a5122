import type { LetterInput, LetterLanguage, LetterTemplate, Organisation, Signatory } from '../../../src/letters/index.js';

/**
 * The letter the probe renders, shared by the fixture Worker (which renders it in workerd) and
 * the test (which knows what it must contain). Runtime-neutral.
 */

/** 22 September 2027, 08:00 in Tokyo. */
export const probeDate = Date.UTC(2027, 8, 21, 23, 0);

const japanese = { family: ['山田', '佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '中村', '小林', '加藤'], given: ['太郎', '花子', '一郎', '美咲', '健太', '陽菜', '翔', '結衣', '大輔', 'さくら'] };
const korean = { family: ['김', '이', '박', '최', '정', '강', '조', '윤', '장', '임'], given: ['민준', '서연', '도윤', '하은', '시우', '지우', '주원', '서윤', '예준', '지호'] };
const simplified = { family: ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'], given: ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋'] };
const traditional = { family: ['陳', '林', '黃', '張', '李', '王', '吳', '劉', '蔡', '楊'], given: ['美玲', '志明', '淑芬', '家豪', '怡君', '建宏', '雅婷', '俊傑', '佳穎', '冠宇'] };
const latin = { family: ['Álvarez', 'Smith', 'Müller', 'Dubois', 'Rossi', 'Nowak', 'García', 'Jensen', 'Silva', 'Łukasiewicz'], given: ['José', 'Jane', 'Zoë', 'François', 'Giulia', 'Piotr', 'Lucía', 'Søren', 'João', 'Agnieszka'] };

const pick = (list: readonly string[], index: number) => list[index % list.length]!;

/** The `index`th supporter (0-based): Japanese, Korean, Simplified Chinese, Traditional Chinese and Latin names in turn, each `full`. */
export function probeSignatory(index: number): Signatory {
  const turn = Math.floor(index / 5);
  const name = (names: { family: string[]; given: string[] }, separator: string, givenFirst = false) => {
    const family = pick(names.family, turn);
    const given = pick(names.given, Math.floor(turn / 10) + turn);
    return givenFirst ? `${given}${separator}${family}` : `${family}${separator}${given}`;
  };
  switch (index % 5) {
    case 0:
      return { name: name(japanese, ''), nameOnLetter: 'full', city: '横浜', country: 'JP', locale: 'ja' };
    case 1:
      return { name: name(korean, ''), nameOnLetter: 'full', city: '서울', country: 'KR', locale: 'ko' };
    case 2:
      return { name: name(simplified, ''), nameOnLetter: 'full', city: '北京', country: 'CN', locale: 'zh-CN' };
    case 3:
      return { name: name(traditional, ''), nameOnLetter: 'full', city: '臺北', country: 'TW', locale: 'zh-TW' };
    default:
      return { name: name(latin, ' ', true), nameOnLetter: 'full', city: 'São Paulo', country: 'BR', locale: 'pt-BR' };
  }
}

export function probeSignatories(count: number): Signatory[] {
  return Array.from({ length: count }, (_, index) => probeSignatory(index));
}

/** The embassy petition with `names` named supporters (all `full`). */
export function probeLetterInput(template: LetterTemplate, organisation: Organisation, names: number): LetterInput {
  const language: LetterLanguage = template.language;
  return {
    template,
    organisation,
    campaign: {
      slug: 'save-north-korean-refugees',
      title: 'World “Save North Korean Refugees” Day 2027',
      summary: 'Fair treatment of North Korean refugees in China.',
      timeZone: 'Asia/Tokyo',
      locale: language,
    },
    target: {
      name: '呉江浩',
      title: '特命全権大使',
      organisation: '中華人民共和国駐日本国大使館',
      salutation: 'Your Excellency,',
      language: 'ja',
      postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
    },
    date: probeDate,
    signatures: {
      count: names,
      byRegion: [
        { region: '東京都', count: Math.ceil(names / 2) },
        { region: 'Other regions or not stated', count: Math.floor(names / 2) },
      ],
      // A function, so each of the renderer's two passes gets a fresh iteration.
      signatories: () => probeSignatories(names),
    },
  };
}
