import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Catalogue } from '../../../src/web/admin/i18n/texts.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { campaignWithEverything } from '../../helpers/dashboard-fixture.js';
import { openCampaign } from '../../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const catalogueDir = fileURLToPath(new URL('../../../src/web/admin/i18n/', import.meta.url));

/**
 * Texts that are the same in both languages by nature. Kept short on purpose:
 * anything here is a text a Japanese reader sees in English.
 */
const sameInBothLanguages = new Set<string>([]);

type AnyCatalogue = Catalogue<Record<string, string>>;

function isCatalogue(value: unknown): value is AnyCatalogue {
  if (!value || typeof value !== 'object') return false;
  const { en, ja } = value as { en?: unknown; ja?: unknown };
  return !!en && typeof en === 'object' && !!ja && typeof ja === 'object';
}

/** Every catalogue exported by every module in src/web/admin/i18n (a new module is covered without touching this test). */
async function allCatalogues(): Promise<{ name: string; catalogue: AnyCatalogue }[]> {
  const found: { name: string; catalogue: AnyCatalogue }[] = [];
  for (const file of readdirSync(catalogueDir).filter((f) => f.endsWith('.ts')).sort()) {
    const module = (await import(pathToFileURL(join(catalogueDir, file)).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) if (isCatalogue(value)) found.push({ name: `${file}:${name}`, catalogue: value });
  }
  return found;
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** A text of placeholders and punctuation only (`← {title}`) has no words to translate. */
const hasWords = (text: string) => /\p{L}/u.test(text.replace(/\{\w+\}/g, ''));

describe('dashboard catalogues', () => {
  it('cover every area, and give every text a real Japanese translation with the same placeholders', async () => {
    const catalogues = await allCatalogues();
    const names = catalogues.map((c) => c.name);
    for (const area of ['layout', 'common', 'campaigns', 'letters', 'mailings', 'deliveries', 'privacy', 'abuse', 'audit', 'charts']) {
      expect(names.some((name) => name.startsWith(`${area}.ts:`)), `a catalogue module for ${area}`).toBe(true);
    }
    const problems: string[] = [];
    for (const { name, catalogue } of catalogues) {
      const enKeys = Object.keys(catalogue.en).sort();
      const jaKeys = Object.keys(catalogue.ja).sort();
      if (enKeys.join() !== jaKeys.join()) problems.push(`${name}: keys differ (${enKeys.filter((k) => !jaKeys.includes(k)).join(', ')} | ${jaKeys.filter((k) => !enKeys.includes(k)).join(', ')})`);
      for (const key of enKeys) {
        const en = catalogue.en[key]!;
        const ja = catalogue.ja[key] ?? '';
        if (ja.trim() === '') problems.push(`${name}.${key}: empty Japanese`);
        else if (ja === en && hasWords(en) && !sameInBothLanguages.has(en)) problems.push(`${name}.${key}: Japanese is the English "${en}"`);
        if (placeholders(en).join() !== placeholders(ja).join()) problems.push(`${name}.${key}: placeholders ${placeholders(en)} vs ${placeholders(ja)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('fails on an untranslated text, an empty one and a lost placeholder (the check itself can fail)', () => {
    const check = (catalogue: AnyCatalogue) =>
      Object.keys(catalogue.en).filter((key) => {
        const en = catalogue.en[key]!;
        const ja = catalogue.ja[key]!;
        return ja.trim() === '' || ja === en || placeholders(en).join() !== placeholders(ja).join();
      });
    expect(check({ en: { a: 'Save', b: 'Hello {name}', c: 'Close' }, ja: { a: 'Save', b: 'こんにちは', c: '' } })).toEqual(['a', 'b', 'c']);
    expect(check({ en: { a: 'Save', b: 'Hello {name}' }, ja: { a: '保存', b: '{name}さん、こんにちは' } })).toEqual([]);
  });
});

/** A browser stand-in over app.request: keeps the session cookie, sends this site's Origin with forms. */
function adminClient(app: TestApp) {
  let cookie = '';
  let csrf = '';
  const client = {
    async request(method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}) {
      const h: Record<string, string> = { ...headers };
      const cookies = [cookie, ...(h.cookie ? [h.cookie] : [])].filter(Boolean);
      if (cookies.length) h.cookie = cookies.join('; ');
      let body: string | undefined;
      if (form) {
        h['content-type'] = 'application/x-www-form-urlencoded';
        h.origin ??= 'http://localhost';
        body = new URLSearchParams(form).toString();
      }
      const res = await app.app.request(path, { method, headers: h, body });
      const match = /(?:^|, )(signet_session)=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
      if (match) cookie = match[2] ? `${match[1]}=${match[2]}` : '';
      return res;
    },
    async page(path: string, headers: Record<string, string> = {}) {
      const res = await client.request('GET', path, undefined, headers);
      const html = await res.text();
      const token = /name="_csrf" value="([^"]+)"/.exec(html);
      if (token) csrf = token[1]!;
      return { res, html };
    },
    post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
      return client.request('POST', path, { _csrf: csrf, ...form }, headers);
    },
    async login() {
      const res = await client.request('POST', '/admin/login', { token: ADMIN_TOKEN, next: '/admin/campaigns' });
      expect(res.status, await res.clone().text()).toBe(303);
      await client.page('/admin/campaigns');
    },
  };
  return client;
}

const decode = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[entity]!);

/** What a person reads on the page: text between tags, and the labels in attributes (aria-label, title, placeholder, label). */
function visibleTexts(html: string): string[] {
  // The language switch names each language in itself (English / 日本語) on purpose.
  const body = html
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<nav class="languages"[\s\S]*?<\/nav>/, '');
  const between = [...body.matchAll(/>([^<]+)</g)].map((m) => decode(m[1]!).trim());
  const attributes = [...body.matchAll(/\s(?:aria-label|title|placeholder|label)="([^"]*)"/g)].map((m) => decode(m[1]!).trim());
  return [...between, ...attributes].filter(Boolean);
}

/** The English texts of every catalogue that have no placeholder (those are whole texts a page would show as they are). */
async function englishTexts(): Promise<Set<string>> {
  const texts = new Set<string>();
  for (const { catalogue } of await allCatalogues()) {
    for (const [key, en] of Object.entries(catalogue.en)) if (!en.includes('{') && catalogue.ja[key] !== en) texts.add(en);
  }
  return texts;
}

/** The form of a page as the browser would send it: inputs with their values, the selected options, the textareas. */
function formFields(html: string, action: string): Record<string, string> {
  const start = html.indexOf(`action="${action}"`);
  const form = html.slice(start, html.indexOf('</form>', start));
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input\b([^>]*)>/g)) {
    const name = /\sname="([^"]+)"/.exec(m[1]!)?.[1];
    const type = /\stype="([^"]+)"/.exec(m[1]!)?.[1] ?? 'text';
    if (!name || type === 'submit' || ((type === 'checkbox' || type === 'radio') && !/\schecked/.test(m[1]!))) continue;
    fields[name] = decode(/\svalue="([^"]*)"/.exec(m[1]!)?.[1] ?? (type === 'checkbox' ? 'on' : ''));
  }
  for (const m of form.matchAll(/<textarea\b[^>]*\sname="([^"]+)"[^>]*>([\s\S]*?)<\/textarea>/g)) fields[m[1]!] = decode(m[2]!);
  for (const m of form.matchAll(/<select\b[^>]*\sname="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const selected = /<option value="([^"]*)" selected/.exec(m[2]!) ?? /<option value="([^"]*)"/.exec(m[2]!);
    fields[m[1]!] = decode(selected?.[1] ?? '');
  }
  return fields;
}

describe('the dashboard in Japanese', () => {
  it('shows the main pages with no English label left, numbers and dates as ja-JP writes them', async () => {
    t = createTestApp();
    const slug = 'forced-returns';
    const { letterId, mailingId, targetId } = await campaignWithEverything(t, slug);
    const client = adminClient(t);
    await client.login();
    const english = await englishTexts();

    const pages = [
      '/admin/campaigns',
      `/admin/campaigns/${slug}`,
      `/admin/campaigns/${slug}/edit`,
      '/admin/campaigns/new',
      `/admin/targets/${targetId}/edit?campaign=${slug}`,
      `/admin/campaigns/${slug}/letters`,
      `/admin/letters/${letterId}`,
      '/admin/mailings',
      `/admin/mailings/${mailingId}`,
      '/admin/mailings/new',
      '/admin/deliveries',
      '/admin/print-queue',
      '/admin/privacy',
      `/admin/abuse?campaign=${slug}`,
      '/admin/audit',
    ];
    const seen: Record<string, string> = {};
    for (const path of pages) {
      const { res, html } = await client.page(`${path}${path.includes('?') ? '&' : '?'}lang=ja`);
      expect(res.status, path).toBe(200);
      expect(html, path).toContain('<html lang="ja">');
      const left = visibleTexts(html).filter((text) => english.has(text));
      expect(left, `English left on ${path}`).toEqual([]);
      seen[path] = html;
    }

    const list = seen['/admin/campaigns']!;
    // The navigation, the session bar and the page in Japanese; not one English navigation label.
    for (const label of ['キャンペーン', '送付', '印刷待ち', 'メーリング', '個人情報', '不正対策', '監査ログ', 'サインアウト']) expect(list).toContain(`>${label}<`);
    for (const label of ['>Campaigns<', '>Deliveries<', '>Print queue<', '>Mailings<', '>Audit log<', '>Sign out<']) expect(list).not.toContain(label);
    // The test clock is 2027-09-01 00:00 UTC: 9:00 in Tokyo, written the Japanese way; the goal grouped.
    expect(list).toContain('2027/09/01 9:00 (Asia/Tokyo)');
    expect(list).toContain('1,000,000');
    expect(list).toContain('>公開中<');

    const detail = seen[`/admin/campaigns/${slug}`]!;
    expect(detail).toContain('2（目標 1,000,000）');
    expect(detail).toContain('<title id="chart-days-title">日ごとの確認済みの署名数と累計</title>');
    expect(detail).toContain('9月1日');
    expect(detail).toContain('>大使館<');

    const letters = seen[`/admin/campaigns/${slug}/letters`]!;
    expect(letters).toContain('書簡 1 通');
    expect(letters).toContain('宛先ごと');

    expect(seen['/admin/deliveries']).toContain('>待機中<');
    expect(seen['/admin/deliveries']).toContain('>郵送（印刷）<');
    expect(seen['/admin/print-queue']).toContain('印刷する書簡は 1 通');
    expect(seen[`/admin/mailings/${mailingId}`]).toContain('>予約済み<');
    expect(seen[`/admin/mailings/${mailingId}`]).toContain('data-text-live="自動更新中');
  });

  it('keeps English by default and after ?lang=en, and the switch links to the same page in the other language', async () => {
    t = createTestApp();
    await openCampaign(t, 'switching');
    const client = adminClient(t);
    await client.login();

    const english = await client.page('/admin/campaigns?status=open');
    expect(english.html).toContain('<html lang="en">');
    expect(english.html).toContain('>Campaigns</a>');
    expect(english.html).toContain('<a href="/admin/campaigns?status=open&amp;lang=ja" hreflang="ja" lang="ja">日本語</a>');
    expect(english.html).toContain('<a href="/admin/campaigns?status=open&amp;lang=en" hreflang="en" lang="en" aria-current="true">English</a>');

    // Chosen once, kept in a cookie for the dashboard only.
    const chosen = await client.request('GET', '/admin/campaigns?lang=ja');
    expect(chosen.headers.get('set-cookie')).toMatch(/admin_lang=ja;.*Path=\/admin/);
    const kept = await client.page('/admin/campaigns/switching', { cookie: 'admin_lang=ja' });
    expect(kept.html).toContain('<html lang="ja">');
    expect(kept.html).toContain('aria-current="true">日本語</a>');

    // A browser that asks for Japanese gets it without choosing; an explicit English wins over it.
    expect((await client.page('/admin/campaigns', { 'accept-language': 'ja-JP,ja;q=0.9' })).html).toContain('<html lang="ja">');
    expect((await client.page('/admin/campaigns?lang=en', { 'accept-language': 'ja-JP,ja;q=0.9' })).html).toContain('<html lang="en">');

    // Anything else in ?lang= is ignored, never echoed.
    const odd = await client.page('/admin/campaigns?lang=%22%3E%3Cscript%3E');
    expect(odd.html).toContain('<html lang="en">');
    expect(odd.html).not.toContain('"><script>');
  });

  it('shows a form error page in Japanese, the service\'s messages translated beside the translated field', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    await client.page('/admin/campaigns/new?lang=ja');
    const res = await client.post('/admin/campaigns', { title: '', slug: 'Bad Slug!', locale: 'ja', timeZone: 'Asia/Tokyo', goal: 'many' }, { cookie: 'admin_lang=ja' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('下記の印のある項目を修正してください。');
    expect(html).toMatch(/id="e-goal">整数で入力してください/);
    expect(html).toMatch(/<a href="#f-slug">スラッグ<\/a>: 半角英小文字・数字・ハイフンで3〜64文字にしてください/);
    expect(html).not.toContain('must be');
  });

  it('says a website without https:// in Japanese, once, on the organisation form', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const page = await client.page('/admin/organisation?lang=ja');
    const form = formFields(page.html, '/admin/organisation');
    const res = await client.post('/admin/organisation', { ...form, name: '北朝鮮難民救援ネットワーク', email: 'info@ngo.example.jp', website: 'ngo.example.jp' }, { cookie: 'admin_lang=ja' });
    expect(res.status).toBe(422);
    const html = await res.text();
    const message = 'https:// から始まるウェブアドレスを入力してください（例: https://example.org）';
    expect(html).toContain(`<a href="#f-website">ウェブサイト</a>: ${message}`);
    // The pattern check and the URL check say the same: shown once beside the field.
    expect(html.split(message)).toHaveLength(3);
    expect(html).not.toContain('must be a web address');
  });

});

describe('campaign translations in the dashboard', () => {
  it('saves a Japanese translation through the edit page, which the public page shows with ?lang=ja; an empty title removes it', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'translated', { summary: 'Ask the government to stop.', body: 'The **text**.' });
    const client = adminClient(t);
    await client.login();

    const edit = await client.page(`/admin/campaigns/${slug}/edit`);
    // The campaign is in English: a fieldset for each other language, none for English.
    for (const locale of ['ja', 'ko', 'zh']) expect(edit.html).toContain(`id="translation-${locale}"`);
    expect(edit.html).not.toContain('id="translation-en"');
    expect(edit.html).toContain('<legend>Translation: Japanese</legend>');

    const form = formFields(edit.html, `/admin/campaigns/${slug}`);
    expect(form.title).toBe('Save North Korean refugees');
    const saved = await client.post(`/admin/campaigns/${slug}`, {
      ...form,
      tr_ja_title: '北朝鮮難民を救ってください',
      tr_ja_summary: '強制送還の中止を求めます。',
      tr_ja_body: '**本文**です。',
    });
    expect(saved.status, await saved.clone().text()).toBe(303);
    expect(saved.headers.get('location')).toBe(`/admin/campaigns/${slug}?done=saved`);

    const stored = await (await t.request('GET', `/api/v1/campaigns/${slug}`)).json();
    expect(stored.translations).toEqual({ ja: { title: '北朝鮮難民を救ってください', summary: '強制送還の中止を求めます。', body: '**本文**です。' } });
    expect(stored.title).toBe('Save North Korean refugees');

    const publicJa = await (await t.app.request(`/c/${slug}?lang=ja`)).text();
    expect(publicJa).toContain('北朝鮮難民を救ってください');
    expect(publicJa).toContain('強制送還の中止を求めます。');
    expect(publicJa).toContain('<strong>本文</strong>');
    expect(await (await t.app.request(`/c/${slug}?lang=en`)).text()).toContain('Save North Korean refugees');

    // A form without the translation fieldsets (a script, an older page) leaves the translations alone.
    const withoutTranslations = Object.fromEntries(Object.entries(form).filter(([name]) => !name.startsWith('tr_')));
    expect((await client.post(`/admin/campaigns/${slug}`, { ...withoutTranslations, goal: '500' })).status).toBe(303);
    expect((await (await t.request('GET', `/api/v1/campaigns/${slug}`)).json()).translations.ja.title).toBe('北朝鮮難民を救ってください');

    // The page shows what was saved, and the campaign page lists the language.
    const again = await client.page(`/admin/campaigns/${slug}/edit`);
    expect(again.html).toContain('name="tr_ja_title" type="text" value="北朝鮮難民を救ってください"');
    expect(again.html).toContain('強制送還の中止を求めます。</textarea>');
    expect((await client.page(`/admin/campaigns/${slug}`)).html).toMatch(/<dt>Translations<\/dt><dd>Japanese<\/dd>/);

    // An emptied title removes the translation; the public page falls back to the campaign's language.
    const removed = await client.post(`/admin/campaigns/${slug}`, { ...formFields(again.html, `/admin/campaigns/${slug}`), tr_ja_title: '', tr_ja_summary: '', tr_ja_body: '' });
    expect(removed.status).toBe(303);
    expect((await (await t.request('GET', `/api/v1/campaigns/${slug}`)).json()).translations).toEqual({});
    expect(await (await t.app.request(`/c/${slug}?lang=ja`)).text()).not.toContain('北朝鮮難民を救ってください');
  });

  it('shows errors beside the translation fields and keeps what was typed; saves nothing', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'translation-errors');
    const client = adminClient(t);
    await client.login();
    const edit = await client.page(`/admin/campaigns/${slug}/edit?lang=ja`);
    const form = formFields(edit.html, `/admin/campaigns/${slug}`);

    const res = await client.post(`/admin/campaigns/${slug}`, { ...form, tr_ko_summary: '요약만 있습니다', tr_zh_title: 'x'.repeat(201) }, { cookie: 'admin_lang=ja' });
    expect(res.status).toBe(422);
    const html = await res.text();
    // A summary without a title is refused (not silently dropped); a title too long gets the service's message.
    expect(html).toMatch(/id="e-tr_ko_title">概要や本文を入力する場合はタイトルも入力してください/);
    expect(html).toMatch(/<a href="#f-tr_ko_title">タイトル（韓国語）<\/a>/);
    expect(html).toMatch(/<input id="f-tr_zh_title" name="tr_zh_title" type="text" value="x{201}" aria-describedby="e-tr_zh_title" aria-invalid="true"/);
    expect(html).toContain('요약만 있습니다</textarea>');
    expect((await (await t.request('GET', `/api/v1/campaigns/${slug}`)).json()).translations).toEqual({});
  });

  it('creates a campaign with a translation from the new-campaign page', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const page = await client.page('/admin/campaigns/new');
    // The default main language is Japanese, so the other three are offered.
    for (const locale of ['en', 'ko', 'zh']) expect(page.html).toContain(`id="translation-${locale}"`);
    const res = await client.post('/admin/campaigns', {
      ...formFields(page.html, '/admin/campaigns'),
      title: '難民の送還をやめて',
      slug: 'new-with-english',
      tr_en_title: 'Stop sending refugees back',
    });
    expect(res.status, await res.clone().text()).toBe(303);
    const stored = await (await t.request('GET', '/api/v1/campaigns/new-with-english')).json();
    expect(stored.translations).toEqual({ en: { title: 'Stop sending refugees back' } });
  });
});
