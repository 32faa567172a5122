import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { browserMissing, dashboardSession, launchBrowser, saveScreenshot, seriousViolations, serveOnLoopback, type ServedApp, type TestBrowser } from '../helpers/browser.js';
import { campaignWithSupportAcrossJapan } from '../helpers/support-map-fixture.js';

const slug = 'map-in-browser';
let t: ReturnType<typeof createTestApp>;
let server: ServedApp;
let browser: TestBrowser;
let sessionCookie: string;

beforeAll(async () => {
  if (browserMissing) return;
  t = createTestApp();
  await campaignWithSupportAcrossJapan(t, slug);
  sessionCookie = await dashboardSession(t.app);
  server = await serveOnLoopback(t.app.fetch);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.cleanup();
});

function newPage(locale: string, signedIn = false): Promise<Page> {
  return browser.newPage({ viewport: { width: 1100, height: 900 }, locale, audited: true, ...(signedIn ? { session: sessionCookie } : {}) });
}

/** What the browser draws for a tile: its fill and its texts, as computed from the stylesheet. */
function drawnTile(page: Page, code: string) {
  // A string, as the test build has no DOM types.
  return page.evaluate(`(() => {
    const g = document.querySelector('[data-region="${code}"]');
    return {
      fill: getComputedStyle(g.querySelector('rect')).fill,
      texts: [...g.querySelectorAll('text')].map((text) => ({ text: text.textContent, fill: getComputedStyle(text).fill })),
      title: g.querySelector('title')?.textContent,
    };
  })()`) as Promise<{ fill: string; texts: { text: string; fill: string }[]; title: string | undefined }>;
}

describe.skipIf(browserMissing !== null)('the map of support in chromium', () => {
  it('draws the campaign page map in every language with no serious axe violation, and never a merged count', { timeout: 180_000 }, async () => {
    const page = await newPage('ja-JP');
    for (const language of ['ja', 'en', 'ko', 'zh']) {
      await page.goto(`${server.origin}/c/${slug}?lang=${language}`);
      const svg = page.locator('.support-map svg[role="img"]');
      expect(await svg.getAttribute('aria-label')).toBeTruthy();
      expect(await svg.isVisible()).toBe(true);
      expect(await page.locator('#support-map-prefectures tbody tr').count()).toBe(3);
      expect(await seriousViolations(page), language).toEqual([]);
    }

    await page.goto(`${server.origin}/c/${slug}?lang=ja`);
    const tokyo = await drawnTile(page, 'JP-13');
    expect(tokyo.texts).toEqual([
      { text: '東京', fill: 'rgb(255, 255, 255)' },
      { text: '7', fill: 'rgb(255, 255, 255)' },
    ]);
    expect(tokyo.fill).toBe('rgb(37, 99, 235)');
    const tottori = await drawnTile(page, 'JP-31');
    expect(tottori).toEqual({ fill: 'rgb(241, 243, 245)', texts: [{ text: '鳥取', fill: 'rgb(55, 65, 81)' }], title: '鳥取県：5人未満（その他の都道府県に含む）' });
    expect(await page.locator('.support-map').innerText()).not.toMatch(/鳥取[^\n]*2/);
    await page.locator('.support-map').scrollIntoViewIfNeeded();
    await page.locator('.support-map').screenshot({ path: (await saveScreenshot(page, 'support-map-page-ja')).replace('.png', '-section.png') });

    // A phone: the map shrinks with the page instead of pushing it sideways.
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.locator('.support-map').screenshot({ path: (await saveScreenshot(page, 'support-map-page-ja-phone')).replace('.png', '-section.png') });
  });

  it('draws the same map on the dashboard, with white text kept on dark tiles despite the dashboard’s own SVG text colour', { timeout: 120_000 }, async () => {
    for (const language of ['en', 'ja']) {
      const page = await newPage(language === 'ja' ? 'ja-JP' : 'en-GB', true);
      await page.goto(`${server.origin}/admin/campaigns/${slug}?lang=${language}`);
      expect(page.url()).toContain(`/admin/campaigns/${slug}`);
      expect(await page.locator('.support-map svg[role="img"]').isVisible()).toBe(true);
      const tokyo = await drawnTile(page, 'JP-13');
      expect(tokyo.texts.map((text) => text.fill)).toEqual(['rgb(255, 255, 255)', 'rgb(255, 255, 255)']);
      expect(await seriousViolations(page), language).toEqual([]);
      await page.locator('.support-map').screenshot({ path: (await saveScreenshot(page, `support-map-dashboard-${language}`)).replace('.png', '-section.png') });
    }
  });
});
