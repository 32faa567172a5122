import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings, loadWorkerSettings, SettingsError } from '../../../src/config.js';
import { signatureSubmissions } from '../../../src/db/schema.js';
import { catalogs } from '../../../src/web/i18n/index.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

let t: ReturnType<typeof createTestApp> | undefined;
afterEach(async () => t?.cleanup());

const OWN_ORIGIN = 'http://localhost:3000';
const BLOG = 'https://blog.example.org';

function formToken(html: string): string {
  const match = /name="_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no form token on the page');
  return match[1]!;
}

function post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return t!.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: OWN_ORIGIN, 'x-forwarded-for': '203.0.113.9', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

const supporter = { name: 'Jane Doe', email: 'jane@example.org', country: 'JP', nameOnLetter: 'initials', showPublicly: 'no', updates: 'yes', lang: 'en' };

async function embedForm(slug = 'refugees', language = 'en') {
  const response = await t!.app.request(`/c/${slug}/embed?lang=${language}`);
  return { response, html: await response.text() };
}

describe('EMBED_ORIGINS', () => {
  it('takes https origins separated by spaces or commas, http only on the loopback, and nothing else', () => {
    expect(loadSettings({ EMBED_ORIGINS: `${BLOG}, https://www.example.net  http://localhost:8080` }).EMBED_ORIGINS).toEqual([
      BLOG,
      'https://www.example.net',
      'http://localhost:8080',
    ]);
    expect(loadSettings({}).EMBED_ORIGINS).toEqual([]);
    expect(loadSettings({ EMBED_ORIGINS: '' }).EMBED_ORIGINS).toEqual([]);
    for (const wrong of ['http://blog.example.org', 'https://blog.example.org/', 'https://blog.example.org/posts', 'https://*.example.org', 'blog.example.org', "'self'", 'https://a.example; script-src *']) {
      expect(() => loadSettings({ EMBED_ORIGINS: wrong }), wrong).toThrow(SettingsError);
    }
    expect(() => loadSettings({ EMBED_ORIGINS: `${BLOG} https://blog.example.org/x` })).toThrow(/EMBED_ORIGINS: "https:\/\/blog.example.org\/x" is not an origin/);
    const worker = loadWorkerSettings({ PUBLIC_URL: 'https://sign.example.org', SECRET_KEY: 'k'.repeat(32), SMTP_URL: 'smtps://mail.example.org', EMBED_ORIGINS: BLOG });
    expect(worker.EMBED_ORIGINS).toEqual([BLOG]);
  });
});

