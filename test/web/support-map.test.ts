import { afterEach, describe, expect, it } from 'vitest';
import { iso31662 } from 'iso-3166/2.js';
import { supportMapFrom } from '../../src/services/support-map.js';
import { prefectureTiles, shadeFloors, shadeOf } from '../../src/web/support-map.js';
import { supportMapTexts } from '../../src/web/i18n/support-map.js';
import { ADMIN_TOKEN, createTestApp } from '../helpers/app.js';
import { openCampaign, signAndConfirm, signature } from '../helpers/signing.js';
import { campaignWithSupportAcrossJapan } from '../helpers/support-map-fixture.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const slug = 'map-of-support';

/** The `<g>` of one prefecture's tile. */
function tile(html: string, code: string): string {
  const match = new RegExp(`<g class="tile k(\\d)" data-region="${code}">(.*?)</g>`, 's').exec(html);
  if (!match) throw new Error(`no tile for ${code}`);
  return match[0];
}

/** The rows of one of the map's tables: label → count as shown. */
function tableRows(html: string, id: string): [string, string][] {
  const table = new RegExp(`<table id="${id}">(.*?)</table>`, 's').exec(html)?.[1];
  if (!table) throw new Error(`no table #${id}`);
  return [...table.matchAll(/<tr data-\w+="[^"]+"><th scope="row">([^<]+)<\/th><td class="num">([^<]+)<\/td><\/tr>/g)].map((m) => [m[1]!, m[2]!]);
}

describe('the tile grid', () => {
  it('places each of the 47 prefectures once, on its own square', () => {
    const japan = iso31662.filter((entry) => entry.parent === 'JP').map((entry) => entry.code).sort();
    expect(Object.keys(prefectureTiles).sort()).toEqual(japan);
    const squares = new Set(Object.values(prefectureTiles).map(([column, row]) => `${column},${row}`));
    expect(squares.size).toBe(47);
  });

  it('shades on a geometric scale from the minimum, and leaves a prefecture not shown unshaded', () => {
    expect(shadeFloors(5, 10_000)).toEqual([5, 34, 224, 1496]);
    expect(shadeFloors(5, 7)).toEqual([5, 6, 7]);
    expect(shadeFloors(5, 5)).toEqual([5]);
    const floors = shadeFloors(5, 10_000);
    expect([undefined, 5, 33, 34, 1495, 10_000].map((count) => shadeOf(count, floors))).toEqual([0, 1, 1, 2, 3, 4]);
  });
});

describe('the map’s texts', () => {
  it('are translated in every page language, with the same placeholders as the English', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const language of ['ja', 'ko', 'zh'] as const) {
      for (const [key, english] of Object.entries(supportMapTexts.en)) {
        const translated = supportMapTexts[language][key as keyof typeof supportMapTexts.en];
        expect(translated, `${language}.${key}`).not.toBe(english);
        expect(placeholders(translated), `${language}.${key}`).toEqual(placeholders(english));
      }
    }
  });
});

describe('supportMapFrom', () => {
  it('merges Japan itself, and with it every prefecture, when Japan is below the minimum', () => {
    const map = supportMapFrom(
      [
        { country: 'JP', region: 'JP-13', count: 4 },
        { country: 'KR', region: null, count: 9 },
      ],
      5,
    );
    expect(map).toEqual({ minimum: 5, total: 13, prefectures: [], otherPrefectures: 0, countries: [{ country: 'KR', count: 9 }], otherCountries: 4 });
  });

  it('never names a region of another country as a prefecture', () => {
    const map = supportMapFrom([{ country: 'KR', region: 'JP-13', count: 8 }], 5);
    expect(map.prefectures).toEqual([]);
    expect(map.countries).toEqual([{ country: 'KR', count: 8 }]);
  });
});

describe('the map of support on the campaign page and the dashboard', () => {
  it('shows the prefectures at or above PUBLIC_REGION_MIN and never the count of one below it', { timeout: 60_000 }, async () => {
    t = createTestApp();
    await campaignWithSupportAcrossJapan(t, slug);

    const response = await t.app.request(`/c/${slug}?lang=ja`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<h2 id="support-map-title">賛同の広がり</h2>');
    expect(html).toContain(`role="img" aria-label="${supportMapTexts.ja.mapLabel}"`);

    expect(tile(html, 'JP-13')).toContain('<title>東京都：7人</title>');
    expect(tile(html, 'JP-13')).toContain('<text class="count" x="598" y="323">7</text>');
    expect(tile(html, 'JP-27')).toContain('<title>大阪府：5人</title>');
    // Tottori has 2 confirmed (and 3 who never confirmed): its tile looks like an empty one and counts nobody.
    const tottori = tile(html, 'JP-31');
    expect(tottori).toMatch(/^<g class="tile k0"/);
    expect(tottori).toContain('<title>鳥取県：5人未満（その他の都道府県に含む）</title>');
    expect(tottori).not.toContain('class="count"');
    // …exactly like Shimane's, where nobody signed, but for its place and name.
    const anonymous = (g: string) => g.replace(/(x|y)="\d+"/g, '$1=""').replace(/JP-3[12]|鳥取県?|島根県?/g, '?');
    expect(anonymous(tottori)).toBe(anonymous(tile(html, 'JP-32')));

    expect(tableRows(html, 'support-map-prefectures')).toEqual([
      ['東京都', '7'],
      ['大阪府', '5'],
      ['その他の都道府県・未記入', '3'],
    ]);
    expect(tableRows(html, 'support-map-countries')).toEqual([
      ['日本', '15'],
      ['韓国', '6'],
      ['その他の国・地域', '2'],
    ]);
    expect(html).not.toContain('鳥取県：2');
    expect(html).not.toContain('data-country="US"');

    // The dashboard shows the same merged map, in its own language.
    const login = await t.app.request('/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin/campaigns' }).toString(),
    });
    const cookie = /signet_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
    const dashboard = await t.app.request(`/admin/campaigns/${slug}?lang=en`, { headers: { cookie } });
    expect(dashboard.status).toBe(200);
    const admin = await dashboard.text();
    expect(admin).toContain('<section class="support-map card" aria-labelledby="support-map-title"><h2 id="support-map-title">Where support comes from</h2>');
    expect(tile(admin, 'JP-13')).toContain('<title>Tokyo: 7</title>');
    expect(tile(admin, 'JP-31')).toContain('<title>Tottori: fewer than 5 (counted under other prefectures)</title>');
    expect(tableRows(admin, 'support-map-prefectures')).toEqual([
      ['Tokyo', '7'],
      ['Osaka', '5'],
      ['Other prefectures or not stated', '3'],
    ]);
    expect(tableRows(admin, 'support-map-countries')).toEqual([
      ['Japan', '15'],
      ['South Korea', '6'],
      ['Other countries', '2'],
    ]);
  });

  it('shows no map while no prefecture or country has reached the minimum', async () => {
    t = createTestApp();
    await openCampaign(t, slug);
    await signAndConfirm(t, slug, signature('only@example.jp'));
    const html = await (await t.app.request(`/c/${slug}?lang=en`)).text();
    expect(html).toContain('1 signature');
    expect(html).not.toContain('support-map');
  });
});
