import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox, signatureSubmissions, signatures } from '../../../src/db/schema.js';
import { unsubscribeToken } from '../../../src/services/unsubscribe-links.js';
import { siteStylesheet } from '../../../src/web/assets/index.js';
import { shareScript } from '../../../src/web/public/share-script.js';
import { catalogs, pageLanguages } from '../../../src/web/i18n/index.js';
import { createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const ORIGIN = 'http://localhost:3000';

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await t.app.request(path, { headers });
  return { response, status: response.status, html: await response.text() };
}

/** The page without the share links' script tag (its file, from this origin, is the pages' only script). */
const withoutShareScript = (html: string) => html.replace(`<script src="${shareScript.path}" defer=""></script>`, '');

function formToken(html: string): string {
  const match = /name="_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no form token on the page');
  return match[1]!;
}

function post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return t.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, 'x-forwarded-for': '203.0.113.7', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

const validFields = {
  name: '山田 花子',
  email: 'hanako@example.jp',
  country: 'JP',
  region: 'JP-13',
  city: '千代田区',
  postalCode: '101-0051',
  comment: '応援しています',
  nameOnLetter: 'initials',
  showPublicly: 'yes',
  updates: 'no',
};

/** Opens the campaign page and posts the signing form from it, as a browser would. */
async function signThroughPage(slug: string, fields: Record<string, string>, language = 'ja') {
  const page = await get(`/c/${slug}?lang=${language}`);
  return post(`/c/${slug}/sign`, { _token: formToken(page.html), lang: language, website: '', ...fields });
}

/** What signing stores: a request, until its link is used (then a signature). */
const storedRequests = () => t.database.db.select().from(signatureSubmissions);
const storedMail = () => t.database.db.select().from(outbox);

describe('catalogs', () => {
  it('have the same keys in every language, and no English left in the others', () => {
    const keys = Object.keys(catalogs.en).sort();
    for (const language of pageLanguages) {
      expect(Object.keys(catalogs[language]).sort()).toEqual(keys);
      if (language === 'en') continue;
      // Nothing is deliberately identical today (not even language names): list a key here when one must be.
      const sameAsEnglish = keys.filter((key) => catalogs[language][key as keyof typeof catalogs.en] === catalogs.en[key as keyof typeof catalogs.en]);
      expect(sameAsEnglish, language).toEqual([]);
    }
  });
});

