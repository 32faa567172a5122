import { describe, expect, it } from 'vitest';
import { countAppendixPages, AppendixCursor, regionLines } from '../../../src/letters/template/appendix-plan.js';
import { hanFaceForSignatory, splitRuns, type FaceScript } from '../../../src/letters/pdf/font-runs.js';
import { formatLetterDate } from '../../../src/letters/template/letter-date.js';
import { letterGeometry } from '../../../src/letters/pdf/letter-geometry.js';
import { attachClosingPunctuation, parseInline, parseMarkdown } from '../../../src/markdown/markdown.js';
import { addressBlockLines } from '../../../src/letters/template/postal-address.js';
import { nameForLetter, toInitials } from '../../../src/letters/template/signatory-names.js';

describe('initials', () => {
  it('takes the first letter of each part, keeping hyphens', () => {
    expect(toInitials('Jane Doe')).toBe('J. D.');
    expect(toInitials('  jean-luc   picard ')).toBe('J.-L. P.');
    expect(toInitials('Zoë Łukasiewicz')).toBe('Z. Ł.');
    expect(toInitials('Ángela  de la Cruz')).toBe('Á. D. L. C.');
  });

  it('keeps the first character of each Han, kana or Hangul part and masks the rest with ○', () => {
    expect(toInitials('鈴木 一郎')).toBe('鈴○ 一○');
    expect(toInitials('鈴木　一郎')).toBe('鈴○ 一○');
    expect(toInitials('山田太郎')).toBe('山○○○');
    expect(toInitials('김민수')).toBe('김○○');
    expect(toInitials('김 민수')).toBe('김 민○');
    expect(toInitials('张伟')).toBe('张○');
    expect(toInitials('さくら')).toBe('さ○○');
    expect(toInitials('ジョン・スミス')).toBe('ジ○○ ス○○');
  });

  it('gives each part of a mixed name its own form', () => {
    expect(toInitials('山田 Taro')).toBe('山○ T.');
    expect(toInitials('Anna 李')).toBe('A. 李');
  });

  it('keeps nothing of a supporter-typed name but its first letters and ○', () => {
    expect(toInitials('鈴木\u202e 一郎😀1')).toBe('鈴○ 一○');
    expect(toInitials('「鈴木」')).toBe('鈴○');
    expect(toInitials('𠮷野 家')).toBe('𠮷○ 家');
    expect(toInitials('\u200b\u200b')).toBe('');
  });

  it('shows names by consent and nothing for none or a name without letters', () => {
    expect(nameForLetter({ name: ' Jane   Doe ', nameOnLetter: 'full' })).toBe('Jane Doe');
    expect(nameForLetter({ name: 'Jane Doe', nameOnLetter: 'initials' })).toBe('J. D.');
    expect(nameForLetter({ name: 'Jane Doe', nameOnLetter: 'none' })).toBe('');
    expect(nameForLetter({ name: '1234', nameOnLetter: 'initials' })).toBe('');
  });
});

describe('formatLetterDate', () => {
  const morningInTokyo = Date.UTC(2027, 8, 21, 23, 0);

  it('writes the date in the letter language, on the calendar day of the campaign time zone', () => {
    expect(formatLetterDate(morningInTokyo, 'ja', 'Asia/Tokyo')).toBe('2027年9月22日');
    expect(formatLetterDate(morningInTokyo, 'zh', 'Asia/Tokyo')).toBe('2027年9月22日');
    expect(formatLetterDate(morningInTokyo, 'ko', 'Asia/Tokyo')).toBe('2027년 9월 22일');
    expect(formatLetterDate(morningInTokyo, 'en', 'Asia/Tokyo')).toBe('22 September 2027');
    expect(formatLetterDate(morningInTokyo, 'en', 'Europe/London')).toBe('22 September 2027');
    expect(formatLetterDate(morningInTokyo, 'en', 'America/New_York')).toBe('21 September 2027');
  });
});

