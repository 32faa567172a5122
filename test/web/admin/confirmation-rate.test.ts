// The confirmation rate (issue #21): requests made and confirmed per day, in the campaign stats
// and as a chart on the dashboard's campaign page (en and ja), so an organiser sees when mail is
// not arriving. Through the API and the dashboard on a real SQLite file; the clock is the app's.
import { afterEach, describe, expect, it } from 'vitest';
import { adminBrowser } from '../../helpers/admin-client.js';
import { createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, signature } from '../../helpers/signing.js';

const DAY = 86_400_000;
let t: ReturnType<typeof createTestApp>;
afterEach(async () => {
  await t.cleanup();
});

async function request(slug: string, email: string) {
  expect((await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature(email) })).status).toBe(202);
}
async function confirm(email: string) {
  const token = await latestConfirmToken(t, email);
  expect((await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } })).status).toBe(200);
}

/** A week in Tokyo: a request long gone, then a good day, a day the mail did not arrive, and today. */
async function week(slug: string) {
  // 2027-09-01 09:00 in Tokyo: older than every held link by the end, so not counted.
  await request(slug, 'old@example.org');
  t.clock.advance(8 * DAY);
  // 2027-09-09: four requests, three confirmed (one supporter asked twice).
  for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) await request(slug, email);
  await request(slug, 'a@example.org');
  for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) await confirm(email);
  // 2027-09-10: five requests, none confirmed.
  t.clock.advance(DAY);
  for (let i = 0; i < 5; i++) await request(slug, `lost${i}@example.org`);
  // 2027-09-12 (none on the 11th): one, confirmed.
  t.clock.advance(2 * DAY);
  await request(slug, 'today@example.org');
  await confirm('today@example.org');
}

describe('the confirmation rate', () => {
  it('is in the campaign stats: requests made and confirmed per day in the campaign\'s time zone, for the days whose requests are all held', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'rate-test');
    await week(slug);
    const res = await t.request('GET', `/api/v1/campaigns/${slug}/stats`);
    expect(res.status).toBe(200);
    const stats = (await res.json()) as { confirmationRate: unknown; byDay: { date: string; confirmed: number }[] };
    expect(stats.confirmationRate).toEqual({
      since: '2027-09-06',
      byDay: [
        { date: '2027-09-09', requested: 4, confirmed: 3, rate: 0.75 },
        { date: '2027-09-10', requested: 5, confirmed: 0, rate: 0 },
        { date: '2027-09-12', requested: 1, confirmed: 1, rate: 1 },
      ],
    });
    // The confirmed signatures per day are as before (by the day they were confirmed).
    expect(stats.byDay.map((d) => [d.date, d.confirmed])).toEqual([
      ['2027-09-09', 3],
      ['2027-09-12', 1],
    ]);
  });

  it('is drawn on the campaign page as SVG with a bar per day from the first with requests, a table, and texts in English and Japanese', async () => {
    t = createTestApp();
    const client = adminBrowser(t);
    const slug = await openCampaign(t, 'rate-page');
    await week(slug);
    await client.login();

    const { status, html } = await client.page(`/admin/campaigns/${slug}`);
    expect(status).toBe(200);
    const chart = html.slice(html.indexOf('id="chart-rate"'), html.indexOf('</figure>', html.indexOf('id="chart-rate"')));
    // 9 to 12 September: four days, none left out, so a day without requests shows as one.
    expect(chart.match(/<rect class="bar requested" data-date/g)).toHaveLength(4);
    expect(chart).toMatch(/<rect class="bar requested" data-date="2027-09-11" data-requested="0"/);
    expect(chart).toMatch(/<rect class="bar requested" data-date="2027-09-10" data-requested="5"/);
    expect(chart).toMatch(/<rect class="bar confirmed" data-date="2027-09-10" data-confirmed="0"/);
    expect(chart).toContain('<title id="chart-rate-title">Signing requests and confirmations per day, and the share confirmed</title>');
    expect(chart).toContain('10 requests, 4 confirmed (40%)');
    expect(chart).toContain('<td class="num">75%</td>');
    expect(html).toContain('Confirmation rate: requests made and confirmed per day');

    const japanese = await client.page(`/admin/campaigns/${slug}?lang=ja`);
    expect(japanese.status).toBe(200);
    expect(japanese.html).toContain('確認率：日ごとの署名の申し込みと確認');
    expect(japanese.html).toContain('申し込み10件、確認4件（40%）');
  });

  it('says so when no request was made in the days covered', async () => {
    t = createTestApp();
    const client = adminBrowser(t);
    await openCampaign(t, 'rate-none');
    await client.login();
    const { html } = await client.page('/admin/campaigns/rate-none');
    expect(html).toContain('No signing requests in these days.');
    expect(html).not.toContain('id="chart-rate"');
  });
});
