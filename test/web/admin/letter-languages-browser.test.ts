import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../../helpers/app.js';
import { browserMissing, launchBrowser, saveScreenshot, serveOnLoopback, type ServedApp, type TestBrowser } from '../../helpers/browser.js';
import { bilingualCampaign, EMBASSY, expectJapaneseThenChinese, OSAKA, pdfPagesOf, SLUG, type TestApp } from '../../letters/bilingual-fixture.js';

/**
 * The letter languages chosen in the dashboard (PRODUCT.md §12), in a real browser: the letters
 * page generates a ja+zh batch and previews a draft, the mailing form schedules a ja+zh letters
 * mailing, and each page says which languages were used. The PDFs are read back.
 */

let t: TestApp;
let idOf: (name: string) => string;
let server: ServedApp;
let browser: TestBrowser;
let sessionCookie: string;

beforeAll(async () => {
  if (browserMissing) return;
  ({ t, idOf } = await bilingualCampaign());
  const login = await t.app.request('/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin/campaigns' }).toString(),
  });
  expect(login.status).toBe(303);
  sessionCookie = /signet_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
  server = await serveOnLoopback(t.app.fetch);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.cleanup();
});

async function signedInPage(): Promise<Page> {
  const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
  await context.addCookies([
    { name: 'signet_session', value: sessionCookie, domain: '127.0.0.1', path: '/admin', httpOnly: true, sameSite: 'Strict' },
    { name: 'admin_lang', value: 'ja', domain: '127.0.0.1', path: '/admin' },
  ]);
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return page;
}