describe('GET /c/:slug', () => {
  it('renders the campaign in each language, with no English copy on the Japanese page', async () => {
    t = createTestApp();
    await openCampaign(t, 'save-refugees', { goal: 1000, summary: 'Stop forced returns.', body: 'Read **more**.' });
    for (const language of pageLanguages) {
      const { status, html } = await get(`/c/save-refugees?lang=${language}`);
      expect(status).toBe(200);
      const t_ = catalogs[language];
      expect(html).toContain(`<html lang="${language === 'zh' ? 'zh-Hans' : language}">`);
      for (const text of [t_.formHeading, t_.consentNameLegend, t_.privacyHeading, t_.skipLink]) expect(html).toContain(text);
      expect(html).toContain('<h1 lang="en">Save North Korean refugees</h1>');
      expect(html.match(/<h1[ >]/g)).toHaveLength(1);
    }
    const { html } = await get('/c/save-refugees?lang=ja');
    for (const english of ['Sign the petition', 'Your name', 'Email address', 'How your data is used', 'Skip to main content', 'Choose…', 'signatures']) {
      expect(html).not.toContain(english);
    }
    expect(html).toContain('目標1,000人のうち0人が署名');
    expect(html).toContain('<progress max="1000" value="0"');
    expect(html).toContain('以下のキャンペーン本文は英語で書かれています。');
    expect(html).toContain('<option value="JP" selected="">日本</option>');
  });

  it('shows the organiser’s translation in the page language when there is one, marked with its language', async () => {
    t = createTestApp();
    await openCampaign(t, 'save-refugees', { translations: { ja: { title: '北朝鮮難民を救え', summary: '強制送還をやめて' } } });
    const { html } = await get('/c/save-refugees', { 'accept-language': 'ja' });
    expect(html).toContain('<h1 lang="ja">北朝鮮難民を救え</h1>');
    expect(html).toContain('<meta property="og:title" content="北朝鮮難民を救え"/>');
    expect(html).not.toContain('以下のキャンペーン本文は');
  });

  it('negotiates: ?lang= beats the cookie beats Accept-Language beats English', async () => {
    t = createTestApp();
    await openCampaign(t);
    const lang = async (path: string, headers: Record<string, string> = {}) => /<html lang="([^"]+)">/.exec((await get(path, headers)).html)![1];
    expect(await lang('/c/save-refugees')).toBe('en');
    expect(await lang('/c/save-refugees', { 'accept-language': 'fr-FR, de;q=0.9' })).toBe('en');
    expect(await lang('/c/save-refugees', { 'accept-language': 'fr;q=1, ko;q=0.5, ja;q=0.8' })).toBe('ja');
    expect(await lang('/c/save-refugees', { 'accept-language': 'zh-TW, ja;q=0' })).toBe('zh-Hans');
    expect(await lang('/c/save-refugees', { 'accept-language': 'ja', cookie: 'lang=ko' })).toBe('ko');
    expect(await lang('/c/save-refugees?lang=zh', { 'accept-language': 'ja', cookie: 'lang=ko' })).toBe('zh-Hans');
    expect(await lang('/c/save-refugees?lang=xx', { cookie: 'lang=nope', 'accept-language': 'ko' })).toBe('ko');

    // A page whose URL names its language is every visitor's: no cookie, nothing negotiated.
    const chosen = await get('/c/save-refugees?lang=ko');
    expect(chosen.response.headers.get('set-cookie')).toBeNull();
    expect(chosen.response.headers.get('vary')).toBe('Accept-Encoding');
    expect(chosen.response.headers.get('cache-control')).toMatch(/^public, /);
    const negotiated = await get('/c/save-refugees', { 'accept-language': 'ko' });
    expect(negotiated.response.headers.get('vary')).toBe('Accept-Language, Cookie, Accept-Encoding');
    expect(negotiated.response.headers.get('cache-control')).toBe('private, no-cache');
    expect(chosen.html).toContain('<a href="/c/save-refugees?lang=ko" hreflang="ko" lang="ko" aria-current="page">한국어</a>');
    expect(chosen.html).toContain('<a href="/c/save-refugees?lang=ja" hreflang="ja" lang="ja">日本語</a>');
    expect(chosen.html).toContain('<link rel="alternate" hreflang="ja" href="http://localhost:3000/c/save-refugees?lang=ja"/>');
    expect(chosen.html).toContain('<link rel="alternate" hreflang="x-default" href="http://localhost:3000/c/save-refugees"/>');
    const british = (await get('/c/save-refugees', { 'accept-language': 'en-GB' })).html;
    expect(british).toContain('<option value="GB" selected="">United Kingdom</option>');
    // One country selected, and the cached list is not left marked for the next page.
    const countrySelect = british.slice(british.indexOf('<select id="field-country"'), british.indexOf('</select>', british.indexOf('<select id="field-country"')));
    expect(countrySelect.match(/ selected=""/g)).toHaveLength(1);
    const english = (await get('/c/save-refugees', { 'accept-language': 'en' })).html;
    expect(english).toContain('<option value="GB">United Kingdom</option>');
    expect(english).toMatch(/<option value="" selected="">/);
  });

  it('escapes everything the organiser wrote: title, summary, Markdown body and the sharing tags', async () => {
    t = createTestApp();
    const title = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    await openCampaign(t, 'xss-campaign', {
      title,
      summary: `" onmouseover="alert(3)`,
      body: [
        '# <script>alert(4)</script>',
        '[click](javascript:alert(5)) [data](data:text/html,<b>x</b>) [rel](/relative)',
        '[quote](https://example.org/"onmouseover="alert(6)) <b onclick="alert(7)">bold</b>',
        'Write to [us](mailto:team@example.org) or <https://example.org/news>. [attr](https://example.org/?q="onmouseover="x)',
      ].join('\n\n'),
    });
    const { html } = await get('/c/xss-campaign');
    // The one script of the pages is the share links' copy button, a file of this origin (share-script.ts).
    expect(withoutShareScript(html)).not.toMatch(/<script|<img|<b |href="(javascript:|data:text)|onmouseover="|onclick="/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('<meta property="og:title" content="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"/>');
    expect(html).toContain('<meta property="og:description" content="&quot; onmouseover=&quot;alert(3)"/>');
    expect(html).toContain('<title>&quot;&gt;&lt;script&gt;');
    expect(html).toContain('<h2>&lt;script&gt;alert(4)&lt;/script&gt;</h2>');
    expect(html).toContain('<p>[click](javascript:alert(5)) [data](data:text/html,&lt;b&gt;x&lt;/b&gt;) rel</p>');
    expect(html).not.toContain('href="/relative"');
    expect(html).toContain('<a href="https://example.org/" rel="nofollow noopener">https://example.org/</a>&quot;onmouseover=&quot;alert(6))');
    expect(html).toContain('<a href="https://example.org/?q=%22onmouseover=%22x" rel="nofollow noopener">attr</a>');
    expect(html).toContain('&lt;b onclick=&quot;alert(7)&quot;&gt;bold&lt;/b&gt;');
    expect(html).toContain('<a href="mailto:team@example.org" rel="nofollow noopener">us</a>');
    expect(html).toContain('<a href="https://example.org/news" rel="nofollow noopener">https://example.org/news</a>');
  });

  it('shows a closed campaign without the form, and a 404 page for drafts, archived and unknown campaigns', async () => {
    t = createTestApp();
    await openCampaign(t, 'closing');
    expect((await t.request('PATCH', '/api/v1/campaigns/closing', { body: { status: 'closed' } })).status).toBe(200);
    const closed = await get('/c/closing?lang=ja');
    expect(closed.status).toBe(200);
    expect(closed.html).toContain(catalogs.ja.closedNotice);
    expect(closed.html).not.toContain('<form');

    expect((await t.request('POST', '/api/v1/campaigns', { body: { slug: 'a-draft', title: 'Draft', locale: 'en' } })).status).toBe(201);
    await t.request('PATCH', '/api/v1/campaigns/closing', { body: { status: 'archived' } });
    for (const slug of ['a-draft', 'closing', 'no-such-campaign']) {
      const page = await get(`/c/${slug}?lang=ja`);
      expect(page.status).toBe(404);
      expect(page.html).toContain(catalogs.ja.notFoundTitle);
      expect(page.html).toContain('<meta name="robots" content="noindex, nofollow"/>');
    }
  });

  it('sends the security headers, and the stylesheet with a content hash and a year of caching', async () => {
    t = createTestApp();
    await openCampaign(t);
    const { response, html } = await get('/c/save-refugees');
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(withoutShareScript(html)).not.toMatch(/<script|<style|style="/);
    expect(html).toContain(`<link rel="stylesheet" href="${siteStylesheet.path}"/>`);
    expect(siteStylesheet.path).toMatch(/^\/assets\/site\.[0-9a-f]{14}\.css$/);

    const css = await t.app.request(siteStylesheet.path);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await css.text()).toContain('Noto Sans CJK JP');
    expect((await t.app.request('/assets/site.0000.css')).status).toBe(404);
  });
});

