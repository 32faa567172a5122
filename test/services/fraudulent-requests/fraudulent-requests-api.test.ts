import { afterEach, describe, expect, it } from 'vitest';
import { fraudulentRequests, signatures } from '../../../src/db/schema.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign, queuedMail } from '../../helpers/signing.js';
import { auditLog } from '../audit/helpers.js';
import { block, ipHashOf, liveCount, signAndConfirmFrom, signFrom, type TestApp, tokenWith } from '../../helpers/abuse.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const BOT = '203.0.113.66';
const API = '/api/v1';

type Listed = { items: { id: string; createdAt: string; ipHash: string | null; domain: string; blockedBy: string | null }[]; nextCursor: string | null };

async function list(slug: string, query = '', token?: string): Promise<Listed> {
  const res = await t.request('GET', `${API}/campaigns/${slug}/fraudulent-requests${query}`, { token });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body as Listed;
}

function clear(slug: string, body: unknown, token?: string) {
  return t.request('POST', `${API}/campaigns/${slug}/fraudulent-requests/clear`, { body, token });
}

/** Three blocked requests a minute apart (two by IP, one by domain), after one real supporter. */
async function campaignWithBlockedRequests() {
  t = createTestApp();
  const slug = await openCampaign(t);
  await signAndConfirmFrom(t, slug, 'real@example.org', '198.51.100.1');
  await block(t, 'ip', BOT);
  await block(t, 'domain', 'spam.example');
  for (const email of ['victim@example.org', 'other@example.net']) {
    t.clock.advance(60_000);
    expect((await signFrom(t, slug, email, BOT)).status).toBe(202);
  }
  t.clock.advance(60_000);
  expect((await signFrom(t, slug, 'bot@spam.example', '198.51.100.9')).status).toBe(202);
  return slug;
}

