import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { signAndConfirm } from '../../helpers/signing.js';
import { adminClient, createTarget } from '../replies/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

describe('dashboard: copy a campaign for the next round', () => {
  it('makes a draft with the targets and none of the supporters, in a few clicks, in Japanese too', async () => {
    t = createTestApp();
    const embassy = await createTarget(t, '駐日本国特命全権大使');
    const created = await t.request('POST', '/api/v1/campaigns', {
      body: { slug: 'refugees-2027', title: '北朝鮮難民を守れ 2027', locale: 'ja', timeZone: 'Asia/Tokyo', goal: 500, targetIds: [embassy], translations: { en: { title: 'Protect refugees 2027' } } },
    });
    expect(created.status).toBe(201);
    expect((await t.request('PATCH', '/api/v1/campaigns/refugees-2027', { body: { status: 'open' } })).status).toBe(200);
    await signAndConfirm(t, 'refugees-2027', { name: '山田 花子', email: 'hanako@example.jp', country: 'JP', consent: { nameOnLetter: 'full', updates: true } });

    const admin = adminClient(t);
    await admin.login();
    const detail = await admin.page('/admin/campaigns/refugees-2027?lang=ja');
    expect(detail.html).toContain('href="/admin/campaigns/refugees-2027/clone"');
    expect(detail.html).toContain('次回用にコピー');

    const form = await admin.page('/admin/campaigns/refugees-2027/clone?lang=ja');
    expect(form.res.status).toBe(200);
    expect(form.html).toContain('「北朝鮮難民を守れ 2027」を次回用にコピー');

    // A bad slug and a taken one are shown on the form, nothing is created.
    const bad = await admin.post('/admin/campaigns/refugees-2027/clone', { slug: 'Not A Slug!', title: '' });
    expect(bad.status).toBe(422);
    const taken = await admin.post('/admin/campaigns/refugees-2027/clone', { slug: 'refugees-2027', title: '' });
    expect(taken.status).toBe(409);
    expect(await taken.text()).toContain('is taken');

    const made = await admin.post('/admin/campaigns/refugees-2027/clone', { slug: 'refugees-2028', title: '北朝鮮難民を守れ 2028' });
    expect(made.status).toBe(303);
    expect(made.headers.get('location')).toBe('/admin/campaigns/refugees-2028?done=created');

    const copy = await (await t.request('GET', '/api/v1/campaigns/refugees-2028')).json();
    expect(copy).toMatchObject({ status: 'draft', title: '北朝鮮難民を守れ 2028', goal: 500, timeZone: 'Asia/Tokyo', targetIds: [embassy], signatureCount: 0 });
    expect(copy.translations.en.title).toBe('Protect refugees 2027');
    const supporters = await (await t.request('GET', '/api/v1/campaigns/refugees-2028/signatures')).json();
    expect(supporters.items).toEqual([]);
  });

  it('is not offered to, and refused for, a token limited to the campaign (a copy would be a campaign it cannot reach)', async () => {
    t = createTestApp();
    expect((await t.request('POST', '/api/v1/campaigns', { body: { slug: 'limited-2027', title: 'Limited', locale: 'en' } })).status).toBe(201);
    const token = await t.request('POST', '/api/v1/tokens', { body: { name: 'editor of one', scopes: ['campaigns'], campaigns: ['limited-2027'] } });
    expect(token.status).toBe(201);
    const admin = adminClient(t);
    await admin.login((await token.json()).token);
    const detail = await admin.page('/admin/campaigns/limited-2027');
    expect(detail.res.status).toBe(200);
    expect(detail.html).not.toContain('/admin/campaigns/limited-2027/clone');
    const refused = await admin.post('/admin/campaigns/limited-2027/clone', { slug: 'limited-2028' });
    expect(refused.status).toBe(403);
    expect((await t.request('GET', '/api/v1/campaigns/limited-2028')).status).toBe(404);
  });
});
