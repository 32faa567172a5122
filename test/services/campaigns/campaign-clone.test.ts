import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { signAndConfirm } from '../../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

async function target(name: string) {
  const response = await t.request('POST', '/api/v1/targets', {
    body: { name, kind: 'consulate', postalAddress: { lines: ['1-1'], postalCode: '100-0001', city: 'Tokyo', country: 'JP' }, language: 'ja' },
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

describe('campaigns: year to year (clone)', () => {
  it('copies texts, translations, goal, time zone, template and targets in order as a new draft, without supporters', async () => {
    t = createTestApp();
    const osaka = await target('Consulate-General in Osaka');
    const tokyo = await target('Embassy in Tokyo');
    const created = await t.request('POST', '/api/v1/campaigns', {
      body: {
        slug: 'refugees-2026',
        title: '北朝鮮難民を守れ 2026',
        summary: '9月22日の手紙',
        body: '# なぜ\n難民条約',
        locale: 'ja',
        timeZone: 'Asia/Tokyo',
        goal: 1000,
        letterTemplate: 'embassy-petition',
        translations: { en: { title: 'Protect North Korean refugees 2026', summary: 'Letters on 22 September' } },
        opensAt: '2027-08-01T00:00:00+09:00',
        closesAt: '2027-09-21T23:59:00+09:00',
        targetIds: [tokyo, osaka],
      },
    });
    expect(created.status).toBe(201);
    expect((await t.request('PATCH', '/api/v1/campaigns/refugees-2026', { body: { status: 'open' } })).status).toBe(200);
    await signAndConfirm(t, 'refugees-2026', { name: '山田 花子', email: 'hanako@example.jp', country: 'JP', consent: { nameOnLetter: 'full', updates: true } });

    const cloned = await t.request('POST', '/api/v1/campaigns/refugees-2026/clone', {
      body: { slug: 'refugees-2027', title: '北朝鮮難民を守れ 2027', opensAt: '2028-08-01T00:00:00+09:00', closesAt: '2028-09-21T23:59:00+09:00' },
    });
    expect(cloned.status).toBe(201);
    const copy = await cloned.json();
    expect(copy).toMatchObject({
      slug: 'refugees-2027',
      title: '北朝鮮難民を守れ 2027',
      summary: '9月22日の手紙',
      body: '# なぜ\n難民条約',
      locale: 'ja',
      timeZone: 'Asia/Tokyo',
      goal: 1000,
      letterTemplate: 'embassy-petition',
      translations: { en: { title: 'Protect North Korean refugees 2026', summary: 'Letters on 22 September' } },
      status: 'draft',
      signatureCount: 0,
      targetIds: [tokyo, osaka],
      opensAt: '2028-07-31T15:00:00.000Z',
    });
    const source = await (await t.request('GET', '/api/v1/campaigns/refugees-2026')).json();
    expect(copy.id).not.toBe(source.id);
    expect(source.signatureCount).toBe(1);
    const signatures = await (await t.request('GET', '/api/v1/campaigns/refugees-2027/signatures')).json();
    expect(signatures.items).toEqual([]);
    // Without a new title the old one is kept, and without dates the copy has none.
    const plain = await (await t.request('POST', '/api/v1/campaigns/refugees-2026/clone', { body: { slug: 'refugees-copy' } })).json();
    expect(plain).toMatchObject({ title: '北朝鮮難民を守れ 2026', opensAt: null, closesAt: null, targetIds: [tokyo, osaka] });
  });

  it('refuses a taken slug (409), an unknown source (404), bad dates (400), and needs a token', async () => {
    t = createTestApp();
    expect((await t.request('POST', '/api/v1/campaigns', { body: { slug: 'source', title: 'Source', locale: 'en' } })).status).toBe(201);
    const taken = await t.request('POST', '/api/v1/campaigns/source/clone', { body: { slug: 'source' } });
    expect(taken.status).toBe(409);
    expect((await taken.json()).error).toMatchObject({ code: 'SLUG_TAKEN', details: [{ path: 'slug', message: 'is taken' }] });
    const unknown = await t.request('POST', '/api/v1/campaigns/nothing-here/clone', { body: { slug: 'next' } });
    expect(unknown.status).toBe(404);
    const dates = await t.request('POST', '/api/v1/campaigns/source/clone', { body: { slug: 'next', opensAt: '2027-09-22T00:00:00Z', closesAt: '2027-09-01T00:00:00Z' } });
    expect(dates.status).toBe(400);
    expect((await dates.json()).error.details).toEqual([{ path: 'closesAt', message: 'must be after opensAt' }]);
    const extra = await t.request('POST', '/api/v1/campaigns/source/clone', { body: { slug: 'next', status: 'open' } });
    expect(extra.status).toBe(400);
    expect((await t.request('POST', '/api/v1/campaigns/source/clone', { body: { slug: 'next' }, token: null })).status).toBe(401);
    // Nothing half-written by the refusals.
    const list = await (await t.request('GET', '/api/v1/campaigns')).json();
    expect(list.items.map((c: { slug: string }) => c.slug)).toEqual(['source']);
  });
});
