import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, signature } from '../../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

async function signAndConfirm(slug: string, email: string, extra: Record<string, unknown> = {}, confirm = true) {
  const res = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body: signature(email, extra), token: null });
  expect(res.status).toBe(202);
  if (confirm) {
    const token = await latestConfirmToken(t, email);
    expect((await t.request('POST', '/api/v1/signatures/confirm', { body: { token }, token: null })).status).toBe(200);
  }
}

describe('organiser reads of signatures', () => {
  it('lists with a status filter and cursor pagination; needs signatures:read', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      await signAndConfirm(slug, `s${i}@example.org`, {}, i % 2 === 0);
    }
    const page1 = await (await t.request('GET', `/api/v1/campaigns/${slug}/signatures?status=confirmed&limit=2`)).json();
    expect(page1.items.map((s: { email: string }) => s.email)).toEqual(['s4@example.org', 's2@example.org']);
    expect(page1.items[0]).toMatchObject({ status: 'confirmed', country: 'JP', consent: { nameOnLetter: 'none', showPublicly: false, updates: false } });
    const page2 = await (await t.request('GET', `/api/v1/campaigns/${slug}/signatures?status=confirmed&limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2.items.map((s: { email: string }) => s.email)).toEqual(['s0@example.org']);
    expect(page2.nextCursor).toBeNull();
    const pending = await (await t.request('GET', `/api/v1/campaigns/${slug}/signatures?status=pending`)).json();
    expect(pending.items).toHaveLength(2);

    const token = await (await t.request('POST', '/api/v1/tokens', { body: { name: 'c', scopes: ['campaigns'] } })).json();
    expect((await t.request('GET', `/api/v1/campaigns/${slug}/signatures`, { token: token.token })).status).toBe(403);
    expect((await t.request('GET', `/api/v1/campaigns/${slug}/signatures`, { token: null })).status).toBe(401);
    expect((await t.request('GET', `/api/v1/campaigns/${slug}/signatures?status=bogus`)).status).toBe(400);
  });

  it('exports CSV with formula injection neutralised and Unicode intact', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(slug, 'f1@example.org', { name: '=HYPERLINK("http://evil","x")', city: '+81 Tokyo', comment: '@SUM(A1)' });
    await signAndConfirm(slug, 'f2@example.org', { name: '山田 "太郎"', postalCode: '-1+1', comment: 'line one\nline two' });
    const res = await t.request('GET', `/api/v1/campaigns/${slug}/signatures.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${slug}-signatures.csv"`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 BOM for spreadsheets
    const csv = new TextDecoder().decode(bytes);
    expect(csv.startsWith('id,status,name,email')).toBe(true);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csv).toContain(`'+81 Tokyo`);
    expect(csv).toContain(`'@SUM(A1)`);
    expect(csv).toContain(`'-1+1`);
    expect(csv).toContain(`"山田 ""太郎"""`);
    expect(csv).toContain(`"line one\nline two"`);
    expect(csv.trim().split('\r\n')).toHaveLength(3);
    // No cell starts with a formula character once unquoted.
    for (const line of csv.split('\r\n').slice(1)) {
      for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+\-@]/);
    }
    expect((await t.request('GET', '/api/v1/campaigns/nope-nope/signatures.csv')).status).toBe(404);
  });

  it('computes stats by day in the campaign time zone, by country, region and status', async () => {
    t = createTestApp();
    const slug = await openCampaign(t); // Asia/Tokyo
    t.clock.set(Date.UTC(2027, 8, 20, 14, 30)); // 2027-09-20 23:30 JST
    await signAndConfirm(slug, 'd1@example.org', { country: 'JP', region: 'JP-13' });
    t.clock.set(Date.UTC(2027, 8, 20, 15, 30)); // 2027-09-21 00:30 JST
    await signAndConfirm(slug, 'd2@example.org', { country: 'JP', region: 'JP-27' });
    await signAndConfirm(slug, 'd3@example.org', { country: 'KR', region: 'KR-11' });
    await signAndConfirm(slug, 'd4@example.org', { country: 'JP', region: 'JP-13' }, false);
    const res = await t.request('GET', `/api/v1/campaigns/${slug}/stats`);
    expect(res.status).toBe(200);
    const stats = await res.json();
    expect(stats.byStatus).toEqual({ pending: 1, confirmed: 3, invalidated: 0, fraudulent: 0, erased: 0 });
    expect(stats.byDay).toEqual([
      { date: '2027-09-20', confirmed: 1, cumulative: 1 },
      { date: '2027-09-21', confirmed: 2, cumulative: 3 },
    ]);
    expect(stats.byCountry).toEqual([{ country: 'JP', count: 2 }, { country: 'KR', count: 1 }]);
    expect(stats.byRegion).toEqual(expect.arrayContaining([{ country: 'JP', region: 'JP-13', count: 1 }, { country: 'JP', region: 'JP-27', count: 1 }, { country: 'KR', region: 'KR-11', count: 1 }]));
  });

  it('shows public signatures only with consent, as given name + initial and country', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(slug, 'p1@example.org', { name: 'Jane Marie Doe', consent: { showPublicly: true } });
    await signAndConfirm(slug, 'p2@example.org', { name: 'Hidden Person' });
    await signAndConfirm(slug, 'p3@example.org', { name: '山田太郎', country: 'JP', consent: { showPublicly: true } });
    await signAndConfirm(slug, 'p4@example.org', { name: 'Pending Person', consent: { showPublicly: true } }, false);
    // Family name first, with a space: the family name must not show whole.
    await signAndConfirm(slug, 'p5@example.org', { name: '김 민준', country: 'KR', region: 'KR-11', consent: { showPublicly: true } });
    const res = await t.request('GET', `/api/v1/campaigns/${slug}/signatures/public`, { token: null });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.items.map((s: { name: string }) => s.name).sort()).toEqual(['Jane D.', '山.', '김.']);
    const text = JSON.stringify(body);
    for (const secret of ['Doe', 'Hidden', 'Pending', 'example.org', '太郎']) expect(text).not.toContain(secret);
  });
});
