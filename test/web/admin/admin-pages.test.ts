import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { adminSessions, campaigns, letterBatches, mailings } from '../../../src/db/schema.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const ORIGIN = 'http://localhost';

/** A browser stand-in over app.request: keeps the session cookie, sends the Origin of this site with forms. */
function adminClient(app: TestApp) {
  let cookie = '';
  let csrf = '';
  const client = {
    get cookie() {
      return cookie;
    },
    set cookie(value: string) {
      cookie = value;
    },
    get csrf() {
      return csrf;
    },
    async request(method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}) {
      const h: Record<string, string> = { ...headers };
      if (cookie) h.cookie = cookie;
      let body: string | undefined;
      if (form) {
        h['content-type'] = 'application/x-www-form-urlencoded';
        h.origin ??= ORIGIN;
        body = new URLSearchParams(form).toString();
      }
      const res = await app.app.request(path, { method, headers: h, body });
      const set = res.headers.get('set-cookie');
      const match = set ? /(?:^|, )((?:__Secure-)?signet_session)=([^;]*)/.exec(set) : null;
      if (match) cookie = match[2] ? `${match[1]}=${match[2]}` : '';
      return res;
    },
    async page(path: string) {
      const res = await client.request('GET', path);
      const html = await res.text();
      const token = /name="_csrf" value="([^"]+)"/.exec(html);
      if (token) csrf = token[1]!;
      return { res, html };
    },
    /** A form POST carrying the session's form token (unless the test overrides `_csrf`). */
    post(path: string, form: Record<string, string> = {}, headers: Record<string, string> = {}) {
      return client.request('POST', path, { _csrf: csrf, ...form }, headers);
    },
    async login(token = ADMIN_TOKEN) {
      const res = await client.request('POST', '/admin/login', { token, next: '/admin/campaigns' });
      expect(res.status, await res.clone().text()).toBe(303);
      await client.page('/admin/campaigns');
      return res;
    },
  };
  return client;
}

