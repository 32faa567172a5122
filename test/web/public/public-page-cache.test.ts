import { dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { signatures } from '../../../src/db/schema.js';
import { catalogs } from '../../../src/web/i18n/index.js';
import { PUBLIC_PAGE_FRESH_MS } from '../../../src/web/public/page-cache.js';
import { createTestApp } from '../../helpers/app.js';
import { testOrganisation } from '../../helpers/organisation.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';

// Issue #22: the public pages are built once per campaign version and language, kept by shared
// caches, and still never wrong: what an organiser changes shows at once, a closed campaign is
// never served as open, and the form token every visitor shares still guards the form.

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const ORIGIN = 'http://localhost:3000';
const HOUR = 3_600_000;

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await t.app.request(path, { headers });
  return { response, status: response.status, body: await response.text() };
}

function formToken(html: string): string {
  const match = /name="_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no form token on the page');
  return match[1]!;
}

const validFields = { name: 'Pending Signer', email: 'jane@example.org', country: 'JP', region: '', city: '', postalCode: '', comment: '', nameOnLetter: 'full', showPublicly: 'yes', updates: 'no', website: '' };

function signWith(slug: string, token: string, language = 'en') {
  return t.app.request(`/c/${slug}/sign`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, 'x-forwarded-for': '203.0.113.7' },
    body: new URLSearchParams({ ...validFields, _token: token, lang: language }).toString(),
  });
}

/** Every response a shared cache may keep for a campaign (the OG image has its own test file). */
const cacheableUrls = (slug: string) => [
  `/c/${slug}?lang=en`,
  `/c/${slug}?lang=ja`,
  `/c/${slug}/embed?lang=en`,
  `/c/${slug}/thanks?lang=en`,
  `/c/${slug}/embed/thanks?lang=ko`,
  `/api/v1/campaigns/${slug}`,
  `/api/v1/campaigns/${slug}/signatures/public`,
];

