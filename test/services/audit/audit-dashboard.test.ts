import { afterEach, describe, expect, it } from 'vitest';
import { ENV_ADMIN_TOKEN_ID } from '../../../src/services/tokens.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { auditLog, auditTableText, campaignWithSupporters, makeToken, SLUG, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

/** A browser stand-in over app.request: keeps the session cookie, sends this site's Origin with forms. */
function browser(app: TestApp) {
  let cookie = '';
  let csrf = '';
  const request = async (method: string, path: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = 'http://localhost';
      body = new URLSearchParams(form).toString();
    }
    const res = await app.app.request(path, { method, headers, body });
    const match = /(?:^|, )(signet_session)=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
    if (match) cookie = match[2] ? `${match[1]}=${match[2]}` : '';
    return res;
  };
  return {
    async page(path: string) {
      const res = await request('GET', path);
      const html = await res.text();
      const token = /name="_csrf" value="([^"]+)"/.exec(html);
      if (token) csrf = token[1]!;
      return { res, html };
    },
    signIn: (token: string) => request('POST', '/admin/login', { token, next: '/admin/campaigns' }),
    post: (path: string, form: Record<string, string> = {}) => request('POST', path, { _csrf: csrf, ...form }),
  };
}

const decode = (html: string) => html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** The rows of the audit table on a dashboard page, as text per cell. */
function rows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => decode(cell[1]!.replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim()),
  );
}

describe('the dashboard is audited like the API', () => {
  it('records sign-in, a letter PDF download, an erasure and sign-out as the session’s token, and a failed sign-in without the token typed', async () => {
    t = createTestApp();
    const { emails } = await campaignWithSupporters(t);
    const generated = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } });
    const { letters } = (await generated.json()) as { letters: { id: string }[] };
    const officer = await makeToken(t, 'Privacy officer', ['letters', 'privacy']);
    const b = browser(t);

    const guess = 'sgt_guessedTokenThatDoesNotExist0123456789';
    expect((await b.signIn(guess)).status).toBe(401);
    expect((await b.signIn(officer.token)).status).toBe(303);
    await b.page('/admin/campaigns');
    const pdf = await b.page(`/admin/letters/${letters[0]!.id}/pdf`);
    expect(pdf.res.status).toBe(200);
    await b.page('/admin/privacy');
    expect((await b.post('/admin/privacy/erase', { email: emails[0]! })).status).toBe(303);
    expect((await b.post('/admin/logout')).status).toBe(303);

    const { items } = await auditLog(t, 'limit=100');
    const dashboard = items.filter((e) => e.via === 'dashboard').reverse();
    expect(dashboard.map((e) => [e.action, e.actor.id, e.status])).toEqual([
      ['admin.sign_in', null, 401],
      ['admin.sign_in', officer.id, 303],
      // A token without the campaigns scope is refused the campaigns page; the refusal is recorded too.
      ['campaigns.list', officer.id, 403],
      ['letter.download', officer.id, 200],
      ['privacy_requests.list', officer.id, 200],
      ['privacy.erase', officer.id, 303],
      ['admin.sign_out', officer.id, 303],
    ]);
    expect(dashboard[0]!.actor).toEqual({ type: 'anonymous', id: null, name: null });
    expect(dashboard[3]).toMatchObject({ object: { type: 'letter', id: letters[0]!.id }, route: 'GET /admin/letters/:id/pdf', actor: { name: 'Privacy officer' } });
    expect(dashboard[5]!.object).toEqual({ type: 'address', id: null });

    const stored = await auditTableText(t);
    expect(stored).not.toContain(guess);
    expect(stored).not.toContain(officer.token);
    expect(stored).not.toContain(emails[0]);
  });
});

describe('/admin/audit', () => {
  it('lists events with who, what and which object, filtered like the API', async () => {
    t = createTestApp();
    await campaignWithSupporters(t);
    const reader = await makeToken(t, 'Volunteer <b>reader</b>', ['signatures:read']);
    t.clock.advance(60_000);
    expect((await t.request('GET', `/api/v1/campaigns/${SLUG}/signatures.csv`, { token: reader.token })).status).toBe(200);
    t.clock.advance(60_000);
    const b = browser(t);
    expect((await b.signIn(ADMIN_TOKEN)).status).toBe(303);

    const all = await b.page('/admin/audit');
    expect(all.res.status).toBe(200);
    expect(all.html).toContain('href="/admin/audit" aria-current="page"');
    // The token's name is text, not markup.
    expect(all.html).toContain('Volunteer &lt;b&gt;reader&lt;/b&gt;');
    expect(all.html).not.toContain('<b>reader</b>');
    const table = rows(all.html);
    expect(table[0]).toEqual(['2027-09-01 00:02:00 UTC', `ADMIN_TOKEN ${ENV_ADMIN_TOKEN_ID}`, 'admin.sign_in', '—', 'dashboard', '303', expect.any(String)]);
    // The action's cell names the export's format under it (the cells are read without their tags).
    expect(table).toContainEqual(['2027-09-01 00:01:00 UTC', `Volunteer <b>reader</b> ${reader.id}`, 'signatures.exportformat signet', `campaign ${SLUG}`, 'api', '200', expect.any(String)]);

    const mine = rows((await b.page(`/admin/audit?actor=${reader.id}`)).html);
    expect(mine.map((row) => row[2])).toEqual(['signatures.exportformat signet']);
    const exports = rows((await b.page('/admin/audit?action=signatures.export&from=2027-09-01T00:00&to=2027-09-01T00:01')).html);
    expect(exports).toEqual([]);
    const inWindow = rows((await b.page('/admin/audit?action=signatures.export&from=2027-09-01T00:01&to=2027-09-01T00:02')).html);
    expect(inWindow.map((row) => row[1])).toEqual([`Volunteer <b>reader</b> ${reader.id}`]);

    const invalid = await b.page('/admin/audit?from=last-tuesday');
    expect(invalid.res.status).toBe(422);
    expect(invalid.html).toContain('must be an ISO 8601 date-time');
  });

  it('pages with the filters kept', async () => {
    t = createTestApp();
    const b = browser(t);
    expect((await b.signIn(ADMIN_TOKEN)).status).toBe(303);
    for (let i = 0; i < 55; i++) {
      await b.page('/admin/campaigns');
      t.clock.advance(1_000);
    }
    const first = await b.page('/admin/audit?action=campaigns.list');
    expect(rows(first.html)).toHaveLength(50);
    const next = /href="(\/admin\/audit\?[^"]+)">Older events/.exec(first.html)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toMatch(/^\/admin\/audit\?action=campaigns\.list&cursor=/);
    const second = await b.page(next!);
    expect(rows(second.html).map((row) => row[2])).toEqual(Array(5).fill('campaigns.list'));
  });

  it('needs the admin scope, and a session', async () => {
    t = createTestApp();
    const organiser = await makeToken(t, 'Organiser', ['campaigns', 'signatures:read', 'letters', 'deliveries', 'privacy']);
    const anonymous = await browser(t).page('/admin/audit');
    expect(anonymous.res.status).toBe(303);
    expect(anonymous.res.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Faudit');

    const b = browser(t);
    expect((await b.signIn(organiser.token)).status).toBe(303);
    const refused = await b.page('/admin/audit');
    expect(refused.res.status).toBe(403);
    expect(refused.html).toContain('does not have the “admin” scope');
    expect(refused.html).not.toContain('admin.sign_in');

    expect((await auditLog(t, `actor=${organiser.id}&action=audit.list`)).items).toMatchObject([{ status: 403, via: 'dashboard' }]);
  });
});