describe('GET /c/:slug/embed', () => {
  it('may be framed by the EMBED_ORIGINS sites only, with no X-Frame-Options; every other page still refuses frames', async () => {
    t = createTestApp({ embedOrigins: [BLOG, 'https://www.example.net'] });
    await openCampaign(t, 'refugees', { goal: 500 });
    const { response, html } = await embedForm();
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain(`frame-ancestors ${BLOG} https://www.example.net;`);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(response.headers.get('x-frame-options')).toBeNull();
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(html).toContain('<meta name="robots" content="noindex"/>');
    expect(html).toContain('<body class="embed">');

    for (const path of ['/c/refugees', '/c/refugees/thanks', '/privacy']) {
      const other = await t.app.request(path);
      expect(other.headers.get('x-frame-options'), path).toBe('DENY');
      expect(other.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
    }
  });

  it('is framed nowhere without EMBED_ORIGINS', async () => {
    t = createTestApp();
    await openCampaign(t, 'refugees');
    const { response } = await embedForm();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('has the campaign page form: the same fields, consent texts, honeypot and token, posting to the embed; the title, count and a link out', async () => {
    t = createTestApp({ embedOrigins: [BLOG] });
    await openCampaign(t, 'refugees', { goal: 500, translations: { ja: { title: '北朝鮮難民を救ってください' } } });
    const { html } = await embedForm('refugees', 'ja');
    const ja = catalogs.ja;
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('<h1 lang="ja">北朝鮮難民を救ってください</h1>');
    expect(html).toContain('目標500人のうち0人が署名');
    expect(html).toContain('<form method="post" action="/c/refugees/embed/sign" novalidate="">');
    for (const text of [ja.fieldName, ja.fieldEmail, ja.fieldCountry, ja.consentNameLegend, ja.consentNameHelp, ja.consentPublicHelp, ja.consentUpdatesHelp, ja.privacyPurpose, ja.honeypotLabel]) {
      expect(html).toContain(text);
    }
    expect(html).toContain('name="website"');
    expect(formToken(html)).toMatch(/^\d+\.[0-9a-f]{32}$/);
    // Links leave the frame: the full campaign page and the privacy page open in a new tab.
    expect(html).toContain(`<a href="http://localhost:3000/c/refugees?lang=ja" target="_blank" rel="noopener">${ja.embedFullPage}`);
    expect(html).toContain('<a href="/privacy?lang=ja" target="_blank">');
    // The embed is compact: no public list of supporters, no site header.
    expect(html).not.toContain('site-header');
  });

  it('answers 404 for a draft or unknown campaign', async () => {
    t = createTestApp({ embedOrigins: [BLOG] });
    expect((await t.request('POST', '/api/v1/campaigns', { body: { slug: 'draft', title: 'Not yet', locale: 'en', timeZone: 'Asia/Tokyo' } })).status).toBe(201);
    expect((await t.app.request('/c/draft/embed')).status).toBe(404);
    expect((await t.app.request('/c/nowhere/embed')).status).toBe(404);
  });
});

describe('POST /c/:slug/embed/sign', () => {
  it('stores a pending signature and shows the compact thanks with share links, framable like the form', async () => {
    t = createTestApp({ embedOrigins: [BLOG] });
    await openCampaign(t, 'refugees');
    const { html } = await embedForm();
    const response = await post('/c/refugees/embed/sign', { _token: formToken(html), website: '', ...supporter });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/c/refugees/embed/thanks?lang=en');
    const stored = await t.database.db.select().from(signatureSubmissions);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.email).toBe('jane@example.org');

    const thanks = await t.app.request('/c/refugees/embed/thanks?lang=en');
    const thanksHtml = await thanks.text();
    expect(thanks.status).toBe(200);
    expect(thanks.headers.get('content-security-policy')).toContain(`frame-ancestors ${BLOG};`);
    expect(thanks.headers.get('x-frame-options')).toBeNull();
    expect(thanks.headers.get('cache-control')).toMatch(/^public, /);
    expect(thanksHtml).toContain(`<h1>${catalogs.en.thanksTitle}</h1>`);
    expect(thanksHtml).toContain('https://social-plugins.line.me/lineit/share?url=http%3A%2F%2Flocalhost%3A3000%2Fc%2Frefugees%3Flang%3Den');
  });

  it('refuses a post without a valid form token (403) or from another origin, and stores nothing', async () => {
    t = createTestApp({ embedOrigins: [BLOG] });
    await openCampaign(t, 'refugees');
    const missing = await post('/c/refugees/embed/sign', { website: '', ...supporter });
    expect(missing.status).toBe(403);
    const forged = await post('/c/refugees/embed/sign', { _token: `${Date.UTC(2027, 8, 1)}.${'0'.repeat(32)}`, website: '', ...supporter });
    expect(forged.status).toBe(403);
    // The blog itself may frame the form but not post to it: the form is a document of Signet's origin.
    const { html } = await embedForm();
    const fromBlog = await post('/c/refugees/embed/sign', { _token: formToken(html), website: '', ...supporter }, { origin: BLOG });
    expect(fromBlog.status).toBe(403);
    expect(await t.database.db.select().from(signatureSubmissions)).toHaveLength(0);
  });

  it('answers a filled honeypot as if signed, and stores nothing', async () => {
    t = createTestApp({ embedOrigins: [BLOG] });
    await openCampaign(t, 'refugees');
    const { html } = await embedForm();
    const response = await post('/c/refugees/embed/sign', { _token: formToken(html), website: 'https://spam.example', ...supporter });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/c/refugees/embed/thanks?lang=en');
    expect(await t.database.db.select().from(signatureSubmissions)).toHaveLength(0);
  });

  it('shows a refused form again inside the embed, as typed, with the errors', async () => {
    t = createTestApp({ embedOrigins: [BLOG] });
    await openCampaign(t, 'refugees');
    const { html } = await embedForm();
    const response = await post('/c/refugees/embed/sign', { _token: formToken(html), website: '', ...supporter, email: 'jane@@example' });
    const page = await response.text();
    expect(response.status).toBe(422);
    expect(response.headers.get('content-security-policy')).toContain(`frame-ancestors ${BLOG};`);
    expect(page).toContain('<body class="embed">');
    expect(page).toContain('id="error-summary"');
    expect(page).toContain('value="jane@@example"');
    expect(page).toContain('action="/c/refugees/embed/sign"');
  });
});
