import Sqlite from 'better-sqlite3';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, launchBrowser, saveScreenshot, type TestBrowser } from '../../helpers/browser.js';
import { startServerWithSmtp, type ServerProcess, type ServerWithSmtp } from '../../helpers/server-process.js';
import { waitFor } from '../../helpers/wait.js';
import { parseMail } from '../../mail/helpers/mime.js';
import type { TestSmtpServer } from '../../mail/helpers/smtp-server.js';

const adminToken = 'journey-admin-token-0123456789abcdef';
const slug = 'nk-refugees-journey';
const title = '北朝鮮難民の強制送還をやめてください';

let dir: string;
let smtp: TestSmtpServer;
let server: ServerProcess;
let running: ServerWithSmtp | undefined;
let browser: TestBrowser;

beforeAll(async () => {
  if (browserMissing) return;
  running = await startServerWithSmtp('admin-journey', adminToken, { SIGN_RATE_LIMIT: 'off' });
  ({ dir, smtp, server } = running);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

const organiser = () => ({ authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' });

/** A supporter signs through the public API and confirms with the link from the real email. */
async function signAndConfirm(email: string, body: Record<string, unknown>) {
  const api = `${server.url}/api/v1`;
  const signed = await fetch(`${api}/campaigns/${slug}/signatures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, locale: 'ja', consent: { nameOnLetter: 'full', updates: true }, ...body }),
  });
  expect(signed.status).toBe(202);
  const mail = await waitFor(`mail to ${email}`, () => smtp.received.find((m) => m.rcptTo.includes(email)));
  const text = parseMail(mail.raw).leaves.find((leaf) => leaf.contentType === 'text/plain')!.text;
  const token = /\/confirm\/([A-Za-z0-9_-]+)/.exec(text)![1]!;
  const confirmed = await fetch(`${api}/signatures/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(confirmed.status).toBe(200);
}

/** The wall clock in Tokyo `minutes` from now, as a datetime-local value. */
function tokyoLocal(minutesFromNow: number): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Tokyo',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(Date.now() + minutesFromNow * 60_000));
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`;
}

async function collectPageErrors(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.text()} ${message.location().url}`);
  });
  return errors;
}

describe.skipIf(browserMissing !== null)('organisers\u2019 dashboard in a real browser', () => {
  it('signs in, creates and opens a Japanese campaign, sees its charts, generates letters and follows a mailing live', async () => {
    const target = await fetch(`${server.url}/api/v1/targets`, {
      method: 'POST',
      headers: organiser(),
      body: JSON.stringify({
        name: '中華人民共和国駐日本国大使館',
        organisation: '中華人民共和国大使館',
        kind: 'embassy',
        email: 'embassy@example.org',
        language: 'ja',
        postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
      }),
    });
    expect(target.status).toBe(201);

    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
    // The browser asks for Japanese, which the dashboard would follow; this organiser chose English before (the dashboard's cookie).
    await context.addCookies([{ name: 'admin_lang', value: 'en', domain: new URL(server.url).hostname, path: '/admin' }]);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const pageErrors = await collectPageErrors(page);

    // Sign in (a page without a session goes to the sign-in page and comes back).
    await page.goto(`${server.url}/admin/campaigns`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await saveScreenshot(page, 'admin-login');
    // People sign in with a password; scripts and older setups use the API-token form one link away.
    await page.getByRole('link', { name: 'Sign in with an API token' }).click();
    await page.getByLabel('API token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/admin/campaigns');

    // Create the campaign with a Japanese title.
    await page.getByRole('link', { name: 'New campaign' }).click();
    // Exact: the translations' fields are "Title (English)", "Summary (English)"…
    await page.getByLabel('Title', { exact: true }).fill(title);
    await page.getByLabel('Slug').fill(slug);
    await page.getByLabel('Main language').selectOption('ja');
    await page.getByLabel('Time zone').selectOption('Asia/Tokyo');
    await page.getByLabel('Summary', { exact: true }).fill('中国政府に、脱北者を北朝鮮へ送り返さないよう求める請願です。');
    await page.getByLabel('Goal').fill('1000');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.waitForURL(`**/admin/campaigns/${slug}?done=created`);
    await expect(page.locator('h1').textContent()).resolves.toBe(title);

    // Attach the target and open the campaign.
    // Ticked through "Select all", which the script shows and which ticks every box of the directory.
    const attach = page.getByRole('group', { name: 'Attach targets from the directory' });
    await attach.getByLabel('Select all').check();
    await expect(attach.getByRole('checkbox', { name: /中華人民共和国駐日本国大使館/ }).isChecked()).resolves.toBe(true);
    await saveScreenshot(page, 'admin-attach-targets');
    await page.getByRole('button', { name: 'Attach the ticked targets' }).click();
    await page.waitForURL('**?done=attached');
    await expect(page.locator('#campaign-targets').textContent()).resolves.toContain('中華人民共和国駐日本国大使館');
    await page.getByRole('button', { name: 'Open for signatures' }).click();
    await page.waitForURL('**?done=opened');
    await expect(page.locator('.status').first().textContent()).resolves.toBe('open');

    // The campaign's link and embed code copy with one click each (the script shows the buttons).
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const sharing = page.locator('#sharing + .card');
    await sharing.locator('[data-copy="share-url"]').click();
    await sharing.locator('#share-url-status', { hasText: 'Copied.' }).waitFor();
    const clipboard = () => page.evaluate('navigator.clipboard.readText()') as Promise<string>;
    await expect(clipboard()).resolves.toBe(`http://signet.example/c/${slug}?lang=ja`);
    await sharing.locator('[data-copy="embed-code"]').click();
    await sharing.locator('#embed-code-status', { hasText: 'Copied.' }).waitFor();
    await expect(clipboard()).resolves.toMatch(new RegExp(`^<iframe src="http://signet.example/c/${slug}/embed\\?lang=ja" title="${title}"`));
    await saveScreenshot(page, 'admin-campaign-sharing');

    // Supporters sign and confirm through the real API and real email.
    await signAndConfirm('hanako@example.jp', { name: '山田 花子', country: 'JP', region: 'JP-13', city: '港区' });
    await signAndConfirm('taro@example.jp', { name: '佐藤 太郎', country: 'JP', region: 'JP-27', city: '大阪市' });
    await signAndConfirm('minji@example.kr', { name: '김민지', country: 'KR', region: 'KR-11', city: '서울' });

    await page.goto(`${server.url}/admin/campaigns`);
    await expect(page.getByRole('link', { name: title }).count()).resolves.toBe(1);
    await saveScreenshot(page, 'admin-campaigns');

    await page.getByRole('link', { name: title }).click();
    await page.waitForURL(`**/admin/campaigns/${slug}`);
    await expect(page.locator('svg#chart-days rect.bar.day').count()).resolves.toBeGreaterThanOrEqual(1);
    await expect(page.locator('svg#chart-countries rect.hbar').count()).resolves.toBe(2);
    await expect(page.locator('svg#chart-regions rect.hbar').count()).resolves.toBe(3);
    await expect(page.locator('svg#chart-regions').textContent()).resolves.toContain('Tokyo (JP-13)');
    await saveScreenshot(page, 'admin-campaign-detail');

    // Letters: generate a batch, then preview a letter in the frame.
    await page.getByRole('link', { name: 'Letters', exact: true }).click();
    await page.getByRole('button', { name: 'Generate letters' }).click();
    await page.waitForURL(/done=generated/);
    await expect(page.locator('section[id^="batch-"]').count()).resolves.toBe(1);
    await saveScreenshot(page, 'admin-letters');
    const pdfResponse = page.waitForResponse((res) => /\/admin\/letters\/[0-9a-f-]{36}\/pdf$/.test(res.url()));
    await page.getByRole('link', { name: 'Preview' }).first().click();
    const pdf = await pdfResponse;
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect(pdf.headers()['content-disposition']).toMatch(/^inline;/);
    await expect(page.locator('iframe.letter-frame').count()).resolves.toBe(1);
    // Give Chromium's PDF viewer a moment to draw the first page before the screenshot.
    await page.waitForTimeout(2000);
    await saveScreenshot(page, 'admin-letter-preview');

    // A letters mailing for a future morning in Tokyo: its detail page shows the progress, connected live.
    await page.goto(`${server.url}/admin/mailings/new?campaign=${slug}`);
    await expect(page.locator('#f-timeZone option').first().getAttribute('value')).resolves.toBe('Asia/Tokyo');
    await page.getByLabel('Send at').fill('2030-09-22T09:00');
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.waitForURL(/\/admin\/mailings\/[0-9a-f-]{36}\?done=scheduled/);
    await expect(page.locator('[data-events]').getAttribute('data-live')).resolves.toMatch(/connecting|live/);
    await page.waitForSelector('[data-events][data-live="live"]');
    await expect(page.locator('.facts').textContent()).resolves.toContain('2030-09-22 09:00 (Asia/Tokyo) = 2030-09-22 00:00 UTC');

    // A dry-run update due two minutes from now, moved to now in the database so the runner takes it at once:
    // the counters change through the event stream, without a reload.
    await page.goto(`${server.url}/admin/mailings/new?campaign=${slug}`);
    await page.getByLabel('An update email to supporters who agreed to updates').check();
    await page.getByLabel('Send at').fill(tokyoLocal(2));
    await page.getByLabel('Subject (update)').fill('ご署名ありがとうございました');
    await page.getByLabel('Text (update, Markdown)').fill('# ありがとうございます\n\n手紙を届けました。');
    await page.getByLabel(/Dry run/).check();
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.waitForURL(/\/admin\/mailings\/[0-9a-f-]{36}\?done=scheduled/);
    await page.waitForSelector('[data-events][data-live="live"]');
    const mailingId = /\/admin\/mailings\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await expect(page.locator('[data-field="total"]').textContent()).resolves.toBe('0');
    await expect(page.locator('[data-field="startedAt"]').textContent()).resolves.toBe('not yet');
    const db = new Sqlite(join(dir, 'signet.db'));
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('update mailings set send_at = ? where id = ?').run(Date.now() - 1000, mailingId);
    } finally {
      db.close();
    }
    await page.waitForSelector('[data-events][data-live="ended"]', { timeout: 30_000 });
    await expect(page.locator('[data-field="status"]').textContent()).resolves.toBe('finished');
    await expect(page.locator('[data-field="total"]').textContent()).resolves.toBe('3');
    await expect(page.locator('output').textContent()).resolves.toBe('100%');
    // The start and finish times came with the events too: no reload needed to see when it ran.
    await expect(page.locator('[data-field="startedAt"]').textContent()).resolves.toMatch(/\d{1,2}:\d{2} \(Asia\/Tokyo\)$/);
    await expect(page.locator('[data-field="finishedAt"]').textContent()).resolves.toMatch(/\d{1,2}:\d{2} \(Asia\/Tokyo\)$/);
    expect(Number(await page.locator('[data-events]').getAttribute('data-updates'))).toBeGreaterThanOrEqual(2);
    await expect(page.locator('[data-actions]').isHidden()).resolves.toBe(true);
    await saveScreenshot(page, 'admin-mailing-detail');

    expect(pageErrors).toEqual([]);
    await context.close();
  }, 90_000);
});