describe('parseMarkdown', () => {
  it('parses headings, paragraphs, lists, emphasis and escapes', () => {
    const blocks = parseMarkdown('# Title\n\nFirst line\nsecond **bold** and *italic*.\n\n- one\n  continued\n- two\n\n1. a\n2. b\n\nA \\*star\\* and snake_case_name.');
    expect(blocks).toEqual([
      { kind: 'heading', level: 1, spans: [{ text: 'Title', bold: false, italic: false }] },
      {
        kind: 'paragraph',
        spans: [
          { text: 'First line second ', bold: false, italic: false },
          { text: 'bold', bold: true, italic: false },
          { text: ' and ', bold: false, italic: false },
          { text: 'italic', bold: false, italic: true },
          { text: '.', bold: false, italic: false },
        ],
      },
      { kind: 'list', ordered: false, start: 1, items: [[{ text: 'one continued', bold: false, italic: false }], [{ text: 'two', bold: false, italic: false }]] },
      { kind: 'list', ordered: true, start: 1, items: [[{ text: 'a', bold: false, italic: false }], [{ text: 'b', bold: false, italic: false }]] },
      { kind: 'paragraph', spans: [{ text: 'A *star* and snake_case_name.', bold: false, italic: false }] },
    ]);
  });

  it('joins East Asian lines without a space and keeps hard breaks', () => {
    expect(parseMarkdown('貴国政府に\n要請します。')).toEqual([{ kind: 'paragraph', spans: [{ text: '貴国政府に要請します。', bold: false, italic: false }] }]);
    expect(parseInline('unclosed *star')).toEqual([{ text: 'unclosed *star', bold: false, italic: false }]);
    expect(parseMarkdown('line one  \nline two')[0]).toEqual({ kind: 'paragraph', spans: [{ text: 'line one\nline two', bold: false, italic: false }] });
  });
});

describe('splitRuns', () => {
  // A coverage table shaped like the Noto faces: Latin has no CJK, KR has no kana, nothing has emoji.
  const covers = (face: FaceScript, cp: number): boolean => {
    if (cp === 0x1f600) return false;
    if (face === 'latin') return cp < 0x2e80 || cp === 0xfffd;
    if (face === 'kr') return !(cp >= 0x3040 && cp <= 0x30ff);
    return !(cp >= 0xac00 && cp <= 0xd7af);
  };

  it('gives each script its face and keeps neutral characters in the current run', () => {
    expect(splitRuns('José 山田太郎 김민준', 'jp', covers).runs).toEqual([
      { face: 'latin', text: 'José ' },
      { face: 'jp', text: '山田太郎 ' },
      { face: 'kr', text: '김민준' },
    ]);
  });

  it('sends Han to the preferred regional face, kana to JP and Hangul to KR', () => {
    expect(splitRuns('陳美玲', 'tc', covers).runs).toEqual([{ face: 'tc', text: '陳美玲' }]);
    expect(splitRuns('陳美玲', 'sc', covers).runs).toEqual([{ face: 'sc', text: '陳美玲' }]);
    expect(splitRuns('漢字かな', 'kr', covers).runs).toEqual([
      { face: 'kr', text: '漢字' },
      { face: 'jp', text: 'かな' },
    ]);
  });

  it('reports characters no face has and prints the replacement instead', () => {
    expect(splitRuns('Hi 😀!', 'jp', covers, '\uFFFD')).toEqual({ runs: [{ face: 'latin', text: 'Hi \uFFFD!' }], missing: [0x1f600] });
  });

  it('drops invisible joiners and variation selectors', () => {
    expect(splitRuns('A\u200dB\ufe0f', 'jp', covers).runs).toEqual([{ face: 'latin', text: 'AB' }]);
  });

  it('chooses Traditional or Simplified Han for a signatory from locale, then country', () => {
    expect(hanFaceForSignatory('zh-TW', 'US', 'jp')).toBe('tc');
    expect(hanFaceForSignatory('zh-Hant-HK', undefined, 'jp')).toBe('tc');
    expect(hanFaceForSignatory('zh-CN', 'TW', 'jp')).toBe('sc');
    expect(hanFaceForSignatory('zh', 'HK', 'jp')).toBe('tc');
    expect(hanFaceForSignatory(undefined, 'TW', 'jp')).toBe('tc');
    expect(hanFaceForSignatory(undefined, 'CN', 'jp')).toBe('sc');
    expect(hanFaceForSignatory('ko', 'JP', 'jp')).toBe('kr');
    expect(hanFaceForSignatory(undefined, 'JP', 'sc')).toBe('jp');
    expect(hanFaceForSignatory('en', 'GB', 'sc')).toBe('sc');
  });
});