describe('the public pages, built once and cacheable', () => {
  it('give two visitors the same bytes and ETag, whatever their language header, cookie or address; public, no cookie, no Vary', async () => {
    t = createTestApp();
    await openCampaign(t);
    for (const url of cacheableUrls('save-refugees')) {
      const first = await get(url, { 'accept-language': 'en-GB', cookie: 'lang=ko; signet_admin=abc', 'x-forwarded-for': '198.51.100.1' });
      const second = await get(url, { 'accept-language': 'ja-JP', 'x-forwarded-for': '203.0.113.9' });
      expect(first.status, url).toBe(200);
      expect(second.body, url).toBe(first.body);
      expect(first.response.headers.get('etag'), url).toMatch(/^"[A-Za-z0-9_-]{24}"$/);
      expect(second.response.headers.get('etag'), url).toBe(first.response.headers.get('etag'));
      expect(first.response.headers.get('cache-control'), url).toBe('public, max-age=5, s-maxage=10, stale-while-revalidate=30');
      expect(first.response.headers.get('set-cookie'), url).toBeNull();
      // Nothing of the visitor but whether they take gzip (the same bytes once inflated).
      expect(['Accept-Encoding', 'Authorization, Accept-Encoding'], url).toContain(first.response.headers.get('vary'));
    }
    // The region preselected from Accept-Language is only on the page negotiated for one visitor.
    const british = await get('/c/save-refugees', { 'accept-language': 'en-GB' });
    expect(british.body).toContain('<option value="GB" selected="">United Kingdom</option>');
    expect(british.response.headers.get('cache-control')).toBe('private, no-cache');
    expect((await get('/c/save-refugees?lang=en', { 'accept-language': 'en-GB' })).body).toContain('<option value="GB">United Kingdom</option>');
  });

  it('carry no personal data: only what a supporter agreed to show, never an email, a city, a comment or a pending request', async () => {
    t = createTestApp();
    await openCampaign(t);
    await signAndConfirm(t, 'save-refugees', {
      ...signature('shown@example.org', { name: 'Visible Person', city: 'Sapporo', postalCode: '060-0001', comment: 'a private remark' }),
      consent: { nameOnLetter: 'full', showPublicly: true, updates: false },
    });
    await signAndConfirm(t, 'save-refugees', {
      ...signature('hidden@example.org', { name: 'Hidden Person', city: 'Osaka' }),
      consent: { nameOnLetter: 'full', showPublicly: false, updates: false },
    });
    const pending = await signWith('save-refugees', formToken((await get('/c/save-refugees?lang=en')).body));
    expect(pending.status).toBe(303);
    t.clock.advance(PUBLIC_PAGE_FRESH_MS);
    const page = await get('/c/save-refugees?lang=en');
    expect(page.body).toContain('Visible P.');
    for (const url of cacheableUrls('save-refugees')) {
      const { body } = await get(url);
      for (const secret of ['shown@example.org', 'hidden@example.org', 'jane@example.org', 'Pending Signer', 'Hidden', 'Sapporo', 'Osaka', '060-0001', 'a private remark', '203.0.113.7']) {
        expect(body, `${url} holds ${secret}`).not.toContain(secret);
      }
    }
  });

  it('answer If-None-Match with 304 on the page and the JSON (the OG image: og-image.test.ts), and 200 once the page changed', async () => {
    t = createTestApp();
    await openCampaign(t);
    for (const url of ['/c/save-refugees?lang=en', '/api/v1/campaigns/save-refugees']) {
      const first = await get(url);
      const etag = first.response.headers.get('etag')!;
      const again = await t.app.request(url, { headers: { 'if-none-match': etag } });
      expect(again.status, url).toBe(304);
      expect(await again.text()).toBe('');
      expect(again.headers.get('etag')).toBe(etag);
      expect(again.headers.get('cache-control')).toMatch(/^public, /);
      expect((await t.app.request(url, { headers: { 'if-none-match': `"other", ${etag}` } })).status, url).toBe(304);
      expect((await t.app.request(url, { headers: { 'if-none-match': '"other"' } })).status, url).toBe(200);
    }
    const page = await get('/c/save-refugees?lang=en');
    await t.request('PATCH', '/api/v1/campaigns/save-refugees', { body: { title: 'Stop the forced returns' } });
    const changed = await t.app.request('/c/save-refugees?lang=en', { headers: { 'if-none-match': page.response.headers.get('etag')! } });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toContain('Stop the forced returns');
  });

  it('are gzipped once for the visitors that accept it: the same bytes inflated, their own ETag, 304 for either', async () => {
    t = createTestApp();
    await openCampaign(t);
    for (const url of ['/c/save-refugees?lang=ja', '/api/v1/campaigns/save-refugees']) {
      const plain = await t.app.request(url);
      const plainBytes = new Uint8Array(await plain.arrayBuffer());
      expect(plain.headers.get('content-encoding'), url).toBeNull();
      const zipped = await t.app.request(url, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(zipped.headers.get('content-encoding'), url).toBe('gzip');
      const zippedBytes = new Uint8Array(await zipped.arrayBuffer());
      expect(zippedBytes.length, url).toBeLessThan(plainBytes.length);
      expect(gunzipSync(zippedBytes).equals(Buffer.from(plainBytes)), url).toBe(true);
      expect(zipped.headers.get('etag'), url).toBe(plain.headers.get('etag')!.replace(/"$/, '-gz"'));
      for (const etag of [plain.headers.get('etag')!, zipped.headers.get('etag')!]) {
        expect((await t.app.request(url, { headers: { 'accept-encoding': 'gzip', 'if-none-match': etag } })).status, url).toBe(304);
      }
      expect((await t.app.request(url, { headers: { 'accept-encoding': 'gzip;q=0, identity' } })).headers.get('content-encoding'), url).toBeNull();
    }
  });

  it('show a change to the campaign at once: title, translation, status, organisation', async () => {
    t = createTestApp();
    await openCampaign(t);
    expect((await get('/c/save-refugees?lang=en')).body).toContain('Save North Korean refugees');
    expect((await get('/c/save-refugees?lang=ja')).body).toContain('<h1 lang="en">Save North Korean refugees</h1>');
    expect((await get('/api/v1/campaigns/save-refugees')).body).toContain('"status":"open"');

    await t.request('PATCH', '/api/v1/campaigns/save-refugees', { body: { title: 'Stop the forced returns' } });
    expect((await get('/c/save-refugees?lang=en')).body).toContain('Stop the forced returns');
    expect((await get('/c/save-refugees/embed?lang=en')).body).toContain('Stop the forced returns');
    expect((await get('/c/save-refugees/thanks?lang=en')).body).toContain(encodeURIComponent('Stop the forced returns'));
    expect((await get('/api/v1/campaigns/save-refugees')).body).toContain('Stop the forced returns');

    await t.request('PATCH', '/api/v1/campaigns/save-refugees', { body: { translations: { ja: { title: '強制送還をやめて' } } } });
    expect((await get('/c/save-refugees?lang=ja')).body).toContain('<h1 lang="ja">強制送還をやめて</h1>');

    const saved = await t.request('PUT', '/api/v1/organisation', { body: { ...testOrganisation, name: 'Renamed Network' } });
    expect(saved.status).toBe(200);
    expect((await get('/c/save-refugees?lang=en')).body).toContain('Renamed Network');

    await t.request('PATCH', '/api/v1/campaigns/save-refugees', { body: { status: 'closed' } });
    const closed = await get('/c/save-refugees?lang=en');
    expect(closed.body).toContain(catalogs.en.closedNotice);
    expect(closed.body).not.toContain('action="/c/save-refugees/sign"');
    expect((await get('/c/save-refugees/embed?lang=en')).body).not.toContain('action="/c/save-refugees/embed/sign"');
    expect((await get('/api/v1/campaigns/save-refugees')).body).toContain('"status":"closed"');
  });

  it('never serve a campaign as open past its closing time, nor let a shared cache keep it past then', async () => {
    t = createTestApp();
    const closesAt = t.clock.now() + 2_000;
    const closesAtIso = new Date(closesAt).toISOString();
    await openCampaign(t, 'save-refugees', { closesAt: closesAtIso });
    const open = await get('/c/save-refugees?lang=en');
    expect(open.body).toContain('action="/c/save-refugees/sign"');
    // Two seconds left: no cache may keep the open page longer, nor serve it stale after.
    expect(open.response.headers.get('cache-control')).toBe('public, max-age=2, s-maxage=2, stale-while-revalidate=0');
    t.clock.set(closesAt);
    const closed = await get('/c/save-refugees?lang=en');
    expect(closed.body).toContain(catalogs.en.closedNotice);
    expect(closed.body).not.toContain('action="/c/save-refugees/sign"');
  });

  it('show the count and the recent supporters within a few seconds, without building the page for each view', async () => {
    t = createTestApp();
    await openCampaign(t);
    const before = (await get('/c/save-refugees?lang=en')).body;
    await signAndConfirm(t, 'save-refugees', { ...signature('anne@example.org', { name: 'Anne Shown' }), consent: { nameOnLetter: 'full', showPublicly: true, updates: false } });
    // Served from memory: a supporter's confirmation does not rebuild the page for every view.
    expect((await get('/c/save-refugees?lang=en')).body).toBe(before);
    t.clock.advance(PUBLIC_PAGE_FRESH_MS);
    const after = (await get('/c/save-refugees?lang=en')).body;
    expect(after).toContain('Anne S.');
    expect(after).not.toBe(before);
    // An organiser's erasure takes the name off the page at once.
    const erased = await t.request('POST', '/api/v1/privacy/erasures', { body: { email: 'anne@example.org' } });
    expect(erased.status).toBeLessThan(300);
    expect((await get('/c/save-refugees?lang=en')).body).not.toContain('Anne S.');
    expect(await t.database.db.select().from(signatures)).toHaveLength(1);
  });
});

describe('the public pages served by several processes of one database (the isolates of a Worker)', () => {
  it('show a change made through another process at once, and never serve a closed campaign as open', async () => {
    t = createTestApp({ publicPagesAcrossIsolates: true });
    const other = createTestApp({ publicPagesAcrossIsolates: true, databaseDir: dirname(t.dataDir) });
    try {
      await openCampaign(t);
      expect((await get('/c/save-refugees?lang=en')).body).toContain('action="/c/save-refugees/sign"');
      const seen = await other.app.request('/c/save-refugees?lang=en');
      expect(await seen.text()).toContain('action="/c/save-refugees/sign"');

      await other.request('PATCH', '/api/v1/campaigns/save-refugees', { body: { status: 'closed', title: 'Stop the forced returns' } });
      const closed = await get('/c/save-refugees?lang=en');
      expect(closed.body).toContain(catalogs.en.closedNotice);
      expect(closed.body).toContain('Stop the forced returns');
      expect(closed.body).not.toContain('action="/c/save-refugees/sign"');
      expect((await get('/api/v1/campaigns/save-refugees')).body).toContain('"status":"closed"');
    } finally {
      await other.database.close();
    }
  });
});

describe('the form token a cached page carries', () => {
  it('is the same for every visitor of the hour, and a post with it from a cached page is accepted', async () => {
    t = createTestApp();
    await openCampaign(t);
    const first = formToken((await get('/c/save-refugees?lang=en', { 'x-forwarded-for': '198.51.100.1' })).body);
    t.clock.advance(HOUR / 2);
    const cached = formToken((await get('/c/save-refugees?lang=en', { 'x-forwarded-for': '198.51.100.2' })).body);
    expect(cached).toBe(first);
    expect(formToken((await get('/c/save-refugees/embed?lang=ja')).body)).toBe(first);
    const response = await signWith('save-refugees', cached);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/c/save-refugees/thanks?lang=en');
  });

  it('is accepted in the next hour, refused after it, and refused for another campaign', async () => {
    t = createTestApp();
    await openCampaign(t);
    await openCampaign(t, 'other-campaign');
    // Loaded late in an hour: at least an hour left to fill the form.
    t.clock.advance(HOUR - 1_000);
    const token = formToken((await get('/c/save-refugees?lang=en')).body);
    const otherToken = formToken((await get('/c/other-campaign?lang=en')).body);
    expect((await signWith('save-refugees', otherToken)).status).toBe(403);
    expect((await signWith('other-campaign', token)).status).toBe(403);
    t.clock.advance(HOUR);
    // The page of the new hour carries a new token; the one of the hour before still posts.
    expect(formToken((await get('/c/save-refugees?lang=en')).body)).not.toBe(token);
    expect((await signWith('save-refugees', token)).status).toBe(303);
    t.clock.advance(1_000);
    const old = await signWith('save-refugees', token);
    expect(old.status).toBe(403);
    expect(await old.text()).toContain(catalogs.en.forbiddenTitle);
    expect(old.headers.get('cache-control')).toBe('no-store');
  });
});
