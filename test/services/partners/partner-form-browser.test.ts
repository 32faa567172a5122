import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureSubmissions } from '../../../src/db/schema.js';
import { catalogs, interpolate, pageLanguages } from '../../../src/web/i18n/index.js';
import { createTestApp } from '../../helpers/app.js';
import { browserMissing, launchBrowser, saveScreenshot, seriousViolations, serveOnLoopback, type ServedApp, type TestBrowser } from '../../helpers/browser.js';
import { openCampaign } from '../../helpers/signing.js';
import { json } from '../access/helpers.js';

const slug = 'partner-in-browser';
const OPT_IN = 'アムネスティ東京が活動についてメールを送ることに同意します。';
let t: ReturnType<typeof createTestApp>;
let server: ServedApp;
let browser: TestBrowser;

beforeAll(async () => {
  if (browserMissing) return;
  // The app learns its own origin (PUBLIC_URL) once it is served: the form's posts are checked against it.
  let app: ReturnType<typeof createTestApp>['app'] | undefined;
  server = await serveOnLoopback((request) => app!.fetch(request));
  t = createTestApp({ publicUrl: server.origin });
  app = t.app;
  await openCampaign(t, slug, { translations: { ja: { title: '北朝鮮難民の強制送還をやめてください' } } });
  await json(await t.request('POST', `/api/v1/campaigns/${slug}/partners`, { body: { code: 'amnesty', name: 'Amnesty Tokyo', optInText: OPT_IN } }), 201);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.cleanup();
});

function newPage(locale: string): Promise<Page> {
  return browser.newPage({ viewport: { width: 1000, height: 900 }, locale, audited: true });
}

describe.skipIf(browserMissing !== null)('the signing form with a partner\'s box in chromium', () => {
  it('shows the box unticked, labelled by the partner\'s text, in every page language and the embed, with no serious axe violation', { timeout: 180_000 }, async () => {
    const page = await newPage('ja-JP');
    for (const language of pageLanguages) {
      for (const view of ['', '/embed']) {
        await page.goto(`${server.origin}/c/${slug}${view}?lang=${language}&ref=amnesty`);
        const box = page.getByRole('checkbox', { name: OPT_IN });
        expect(await box.isVisible(), `${view} ${language}`).toBe(true);
        expect(await box.isChecked()).toBe(false);
        const group = page.getByRole('group', { name: interpolate(catalogs[language].partnerOptInLegend, { partner: 'Amnesty Tokyo' }) });
        expect(await group.isVisible()).toBe(true);
        expect(await seriousViolations(page), `${view} ${language}`).toEqual([]);
        if (language === 'en' || language === 'ja') await saveScreenshot(page, `partner-opt-in-${language}${view ? '-embed' : ''}`);
      }
    }
  });

  it('is ticked by the supporter, kept when the form comes back with an error, and recorded with the partner on signing', { timeout: 120_000 }, async () => {
    const page = await newPage('en-GB');
    await page.goto(`${server.origin}/c/${slug}?lang=en&ref=amnesty`);
    await page.fill('#field-email', 'browser@example.org');
    await page.selectOption('#field-country', 'JP');
    await page.getByText(OPT_IN).click();
    expect(await page.getByRole('checkbox', { name: OPT_IN }).isChecked()).toBe(true);
    await Promise.all([page.waitForLoadState('load'), page.click('form button[type=submit]')]);
    // The name was left empty: the form comes back with the box as the supporter left it.
    expect(await page.locator('#error-summary').isVisible()).toBe(true);
    expect(await page.getByRole('checkbox', { name: OPT_IN }).isChecked()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await saveScreenshot(page, 'partner-opt-in-error-en');

    await page.fill('#field-name', 'Browser Supporter');
    await Promise.all([page.waitForURL(/\/thanks\?lang=en$/), page.click('form button[type=submit]')]);
    const [submission] = await t.database.db.select().from(signatureSubmissions);
    expect(submission?.emailNormalized).toBe('browser@example.org');
    expect(submission?.partnerId).toBeTruthy();
    expect(submission?.partnerOptIn).toBe(true);
  });
});
