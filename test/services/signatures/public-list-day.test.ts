import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { campaigns, signatures } from '../../../src/db/schema.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

// Issue #9, finding 6: the public list gave each confirmation to the millisecond, which lets
// anyone who saw a supporter at their screen, or read a server log, tie a listed name to a person.
// PRODUCT.md §8: the public list shows no time finer than the day.

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

/** 2 September 2027, 05:30:15.123 in Tokyo: still 1 September in UTC. */
const confirmedAt = Date.UTC(2027, 8, 1, 20, 30, 15, 123);

async function publicSupporter(slug: string) {
  const [campaign] = await t.database.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  await t.database.atomic([
    t.database.db.insert(signatures).values({
      id: 'signature-public-1',
      campaignId: campaign!.id,
      name: 'Jane Marie Doe',
      email: 'jane@example.org',
      emailNormalized: 'jane@example.org',
      country: 'GB',
      locale: 'en',
      showPublicly: true,
      status: 'confirmed',
      createdAt: confirmedAt - 60_000,
      confirmedAt,
    }),
  ]);
}

describe('the public list of supporters', () => {
  it('gives the day of signing in the campaign\'s time zone and no time, in the API', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'public-day', { timeZone: 'Asia/Tokyo' });
    await publicSupporter(slug);
    const res = await t.request('GET', `/api/v1/campaigns/${slug}/signatures/public`, { token: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [{ name: 'Jane D.', country: 'GB', signedAt: '2027-09-02' }] });
  });

  it('shows the date only on the campaign page', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'public-day', { timeZone: 'Asia/Tokyo' });
    await publicSupporter(slug);
    const en = await (await t.app.request(`/c/${slug}?lang=en`)).text();
    expect(en).toContain('<li>Jane D. · United Kingdom · <time datetime="2027-09-02">Sep 2, 2027</time></li>');
    const ja = await (await t.app.request(`/c/${slug}?lang=ja`)).text();
    expect(ja).toContain('<time datetime="2027-09-02">2027/09/02</time>');
    for (const html of [en, ja]) expect(html).not.toMatch(/20:30|05:30|T\d\d:\d\d/);
  });
});
