import { afterEach, describe, expect, it } from 'vitest';
import { catalogs } from '../../../src/web/i18n/index.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

// The signing form's region is chosen from the ISO 3166-2 list (no free text to end up in a
// letter), without JavaScript: a <select> grouped by the countries that matter to this campaign.

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const ORIGIN = 'http://localhost:3000';

async function page(path: string, headers: Record<string, string> = {}) {
  const response = await t.app.request(path, { headers });
  expect(response.status).toBe(200);
  return response.text();
}

/** The region <select>, from its opening tag to its end. */
function regionSelect(html: string): string {
  const start = html.indexOf('<select id="field-region"');
  expect(start, 'region select').toBeGreaterThan(0);
  return html.slice(start, html.indexOf('</select>', start) + '</select>'.length);
}

async function signThroughPage(fields: Record<string, string>, language = 'ja') {
  const html = await page(`/c/regions-2027?lang=${language}`);
  const token = /name="_token" value="([^"]+)"/.exec(html)![1]!;
  return t.app.request('/c/regions-2027/sign', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, 'x-forwarded-for': '203.0.113.7' },
    body: new URLSearchParams({ _token: token, lang: language, website: '', ...fields }).toString(),
  });
}

const fields = { name: '山田 花子', email: 'hanako@example.jp', country: 'JP', region: 'JP-13', city: '', postalCode: '', comment: '', nameOnLetter: 'initials', showPublicly: 'no', updates: 'no' };

/** A campaign writing to a mission in Japan. */
async function setup() {
  t = createTestApp();
  const target = await t.request('POST', '/api/v1/targets', {
    body: { name: '呉江浩', kind: 'embassy', postalAddress: { lines: ['元麻布3-4-33'], city: '港区', country: 'JP' }, language: 'zh' },
  });
  expect(target.status).toBe(201);
  await openCampaign(t, 'regions-2027', { targetIds: [((await target.json()) as { id: string }).id] });
}

describe('the region field', () => {
  it('offers the regions of the preselected country and of the targets\' countries, named in the page language', async () => {
    await setup();
    const ja = regionSelect(await page('/c/regions-2027?lang=ja'));
    expect(ja).toContain('name="region" autocomplete="address-level1" aria-describedby="hint-region"');
    // "Prefer not to say" first and chosen; Japan's prefectures in their customary order, in kanji.
    expect(ja).toMatch(/^<select[^>]*><option value="" selected="">回答しない<\/option><optgroup label="日本"><option value="JP-01">北海道<\/option><option value="JP-02">青森県<\/option>/);
    expect(ja).toContain('<option value="JP-13">東京都</option>');
    expect(ja).toContain('<option value="JP-47">沖縄県</option></optgroup></select>');
    expect(ja.match(/<option value="JP-/g)).toHaveLength(47);

    // Korean: Korea (the page's default country) first, then the target's Japan, both in Hangul.
    const ko = regionSelect(await page('/c/regions-2027?lang=ko'));
    expect(ko.indexOf('<optgroup label="대한민국">')).toBeGreaterThan(0);
    expect(ko.indexOf('<optgroup label="대한민국">')).toBeLessThan(ko.indexOf('<optgroup label="일본">'));
    expect(ko).toContain('<option value="KR-11">서울특별시</option>');
    expect(ko).toContain('<option value="JP-13">도쿄도</option>');

    // English, from a British browser: the United Kingdom's regions sorted by name, then Japan's.
    const en = regionSelect(await page('/c/regions-2027', { 'accept-language': 'en-GB' }));
    expect(en).toContain('<option value="" selected="">Prefer not to say</option><optgroup label="United Kingdom">');
    expect(en).toContain('<option value="GB-ENG">England</option>');
    expect(en).toContain('<optgroup label="Japan"><option value="JP-01">Hokkaido</option>');
    expect(en).toContain('<option value="JP-13">Tokyo</option>');

    // Chinese: no default country, so the target's Japan alone, its prefectures in Han characters.
    const zh = regionSelect(await page('/c/regions-2027?lang=zh'));
    expect(zh).toContain('<optgroup label="日本"><option value="JP-01">北海道</option>');
    expect(zh.match(/<optgroup /g)).toHaveLength(1);

    const html = await page('/c/regions-2027?lang=ja');
    expect(html).toContain(`<label for="field-region">${catalogs.ja.fieldRegion}<span class="optional"> ${catalogs.ja.optional}</span></label>`);
    expect(html).toContain(`<span class="hint" id="hint-region">${catalogs.ja.fieldRegionHint}</span>`);
    expect(html).not.toMatch(/<input[^>]*name="region"/);
  });

  it('says what each choice of name discloses, and when the city is printed', async () => {
    await setup();
    const html = await page('/c/regions-2027?lang=en');
    for (const text of ['My full name, city and country', 'My initials and country only', 'Counted only, never named', 'the date you signed (never the time)']) {
      expect(html).toContain(text);
    }
    expect(html).toContain('<span class="hint" id="hint-city">Printed on the letter beside your name only if you choose “My full name, city and country” below.</span>');
  });

  it('signs with a region of the chosen country', async () => {
    await setup();
    const response = await signThroughPage(fields);
    expect(response.status).toBe(303);
  });

  it('refuses a region of another country, or one not on the list, beside the field and in the summary, keeping the choice', async () => {
    await setup();
    const response = await signThroughPage({ ...fields, country: 'KR', region: 'JP-13' });
    expect(response.status).toBe(422);
    const html = await response.text();
    const message = catalogs.ja.errorRegionInvalid;
    expect(html).toContain(`<a href="#field-region">${catalogs.ja.fieldRegion}: ${message}</a>`);
    expect(html).toContain(`<span class="field-error" id="error-region">${message}</span>`);
    const select = regionSelect(html);
    expect(select).toContain('aria-invalid="true" aria-describedby="error-region hint-region"');
    expect(select).toContain('<option value="JP-13" selected="">東京都</option>');
    // The chosen country's regions are offered now, so the supporter can pick one there.
    expect(select).toContain('<optgroup label="韓国">');

    const typed = await signThroughPage({ ...fields, region: 'Tokyo' });
    expect(typed.status).toBe(422);
    expect(await typed.text()).toContain(`<span class="field-error" id="error-region">${message}</span>`);
  });
});
