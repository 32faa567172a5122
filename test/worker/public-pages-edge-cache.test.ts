import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogs } from '../../src/web/i18n/index.js';
import { startWorkerDevProcess, type WorkerDevProcess } from '../helpers/worker-dev-process.js';
import { putTestOrganisation } from '../helpers/organisation.js';

// Issue #22 on Cloudflare Workers (wrangler dev --local, real workerd and Miniflare's Cache API):
// the public pages are served from the data centre's cache (caches.default) under a key that holds
// the version of the public pages, so a change shows at once and a closed campaign is never served
// from the cache as open.
const adminToken = 'edge-cache-admin-token-0123456789abcdef';
const publicUrl = 'http://signet.example';
const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
let worker: WorkerDevProcess;

async function createOpen(slug: string) {
  const created = await fetch(`${worker.url}/api/v1/campaigns`, {
    method: 'POST',
    headers: organiser,
    body: JSON.stringify({ slug, title: 'Save North Korean refugees', locale: 'en', timeZone: 'Asia/Tokyo' }),
  });
  expect(created.status).toBe(201);
  expect((await fetch(`${worker.url}/api/v1/campaigns/${slug}`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
}

/** GETs `path` until the data centre's cache answers it (it is stored after the first response, `waitUntil`). */
async function cachedGet(path: string, headers: Record<string, string> = {}): Promise<Response> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await fetch(`${worker.url}${path}`, { headers });
    if (response.headers.get('x-signet-cache') === 'HIT' || Date.now() > deadline) return response;
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  worker = await startWorkerDevProcess({ ADMIN_TOKEN: adminToken, SMTP_URL: 'smtp://127.0.0.1:2525', PUBLIC_URL: publicUrl });
  await putTestOrganisation(worker.url, adminToken);
  await createOpen('edge');
}, 150_000);

afterAll(async () => {
  await worker?.stop();
});

describe('the public pages on Workers', () => {
  it('are served from the Cache API: the same bytes and ETag for two visitors, no cookie, no request id of another; 304 on If-None-Match', async () => {
    for (const path of ['/c/edge?lang=en', '/c/edge/embed?lang=ja', '/c/edge/thanks?lang=ko', '/api/v1/campaigns/edge']) {
      const first = await fetch(`${worker.url}${path}`, { headers: { 'accept-language': 'en-GB', cookie: 'lang=ko', 'x-request-id': 'visitor-a-request' } });
      expect(first.status, path).toBe(200);
      const firstBody = await first.text();
      const second = await cachedGet(path, { 'accept-language': 'ja', 'x-request-id': 'visitor-b-request' });
      expect(second.headers.get('x-signet-cache'), path).toBe('HIT');
      expect(await second.text(), path).toBe(firstBody);
      expect(second.headers.get('etag'), path).toBe(first.headers.get('etag'));
      expect(second.headers.get('cache-control'), path).toMatch(/^public, max-age=\d+, s-maxage=\d+, stale-while-revalidate=\d+$/);
      expect(second.headers.get('set-cookie'), path).toBeNull();
      expect(second.headers.get('x-request-id'), path).not.toBe('visitor-a-request');
      const again = await fetch(`${worker.url}${path}`, { headers: { 'if-none-match': first.headers.get('etag')! } });
      expect(again.status, path).toBe(304);
      expect(await again.text()).toBe('');
    }
    // What is negotiated for one visitor, or asked with a token, is never taken from the cache.
    for (let view = 0; view < 2; view++) {
      const negotiated = await fetch(`${worker.url}/c/edge`, { headers: { 'accept-language': 'ja' } });
      expect(negotiated.headers.get('cache-control')).toBe('private, no-cache');
      expect(negotiated.headers.get('x-signet-cache')).toBeNull();
      await negotiated.arrayBuffer();
      const organiserView = await fetch(`${worker.url}/api/v1/campaigns/edge`, { headers: organiser });
      expect(organiserView.headers.get('x-signet-cache')).toBeNull();
      await organiserView.arrayBuffer();
    }
  });

  it('accept a form post with the token of a cached page', async () => {
    const page = await cachedGet('/c/edge?lang=en');
    expect(page.headers.get('x-signet-cache')).toBe('HIT');
    const token = /name="_token" value="([^"]+)"/.exec(await page.text())?.[1];
    expect(token).toBeDefined();
    const posted = await fetch(`${worker.url}/c/edge/sign`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: publicUrl },
      body: new URLSearchParams({ _token: token!, lang: 'en', name: 'Edge Signer', email: 'edge@example.org', country: 'JP', region: '', city: '', postalCode: '', comment: '', nameOnLetter: 'initials', showPublicly: 'no', updates: 'no', website: '' }).toString(),
    });
    expect(posted.status, await posted.clone().text()).toBe(303);
    expect(posted.headers.get('location')).toBe('/c/edge/thanks?lang=en');
  });

  it('show a change at once, and never serve a closed campaign from the cache as open', async () => {
    expect((await cachedGet('/c/edge?lang=en')).headers.get('x-signet-cache')).toBe('HIT');
    expect((await cachedGet('/api/v1/campaigns/edge')).headers.get('x-signet-cache')).toBe('HIT');
    expect((await fetch(`${worker.url}/api/v1/campaigns/edge`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ title: 'Stop the forced returns' }) })).status).toBe(200);
    const renamed = await fetch(`${worker.url}/c/edge?lang=en`);
    expect(await renamed.text()).toContain('Stop the forced returns');

    expect((await cachedGet('/c/edge?lang=en')).headers.get('x-signet-cache')).toBe('HIT');
    expect((await fetch(`${worker.url}/api/v1/campaigns/edge`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'closed' }) })).status).toBe(200);
    for (let view = 0; view < 3; view++) {
      const closed = await fetch(`${worker.url}/c/edge?lang=en`);
      const html = await closed.text();
      expect(html).toContain(catalogs.en.closedNotice);
      expect(html).not.toContain('action="/c/edge/sign"');
      expect(await (await fetch(`${worker.url}/api/v1/campaigns/edge`)).text()).toContain('"status":"closed"');
    }
  });
});
