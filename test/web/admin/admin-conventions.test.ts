import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { adminBrowser } from '../../helpers/admin-client.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';

/**
 * The dashboard in the conventions of the organiser's country and language: addresses in their
 * country's order, regions by name, times in the campaign's zone (saying which), campaigns by
 * their title rather than their slug.
 */

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const SLUG = 'nk-refugees-2027';

/** A Japanese campaign (with an English title) writing to the embassy, one supporter, a print delivery and a letters mailing. */
async function eventDay() {
  t = createTestApp();
  const created = await t.request('POST', '/api/v1/targets', {
    body: {
      name: '中華人民共和国駐日本国大使館',
      kind: 'embassy',
      email: 'embassy@example.org',
      language: 'ja',
      jurisdiction: ['JP-08', 'JP-13'],
      postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
    },
  });
  expect(created.status).toBe(201);
  const targetId = ((await created.json()) as { id: string }).id;
  await openCampaign(t, SLUG, { locale: 'ja', title: '北朝鮮難民を救おう', translations: { en: { title: 'Save North Korean refugees' } }, targetIds: [targetId] });
  await signAndConfirm(t, SLUG, signature('supporter@example.jp', { consent: { nameOnLetter: 'full' } }));
  const batch = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } });
  expect(batch.status).toBe(201);
  const letterId = ((await batch.json()) as { letters: { id: string }[] }).letters[0]!.id;
  const delivery = await t.request('POST', `/api/v1/letters/${letterId}/deliveries`, { body: { channel: 'print' } });
  expect(delivery.status).toBe(201);
  const { createdAt } = (await delivery.json()) as { createdAt: string };
  const mailing = await t.request('POST', '/api/v1/mailings', { body: { campaign: SLUG, kind: 'letters', sendAt: '2027-12-24T10:00', timeZone: 'Asia/Tokyo', dryRun: true } });
  expect(mailing.status, await mailing.clone().text()).toBe(201);
  const client = adminBrowser(t);
  await client.login();
  return { client, createdAt, mailingId: ((await mailing.json()) as { id: string }).id };
}

const tokyoTime = (locale: string, at: string) =>
  `${new Intl.DateTimeFormat(locale, { timeZone: 'Asia/Tokyo', dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(new Date(at))} (Asia/Tokyo)`;

describe('dashboard conventions', () => {
  it('shows a Japanese address in Japanese order and the jurisdiction by name, in Japanese and in English', async () => {
    const { client } = await eventDay();
    const ja = await client.page(`/admin/campaigns/${SLUG}?lang=ja`);
    expect(ja.html).toContain('<td>〒106-0046 東京都港区元麻布3-4-33</td>');
    expect(ja.html).toContain('茨城県、東京都');
    expect(ja.html).not.toMatch(/元麻布3-4-33, 106-0046|JP-08/);
    const en = await client.page(`/admin/campaigns/${SLUG}?lang=en`);
    expect(en.html).toContain('<td>〒106-0046 東京都港区元麻布3-4-33</td>');
    expect(en.html).toContain('Ibaraki, Tokyo');

    const queue = await client.page('/admin/print-queue?lang=ja');
    expect(queue.html).toContain('<td>〒106-0046 東京都港区元麻布3-4-33</td>');
  });

  it('shows the deliveries and the print queue in the campaign\'s time zone, saying so, under the campaign\'s title', async () => {
    const { client, createdAt } = await eventDay();
    for (const path of ['/admin/deliveries?lang=ja', '/admin/print-queue?lang=ja']) {
      const { html } = await client.page(path);
      expect(html, path).toContain(tokyoTime('ja-JP', createdAt));
      expect(html, path).not.toContain('(UTC)');
      expect(html, path).toContain(`<a href="/admin/campaigns/${SLUG}" lang="ja">北朝鮮難民を救おう</a>`);
    }
    const english = await client.page('/admin/deliveries?lang=en');
    expect(english.html).toContain(tokyoTime('en-GB', createdAt));
    expect(english.html).toContain(`<a href="/admin/campaigns/${SLUG}" lang="en">Save North Korean refugees</a>`);
    expect(english.html).not.toContain(`>${SLUG}</a>`);
  });

  it('heads the campaign, its mailings and a mailing with the campaign\'s title in the organiser\'s language, not its slug', async () => {
    const { client, mailingId } = await eventDay();
    const en = await client.page(`/admin/mailings/${mailingId}?lang=en`);
    expect(en.html).toMatch(/<h1>Letters for <a href="\/admin\/campaigns\/nk-refugees-2027" lang="en">Save North Korean refugees<\/a><\/h1>/);
    const ja = await client.page(`/admin/mailings/${mailingId}?lang=ja`);
    expect(ja.html).toMatch(/<h1><a href="\/admin\/campaigns\/nk-refugees-2027" lang="ja">北朝鮮難民を救おう<\/a> の書簡<\/h1>/);
    const list = await client.page(`/admin/mailings?campaign=${SLUG}&lang=en`);
    expect(list.html).toContain('<h1>Mailings · Save North Korean refugees</h1>');
    expect(list.html).toContain('lang="en">Save North Korean refugees</a>');
    const campaign = await client.page(`/admin/campaigns/${SLUG}?lang=en`);
    expect(campaign.html).toContain('<h1 lang="en">Save North Korean refugees</h1>');
    const campaignJa = await client.page(`/admin/campaigns/${SLUG}?lang=ja`);
    expect(campaignJa.html).toContain('<h1 lang="ja">北朝鮮難民を救おう</h1>');
    const letters = await client.page(`/admin/campaigns/${SLUG}/letters?lang=en`);
    expect(letters.html).toContain('← Save North Korean refugees</a>');
  });
});
