import { afterEach, describe, expect, it } from 'vitest';
import { privacyRequests, signatures } from '../../../src/db/schema.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { requestLink, signAndConfirm } from '../../services/privacy/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

/** A signed-in dashboard session over app.request: its cookie, its form token, this site's Origin on posts. */
async function signIn(token: string) {
  let cookie = '';
  const send = async (method: string, path: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = cookie ? { cookie } : {};
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = 'http://localhost';
    }
    const res = await t.app.request(path, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined });
    const set = /(signet_session)=([^;]+)/.exec(res.headers.get('set-cookie') ?? '');
    if (set) cookie = `${set[1]}=${set[2]}`;
    return res;
  };
  expect((await send('POST', '/admin/login', { token, next: '/admin/campaigns' })).status).toBe(303);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await send('GET', '/admin/campaigns')).text())![1]!;
  return { send, post: (path: string, form: Record<string, string>) => send('POST', path, { _csrf: csrf, ...form }) };
}

describe('/admin/privacy', () => {
  it('is refused to a token without the privacy scope, page and actions alike', async () => {
    t = createTestApp();
    const created = await (await t.request('POST', '/api/v1/tokens', { body: { name: 'campaigner', scopes: ['campaigns'] } })).json();
    const session = await signIn(created.token);
    const page = await session.send('GET', '/admin/privacy');
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('“privacy” scope');
    expect((await session.post('/admin/privacy/erase', { email: 'x@example.org' })).status).toBe(403);
    expect((await session.post('/admin/privacy/export', { email: 'x@example.org' })).status).toBe(403);
  });

  it('lists requests without addresses, erases and exports an address for an organiser, and links from the nav', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'posted@example.org', { name: 'By Post' });
    await signAndConfirm(t, slug, 'online@example.org');
    await requestLink(t, 'online@example.org', 'manage');
    const session = await signIn(ADMIN_TOKEN);

    const page = await session.send('GET', '/admin/privacy');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<a href="/admin/privacy" aria-current="page">Privacy</a>');
    expect(html).toContain('<td>manage</td>');
    expect(html).toContain('<td>supporter</td>');
    expect(html).not.toContain('online@example.org');

    const exported = await session.post('/admin/privacy/export', { email: 'posted@example.org' });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toContain('attachment');
    expect((await exported.json()).signatures[0]).toMatchObject({ name: 'By Post', email: 'posted@example.org' });

    const invalid = await session.post('/admin/privacy/erase', { email: 'not an address' });
    expect(invalid.status).toBe(422);
    expect(await invalid.text()).toContain('must be an email address');

    const erased = await session.post('/admin/privacy/erase', { email: 'posted@example.org' });
    expect(erased.status).toBe(303);
    expect(erased.headers.get('location')).toBe('/admin/privacy?done=erased');
    const rows = await t.database.db.select().from(signatures);
    expect(rows.find((r) => r.status === 'erased')).toBeDefined();
    expect(JSON.stringify(rows)).not.toContain('posted@example.org');

    const after = await (await session.send('GET', '/admin/privacy?done=erased')).text();
    expect(after).toContain('The address was erased');
    expect(after).toContain('ADMIN_TOKEN (env-admin-token)');
    expect(after).not.toContain('posted@example.org');
    const records = await t.database.db.select().from(privacyRequests);
    expect(records.filter((r) => r.origin === 'organiser').map((r) => r.kind).sort()).toEqual(['erase', 'export']);
  });
});
