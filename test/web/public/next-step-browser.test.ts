// The next step after signing and the confirmation rate chart in Debian's chromium, with axe-core
// (no serious or critical violation), screenshots under test-artifacts/screenshots (issue #21).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { browserMissing, dashboardSession, launchBrowser, saveScreenshot, seriousViolations, serveOnLoopback, type ServedApp, type TestBrowser } from '../../helpers/browser.js';
import { latestConfirmToken, openCampaign, signature } from '../../helpers/signing.js';

const slug = 'next-step-in-browser';
const donationLabels = { en: 'Support our work', ja: '私たちの活動を支援する', ko: '우리의 활동을 후원하기', zh: '支持我们的工作' } as const;
let t: ReturnType<typeof createTestApp>;
let server: ServedApp;
let browser: TestBrowser;
let sessionCookie: string;

beforeAll(async () => {
  if (browserMissing) return;
  t = createTestApp();
  await openCampaign(t, slug, { translations: { ja: { title: '北朝鮮難民を救え' }, ko: { title: '탈북 난민을 구하라' }, zh: { title: '救助朝鲜难民' } } });
  await openCampaign(t, 'second-round', { title: 'Stop forced repatriation', translations: { ja: { title: '強制送還をやめて' }, ko: { title: '강제 송환을 멈춰라' }, zh: { title: '停止强制遣返' } } });
  const nextStep = Object.fromEntries(
    Object.entries(donationLabels).map(([language, label]) => [language, { donation: { url: `https://example.org/donate?lang=${language}`, label }, campaign: 'second-round' }]),
  );
  expect((await t.request('PATCH', `/api/v1/campaigns/${slug}`, { body: { nextStep } })).status).toBe(200);
  // Requests over three days, some confirmed, for the confirmation rate chart.
  for (const [day, emails] of [['a', 'b', 'c', 'd'], ['e', 'f', 'g', 'h', 'i'], ['j', 'k']].entries()) {
    for (const [i, name] of emails.entries()) {
      const email = `${name}@example.org`;
      expect((await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature(email) })).status).toBe(202);
      if (day !== 1 && i % 2 === 0) {
        expect((await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: await latestConfirmToken(t, email) } })).status).toBe(200);
      }
    }
    t.clock.advance(86_400_000);
  }
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
  return browser.newPage({ viewport: { width: 1000, height: 900 }, locale, audited: true, ...(signedIn ? { session: sessionCookie } : {}) });
}

describe.skipIf(browserMissing !== null)('the next step in chromium', () => {
  it('shows the thanks page\'s next step in every language, with no serious axe violation', { timeout: 180_000 }, async () => {
    const page = await newPage('en-GB');
    for (const language of ['en', 'ja', 'ko', 'zh'] as const) {
      await page.goto(`${server.origin}/c/${slug}/thanks?lang=${language}`);
      const donation = page.locator('.next-step a.button');
      expect(await donation.innerText()).toBe(donationLabels[language]);
      expect(await donation.getAttribute('href')).toBe(`https://example.org/donate?lang=${language}`);
      expect(await donation.isVisible()).toBe(true);
      expect(await page.locator('.next-step a[href^="/c/second-round"]').getAttribute('href')).toBe(`/c/second-round?lang=${language}`);
      expect(await page.locator('.share').isVisible()).toBe(true);
      expect(await seriousViolations(page), language).toEqual([]);
      await saveScreenshot(page, `next-step-thanks-${language}`);
    }
    // On a phone nothing pushes the page sideways.
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${server.origin}/c/${slug}/thanks?lang=ja`);
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await saveScreenshot(page, 'next-step-thanks-ja-phone');
  });

  it('shows it after the button confirms the signature, and in the embed', { timeout: 120_000 }, async () => {
    expect((await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature('browser@example.org', { locale: 'ko' }) })).status).toBe(202);
    const token = await latestConfirmToken(t, 'browser@example.org');
    const page = await newPage('ko-KR');
    await page.goto(`${server.origin}/confirm/${token}?lang=ko`);
    await page.locator('main form button[type="submit"]').click();
    await page.waitForSelector('.next-step');
    expect(await page.locator('.next-step a.button').innerText()).toBe(donationLabels.ko);
    expect(await page.locator('.next-step a[href^="/c/second-round"]').innerText()).toBe('강제 송환을 멈춰라');
    expect(await seriousViolations(page)).toEqual([]);
    await saveScreenshot(page, 'next-step-confirmed-ko');

    await page.goto(`${server.origin}/c/${slug}/embed/thanks?lang=en`);
    expect(await page.locator('.next-step a.button').getAttribute('target')).toBe('_blank');
    expect(await seriousViolations(page)).toEqual([]);
    await saveScreenshot(page, 'next-step-embed-thanks-en');
  });

  it('sets it in the dashboard form, and draws the confirmation rate, in English and Japanese, with no serious axe violation', { timeout: 120_000 }, async () => {
    for (const language of ['en', 'ja']) {
      const page = await newPage(language === 'ja' ? 'ja-JP' : 'en-GB', true);
      await page.goto(`${server.origin}/admin/campaigns/${slug}/edit?lang=${language}`);
      const section = page.locator('section.next-step');
      expect(await section.locator('#f-ns_ja_donationUrl').inputValue()).toBe('https://example.org/donate?lang=ja');
      expect(await section.locator('#f-ns_ko_campaign').inputValue()).toBe('second-round');
      expect(await seriousViolations(page), language).toEqual([]);
      await section.screenshot({ path: (await saveScreenshot(page, `next-step-form-${language}`)).replace('.png', '-section.png') });

      await page.goto(`${server.origin}/admin/campaigns/${slug}?lang=${language}`);
      const chart = page.locator('#chart-rate');
      expect(await chart.isVisible()).toBe(true);
      expect(await page.locator('#chart-rate rect.requested').count()).toBeGreaterThanOrEqual(3);
      expect(await seriousViolations(page), language).toEqual([]);
      await page.locator('figure.chart', { has: chart }).screenshot({ path: (await saveScreenshot(page, `confirmation-rate-${language}`)).replace('.png', '-section.png') });
    }
  });
});