describe('addressBlockLines', () => {
  const tokyo = { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' };

  it('orders a Japanese address from the postal code down, addressee last', () => {
    expect(addressBlockLines(['中華人民共和国駐日本国大使館', '特命全権大使 呉江浩 閣下'], tokyo, 'JP')).toEqual([
      '〒106-0046',
      '東京都港区元麻布3-4-33',
      '中華人民共和国駐日本国大使館',
      '特命全権大使 呉江浩 閣下',
    ]);
  });

  it('puts the addressee first in Latin script and adds the country only across a border', () => {
    const romanised = { lines: ['3-4-33 Moto-Azabu'], postalCode: '106-0046', city: 'Minato-ku', region: 'Tokyo', country: 'JP' };
    expect(addressBlockLines(['Ambassador'], romanised, 'JP')).toEqual(['Ambassador', '3-4-33 Moto-Azabu', 'Minato-ku, Tokyo 106-0046']);
    const berlin = { lines: ['Märkisches Ufer 54'], postalCode: '10179', city: 'Berlin', country: 'DE' };
    expect(addressBlockLines(['Botschaft'], berlin, 'JP')).toEqual(['Botschaft', 'Märkisches Ufer 54', '10179 Berlin', 'GERMANY']);
  });
});

describe('appendix page planning', () => {
  const capacity = { first: 3, next: 5 };

  it('counts pages from the number of names and regions alone', () => {
    // 3 names fill page 1; the regions block (title, header, 1 region, total) opens page 2.
    expect(countAppendixPages(3, 1, capacity)).toBe(2);
    // 2 names leave 1 line: too little for the regions block, which moves on.
    expect(countAppendixPages(2, 1, capacity)).toBe(2);
    // No names: the regions block starts page 1.
    expect(countAppendixPages(0, 0, capacity)).toBe(1);
    // 49 + 19,229 × 52 + 43 names on 19,231 pages; the 48 region lines start below the 43rd and
    // fill one more page.
    expect(countAppendixPages(1_000_000, 47, { first: 49, next: 52 })).toBe(19232);
  });

  it('places lines as it counted them and repeats the column header on each page', () => {
    const cursor = new AppendixCursor(capacity);
    const placements = [...Array<'name'>(9).fill('name'), ...regionLines(2)].map((line) => ({ line, ...cursor.place(line) }));
    expect(cursor.pages).toBe(countAppendixPages(9, 2, capacity));
    // Pages of 3, 5 and 5 lines: names 1–3, 4–8, then name 9 with the regions block after a blank
    // line; the second region and the total run over to a fourth page under a repeated header.
    expect(placements.filter((p) => p.newPage).map((p) => [p.line, p.header])).toEqual([
      ['name', 'names'],
      ['name', 'names'],
      ['name', 'names'],
      ['region', 'regions'],
    ]);
    expect(placements.find((p) => p.line === 'regions-title')?.slot).toBe(2);
  });
});

describe('letter geometry', () => {
  it('keeps the recipient lines inside the envelope window, above the first fold', () => {
    for (const window of ['din5008-b', 'jp-naga3', 'us-10'] as const) {
      const geometry = letterGeometry(window === 'us-10' ? 'Letter' : 'A4', window);
      const { address, window: box } = geometry;
      expect(box, window).not.toBeNull();
      expect(address.x, window).toBeGreaterThanOrEqual(box!.x);
      expect(address.y, window).toBeGreaterThanOrEqual(box!.y);
      expect(address.x + address.width, window).toBeLessThanOrEqual(box!.x + box!.width);
      expect(address.y + address.height, window).toBeLessThanOrEqual(box!.y + box!.height);
      expect(box!.y + box!.height, window).toBeLessThan(geometry.foldMarks[0]!);
      if (geometry.returnAddress) expect(geometry.returnAddress.y).toBeGreaterThanOrEqual(box!.y);
    }
  });
});

describe('attachClosingPunctuation', () => {
  it('keeps punctuation and the following space with the styled word before them', () => {
    const spans = parseInline('the principle of **non-refoulement**. China also （**注**）。');
    expect(attachClosingPunctuation(spans)).toEqual([
      { text: 'the principle of ', bold: false, italic: false },
      { text: 'non-refoulement. ', bold: true, italic: false },
      { text: 'China also （', bold: false, italic: false },
      { text: '注）。', bold: true, italic: false },
    ]);
  });
});
