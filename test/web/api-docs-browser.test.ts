import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { browserMissing, launchBrowser, serveOnLoopback, type ServedApp, saveScreenshot, type TestBrowser } from '../helpers/browser.js';

let t: ReturnType<typeof createTestApp>;
let server: ServedApp;
let origin: string;
let browser: TestBrowser;

beforeAll(async () => {
  if (browserMissing) return;
  t = createTestApp();
  server = await serveOnLoopback(t.app.fetch);
  origin = server.origin;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  t?.cleanup();
});

type Violation = { directive: string; blocked: string };

describe.skipIf(browserMissing !== null)('/docs in a real browser', () => {
  it('renders the API reference with every request on 127.0.0.1 and nothing refused by its policy but an eval probe', { timeout: 60_000 }, async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const requested: string[] = [];
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      requested.push(url);
      if (new URL(url).origin === origin) return route.continue();
      elsewhere.push(url);
      return route.abort('blockedbyclient');
    });
    // Every policy violation, reported inside the page as it happens.
    await page.addInitScript({
      content: `window.violations = [];
        document.addEventListener('securitypolicyviolation', (event) => window.violations.push({ directive: event.effectiveDirective, blocked: event.blockedURI }));`,
    });

    const response = await page.goto(`${origin}/docs`);
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Signet API');
    await page.getByText('Create a campaign (as a draft)').first().waitFor();
    await page.waitForLoadState('networkidle');
    await saveScreenshot(page, 'api-docs');

    expect(elsewhere).toEqual([]);
    const paths = requested.map((url) => new URL(url).pathname);
    expect(paths).toEqual(expect.arrayContaining(['/docs', '/api/v1/openapi.json', expect.stringMatching(/^\/docs\/assets\/api-reference-[\d.]+\.js$/)]));
    // Fonts come from the system: nothing was asked for them, here or elsewhere.
    expect(requested.filter((url) => /font|\.woff2?$/i.test(url))).toEqual([]);

    const violations = (await page.evaluate('window.violations')) as Violation[];
    // The bundle's validation library tries `new Function` once to choose its fast path and falls back when refused.
    expect(violations.filter((v) => !(v.directive === 'script-src' && v.blocked === 'eval'))).toEqual([]);
    await context.close();
  });
});
