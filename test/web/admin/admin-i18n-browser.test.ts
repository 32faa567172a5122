import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { browserMissing, launchBrowser, serveOnLoopback, type ServedApp, saveScreenshot, type TestBrowser } from '../../helpers/browser.js';
import { campaignWithEverything } from '../../helpers/dashboard-fixture.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const slug = 'forced-returns';
let t: ReturnType<typeof createTestApp>;
let server: ServedApp;
let origin: string;
let browser: TestBrowser;
let sessionCookie: string;
let ids: Awaited<ReturnType<typeof campaignWithEverything>>;

beforeAll(async () => {
  if (browserMissing) return;
  t = createTestApp();
  ids = await campaignWithEverything(t, slug);
  // Signed in over app.request (the sign-in form is another page's concern); the browser gets the session cookie.
  const login = await t.app.request('/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin/campaigns' }).toString(),
  });
  expect(login.status).toBe(303);
  sessionCookie = /signet_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
  server = await serveOnLoopback(t.app.fetch);
  origin = server.origin;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.cleanup();
});

async function signedInPage(locale: string): Promise<Page> {
  const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale, bypassCSP: true });
  await context.addCookies([{ name: 'signet_session', value: sessionCookie, domain: '127.0.0.1', path: '/admin', httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/** No sideways scrolling: long labels wrap instead of pushing the page wider than the window. */
const fitsWindowWidth = (page: Page) => page.evaluate('document.documentElement.scrollWidth <= window.innerWidth') as Promise<boolean>;

type AxeResult = { violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] };

async function seriousViolations(page: Page, label: string) {
  await page.addScriptTag({ content: axeSource });
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as AxeResult;
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ page: label, id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target) }));
}

describe.skipIf(browserMissing !== null)('the dashboard in Japanese and English in a real browser', () => {
  it('has no serious or critical axe violations on the main pages in either language', { timeout: 300_000 }, async () => {
    const page = await signedInPage('en-GB');
    const paths = [
      '/admin/campaigns',
      `/admin/campaigns/${slug}`,
      `/admin/campaigns/${slug}/edit`,
      `/admin/campaigns/${slug}/letters`,
      `/admin/letters/${ids.letterId}`,
      '/admin/mailings',
      `/admin/mailings/${ids.mailingId}`,
      '/admin/mailings/new',
      '/admin/deliveries',
      '/admin/print-queue',
      '/admin/privacy',
      `/admin/abuse?campaign=${slug}`,
      '/admin/audit',
    ];
    const found = [];
    for (const language of ['en', 'ja']) {
      for (const path of paths) {
        const response = await page.goto(`${origin}${path}${path.includes('?') ? '&' : '?'}lang=${language}`);
        expect(response?.status(), path).toBe(200);
        expect(await page.getAttribute('html', 'lang')).toBe(language);
        found.push(...(await seriousViolations(page, `${language} ${path}`)));
      }
    }
    expect(found).toEqual([]);
    await page.context().close();
  });

  it('lays out the campaign page and its edit form in Japanese and English (screenshots), switching language from the header', { timeout: 60_000 }, async () => {
    const page = await signedInPage('ja-JP');
    // A Japanese browser gets the Japanese dashboard without choosing.
    await page.goto(`${origin}/admin/campaigns/${slug}`);
    expect(await page.getAttribute('html', 'lang')).toBe('ja');
    await expect(page.locator('nav[aria-label="管理画面"] a[aria-current="page"]').textContent()).resolves.toBe('キャンペーン');
    await expect(page.locator('svg#chart-days title').first().textContent()).resolves.toBe('日ごとの確認済みの署名数と累計');
    expect(await fitsWindowWidth(page)).toBe(true);
    await saveScreenshot(page, 'admin-campaign-ja');

    await page.goto(`${origin}/admin/campaigns/${slug}/edit`);
    await expect(page.locator('#translation-ja legend').textContent()).resolves.toBe('翻訳：日本語');
    expect(await fitsWindowWidth(page)).toBe(true);
    await saveScreenshot(page, 'admin-campaign-edit-ja');

    // The switch keeps the page and the choice sticks.
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(`**/admin/campaigns/${slug}/edit?lang=en`);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await expect(page.locator('#translation-ja legend').textContent()).resolves.toBe('Translation: Japanese');
    await page.goto(`${origin}/admin/campaigns/${slug}`);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await expect(page.locator('nav[aria-label="Dashboard"] a[aria-current="page"]').textContent()).resolves.toBe('Campaigns');
    expect(await fitsWindowWidth(page)).toBe(true);
    await saveScreenshot(page, 'admin-campaign-en');
    await page.context().close();
  });
});
