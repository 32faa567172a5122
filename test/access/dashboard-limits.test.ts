import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { campaignWithEverything } from './helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

/** Signs in to the dashboard with an API token; returns a GET that carries the session cookie. */
async function dashboardSession(t: TestApp, token: string) {
  const res = await t.app.request('/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ token, next: '/admin/campaigns' }).toString(),
  });
  expect(res.status, await res.clone().text()).toBe(303);
  const cookie = /((?:__Secure-)?signet_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!;
  return async (path: string) => {
    const page = await t.app.request(path, { headers: { cookie } });
    return { status: page.status, html: await page.text() };
  };
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
});