describe('GET /campaigns/:slug/fraudulent-requests', () => {
  it('lists the blocked requests newest first with IP hash, email domain, time and the kind of entry, never the address', async () => {
    const slug = await campaignWithBlockedRequests();
    const start = Date.UTC(2027, 8, 1);
    const listed = await list(slug);
    expect(listed).toEqual({
      items: [
        { id: expect.any(String), createdAt: new Date(start + 180_000).toISOString(), ipHash: await ipHashOf(t, slug, '198.51.100.9'), domain: 'spam.example', blockedBy: 'domain' },
        { id: expect.any(String), createdAt: new Date(start + 120_000).toISOString(), ipHash: await ipHashOf(t, slug, BOT), domain: 'example.net', blockedBy: 'ip' },
        { id: expect.any(String), createdAt: new Date(start + 60_000).toISOString(), ipHash: await ipHashOf(t, slug, BOT), domain: 'example.org', blockedBy: 'ip' },
      ],
      nextCursor: null,
    });
    const text = JSON.stringify(listed);
    for (const personal of ['victim', 'other@', 'bot@', 'Jane', 'Tokyo']) expect(text).not.toContain(personal);

    // Cursor pagination as on every list.
    const first = await list(slug, '?limit=2');
    expect(first.items.map((item) => item.domain)).toEqual(['spam.example', 'example.net']);
    const second = await list(slug, `?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(second).toEqual({ items: [listed.items[2]], nextCursor: null });
    const badCursor = await t.request('GET', `${API}/campaigns/${slug}/fraudulent-requests?cursor=nonsense!`);
    expect(badCursor.status).toBe(400);
    expect((await badCursor.json()).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'cursor' }] });

    // The organisers' list of signatures shows the same requests in full under ?status=fraudulent, and the stats count them.
    const full = await t.request('GET', `${API}/campaigns/${slug}/signatures?status=fraudulent`);
    const fullBody = (await full.json()) as { items: { id: string; status: string; email: string }[] };
    expect(fullBody.items.map((item) => [item.id, item.status, item.email])).toEqual([
      [listed.items[0]!.id, 'fraudulent', 'bot@spam.example'],
      [listed.items[1]!.id, 'fraudulent', 'other@example.net'],
      [listed.items[2]!.id, 'fraudulent', 'victim@example.org'],
    ]);
    const stats = (await (await t.request('GET', `${API}/campaigns/${slug}/stats`)).json()) as { byStatus: Record<string, number> };
    expect(stats.byStatus).toMatchObject({ confirmed: 1, fraudulent: 3 });
    const csv = await t.request('GET', `${API}/campaigns/${slug}/signatures.csv?status=fraudulent`);
    expect(csv.status).toBe(200);
    expect((await csv.text()).trim().split('\n')).toHaveLength(4);
  });

  it('needs signatures:read, and answers 404 for an unknown campaign', async () => {
    const slug = await campaignWithBlockedRequests();
    const reader = await tokenWith(t, ['signatures:read']);
    expect((await list(slug, '', reader)).items).toHaveLength(3);
    const writer = await tokenWith(t, ['campaigns']);
    const refused = await t.request('GET', `${API}/campaigns/${slug}/fraudulent-requests`, { token: writer });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe('FORBIDDEN');
    const unknown = await t.request('GET', `${API}/campaigns/no-such-campaign/fraudulent-requests`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('NOT_FOUND');
  });
});

describe('POST /campaigns/:slug/fraudulent-requests/clear', () => {
  it('clears one or many: deleted with what they held, never turned into signatures, and audited', async () => {
    const slug = await campaignWithBlockedRequests();
    const other = await openCampaign(t, 'other-campaign');
    expect((await signFrom(t, other, 'elsewhere@example.org', BOT)).status).toBe(202);
    const [newest, middle, oldest] = (await list(slug)).items;
    const [elsewhere] = (await list(other)).items;

    const one = await clear(slug, { ids: [oldest!.id] });
    expect(await one.json()).toEqual({ cleared: 1 });
    expect(one.status).toBe(200);
    expect((await list(slug)).items.map((item) => item.id)).toEqual([newest!.id, middle!.id]);

    // Many at once; an id already cleared, or another campaign's, is passed over.
    const many = await clear(slug, { ids: [newest!.id, middle!.id, oldest!.id, elsewhere!.id] });
    expect(await many.json()).toEqual({ cleared: 2 });
    expect((await list(slug)).items).toEqual([]);
    expect((await list(other)).items).toEqual([elsewhere]);
    expect(await t.database.db.select({ email: fraudulentRequests.email }).from(fraudulentRequests)).toEqual([{ email: 'elsewhere@example.org' }]);

    // Nothing became a signature, was counted or mailed.
    expect(await t.database.db.select({ email: signatures.emailNormalized }).from(signatures)).toEqual([{ email: 'real@example.org' }]);
    expect(await liveCount(t, slug)).toBe(1);
    expect(await queuedMail(t, 'victim@example.org')).toEqual([]);

    const events = (await auditLog(t, 'action=fraudulent_requests.clear')).items;
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ action: 'fraudulent_requests.clear', object: { type: 'campaign', id: slug }, via: 'api', status: 200 });
    expect((await auditLog(t, 'action=fraudulent_requests.list')).items.length).toBeGreaterThan(0);
  });

  it('needs the campaigns scope (signatures:read only reads), and validates the ids', async () => {
    const slug = await campaignWithBlockedRequests();
    const ids = (await list(slug)).items.map((item) => item.id);
    const reader = await tokenWith(t, ['signatures:read']);
    const refused = await clear(slug, { ids }, reader);
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe('FORBIDDEN');
    expect((await list(slug)).items).toHaveLength(3);

    for (const [body, path] of [
      [{ ids: [] }, 'ids'],
      [{ ids: ['not-an-id'] }, 'ids.0'],
      [{ ids: Array.from({ length: 501 }, () => ids[0]) }, 'ids'],
      [{}, 'ids'],
      [{ ids, all: true }, 'all'],
    ] as const) {
      const res = await clear(slug, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const error = (await res.json()).error;
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.details.map((detail: { path: string }) => detail.path)).toContain(path);
    }
    const unknown = await clear('no-such-campaign', { ids });
    expect(unknown.status).toBe(404);

    const writer = await tokenWith(t, ['campaigns']);
    const cleared = await clear(slug, { ids }, writer);
    expect(await cleared.json()).toEqual({ cleared: 3 });
  });
});
