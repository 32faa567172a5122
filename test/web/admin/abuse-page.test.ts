import { afterEach, describe, expect, it } from 'vitest';
import { blocklist, fraudulentRequests, signatures } from '../../../src/db/schema.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { auditLog } from '../../services/audit/helpers.js';
import { block, ipHashOf, liveCount, signAndConfirmFrom, signatureOf, signFrom, type TestApp, tokenWith } from '../../helpers/abuse.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const BOT = '2001:db8:66:1::10';

/** A browser stand-in: keeps the session cookie, reads the form token from pages, posts forms with this site's Origin. */
function browser(app: TestApp) {
  let cookie = '';
  let csrf = '';
  const request = async (method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { origin: 'http://localhost', ...headers };
    if (cookie) h.cookie = cookie;
    if (form) h['content-type'] = 'application/x-www-form-urlencoded';
    const res = await app.app.request(path, { method, headers: h, body: form ? new URLSearchParams(form).toString() : undefined });
    const set = /(signet_session)=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
    if (set) cookie = `${set[1]}=${set[2]}`;
    return res;
  };
  return {
    async login(token: string) {
      expect((await request('POST', '/admin/login', { token, next: '/admin/abuse' })).status).toBe(303);
    },
    async page(path: string) {
      const res = await request('GET', path);
      const html = await res.text();
      csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? csrf;
      return { status: res.status, html };
    },
    post: (path: string, form: Record<string, string>, headers: Record<string, string> = {}) => request('POST', path, { _csrf: csrf, ...form }, headers),
  };
}

