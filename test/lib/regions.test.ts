import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { countryOfRegion, isRegionCode, isRegionOf, regionName, regionOptions, regionsOf } from '../../src/lib/regions.js';
import { publicRegionTotals } from '../../src/letters/template/region-totals.js';

describe('ISO 3166-2 regions', () => {
  it('know first-level subdivisions only, each of its own country', () => {
    expect(isRegionOf('JP-13', 'JP')).toBe(true);
    expect(isRegionOf('US-CA', 'US')).toBe(true);
    expect(isRegionOf('US-CA', 'JP')).toBe(false);
    expect(isRegionOf('XX-99', 'JP')).toBe(false);
    expect(isRegionOf('Tokyo', 'JP')).toBe(false);
    expect(isRegionOf('jp-13', 'JP')).toBe(false);
    // French départements sit under a région (parent "FR-ARA"), so they are not on the list.
    expect(isRegionCode('FR-ARA')).toBe(true);
    expect(isRegionCode('FR-01')).toBe(false);
    expect(countryOfRegion('KR-11')).toBe('KR');
    expect(countryOfRegion('nowhere')).toBeUndefined();
    expect(regionsOf('JP')).toHaveLength(47);
    expect(regionsOf('JP')[0]).toBe('JP-01');
    expect(regionsOf('HK')).toEqual([]);
  });

  it('name regions for each page and letter language', () => {
    expect(['en', 'ja', 'ko', 'zh'].map((language) => regionName('JP-13', language as 'en'))).toEqual(['Tokyo', '東京都', '도쿄도', '東京都']);
    expect(regionName('JP-01', 'en')).toBe('Hokkaido');
    expect(regionName('JP-47', 'ja')).toBe('沖縄県');
    expect(regionName('KR-11', 'ko')).toBe('서울특별시');
    expect(regionName('KR-11', 'en')).toBe('Seoul-teukbyeolsi');
    expect(regionName('US-CA', 'ja')).toBe('California');
    expect(regionName('XX-99', 'en')).toBe('XX-99');
    // Every prefecture has its own name in each language.
    for (const language of ['en', 'ja', 'ko'] as const) expect(new Set(regionsOf('JP').map((code) => regionName(code, language))).size).toBe(47);
  });

  it('order options as readers expect: Japan by its codes (north to south), others by name', () => {
    expect(regionOptions('JP', 'ja').slice(0, 3).map((option) => option.name)).toEqual(['北海道', '青森県', '岩手県']);
    const states = regionOptions('US', 'en').map((option) => option.name);
    expect(states).toEqual([...states].sort((a, b) => a.localeCompare(b, 'en')));
  });

  it('run where Node does not: no node: import in the module or the data it loads', async () => {
    const source = await readFile(new URL('../../src/lib/regions.ts', import.meta.url), 'utf8');
    const data = await readFile(createRequire(import.meta.url).resolve('iso-3166/2.js'), 'utf8');
    for (const text of [source, data]) {
      expect(text).not.toMatch(/from ['"]node:|require\(|\bprocess\.|\bBuffer\b/);
    }
    expect([...data.matchAll(/^import .* from ['"](.+)['"]/gm)]).toEqual([]);
  });
});

describe('publicRegionTotals', () => {
  it('names regions with at least the minimum, largest first, and merges the rest with those not stated or not on the list', () => {
    const tallies = [
      { country: 'JP', region: 'JP-27', count: 6 },
      { country: 'JP', region: 'JP-13', count: 9 },
      { country: 'JP', region: 'JP-01', count: 4 },
      { country: 'JP', region: null, count: 2 },
      { country: 'JP', region: '東京都', count: 1 },
      // A code stored against the wrong country is not trusted either.
      { country: 'JP', region: 'US-CA', count: 7 },
    ];
    expect(publicRegionTotals(tallies, 'en', 5)).toEqual([
      { region: 'Tokyo', count: 9 },
      { region: 'Osaka', count: 6 },
      { region: 'Other regions (each with fewer than 5) or not stated', count: 14 },
    ]);
    expect(publicRegionTotals(tallies, 'ko', 5).map((line) => line.region)).toEqual(['도쿄도', '오사카부', '기타 지역 (5명 미만 지역의 합계) 또는 지역 미기재']);
    expect(publicRegionTotals([{ country: 'JP', region: 'JP-13', count: 5 }], 'ja', 5)).toEqual([{ region: '東京都', count: 5 }]);
    expect(publicRegionTotals([], 'en', 5)).toEqual([]);
  });

  it('words the merged line for what it holds, in every letter language, without naming a merged region', () => {
    const loneOsaka = [
      { country: 'JP', region: 'JP-13', count: 5 },
      { country: 'JP', region: 'JP-27', count: 1 },
    ];
    expect(publicRegionTotals(loneOsaka, 'ja', 5)).toEqual([
      { region: '東京都', count: 5 },
      { region: 'その他の地域（5名未満の地域の合計）', count: 1 },
    ]);
    expect(publicRegionTotals(loneOsaka, 'en', 5)[1]).toEqual({ region: 'Other regions (each with fewer than 5)', count: 1 });
    expect(publicRegionTotals(loneOsaka, 'zh', 5)[1]).toEqual({ region: '其他地区（各不足5人的地区合计）', count: 1 });
    expect(publicRegionTotals(loneOsaka, 'ko', 5)[1]).toEqual({ region: '기타 지역 (5명 미만 지역의 합계)', count: 1 });
    const unstatedOnly = [
      { country: 'JP', region: 'JP-13', count: 5 },
      { country: 'JP', region: null, count: 1 },
    ];
    expect(publicRegionTotals(unstatedOnly, 'ja', 5)[1]).toEqual({ region: '地域の記載なし', count: 1 });
    expect(publicRegionTotals(unstatedOnly, 'en', 5)[1]).toEqual({ region: 'Region not stated', count: 1 });
  });
});
