import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fraudulentRequests } from '../../../src/db/schema.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { browserMissing, launchBrowser, serveOnLoopback, type ServedApp, type TestBrowser } from '../../helpers/browser.js';
import { openCampaign } from '../../helpers/signing.js';
import { block, signFrom, type TestApp } from '../../helpers/abuse.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let t: TestApp;
let server: ServedApp;
let browser: TestBrowser;
let sessionCookie: string;
let slug: string;

beforeAll(async () => {
  if (browserMissing) return;
  t = createTestApp();
  slug = await openCampaign(t);
  await block(t, 'ip', '203.0.113.66');
  for (const email of ['victim@example.org', 'other@example.net']) {
    t.clock.advance(60_000);
    expect((await signFrom(t, slug, email, '203.0.113.66')).status).toBe(202);
  }
  const login = await t.app.request('/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin/abuse' }).toString(),
  });
  expect(login.status).toBe(303);
  sessionCookie = /signet_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
  server = await serveOnLoopback(t.app.fetch);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.cleanup();
});

async function signedInPage(): Promise<Page> {
  const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', bypassCSP: true });
  await context.addCookies([{ name: 'signet_session', value: sessionCookie, domain: '127.0.0.1', path: '/admin', httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

type AxeResult = { violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] };

async function seriousViolations(page: Page, label: string) {
  await page.addScriptTag({ content: axeSource });
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as AxeResult;
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ page: label, id: v.id, nodes: v.nodes.map((n) => n.target) }));
}

describe.skipIf(browserMissing !== null)('the fraudulent requests on /admin/abuse in a real browser', () => {
  it('has no serious axe violations in English and Japanese, and clears the ticked request', { timeout: 120_000 }, async () => {
    const page = await signedInPage();
    const found = [];
    for (const language of ['en', 'ja']) {
      const response = await page.goto(`${server.origin}/admin/abuse?campaign=${slug}&lang=${language}`);
      expect(response?.status()).toBe(200);
      found.push(...(await seriousViolations(page, language)));
    }
    expect(found).toEqual([]);

    await page.goto(`${server.origin}/admin/abuse?campaign=${slug}&lang=en`);
    const boxes = page.locator('#fraudulent input[type="checkbox"]');
    expect(await boxes.count()).toBe(2);
    // The newest is other@example.net's: its box is named by its domain.
    await page.getByRole('checkbox', { name: /from example\.net$/ }).check();
    await page.getByRole('button', { name: 'Clear the selected requests' }).click();
    await page.waitForURL(`**/admin/abuse?campaign=${slug}&done=cleared&count=1#fraudulent`);
    await expect(page.getByRole('status').textContent()).resolves.toBe('1 fraudulent request cleared.');
    expect(await page.locator('#fraudulent input[type="checkbox"]').count()).toBe(1);
    expect(await t.database.db.select({ email: fraudulentRequests.email }).from(fraudulentRequests)).toEqual([{ email: 'victim@example.org' }]);
    await page.context().close();
  });
});