describe.skipIf(browserMissing !== null)('letter languages in the dashboard', () => {
  it('generates and previews Japanese letters with the Chinese translation, and schedules a mailing in both', { timeout: 300_000 }, async () => {
    const page = await signedInPage();
    await page.goto(`${server.origin}/admin/campaigns/${SLUG}/letters`);
    const choice = page.locator('#f-languages');
    // Each target's own language by default; the campaign's Japanese with its targets' Chinese offered both ways.
    await expect(choice.inputValue()).resolves.toBe('');
    await expect(choice.locator('option').allTextContents()).resolves.toEqual(['宛先ごとの言語', '日本語', '中国語', '日本語＋中国語（翻訳）', '中国語＋日本語（翻訳）']);
    await choice.selectOption({ label: '日本語＋中国語（翻訳）' });
    await page.locator('input[name="routing"][value="jurisdiction"]').check();

    // The draft: the same form's choices, opened in a new tab as a PDF.
    await page.locator('#f-target').selectOption(idOf(EMBASSY));
    // Chromium's PDF viewer takes the response over: the bytes are read as they pass.
    let draft: { status: number; type: string | undefined; body: Buffer } | undefined;
    await page.context().route(`**/admin/campaigns/${SLUG}/letters/preview`, async (route) => {
      const response = await route.fetch();
      draft = { status: response.status(), type: response.headers()['content-type'], body: await response.body() };
      await route.fulfill({ response });
    });
    const opened = page.context().waitForEvent('page');
    await page.getByRole('button', { name: '下書きの PDF を表示' }).click();
    await (await opened).waitForLoadState();
    await expect.poll(() => draft?.status).toBe(200);
    expect(draft!.type).toBe('application/pdf');
    expectJapaneseThenChinese(await pdfPagesOf(new Uint8Array(draft!.body)), ['EdoTokyoite', 'KandaBookseller']);

    await page.getByRole('button', { name: '書簡を作成' }).click();
    await page.waitForURL(/done=generated/);
    const batch = page.locator('section[id^="batch-"]').first();
    await expect(batch.locator('h3').textContent()).resolves.toContain('日本語＋中国語');
    const embassyRow = batch.locator('tr', { hasText: EMBASSY });
    await expect(embassyRow.textContent()).resolves.toContain('日本語＋中国語');
    await saveScreenshot(page, 'letters-languages-ja-zh');

    // The letter's download from the list, as the organiser's browser saves it.
    const downloading = page.waitForEvent('download');
    await embassyRow.getByRole('link', { name: 'ダウンロード' }).click();
    const saved = await (await downloading).path();
    expectJapaneseThenChinese(await pdfPagesOf(new Uint8Array(await readFile(saved))), ['EdoTokyoite', 'KandaBookseller']);
    await embassyRow.getByRole('link', { name: 'プレビュー' }).click();
    await page.waitForURL(/\/admin\/letters\/[0-9a-f-]{36}$/);
    await expect(page.locator('.facts').textContent()).resolves.toContain('日本語＋中国語');

    // A letters mailing in both languages: its page says so, and the API agrees.
    await page.goto(`${server.origin}/admin/mailings/new?campaign=${SLUG}`);
    await page.locator('#f-channel').selectOption('print');
    await page.locator('#f-sendAt').fill('2030-09-22T09:00');
    // The form starts with the last batch's languages; a mission this routing leaves without
    // supporters is named before scheduling, and the organiser confirms.
    await expect(page.locator('#f-languages').inputValue()).resolves.toBe('ja,zh');
    await page.locator('#mailing-form button[type="submit"]').click();
    await page.waitForSelector('[data-warnings], .facts');
    if ((await page.locator('[data-warnings]').count()) > 0) {
      await page.locator('input[name="confirmWarnings"]').check();
      await page.locator('#mailing-form button[type="submit"]').click();
      await page.waitForURL(/\/admin\/mailings\/[0-9a-f-]{36}/);
    }
    await expect(page.locator('.facts').textContent()).resolves.toContain('日本語＋中国語');
    await saveScreenshot(page, 'mailing-languages-ja-zh');
    const mailingId = /\/admin\/mailings\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    const mailing = (await (await t.request('GET', `/api/v1/mailings/${mailingId}`)).json()) as { languages: string[] };
    expect(mailing.languages).toEqual(['ja', 'zh']);
  });

  it('refuses a language list outside the letter languages next to the field, and writes nothing', { timeout: 120_000 }, async () => {
    const page = await signedInPage();
    await page.goto(`${server.origin}/admin/campaigns/${SLUG}/letters`);
    const before = await page.locator('section[id^="batch-"]').count();
    // A tampered form: the select offers only the campaign's and its targets' languages.
    await page.evaluate(`document.querySelector('#f-languages option:last-child').value = 'ja,fr'`);
    await page.locator('#f-languages').selectOption('ja,fr');
    const [response] = await Promise.all([page.waitForResponse((res) => res.request().method() === 'POST'), page.getByRole('button', { name: '書簡を作成' }).click()]);
    expect(response.status()).toBe(422);
    await expect(page.locator('#e-languages').textContent()).resolves.toContain('ja, ko, zh');
    await expect(page.locator('section[id^="batch-"]').count()).resolves.toBe(before);
  });

  it('names a target per language from its edit form', { timeout: 120_000 }, async () => {
    const page = await signedInPage();
    const osaka = idOf(OSAKA);
    await page.goto(`${server.origin}/admin/targets/${osaka}/edit`);
    // The shipped names are there (their groups open); the empty Korean group opens to take a name and salutation.
    await expect(page.locator('[name="translations.ja.organisation"]').inputValue()).resolves.toBe('中華人民共和国駐大阪総領事館');
    await expect(page.locator('[name="translations.ko.name"]').isVisible()).resolves.toBe(false);
    await page.locator('summary', { hasText: '韓国語 (ko)' }).click();
    await page.locator('[name="translations.ko.name"]').fill('주오사카 총영사');
    await page.locator('[name="translations.ko.salutation"]').fill('총영사님께');
    await page.getByRole('button', { name: '宛先を保存' }).click();
    await page.waitForURL((url) => !url.pathname.endsWith('/edit'));
    const target = (await (await t.request('GET', `/api/v1/targets/${osaka}`)).json()) as { translations: Record<string, Record<string, string>> };
    expect(target.translations.ko).toEqual({ name: '주오사카 총영사', salutation: '총영사님께' });
    expect(target.translations.ja).toMatchObject({ organisation: '中華人民共和国駐大阪総領事館' });
  });
});