describe('POST /c/:slug/sign', () => {
  it('signs: 303 to the thanks page, a pending signature in the page language and its confirmation email', async () => {
    t = createTestApp();
    await openCampaign(t);
    const response = await signThroughPage('save-refugees', validFields);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/c/save-refugees/thanks?lang=ja');
    const [row] = await storedRequests();
    expect(row).toMatchObject({
      confirmedAt: null,
      name: '山田 花子',
      email: 'hanako@example.jp',
      country: 'JP',
      region: 'JP-13',
      city: '千代田区',
      postalCode: '101-0051',
      comment: '応援しています',
      locale: 'ja',
      nameOnLetter: 'initials',
      showPublicly: true,
      updates: false,
    });
    expect(row!.ipHash).toMatch(/^[0-9a-f]{32}$/);
    const mail = await storedMail();
    expect(mail).toHaveLength(1);
    expect(mail[0]!.recipient).toBe('hanako@example.jp');

    const thanks = await get('/c/save-refugees/thanks?lang=ja');
    expect(thanks.status).toBe(200);
    expect(thanks.html).toContain(catalogs.ja.thanksTitle);
    // At busy times the email waits its turn (PRODUCT.md §8): the page says so, in every language.
    expect(thanks.html).toContain('混み合っている時間帯は、メールが届くまで数分かかることがあります。');
    for (const [lang, busy] of [['en', 'At busy times the email may take a few minutes to arrive.'], ['ko', '이용자가 많은 시간에는 이메일이 도착하기까지 몇 분이 걸릴 수 있습니다.'], ['zh', '繁忙时段，邮件可能需要几分钟才能送达。']]) {
      expect((await get(`/c/save-refugees/thanks?lang=${lang}`)).html).toContain(busy);
    }
    expect(thanks.html).not.toContain('hanako@example.jp');
    // Nothing on it is the signer's: shared caches may keep it like the campaign page.
    expect(thanks.response.headers.get('cache-control')).toMatch(/^public, /);
    expect(thanks.response.headers.get('set-cookie')).toBeNull();
  });

  it('re-renders the form with 422, translated errors beside their fields, and the values kept; nothing is stored', async () => {
    t = createTestApp();
    await openCampaign(t);
    const response = await signThroughPage('save-refugees', { ...validFields, name: '  ', email: 'not-an-email', postalCode: 'x'.repeat(30) });
    expect(response.status).toBe(422);
    const html = await response.text();
    expect(html).toContain('<title>エラー：Save North Korean refugees</title>');
    expect(html).toContain('<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" id="error-summary">');
    expect(html).toContain('<a href="#field-email">メールアドレス: name@example.com の形式でメールアドレスを入力してください。</a>');
    expect(html).toContain('<a href="#field-name">お名前: お名前を入力してください。</a>');
    expect(html).toContain('<span class="field-error" id="error-email">name@example.com の形式でメールアドレスを入力してください。</span>');
    expect(html).toContain('name="email" value="not-an-email" autocomplete="email" maxlength="254" required="" aria-invalid="true" aria-describedby="error-email hint-email"');
    expect(html).toContain(`<span class="field-error" id="error-postalCode">${catalogs.ja.errorTooLong}</span>`);
    expect(html).toContain('<option value="JP-13" selected="">東京都</option>');
    expect(html).toContain('>応援しています</textarea>');
    expect(html).toContain('<input type="radio" id="field-nameOnLetter-initials" name="nameOnLetter" value="initials" checked=""/>');
    expect(html).toContain('<input type="radio" id="field-showPublicly" name="showPublicly" value="yes" checked=""/>');
    expect(html).toContain('<option value="JP" selected="">日本</option>');
    expect(html.indexOf('error-summary')).toBeLessThan(html.indexOf('<h1'));
    expect(await storedRequests()).toHaveLength(0);
    expect(await storedMail()).toHaveLength(0);

    const noCountry = await signThroughPage('save-refugees', { ...validFields, country: '' }, 'en');
    expect(noCountry.status).toBe(422);
    expect(await noCountry.text()).toContain('<a href="#field-country">Country or region: Choose your country or region.</a>');
  });

  it('refuses a missing, forged, expired or other form’s token, and a cross-site post, with a 403 page; nothing is stored', async () => {
    t = createTestApp();
    await openCampaign(t);
    await openCampaign(t, 'other-campaign');
    const page = await get('/c/save-refugees?lang=ja');
    const token = formToken(page.html);
    const otherToken = formToken((await get('/c/other-campaign')).html);
    const attempts: [Record<string, string>, Record<string, string>][] = [
      [{ ...validFields, lang: 'ja' }, {}],
      [{ ...validFields, lang: 'ja', _token: `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}` }, {}],
      [{ ...validFields, lang: 'ja', _token: `${Number(token.split('.')[0]) + 1}.${token.split('.')[1]}` }, {}],
      [{ ...validFields, lang: 'ja', _token: otherToken }, {}],
      [{ ...validFields, lang: 'ja', _token: token }, { origin: 'https://evil.example', 'accept-language': 'ja' }],
      [{ ...validFields, lang: 'ja', _token: token }, { origin: '', 'accept-language': 'ja' }],
    ];
    for (const [fields, headers] of attempts) {
      const response = await post('/c/save-refugees/sign', fields, headers);
      expect(response.status).toBe(403);
      const html = await response.text();
      expect(html).toContain(catalogs.ja.forbiddenTitle);
      expect(html).toContain('<a href="/c/save-refugees?lang=en" hreflang="en" lang="en">English</a>');
    }
    // Tokens are of the hour (the page was loaded at the start of one): past the next hour, refused.
    t.clock.advance(2 * 3_600_000);
    const expired = await post('/c/save-refugees/sign', { ...validFields, lang: 'ja', _token: token });
    expect(expired.status).toBe(403);
    expect(await storedRequests()).toHaveLength(0);
    expect(await storedMail()).toHaveLength(0);

    // The same token still works in the next hour, from the same origin (by Sec-Fetch-Site too).
    t.clock.advance(-1);
    const fine = await post('/c/save-refugees/sign', { ...validFields, lang: 'ja', _token: token }, { origin: '', 'sec-fetch-site': 'same-origin' });
    expect(fine.status).toBe(303);
  });

  it('answers a filled honeypot as if it signed, and stores nothing', async () => {
    t = createTestApp();
    await openCampaign(t);
    const response = await signThroughPage('save-refugees', { ...validFields, website: 'https://spam.example' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/c/save-refugees/thanks?lang=ja');
    expect(await storedRequests()).toHaveLength(0);
    expect(await storedMail()).toHaveLength(0);
    const { html } = await get('/c/save-refugees');
    expect(html).toContain('<div class="hp" aria-hidden="true"><label for="field-website">');
    expect(html).toContain('name="website" value="" tabindex="-1" autocomplete="off"');
  });

  it('answers the rate limit with a translated 429 page and Retry-After', async () => {
    t = createTestApp({ signRateLimit: { limit: 1, windowMs: 60_000 } });
    await openCampaign(t);
    expect((await signThroughPage('save-refugees', validFields, 'ko')).status).toBe(303);
    const limited = await signThroughPage('save-refugees', { ...validFields, email: 'second@example.jp' }, 'ko');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await limited.text()).toContain(catalogs.ko.rateLimitedTitle);
    expect(await storedRequests()).toHaveLength(1);
  });

  it('shows the closed page (409) when the campaign closed after the form was loaded', async () => {
    t = createTestApp();
    await openCampaign(t);
    const page = await get('/c/save-refugees?lang=zh');
    await t.request('PATCH', '/api/v1/campaigns/save-refugees', { body: { status: 'closed' } });
    const response = await post('/c/save-refugees/sign', { ...validFields, lang: 'zh', _token: formToken(page.html) });
    expect(response.status).toBe(409);
    expect(await response.text()).toContain(catalogs.zh.closedNotice);
    expect(await storedRequests()).toHaveLength(0);
  });
});

describe('/confirm/:token', () => {
  async function pendingToken() {
    await openCampaign(t);
    expect((await t.request('POST', '/api/v1/campaigns/save-refugees/signatures', { token: null, body: signature('aiko@example.com') })).status).toBe(202);
    return latestConfirmToken(t, 'aiko@example.com');
  }
  const status = async () => (await t.database.db.select().from(signatures))[0]?.status ?? ((await storedRequests()).length > 0 ? 'pending' : 'nothing stored');

  it('GET shows a button and confirms nothing; POST confirms and the campaign count includes it', async () => {
    t = createTestApp();
    const token = await pendingToken();
    const page = await get(`/confirm/${token}`, { 'accept-language': 'ja,en;q=0.5' });
    expect(page.status).toBe(200);
    expect(page.response.headers.get('cache-control')).toBe('no-store');
    expect(page.response.headers.get('x-frame-options')).toBe('DENY');
    expect(page.html).toContain('<meta name="robots" content="noindex, nofollow"/><meta name="referrer" content="no-referrer"/>');
    expect(page.html).toContain(`<form method="post" action="/confirm/${token}">`);
    expect(page.html).toContain('<button type="submit">署名を確定する</button>');
    expect(page.html).not.toContain('rel="canonical"');
    expect(await status()).toBe('pending');

    const confirmed = await post(`/confirm/${token}`, { _token: formToken(page.html), lang: 'ja' });
    expect(confirmed.status).toBe(200);
    const html = await confirmed.text();
    expect(html).toContain(catalogs.ja.confirmedTitle);
    expect(html).toContain('<a href="/c/save-refugees?lang=ja">キャンペーンのページに戻る</a>');
    expect(await status()).toBe('confirmed');
    expect((await get('/c/save-refugees?lang=en')).html).toContain('1 signatures');

    const again = await post(`/confirm/${token}`, { _token: formToken(page.html), lang: 'ja' });
    expect(again.status).toBe(200);
  });

  it('POST needs the form token and a same-origin request', async () => {
    t = createTestApp();
    const token = await pendingToken();
    const page = await get(`/confirm/${token}`);
    expect((await post(`/confirm/${token}`, { lang: 'en' })).status).toBe(403);
    expect((await post(`/confirm/${token}`, { _token: formToken(page.html) }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await status()).toBe('pending');
  });

  it('answers unknown, malformed and expired tokens with translated pages', async () => {
    t = createTestApp();
    const token = await pendingToken();
    const malformed = await get('/confirm/%3Cscript%3E', { 'accept-language': 'ko' });
    expect(malformed.status).toBe(404);
    expect(malformed.html).toContain(catalogs.ko.unknownLinkTitle);
    expect(malformed.html).not.toContain('<script>');

    const unknown = 'A'.repeat(32);
    const page = await get(`/confirm/${unknown}`, { 'accept-language': 'ko' });
    expect(page.status).toBe(200);
    const refused = await post(`/confirm/${unknown}`, { _token: formToken(page.html), lang: 'ko' });
    expect(refused.status).toBe(404);
    expect(await refused.text()).toContain(catalogs.ko.unknownConfirmBody);

    t.clock.advance(8 * 24 * 3_600_000);
    // An expired link says so at once, with no button to press.
    const opened = await get(`/confirm/${token}`, { 'accept-language': 'zh-CN' });
    expect(opened.status).toBe(410);
    expect(opened.html).toContain(catalogs.zh.expiredTitle);
    expect(opened.html).not.toContain('<button');
    // A form posted anyway (opened before the link expired) is refused the same way.
    const freshForm = await get(`/confirm/${unknown}`);
    const expired = await post(`/confirm/${token}`, { _token: formToken(freshForm.html), lang: 'zh' });
    expect(expired.status).toBe(410);
    const html = await expired.text();
    expect(html).toContain(catalogs.zh.expiredTitle);
    expect(html).toContain(catalogs.zh.expiredBody);
    expect(html).toMatch(new RegExp(`<a href="/c/[a-z0-9-]+\\?lang=zh"[^>]*>${catalogs.zh.signAgain}</a>`));
    expect(await status()).toBe('pending');
  });
});

describe('/unsubscribe/:token pages', () => {
  it('are translated, and the one-click POST needs neither a form token nor an Origin', async () => {
    t = createTestApp();
    await openCampaign(t);
    const id = await signAndConfirm(t, 'save-refugees', signature('aiko@example.com', { consent: { updates: true } }));
    const token = await unsubscribeToken(t.ctx, id);
    const page = await get(`/unsubscribe/${token}`, { 'accept-language': 'ja' });
    expect(page.status).toBe(200);
    expect(page.html).toContain('<button type="submit">配信を停止する</button>');
    expect(page.response.headers.get('x-frame-options')).toBe('DENY');
    const done = await t.app.request(`/unsubscribe/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'ko' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain(catalogs.ko.unsubscribedTitle);
  });
});