async function apiToken(app: TestApp, scopes: string[]) {
  const res = await app.request('POST', '/api/v1/tokens', { body: { name: `token with ${scopes.join(' ')}`, scopes } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

async function createTarget(app: TestApp) {
  const res = await app.request('POST', '/api/v1/targets', {
    body: {
      name: '中華人民共和国駐日本国大使館',
      kind: 'embassy',
      email: 'embassy@example.org',
      language: 'ja',
      postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
    },
  });
  expect(res.status).toBe(201);
  return (await res.json()).id as string;
}

describe('dashboard: sign-in and session', () => {
  it('refuses a bad token, signs in with a good one and sets a narrow, HttpOnly, SameSite=Strict cookie', async () => {
    t = createTestApp();
    const client = adminClient(t);
    const bad = await client.request('POST', '/admin/login', { token: 'sgt_not-a-real-token', next: '/admin/campaigns' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    expect(await bad.text()).toContain('That token is not valid or has been revoked.');

    const good = await client.request('POST', '/admin/login', { token: ADMIN_TOKEN, next: '/admin/mailings?campaign=x' });
    expect(good.status).toBe(303);
    expect(good.headers.get('location')).toBe('/admin/mailings?campaign=x');
    const cookie = good.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^signet_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('Max-Age=43200');
    expect(cookie).toContain('Path=/admin');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain('Secure');
    const [row] = await t.database.db.select().from(adminSessions);
    expect(row).toMatchObject({ tokenId: 'env-admin-token', expiresAt: t.clock.now() + 12 * 3_600_000 });
    // Only the hash of the secret is stored.
    expect(row!.secretHash).not.toBe(client.cookie.split('=')[1]);

    const list = await client.request('GET', '/admin/campaigns');
    expect(list.status).toBe(200);
    expect(list.headers.get('cache-control')).toBe('no-store');
    expect(list.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    const html = await list.text();
    expect(html).toContain('<meta name="robots" content="noindex"/>');
    expect(html).toMatch(/<link rel="stylesheet" href="\/admin\/assets\/admin\.[0-9a-f]{8}\.css"\/>/);
  });

  it('over https the cookie is Secure and __Secure- prefixed', async () => {
    t = createTestApp({ publicUrl: 'https://signet.example' });
    const client = adminClient(t);
    const res = await client.request('POST', '/admin/login', { token: ADMIN_TOKEN }, { origin: 'https://signet.example' });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(/^__Secure-signet_session=[^;]+;.*Path=\/admin;.*Secure/);
  });

  it('sends pages without a session to the sign-in page, and only ever back inside the dashboard', async () => {
    t = createTestApp();
    const client = adminClient(t);
    const res = await client.request('GET', '/admin/campaigns?status=open');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/login?next=${encodeURIComponent('/admin/campaigns?status=open')}`);
    for (const path of ['/admin/campaigns/new', '/admin/mailings', '/admin/deliveries', '/admin/print-queue']) {
      expect((await client.request('GET', path)).status, path).toBe(303);
    }
    const login = await client.request('GET', '/admin/login?next=%2F%2Fevil.example%2F');
    expect(await login.text()).toContain('name="next" value="/admin/campaigns"');
    const offsite = await client.request('POST', '/admin/login', { token: ADMIN_TOKEN, next: 'https://evil.example/' });
    expect(offsite.headers.get('location')).toBe('/admin/campaigns');
    // A POST without a session changes nothing.
    client.cookie = '';
    const post = await client.request('POST', '/admin/campaigns', { slug: 'nope', title: 'x', locale: 'en' });
    expect(post.status).toBe(303);
    expect(post.headers.get('location')).toBe('/admin/login');
    expect(await t.database.db.select().from(campaigns)).toEqual([]);
  });

  it('ends the session when its token is revoked, and checks the token\u2019s scopes on every page', async () => {
    t = createTestApp();
    const scoped = await apiToken(t, ['campaigns']);
    const client = adminClient(t);
    await client.login(scoped.token);
    expect((await client.request('GET', '/admin/campaigns')).status).toBe(200);
    const mailingsPage = await client.request('GET', '/admin/mailings');
    expect(mailingsPage.status).toBe(403);
    expect(await mailingsPage.text()).toContain('does not have the “deliveries” scope');

    expect((await t.request('DELETE', `/api/v1/tokens/${scoped.id}`)).status).toBe(204);
    const after = await client.request('GET', '/admin/campaigns');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/^\/admin\/login/);
    expect(await t.database.db.select().from(adminSessions)).toEqual([]);
  });

  it('ends a session after two idle hours, and after twelve hours however active', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    t.clock.advance(2 * 3_600_000);
    expect((await client.request('GET', '/admin/campaigns')).status).toBe(303);
    await client.login();
    for (let hour = 0; hour < 12; hour++) {
      t.clock.advance(3_600_000);
      expect((await client.request('GET', '/admin/campaigns')).status, `hour ${hour}`).toBe(hour < 11 ? 200 : 303);
    }
  });

  it('signs out: the row goes, the cookie is cleared, and the old cookie opens nothing', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const oldCookie = client.cookie;
    const res = await client.post('/admin/logout');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/login');
    expect(res.headers.get('set-cookie')).toMatch(/^signet_session=;.*Max-Age=0/);
    expect(await t.database.db.select().from(adminSessions)).toEqual([]);
    client.cookie = oldCookie;
    expect((await client.request('GET', '/admin/campaigns')).status).toBe(303);
  });

  it('throttles sign-in attempts per address', async () => {
    t = createTestApp();
    const client = adminClient(t);
    for (let i = 0; i < 10; i++) {
      expect((await client.request('POST', '/admin/login', { token: `wrong-${i}` }, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(401);
    }
    const blocked = await client.request('POST', '/admin/login', { token: ADMIN_TOKEN }, { 'x-forwarded-for': '203.0.113.9' });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('set-cookie')).toBeNull();
    expect(await blocked.text()).toContain('Too many sign-in attempts');
    expect((await client.request('POST', '/admin/login', { token: ADMIN_TOKEN }, { 'x-forwarded-for': '203.0.113.10' })).status).toBe(303);
  });
});

describe('dashboard: CSRF', () => {
  it('refuses a form without the session\u2019s token, with a wrong one, or from another origin, and changes nothing', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const form = { slug: 'csrf-test', title: 'CSRF', locale: 'en', timeZone: 'UTC' };
    const missing = await client.request('POST', '/admin/campaigns', form);
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('security token');
    expect((await client.post('/admin/campaigns', { ...form, _csrf: 'x'.repeat(32) })).status).toBe(403);
    const otherOrigin = await client.post('/admin/campaigns', form, { origin: 'https://evil.example' });
    expect(otherOrigin.status).toBe(403);
    expect(await otherOrigin.text()).toContain('came from another site');
    expect(await t.database.db.select().from(campaigns)).toEqual([]);
    // The same form with the token and this origin goes through.
    expect((await client.post('/admin/campaigns', form)).status).toBe(303);
  });
});

describe('dashboard: campaigns', () => {
  it('shows errors next to the fields (422) with the values kept, then creates a Japanese campaign', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const bad = await client.post('/admin/campaigns', { slug: 'Bad Slug!', title: '', locale: 'ja', timeZone: 'Asia/Tokyo', goal: 'lots', summary: '署名のお願い' });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('value="Bad Slug!"');
    expect(html).toContain('署名のお願い</textarea>');
    expect(html).toMatch(/id="e-slug">must be 3-64 characters/);
    expect(html).toMatch(/id="e-title">must not be empty/);
    expect(html).toMatch(/id="e-goal">must be a whole number/);
    expect(html).toContain('aria-invalid="true"');

    const ok = await client.post('/admin/campaigns', {
      slug: 'nk-refugees-2027',
      title: '北朝鮮難民の強制送還をやめてください',
      locale: 'ja',
      timeZone: 'Asia/Tokyo',
      goal: '10000',
      opensAt: '2027-09-01T10:00',
      summary: '',
      body: '',
      letterTemplate: '',
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/admin/campaigns/nk-refugees-2027?done=created');
    const stored = await (await t.request('GET', '/api/v1/campaigns/nk-refugees-2027')).json();
    expect(stored).toMatchObject({ title: '北朝鮮難民の強制送還をやめてください', goal: 10000, opensAt: '2027-09-01T01:00:00.000Z', status: 'draft' });
    const detail = await client.page('/admin/campaigns/nk-refugees-2027?done=created');
    expect(detail.html).toContain('<h1 lang="ja">北朝鮮難民の強制送還をやめてください</h1>');
    expect(detail.html).toContain('Created.');

    const taken = await client.post('/admin/campaigns', { slug: 'nk-refugees-2027', title: 'again', locale: 'en', timeZone: 'UTC' });
    expect(taken.status).toBe(422);
    expect(await taken.text()).toMatch(/id="e-slug">is taken/);

    const edited = await client.post('/admin/campaigns/nk-refugees-2027', { title: '新しい題名', locale: 'ja', timeZone: 'Asia/Tokyo', goal: '', opensAt: '', closesAt: '', summary: '', body: '', letterTemplate: '' });
    expect(edited.status).toBe(303);
    expect(await (await t.request('GET', '/api/v1/campaigns/nk-refugees-2027')).json()).toMatchObject({ title: '新しい題名', goal: null, opensAt: null });
  });

  it('opens and closes a campaign, and shows an invalid transition as a message', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    expect((await t.request('POST', '/api/v1/campaigns', { body: { slug: 'status-test', title: 'Status', locale: 'en' } })).status).toBe(201);
    await client.page('/admin/campaigns/status-test');
    const opened = await client.post('/admin/campaigns/status-test/status', { status: 'open' });
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/admin/campaigns/status-test?done=opened');
    const archive = await client.post('/admin/campaigns/status-test/status', { status: 'archived' });
    expect(archive.status).toBe(409);
    expect(await archive.text()).toContain('A campaign cannot go from open to archived.');
    expect((await client.post('/admin/campaigns/status-test/status', { status: 'closed' })).status).toBe(303);
    const [row] = await t.database.db.select().from(campaigns).where(eq(campaigns.slug, 'status-test'));
    expect(row!.status).toBe('closed');
  });

  it('attaches and detaches targets, and creates one from the form', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const targetId = await createTarget(t);
    await t.request('POST', '/api/v1/campaigns', { body: { slug: 'targets-test', title: 'Targets', locale: 'en' } });
    await client.page('/admin/campaigns/targets-test');
    expect((await client.post('/admin/campaigns/targets-test/targets', { [`target-${targetId}`]: 'on' })).status).toBe(303);
    expect((await (await t.request('GET', '/api/v1/campaigns/targets-test')).json()).targetIds).toEqual([targetId]);
    const detail = await client.page('/admin/campaigns/targets-test');
    expect(detail.html).toContain('中華人民共和国駐日本国大使館');
    expect((await client.post(`/admin/campaigns/targets-test/targets/${targetId}/detach`)).status).toBe(303);
    expect((await (await t.request('GET', '/api/v1/campaigns/targets-test')).json()).targetIds).toEqual([]);

    const invalid = await client.post('/admin/targets', { campaign: 'targets-test', name: '', kind: 'embassy', addressLines: '', country: 'Japan', language: 'ja' });
    expect(invalid.status).toBe(422);
    const invalidHtml = await invalid.text();
    expect(invalidHtml).toMatch(/id="e-name">must not be empty/);
    expect(invalidHtml).toMatch(/id="e-addressLines">must have 1 to 6 lines/);
    expect(invalidHtml).toMatch(/id="e-country">must be an ISO 3166-1 alpha-2 country code/);
    const created = await client.post('/admin/targets', {
      campaign: 'targets-test',
      name: '在大阪中華人民共和国総領事館',
      kind: 'consulate',
      addressLines: '西区靱本町3-9-2',
      city: '大阪市',
      country: 'jp',
      language: 'ja',
    });
    expect(created.status).toBe(303);
    expect((await (await t.request('GET', '/api/v1/campaigns/targets-test')).json()).targetIds).toHaveLength(1);
  });

  it('attaches every ticked target in one post, refusing all when one is unknown', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const ids = [await createTarget(t), await createTarget(t), await createTarget(t), await createTarget(t)];
    await t.request('POST', '/api/v1/campaigns', { body: { slug: 'many-targets', title: 'Targets', locale: 'en', targetIds: [ids[0]] } });
    const detail = await client.page('/admin/campaigns/many-targets');
    // One form: a box for each target not yet attached, and "Select all" for the script to show.
    expect(detail.html.match(/<form method="post" action="\/admin\/campaigns\/many-targets\/targets"/g)).toHaveLength(1);
    for (const id of ids.slice(1)) expect(detail.html).toContain(`name="target-${id}"`);
    expect(detail.html).not.toContain(`name="target-${ids[0]}"`);
    expect(detail.html).toMatch(/<p hidden="" data-select-all-box="true"><label><input type="checkbox" data-select-all="target-"\/> Select all/);

    const nothing = await client.post('/admin/campaigns/many-targets/targets', {});
    expect(nothing.status).toBe(422);
    expect(await nothing.text()).toContain('Tick at least one target to attach.');

    const unknown = '0190c2a0-0000-7000-8000-00000000dead';
    const refused = await client.post('/admin/campaigns/many-targets/targets', { [`target-${ids[1]}`]: 'on', [`target-${unknown}`]: 'on' });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain(`no target has the id ${unknown}`);
    expect((await (await t.request('GET', '/api/v1/campaigns/many-targets')).json()).targetIds).toEqual([ids[0]]);

    const attached = await client.post('/admin/campaigns/many-targets/targets', Object.fromEntries(ids.slice(1).map((id) => [`target-${id}`, 'on'])));
    expect(attached.status).toBe(303);
    expect(attached.headers.get('location')).toBe('/admin/campaigns/many-targets?done=attached');
    expect((await (await t.request('GET', '/api/v1/campaigns/many-targets')).json()).targetIds).toEqual(ids);
    const audit = await (await t.request('GET', '/api/v1/audit?action=campaign.targets_attach')).json();
    expect(audit.items.map((e: { status: number; object: unknown }) => [e.status, e.object])).toEqual([
      [303, { type: 'campaign', id: 'many-targets' }],
      [422, { type: 'campaign', id: 'many-targets' }],
      [422, { type: 'campaign', id: 'many-targets' }],
    ]);
    expect((await client.page('/admin/campaigns/many-targets')).html).toContain('Every target in the directory is attached.');
  });

  it('links the campaign to its public page, with share links and an embed code that frames the real embed', async () => {
    t = createTestApp({ embedOrigins: ['https://blog.example.org'] });
    const client = adminClient(t);
    await client.login();
    const created = await t.request('POST', '/api/v1/campaigns', {
      body: { slug: 'share-me', title: '難民を守れ "2027" <今>', locale: 'ja', translations: { en: { title: 'Protect refugees' } } },
    });
    expect(created.status).toBe(201);
    const draft = (await client.page('/admin/campaigns/share-me')).html;
    expect(draft).toContain('A draft is not public');
    expect(draft).toContain('<a href="http://localhost:3000/c/share-me?lang=ja" target="_blank" rel="noopener">http://localhost:3000/c/share-me?lang=ja</a>');
    expect(draft).toContain('<a href="http://localhost:3000/c/share-me?lang=en" hreflang="en" target="_blank" rel="noopener">English</a>');
    expect(draft).toContain('<input type="text" id="share-url" value="http://localhost:3000/c/share-me?lang=ja" readonly="" spellcheck="false"/>');
    expect(draft).toContain(`href="https://social-plugins.line.me/lineit/share?url=${encodeURIComponent('http://localhost:3000/c/share-me?lang=ja')}"`);
    expect(draft).toContain('Sites allowed to show the form (EMBED_ORIGINS): https://blog.example.org');
    const snippetHtml = /<textarea id="embed-code" rows="3" readonly="" spellcheck="false">([^<]*)<\/textarea>/.exec(draft);
    expect(snippetHtml).not.toBeNull();
    // The field holds the snippet as text: what the organiser copies is the HTML below, the title's quotes escaped in it.
    const snippet = snippetHtml![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    expect(snippet).toBe(
      '<iframe src="http://localhost:3000/c/share-me/embed?lang=ja" title="難民を守れ &quot;2027&quot; &lt;今&gt;" width="100%" height="800" loading="lazy" style="border:0; max-width:40rem" allow="clipboard-write"></iframe>',
    );

    // What the snippet frames is the embed route, and the allowed site may frame it.
    expect((await t.request('PATCH', '/api/v1/campaigns/share-me', { body: { status: 'open' } })).status).toBe(200);
    const framed = await t.app.request(/src="http:\/\/localhost:3000([^"]+)"/.exec(snippet)![1]!);
    expect(framed.status).toBe(200);
    expect(framed.headers.get('content-security-policy')).toContain('frame-ancestors https://blog.example.org');
    expect(await framed.text()).toContain('難民を守れ');
    const open = (await client.page('/admin/campaigns/share-me')).html;
    expect(open).not.toContain('A draft is not public');

    const ja = (await client.page('/admin/campaigns/share-me?lang=ja')).html;
    expect(ja).toContain('<h2 id="sharing">公開ページと共有</h2>');
    expect(ja).toContain('ウェブサイト用の埋め込みコード（日本語）');
    await t.cleanup();
    t = createTestApp();
    const nowhere = adminClient(t);
    await nowhere.login();
    await t.request('POST', '/api/v1/campaigns', { body: { slug: 'not-framed', title: 'Not framed', locale: 'en' } });
    expect((await nowhere.page('/admin/campaigns/not-framed')).html).toContain('No site may show the form yet: set EMBED_ORIGINS');
  });

  it('edits a target from its campaign: the form starts from the stored values, errors stay beside the fields', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const targetId = await createTarget(t);
    await t.request('POST', '/api/v1/campaigns', { body: { slug: 'edit-target', title: 'Targets', locale: 'ja', targetIds: [targetId] } });
    const detail = await client.page('/admin/campaigns/edit-target');
    expect(detail.html).toContain(`href="/admin/targets/${targetId}/edit?campaign=edit-target"`);
    const form = await client.page(`/admin/targets/${targetId}/edit?campaign=edit-target`);
    expect(form.html).toContain('<h1>Edit target</h1>');
    expect(form.html).toContain('value="中華人民共和国駐日本国大使館"');
    expect(form.html).toContain('元麻布3-4-33</textarea>');

    const fields = { campaign: 'edit-target', name: '中华人民共和国驻日本国大使', organisation: '中华人民共和国驻日本国大使馆', kind: 'embassy', email: 'embassy@example.org', addressLines: '元麻布3-4-33', postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP', language: 'zh' };
    const bad = await client.post(`/admin/targets/${targetId}`, { ...fields, timeZone: 'Mars/Olympus' });
    expect(bad.status).toBe(422);
    const badHtml = await bad.text();
    expect(badHtml).toMatch(/id="e-timeZone">[^<]*time zone/i);
    expect(badHtml).toContain('value="中华人民共和国驻日本国大使"');
    expect((await (await t.request('GET', `/api/v1/targets/${targetId}`)).json()).name).toBe('中華人民共和国駐日本国大使館');

    const saved = await client.post(`/admin/targets/${targetId}`, { ...fields, timeZone: 'Asia/Tokyo', salutation: '尊敬的大使阁下：' });
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/admin/campaigns/edit-target?done=target-saved');
    expect(await (await t.request('GET', `/api/v1/targets/${targetId}`)).json()).toMatchObject({
      name: '中华人民共和国驻日本国大使',
      organisation: '中华人民共和国驻日本国大使馆',
      language: 'zh',
      salutation: '尊敬的大使阁下：',
      timeZone: 'Asia/Tokyo',
      title: null,
    });
    // Choosing "none" clears the zone again.
    expect((await client.post(`/admin/targets/${targetId}`, { ...fields, timeZone: '' })).status).toBe(303);
    expect((await (await t.request('GET', `/api/v1/targets/${targetId}`)).json()).timeZone).toBeNull();
    expect((await client.page('/admin/targets/0190f7a0-0000-7000-8000-000000000000/edit')).res.status).toBe(404);
  });

  it('draws the charts as SVG with one bar per day, per country and per region, regions by name', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await openCampaign(t, 'chart-test');
    const sign = async (email: string, extra: Record<string, unknown>) => {
      expect((await t.request('POST', '/api/v1/campaigns/chart-test/signatures', { token: null, body: signature(email, extra) })).status).toBe(202);
      const token = await latestConfirmToken(t, email);
      expect((await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } })).status).toBe(200);
    };
    // Day 1 (Tokyo): two; day 2: none; day 3: one from Korea.
    await sign('a@example.jp', { region: 'JP-13' });
    await sign('b@example.jp', { region: 'JP-27' });
    t.clock.advance(2 * 86_400_000);
    await sign('c@example.kr', { country: 'KR', region: 'KR-11' });
    await client.login();

    const { res, html } = await client.page('/admin/campaigns/chart-test');
    expect(res.status).toBe(200);
    const days = html.match(/<rect class="bar day"/g) ?? [];
    expect(days).toHaveLength(3);
    expect(html).toMatch(/<rect class="bar day" data-date="2027-09-02" data-count="0"/);
    const countries = html.slice(html.indexOf('id="chart-countries"'), html.indexOf('id="chart-regions"'));
    expect(countries.match(/<rect class="bar hbar"/g)).toHaveLength(2);
    const regions = html.slice(html.indexOf('id="chart-regions"'));
    expect(regions.match(/<rect class="bar hbar"/g)).toHaveLength(3);
    expect(regions).toContain('Tokyo (JP-13)');
    expect(html).toContain('<title id="chart-days-title">');
    expect(html).toContain('<desc id="chart-days-desc">');
    expect(html).toContain('<summary>Data table</summary>');
    expect(html).toContain('Day (Asia/Tokyo)');
  });

  it('escapes what organisers and supporters typed', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const title = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    await openCampaign(t, 'xss-test', { title });
    const list = await client.page('/admin/campaigns');
    const detail = await client.page('/admin/campaigns/xss-test');
    for (const html of [list.html, detail.html]) {
      expect(html).not.toContain('<script>alert(1)');
      expect(html).not.toContain('<img src=x');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    expect(detail.html).not.toMatch(/<script>(?!<\/script>)/);
  });
});

describe('dashboard: letters and deliveries', () => {
  it('generates a batch, lists it, previews its PDF in a frame and creates a print delivery', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    await openCampaign(t, 'letters-test', { targetIds: [await createTarget(t)] });
    await client.page('/admin/campaigns/letters-test/letters');
    const generated = await client.post('/admin/campaigns/letters-test/letters', { mode: 'per_target', template: '', cutoffAt: '' });
    expect(generated.status, await generated.clone().text()).toBe(303);
    const page = await client.page('/admin/campaigns/letters-test/letters');
    const letterId = /href="\/admin\/letters\/([0-9a-f-]{36})"/.exec(page.html)![1]!;
    expect(page.html).toContain('中華人民共和国駐日本国大使館');

    const preview = await client.page(`/admin/letters/${letterId}`);
    expect(preview.html).toContain(`<iframe class="letter-frame" src="/admin/letters/${letterId}/pdf"`);
    const pdf = await client.request('GET', `/admin/letters/${letterId}/pdf`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(new TextDecoder().decode((await pdf.arrayBuffer()).slice(0, 5))).toBe('%PDF-');
    expect((await client.request('GET', `/admin/letters/${letterId}/pdf?download=1`)).headers.get('content-disposition')).toMatch(/^attachment;/);

    const delivered = await client.post(`/admin/letters/${letterId}/deliveries`, { channel: 'print', idempotencyKey: 'admin-test-key' });
    expect(delivered.status).toBe(303);
    expect((await client.post(`/admin/letters/${letterId}/deliveries`, { channel: 'print', idempotencyKey: 'admin-test-key' })).status).toBe(303);
    const queue = await client.page('/admin/print-queue');
    expect(queue.html).toContain('1 letter,');
    const deliveryId = /action="\/admin\/deliveries\/([0-9a-f-]{36})"/.exec(queue.html)![1]!;
    expect((await client.post(`/admin/deliveries/${deliveryId}`, { status: 'printed', back: '/admin/print-queue' })).status).toBe(303);
    expect((await client.post(`/admin/deliveries/${deliveryId}`, { status: 'posted', trackingNumber: 'RR123456789JP', back: '/admin/deliveries' })).status).toBe(303);
    const wrong = await client.post(`/admin/deliveries/${deliveryId}`, { status: 'printed', back: '/admin/deliveries' });
    expect(wrong.status).toBe(409);
    expect(await wrong.text()).toContain('A print delivery cannot go from posted to printed.');
    const list = await client.page('/admin/deliveries?channel=print');
    expect(list.html).toContain('RR123456789JP');
    expect(list.html).toContain('Mark delivered');
  });

  it('refuses letters to a token without the letters scope, saying which scope is missing', async () => {
    t = createTestApp();
    await openCampaign(t, 'scoped-letters', { targetIds: [await createTarget(t)] });
    const scoped = await apiToken(t, ['campaigns', 'deliveries']);
    const client = adminClient(t);
    await client.login(scoped.token);
    const page = await client.request('GET', '/admin/campaigns/scoped-letters/letters');
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('does not have the “letters” scope');
    const post = await client.post('/admin/campaigns/scoped-letters/letters', { mode: 'per_target' });
    expect(post.status).toBe(403);
    expect(await t.database.db.select().from(letterBatches)).toEqual([]);
  });
  it('starts the letters form with the last batch\'s mode, routing and languages, unless a link names the routing', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    await openCampaign(t, 'routed-letters', { targetIds: [await createTarget(t)] });
    await signAndConfirm(t, 'routed-letters', signature('hanako@example.jp'));
    const checked = (html: string, name: string) => /<input type="radio" name="(?:\w+)" value="(\w+)" checked=""/.exec(html.slice(html.indexOf(`name="${name}"`) - 40))?.[1];
    const before = (await client.page('/admin/campaigns/routed-letters/letters')).html;
    expect(checked(before, 'routing')).toBe('all');
    expect(checked(before, 'mode')).toBe('per_target');

    const made = await t.request('POST', '/api/v1/campaigns/routed-letters/letters', { body: { mode: 'per_target', routing: 'jurisdiction', emptyTargets: 'skip' } });
    expect(made.status, await made.clone().text()).toBe(201);
    const after = (await client.page('/admin/campaigns/routed-letters/letters')).html;
    expect(checked(after, 'routing')).toBe('jurisdiction');
    expect(after).toMatch(/<input type="checkbox" name="emptyTargets" value="skip" checked=""/);
    // The routing preview's link says which routing to show, and wins.
    const linked = (await client.page('/admin/campaigns/routed-letters/letters?routing=all')).html;
    expect(checked(linked, 'routing')).toBe('all');

    t.clock.advance(60_000);
    expect((await t.request('POST', '/api/v1/campaigns/routed-letters/letters', { body: { mode: 'per_signer' } })).status).toBe(201);
    const perSupporter = (await client.page('/admin/campaigns/routed-letters/letters')).html;
    expect(checked(perSupporter, 'mode')).toBe('per_signer');
  });
});

describe('dashboard: mailings', () => {
  it('starts a new mailing from the routing of the campaign\'s last letter batch, in the campaign\'s zone', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    await openCampaign(t, 'routed-mailing', { targetIds: [await createTarget(t)], timeZone: 'Asia/Seoul' });
    await signAndConfirm(t, 'routed-mailing', signature('hanako@example.jp'));
    const routingOf = (html: string) => /<input type="radio" name="routing" value="(\w+)" checked=""/.exec(html)?.[1];
    const skipsEmpty = (html: string) => /<input type="checkbox" name="emptyTargets" value="skip" checked=""/.test(html);
    const before = (await client.page('/admin/mailings/new?campaign=routed-mailing')).html;
    expect(routingOf(before)).toBe('all');
    expect(before).toContain('<option value="Asia/Seoul" selected="">');

    const byJurisdiction = await t.request('POST', '/api/v1/campaigns/routed-mailing/letters', { body: { mode: 'per_target', routing: 'jurisdiction', emptyTargets: 'skip' } });
    expect(byJurisdiction.status, await byJurisdiction.clone().text()).toBe(201);
    const after = (await client.page('/admin/mailings/new?campaign=routed-mailing')).html;
    expect(routingOf(after)).toBe('jurisdiction');
    expect(skipsEmpty(after)).toBe(true);
    // The last batch decides: letters made for everyone again bring the form back to "all".
    t.clock.advance(60_000);
    expect((await t.request('POST', '/api/v1/campaigns/routed-mailing/letters', { body: { mode: 'per_target', routing: 'all' } })).status).toBe(201);
    const latest = (await client.page('/admin/mailings/new?campaign=routed-mailing')).html;
    expect(routingOf(latest)).toBe('all');
    expect(skipsEmpty(latest)).toBe(false);
    // A campaign that does not exist gives the plain form, not an error.
    const unknown = await client.page('/admin/mailings/new?campaign=no-such-campaign');
    expect(unknown.res.status).toBe(200);
    expect(routingOf(unknown.html)).toBe('all');
  });

  it('schedules letters inside office hours of the form, shows a bad window next to the fields, and updates from a template', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const targetId = await createTarget(t);
    await openCampaign(t, 'window-test', { targetIds: [targetId] });
    const form = await client.page('/admin/mailings/new?campaign=window-test');
    // Office hours start from the service's default: 09:00–17:00, Monday to Friday.
    expect(form.html).toContain('name="windowStart" type="time" value="09:00"');
    expect(form.html).toContain('name="windowEnd" type="time" value="17:00"');
    expect(form.html).toMatch(/name="windowDay5" checked=""/);
    expect(form.html).not.toMatch(/name="windowDay6" checked/);

    const letters = { campaign: 'window-test', kind: 'letters', channel: 'email', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo' };
    const backwards = await client.post('/admin/mailings', { ...letters, windowStart: '18:00', windowEnd: '08:00', windowDay1: 'on' });
    expect(backwards.status).toBe(422);
    expect(await backwards.text()).toMatch(/<p class="field-error">[^<]*end: must be after start/);
    expect(await t.database.db.select().from(mailings)).toEqual([]);

    const ok = await client.post('/admin/mailings', { ...letters, windowStart: '10:00', windowEnd: '16:00', windowDay2: 'on', windowDay4: 'on' });
    expect(ok.status).toBe(303);
    const [row] = await t.database.db.select().from(mailings);
    expect(row!.sendingWindow).toEqual({ start: '10:00', end: '16:00', days: [2, 4] });
    expect((await client.page(`/admin/mailings/${row!.id}`)).html).toContain('10:00–16:00, Tue Thu');

    const anyTime = await client.post('/admin/mailings', { ...letters, windowAnyTime: 'on', windowStart: '09:00', windowEnd: '17:00' });
    expect(anyTime.status).toBe(303);
    const update = await client.post('/admin/mailings', { campaign: 'window-test', kind: 'update', sendAt: '2027-09-23T09:00', timeZone: 'Asia/Tokyo', template: 'thank-you' });
    expect(update.status).toBe(303);
    const rows = await t.database.db.select().from(mailings);
    expect(rows.map((m) => [m.kind, m.sendingWindow, m.template])).toEqual(
      expect.arrayContaining([
        ['letters', null, null],
        ['update', null, 'thank-you'],
      ]),
    );
    const missing = await client.post('/admin/mailings', { campaign: 'window-test', kind: 'update', sendAt: '2027-09-23T09:00', timeZone: 'Asia/Tokyo', template: 'no-such-template' });
    expect(missing.status).toBe(422);
    expect(await missing.text()).toContain('no-such-template');
  });

  it('shows a time in a daylight-saving gap next to the field, then schedules in Tokyo time', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    await openCampaign(t, 'mail-test');
    const form = await client.page('/admin/mailings/new?campaign=mail-test');
    expect(form.html.indexOf('<option value="Asia/Tokyo"')).toBeLessThan(form.html.indexOf('<option value="UTC"'));
    const gap = await client.post('/admin/mailings', { campaign: 'mail-test', kind: 'update', sendAt: '2028-03-12T02:30', timeZone: 'America/New_York', subject: 'Hello', body: 'Thanks' });
    expect(gap.status).toBe(422);
    const html = await gap.text();
    expect(html).toMatch(/id="e-sendAt">2028-03-12T02:30 does not exist in America\/New_York/);
    expect(html).toContain('value="2028-03-12T02:30"');
    expect(html).toContain('Thanks</textarea>');
    expect(await t.database.db.select().from(mailings)).toEqual([]);

    const ok = await client.post('/admin/mailings', { campaign: 'mail-test', kind: 'update', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', subject: 'ありがとう', body: '# 感謝\n届けました', dryRun: 'on' });
    expect(ok.status).toBe(303);
    const [row] = await t.database.db.select().from(mailings);
    expect(row).toMatchObject({ sendAt: Date.UTC(2027, 8, 22, 0, 0), sendAtLocal: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', dryRun: true, subject: 'ありがとう' });
    expect(ok.headers.get('location')).toBe(`/admin/mailings/${row!.id}?done=scheduled`);
    const detail = await client.page(`/admin/mailings/${row!.id}`);
    expect(detail.html).toContain(`data-events="/admin/mailings/${row!.id}/events"`);
    expect(detail.html).toMatch(/<progress id="progress-bar">/);
    expect(detail.html).toContain('>Refresh</a>');

    expect((await client.post(`/admin/mailings/${row!.id}/pause`)).status).toBe(303);
    const resumeTwice = await client.post(`/admin/mailings/${row!.id}/pause`);
    expect(resumeTwice.status).toBe(409);
    expect(await resumeTwice.text()).toContain('cannot be paused');
    expect((await client.post(`/admin/mailings/${row!.id}/cancel`)).status).toBe(303);
  });

  it('streams progress events to the session, and to nobody without one', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await openCampaign(t, 'sse-test');
    const scheduled = await t.request('POST', '/api/v1/mailings', { body: { campaign: 'sse-test', kind: 'update', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', subject: 's', body: 'b' } });
    const { id } = await scheduled.json();
    const anonymous = await client.request('GET', `/admin/mailings/${id}/events`);
    expect(anonymous.status).toBe(401);

    await client.login();
    const res = await client.request('GET', `/admin/mailings/${id}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value, { stream: true });
    expect(text).toMatch(/^event: progress\ndata: \{.*"status":"scheduled".*"progress":\{"total":0,"sent":0,"failed":0,"skipped":0\}/);
    // A change shows up as the next event.
    await t.database.db.update(mailings).set({ status: 'running', total: 4, sent: 1, updatedAt: t.clock.now() + 1000 }).where(eq(mailings.id, id));
    text = text.slice(text.indexOf('\n\n') + 2);
    while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value, { stream: true });
    expect(text).toMatch(/"status":"running".*"progress":\{"total":4,"sent":1/);
    await reader.cancel();
  });
});

describe('dashboard: assets', () => {
  it('serves the stylesheet and script under hashed names, cached for a year', async () => {
    t = createTestApp();
    const client = adminClient(t);
    await client.login();
    const { html } = await client.page('/admin/campaigns');
    const css = /href="(\/admin\/assets\/admin\.[0-9a-f]{8}\.css)"/.exec(html)![1]!;
    const js = /src="(\/admin\/assets\/admin\.[0-9a-f]{8}\.js)"/.exec(html)![1]!;
    for (const [path, type] of [[css, 'text/css'], [js, 'text/javascript']] as const) {
      const res = await t.app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect((await t.app.request('/admin/assets/admin.00000000.css')).status).toBe(404);
  });
});