describe('/admin/abuse', () => {
  it('keeps the block list: add, refuse what is invalid or already there, remove', async () => {
    t = createTestApp();
    const b = browser(t);
    await b.login(ADMIN_TOKEN);
    const empty = await b.page('/admin/abuse');
    expect(empty.status).toBe(200);
    expect(empty.html).toContain('<a href="/admin/abuse" aria-current="page">Abuse</a>');
    expect(empty.html).toContain('The block list is empty.');

    const added = await b.post('/admin/abuse/blocklist', { kind: 'domain', value: '*.Bots.Example', note: 'burst on 1 Sept' });
    expect(added.status).toBe(303);
    expect(added.headers.get('location')).toBe('/admin/abuse?done=blocked');
    const listed = await b.page('/admin/abuse?done=blocked');
    expect(listed.html).toContain('Added to the block list.');
    expect(listed.html).toContain('<code>*.bots.example</code>');
    expect(listed.html).toContain('burst on 1 Sept');

    const invalid = await b.post('/admin/abuse/blocklist', { kind: 'ip', value: '192.0.2.1/24' });
    expect(invalid.status).toBe(422);
    const invalidHtml = await invalid.text();
    expect(invalidHtml).toContain('has bits set past the prefix; the network is 192.0.2.0/24');
    expect(invalidHtml).toContain('value="192.0.2.1/24"');

    const duplicate = await b.post('/admin/abuse/blocklist', { kind: 'domain', value: '*.bots.example' });
    expect(duplicate.status).toBe(409);
    expect(await duplicate.text()).toContain('*.bots.example is already on the block list.');

    const [entry] = await t.database.db.select().from(blocklist);
    const removed = await b.post(`/admin/abuse/blocklist/${entry!.id}/delete`, {});
    expect(removed.status).toBe(303);
    expect((await b.page('/admin/abuse?done=unblocked')).html).toContain('The block list is empty.');
  });

  it('shows a campaign’s sources per hour and invalidates and revalidates from them, the count following', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirmFrom(t, slug, 'real@example.org', '198.51.100.1');
    for (let i = 0; i < 3; i++) await signAndConfirmFrom(t, slug, `bot${i}@example.net`, BOT.replace(/10$/, String(i + 10)));
    const ipHash = await ipHashOf(t, slug, BOT);
    const b = browser(t);
    await b.login(ADMIN_TOKEN);

    const page = await b.page(`/admin/abuse?campaign=${slug}&hours=24`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`<code>${ipHash}</code>`);
    expect(page.html).toContain('<code>example.net</code>');
    expect(page.html).toContain(`href="/admin/abuse?campaign=${slug}&amp;hours=24&amp;ipHash=${ipHash}#bulk"`);
    const filled = await b.page(`/admin/abuse?campaign=${slug}&hours=24&ipHash=${ipHash}`);
    expect(filled.html).toContain(`name="ipHash" type="text" value="${ipHash}"`);

    const invalidated = await b.post('/admin/abuse/invalidate', { campaign: slug, ipHash, domain: '', from: '', to: '' });
    expect(invalidated.status).toBe(303);
    expect(invalidated.headers.get('location')).toBe(`/admin/abuse?campaign=${slug}&done=invalidated&count=3#bulk`);
    expect(await liveCount(t, slug)).toBe(1);
    const after = await b.page(`/admin/abuse?campaign=${slug}&done=invalidated&count=3`);
    expect(after.html).toContain('3 signatures invalidated.');
    expect(after.html).toContain(`ipHash=${ipHash}`);

    // A time range in the form's datetime-local format, read as UTC.
    const revalidated = await b.post('/admin/abuse/revalidate', { campaign: slug, ipHash: '', domain: 'example.net', from: '2027-09-01T00:00', to: '2027-09-01T01:00' });
    expect(revalidated.headers.get('location')).toBe(`/admin/abuse?campaign=${slug}&done=revalidated&count=3#bulk`);
    expect(await liveCount(t, slug)).toBe(4);
    expect((await signatureOf(t, 'bot0@example.net'))!.status).toBe('confirmed');

    const empty = await b.post('/admin/abuse/invalidate', { campaign: slug, ipHash: '', domain: '', from: '', to: '' });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain('give an ipHash, a domain, or a time range');
    const both = await b.post('/admin/abuse/invalidate', { campaign: slug, ipHash, domain: 'example.net' });
    expect(both.status).toBe(422);
    expect(await both.text()).toContain('give an IP hash or a domain, not both');
    expect(await liveCount(t, slug)).toBe(4);
    // A count in the link is shown only as a number.
    expect((await b.page(`/admin/abuse?campaign=${slug}&done=invalidated&count=%3Cscript%3E`)).html).not.toContain('invalidated.</p>');
  });

  it('shows each part only to the scopes that may use it, and refuses the rest', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirmFrom(t, slug, 'bot@example.net', BOT);
    const reader = browser(t);
    await reader.login(await tokenWith(t, ['signatures:read']));
    const seen = await reader.page(`/admin/abuse?campaign=${slug}`);
    expect(seen.status).toBe(200);
    expect(seen.html).toContain('<code>example.net</code>');
    expect(seen.html).not.toContain('Block list');
    expect(seen.html).not.toContain('action="/admin/abuse/invalidate"');
    expect((await reader.post('/admin/abuse/blocklist', { kind: 'domain', value: 'example.net' })).status).toBe(403);
    expect((await reader.post('/admin/abuse/invalidate', { campaign: slug, domain: 'example.net' })).status).toBe(403);
    expect((await reader.post('/admin/abuse/revalidate', { campaign: slug, domain: 'example.net' })).status).toBe(403);
    expect(await liveCount(t, slug)).toBe(1);
    expect(await t.database.db.select().from(blocklist)).toEqual([]);

    const writer = browser(t);
    await writer.login(await tokenWith(t, ['campaigns']));
    const writerPage = await writer.page(`/admin/abuse?campaign=${slug}`);
    expect(writerPage.html).toContain('action="/admin/abuse/invalidate"');
    expect(writerPage.html).toContain('Seeing the sources needs the “signatures:read” scope.');
    expect(writerPage.html).not.toContain('Block list');

    const letters = browser(t);
    await letters.login(await tokenWith(t, ['letters']));
    const refused = await letters.page('/admin/abuse');
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('signatures:read');
  });

  it('lists a campaign’s fraudulent requests without addresses and clears the ticked ones, audited; a reader sees them without boxes', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await block(t, 'ip', BOT);
    for (const email of ['victim@example.org', 'other@example.net', 'third@example.com']) {
      t.clock.advance(60_000);
      expect((await signFrom(t, slug, email, BOT)).status).toBe(202);
    }
    const ids = (await t.database.db.select({ id: fraudulentRequests.id, email: fraudulentRequests.email }).from(fraudulentRequests)).reduce<Record<string, string>>((byEmail, row) => ({ ...byEmail, [row.email]: row.id }), {});
    const ipHash = await ipHashOf(t, slug, BOT);

    const reader = browser(t);
    await reader.login(await tokenWith(t, ['signatures:read']));
    const seen = await reader.page(`/admin/abuse?campaign=${slug}`);
    expect(seen.html).toContain('<h2>Fraudulent requests</h2>');
    expect(seen.html).toContain(`<code>${ipHash}</code>`);
    expect(seen.html).toContain('<code>example.net</code>');
    expect(seen.html).not.toContain('victim@');
    expect(seen.html).not.toContain('type="checkbox"');
    expect(seen.html).not.toContain('action="/admin/abuse/fraudulent-requests/clear"');
    expect((await reader.post('/admin/abuse/fraudulent-requests/clear', { campaign: slug, [`request-${ids['victim@example.org']}`]: 'on' })).status).toBe(403);
    expect(await t.database.db.select().from(fraudulentRequests)).toHaveLength(3);

    const b = browser(t);
    await b.login(ADMIN_TOKEN);
    const page = await b.page(`/admin/abuse?campaign=${slug}`);
    expect(page.html).toContain('action="/admin/abuse/fraudulent-requests/clear"');
    // Newest first, each with its box.
    const boxes = [...page.html.matchAll(/name="request-([0-9a-f-]{36})"/g)].map((match) => match[1]);
    expect(boxes).toEqual([ids['third@example.com'], ids['other@example.net'], ids['victim@example.org']]);

    const none = await b.post('/admin/abuse/fraudulent-requests/clear', { campaign: slug });
    expect(none.status).toBe(422);
    expect(await none.text()).toContain('Select at least one request to clear.');

    const cleared = await b.post('/admin/abuse/fraudulent-requests/clear', { campaign: slug, [`request-${ids['victim@example.org']}`]: 'on', [`request-${ids['other@example.net']}`]: 'on' });
    expect(cleared.status).toBe(303);
    expect(cleared.headers.get('location')).toBe(`/admin/abuse?campaign=${slug}&done=cleared&count=2#fraudulent`);
    const after = await b.page(`/admin/abuse?campaign=${slug}&done=cleared&count=2`);
    expect(after.html).toContain('2 fraudulent requests cleared.');
    expect(await t.database.db.select({ email: fraudulentRequests.email }).from(fraudulentRequests)).toEqual([{ email: 'third@example.com' }]);
    expect(await t.database.db.select().from(signatures)).toEqual([]);
    expect(await liveCount(t, slug)).toBe(0);

    const events = (await auditLog(t, 'action=fraudulent_requests.clear')).items;
    expect(events.map((event) => [event.via, event.status])).toEqual([['dashboard', 303], ['dashboard', 422], ['dashboard', 403]]);

    // In Japanese too.
    const ja = await b.page(`/admin/abuse?campaign=${slug}&lang=ja`);
    expect(ja.html).toContain('<h2>不正な申し込み</h2>');
    expect(ja.html).toContain('選択した申し込みを消去');
  });

  it('refuses form posts without the session’s form token or from another site', async () => {
    t = createTestApp();
    const b = browser(t);
    await b.login(ADMIN_TOKEN);
    await b.page('/admin/abuse');
    expect((await b.post('/admin/abuse/blocklist', { kind: 'domain', value: 'example.net', _csrf: 'forged' })).status).toBe(403);
    expect((await b.post('/admin/abuse/blocklist', { kind: 'domain', value: 'example.net' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await t.database.db.select().from(blocklist)).toEqual([]);
    const anonymous = await t.app.request('/admin/abuse');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fabuse');
  });
});
