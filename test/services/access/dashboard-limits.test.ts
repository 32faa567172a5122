import { afterEach, describe, expect, it } from 'vitest';
import { issueOwnerSetupLink } from '../../../src/services/accounts.js';
import { accountClient } from '../accounts/account-client.js';
import { invitedMember, OWNER } from '../accounts/team-fixture.js';
import { createTestApp, testPasswords } from '../../helpers/app.js';
import { parsePdfBytes } from '../../letters/helpers.js';
import { campaignWithEverything } from './helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

/** Signs in to the dashboard with an API token; returns the session cookie. */
async function tokenSessionCookie(t: TestApp, token: string): Promise<string> {
  const res = await t.app.request('/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ token, next: '/admin/campaigns' }).toString(),
  });
  expect(res.status, await res.clone().text()).toBe(303);
  return /((?:__Secure-)?signet_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!;
}

/** Signs in to the dashboard with an API token; returns a GET that carries the session cookie. */
async function dashboardSession(t: TestApp, token: string) {
  const cookie = await tokenSessionCookie(t, token);
  return async (path: string) => {
    const page = await t.app.request(path, { headers: { cookie } });
    return { status: page.status, html: await page.text(), type: page.headers.get('content-type') ?? '' };
  };
}

/** The text of a PDF answer (every page), for what it shows of each campaign. */
async function pdfText(t: TestApp, path: string, cookie: Record<string, string>): Promise<string> {
  const res = await t.app.request(path, { headers: cookie });
  expect(res.status, path).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/pdf');
  return (await parsePdfBytes(Buffer.from(await res.arrayBuffer()))).pages.join('\n');
}


describe('the dashboard signed in with a token limited to a campaign', () => {
  it('shows that campaign and answers 404 for another one\'s pages, as the API does', async () => {
    t = createTestApp();
    const a = await campaignWithEverything(t, 'campaign-a', 'Embassy of Alpha');
    const b = await campaignWithEverything(t, 'campaign-b', 'Embassy of Bravo');
    const created = await t.request('POST', '/api/v1/tokens', {
      body: { name: 'team A', scopes: ['campaigns', 'signatures:read', 'letters', 'deliveries'], campaigns: ['campaign-a'] },
    });
    expect(created.status).toBe(201);
    const get = await dashboardSession(t, (await created.json()).token);

    const list = await get('/admin/campaigns');
    expect(list.status).toBe(200);
    expect(list.html).toContain('/admin/campaigns/campaign-a');
    expect(list.html).not.toContain('campaign-b');

    for (const [path, objects] of [
      ['/admin/campaigns/:slug', { slug: 'campaign-a' }],
      ['/admin/campaigns/:slug/letters', { slug: 'campaign-a' }],
      ['/admin/letters/:id', { id: a.letterId }],
      ['/admin/mailings/:id', { id: a.mailingId }],
    ] as const) {
      const own = await get(path.replace(/:(\w+)/, (_, name: string) => (objects as Record<string, string>)[name]!));
      expect(own.status, path).toBe(200);
    }
    for (const path of ['/admin/campaigns/campaign-b', '/admin/campaigns/campaign-b/letters', `/admin/letters/${b.letterId}`, `/admin/mailings/${b.mailingId}`, `/admin/targets/${b.targetId}/edit`]) {
      const other = await get(path);
      expect(other.status, path).toBe(404);
      expect(other.html, path).not.toContain('Embassy of Bravo');
    }

    // Lists across campaigns show A's only.
    for (const path of ['/admin/mailings', '/admin/deliveries', '/admin/print-queue']) {
      const page = await get(path);
      expect(page.status, path).toBe(200);
      expect(page.html, path).not.toContain('campaign-b');
      expect(page.html, path).not.toContain(b.mailingId);
      expect(page.html, path).not.toContain('Embassy of Bravo');
    }
  });

  it('refuses the print queue PDF without the letters scope, and gives a campaign-limited user their campaigns\' letters only (#17)', async () => {
    t = createTestApp({ passwords: testPasswords });
    await campaignWithEverything(t, 'campaign-a', 'Embassy of Alpha');
    await campaignWithEverything(t, 'campaign-b', 'Embassy of Bravo');
    const tokenFor = async (scopes: string[]) => {
      const created = await t.request('POST', '/api/v1/tokens', { body: { name: `A: ${scopes.join(' ')}`, scopes, campaigns: ['campaign-a'] } });
      expect(created.status).toBe(201);
      return ((await created.json()) as { token: string }).token;
    };

    // Deliveries without letters: the queue as a list, but not the letters themselves.
    const deliveriesOnly = await dashboardSession(t, await tokenFor(['campaigns', 'deliveries']));
    const queue = await deliveriesOnly('/admin/print-queue');
    expect(queue.status).toBe(200);
    expect(queue.html).toContain('Embassy of Alpha');
    expect(queue.html).not.toContain('/admin/print-queue.pdf');
    const refused = await deliveriesOnly('/admin/print-queue.pdf');
    expect(refused.status).toBe(403);
    expect(refused.type).toContain('text/html');
    expect(refused.html).toContain('letters');

    // Both scopes: the PDF, with A's letter and nothing of B's.
    const both = await tokenSessionCookie(t, await tokenFor(['campaigns', 'deliveries', 'letters']));
    expect(await (await t.app.request('/admin/print-queue', { headers: { cookie: both } })).text()).toContain('/admin/print-queue.pdf');
    const tokenPdf = await pdfText(t, '/admin/print-queue.pdf', { cookie: both });
    expect(tokenPdf).toContain('Embassy of Alpha');
    expect(tokenPdf).not.toContain('Embassy of Bravo');

    // A user who is a viewer of A only: the same rule as a token limited to A.
    const owner = accountClient(t);
    expect((await owner.request('POST', new URL((await issueOwnerSetupLink(t.ctx))!).pathname, { ...OWNER, locale: 'en' })).status).toBe(303);
    await owner.page('/admin/users');
    const campaignA = (await (await t.request('GET', '/api/v1/campaigns/campaign-a')).json()) as { id: string };
    const viewer = await invitedMember(t, owner, 'viewer-of-a@example.org', { [`role:${campaignA.id}`]: 'viewer' });
    const viewerPdf = await pdfText(t, '/admin/print-queue.pdf', { cookie: [...viewer.jar].map(([k, v]) => `${k}=${v}`).join('; ') });
    expect(viewerPdf).toContain('Embassy of Alpha');
    expect(viewerPdf).not.toContain('Embassy of Bravo');
  });
});
