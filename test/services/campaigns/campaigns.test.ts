import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const draft = (slug = 'free-them-2027') => ({
  slug,
  title: '北朝鮮難民を救え',
  summary: 'Letters to the Chinese missions in Japan',
  body: '# Why\nThe 1951 Refugee Convention…',
  locale: 'ja',
  timeZone: 'Asia/Tokyo',
  goal: 1000,
});

describe('campaigns: happy paths', () => {
  it('creates a draft, reads, lists and patches it', async () => {
    t = createTestApp();
    const created = await t.request('POST', '/api/v1/campaigns', { body: draft() });
    expect(created.status).toBe(201);
    const campaign = await created.json();
    expect(campaign).toMatchObject({ slug: 'free-them-2027', status: 'draft', title: '北朝鮮難民を救え', signatureCount: 0, timeZone: 'Asia/Tokyo', goal: 1000 });
    expect(campaign.id).toMatch(/^[0-9a-f-]{36}$/);

    const read = await t.request('GET', '/api/v1/campaigns/free-them-2027');
    expect(read.status).toBe(200);
    expect((await read.json()).id).toBe(campaign.id);

    const patched = await t.request('PATCH', '/api/v1/campaigns/free-them-2027', { body: { title: 'New title', goal: 5000 } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ title: 'New title', goal: 5000, status: 'draft' });
  });

  it('paginates the list with a cursor, newest first', async () => {
    t = createTestApp();
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      expect((await t.request('POST', '/api/v1/campaigns', { body: draft(`campaign-${i}`) })).status).toBe(201);
    }
    const first = await (await t.request('GET', '/api/v1/campaigns?limit=2')).json();
    expect(first.items.map((c: { slug: string }) => c.slug)).toEqual(['campaign-4', 'campaign-3']);
    const second = await (await t.request('GET', `/api/v1/campaigns?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.items.map((c: { slug: string }) => c.slug)).toEqual(['campaign-2', 'campaign-1']);
    const third = await (await t.request('GET', `/api/v1/campaigns?limit=2&cursor=${second.nextCursor}`)).json();
    expect(third.items.map((c: { slug: string }) => c.slug)).toEqual(['campaign-0']);
    expect(third.nextCursor).toBeNull();
    const bad = await t.request('GET', '/api/v1/campaigns?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.details[0].path).toBe('cursor');
  });

  it('follows the status machine: draft → open ⇄ closed → archived', async () => {
    t = createTestApp();
    await t.request('POST', '/api/v1/campaigns', { body: draft() });
    const move = (status: string) => t.request('PATCH', '/api/v1/campaigns/free-them-2027', { body: { status } });

    const skip = await move('closed');
    expect(skip.status).toBe(409);
    expect((await skip.json()).error).toMatchObject({ code: 'INVALID_TRANSITION', details: { from: 'draft', to: 'closed' } });

    for (const status of ['open', 'closed', 'open', 'closed', 'archived']) {
      const res = await move(status);
      expect(res.status).toBe(200);
      expect((await res.json()).status).toBe(status);
    }
    const back = await move('open');
    expect(back.status).toBe(409);
    expect((await back.json()).error.code).toBe('INVALID_TRANSITION');
  });

  it('shows the public view only for open and closed campaigns, without a token', async () => {
    t = createTestApp();
    await t.request('POST', '/api/v1/campaigns', { body: draft() });
    const hidden = await t.request('GET', '/api/v1/campaigns/free-them-2027', { token: null });
    expect(hidden.status).toBe(404);
    expect((await hidden.json()).error.code).toBe('NOT_FOUND');

    await t.request('PATCH', '/api/v1/campaigns/free-them-2027', { body: { status: 'open' } });
    const shown = await t.request('GET', '/api/v1/campaigns/free-them-2027', { token: null });
    expect(shown.status).toBe(200);
    const view = await shown.json();
    expect(view).toMatchObject({ slug: 'free-them-2027', status: 'open', signatureCount: 0, targets: [] });
    expect(view).not.toHaveProperty('id');
    expect(view).not.toHaveProperty('targetIds');
  });
});

describe('campaigns: errors', () => {
  it('refuses a duplicate slug with 409 SLUG_TAKEN', async () => {
    t = createTestApp();
    expect((await t.request('POST', '/api/v1/campaigns', { body: draft() })).status).toBe(201);
    const again = await t.request('POST', '/api/v1/campaigns', { body: draft() });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe('SLUG_TAKEN');
  });

  it('reports every invalid field with its path', async () => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/campaigns', {
      body: { slug: 'AB', title: '', locale: 'fr', goal: -1, timeZone: 'Mars/Olympus', targetIds: ['x'], extra: 1 },
    });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.requestId).toBeTruthy();
    const paths = error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['slug', 'title', 'locale', 'goal', 'timeZone', 'targetIds.0', 'extra']));
  });

  it('refuses unknown target ids and a closing time before the opening', async () => {
    t = createTestApp();
    const unknownTarget = await t.request('POST', '/api/v1/campaigns', { body: { ...draft(), targetIds: ['0190c2a0-0000-7000-8000-000000000000'] } });
    expect(unknownTarget.status).toBe(400);
    expect((await unknownTarget.json()).error.details).toEqual([{ path: 'targetIds.0', message: expect.stringMatching(/^no target has the id [0-9a-f-]{36}$/) }]);
    const window = await t.request('POST', '/api/v1/campaigns', { body: { ...draft(), opensAt: '2027-09-22T00:00:00Z', closesAt: '2027-09-01T00:00:00Z' } });
    expect(window.status).toBe(400);
    expect((await window.json()).error.details[0].path).toBe('closesAt');
  });

  it('answers 404 for an unknown campaign and an unknown route', async () => {
    t = createTestApp();
    const res = await t.request('PATCH', '/api/v1/campaigns/nope-nope', { body: { title: 'x' } });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('NOT_FOUND');
    const route = await t.request('GET', '/api/v1/nothing-here');
    expect(route.status).toBe(404);
    expect((await route.json()).error.code).toBe('NOT_FOUND');
  });
});
