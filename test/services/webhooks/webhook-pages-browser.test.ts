import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhooks } from '../../../src/db/schema.js';
import { openWebhookSecret } from '../../../src/services/webhook-secrets.js';
import { createTestApp } from '../../helpers/app.js';
import { browserMissing, dashboardSession, launchBrowser, saveScreenshot, seriousViolations, serveOnLoopback, type ServedApp, type TestBrowser } from '../../helpers/browser.js';
import { testKeys } from '../../helpers/keys.js';
import { openCampaign, signature } from '../../helpers/signing.js';
import { deliveryFor, drainAll, signAndConfirm, startReceiver } from './helpers.js';

let t: ReturnType<typeof createTestApp>;
let server: ServedApp;
let browser: TestBrowser;
let sessionCookie: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let secret = '';

beforeAll(async () => {
  if (browserMissing) return;
  t = createTestApp({ webhookAllowPrivate: true });
  receiver = await startReceiver({ secret: () => secret, now: () => t.clock.now(), answer: (n) => (n === 1 ? 502 : 200) });
  await openCampaign(t);
  sessionCookie = await dashboardSession(t.app);
  server = await serveOnLoopback(t.app.fetch);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await receiver?.close();
  await t?.cleanup();
});

describe.skipIf(browserMissing !== null)('the webhooks pages, in a real browser', () => {
  it('an organiser adds a webhook, copies its secret shown once, and reads its delivery log, in Japanese and English', { timeout: 180_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, locale: 'ja-JP', session: sessionCookie, audited: true, timeout: 20_000 });

    await page.goto(`${server.origin}/admin/campaigns?lang=ja`);
    await page.getByRole('link', { name: 'Webhook', exact: true }).click();
    await page.waitForURL('**/admin/webhooks');
    expect(await seriousViolations(page)).toEqual([]);

    // No event chosen: the form comes back with the error beside the events.
    await page.getByLabel('送信先アドレス').fill(receiver.url);
    await page.getByRole('button', { name: 'Webhook を追加する' }).click();
    await expect(page.locator('#e-events').textContent()).resolves.toBe('イベントを 1 つ以上選んでください。');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel('署名が確認されたとき').check();
    await page.getByLabel('説明（任意）').fill('CRM への連携');
    await page.getByRole('button', { name: 'Webhook を追加する' }).click();
    secret = await page.getByLabel('署名用シークレット').inputValue();
    expect(secret).toMatch(/^whsec_/);
    const [stored] = await t.database.db.select().from(webhooks);
    expect(await openWebhookSecret(testKeys, stored!.id, stored!.secretSealed)).toBe(secret);
    expect(await seriousViolations(page)).toEqual([]);
    await saveScreenshot(page, 'webhooks-1-secret-ja');

    // Shown once: the list does not show it again.
    await page.goto(`${server.origin}/admin/webhooks`);
    expect(await page.content()).not.toContain(secret);
    await expect(page.locator('main').textContent()).resolves.toContain('CRM への連携');

    // A supporter confirms; the receiver fails once, then takes it.
    await signAndConfirm(t, 'save-refugees', signature('jane@example.org'));
    await drainAll(t, deliveryFor(t));
    expect(receiver.accepted()).toHaveLength(1);

    await page.getByRole('link', { name: '配信ログ' }).click();
    await page.waitForURL(`**/admin/webhooks/${stored!.id}`);
    const rows = page.locator('main tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.nth(0).textContent()).resolves.toContain('配信済み');
    await expect(rows.nth(1).textContent()).resolves.toContain('the receiver answered 502');
    expect(await seriousViolations(page)).toEqual([]);
    await saveScreenshot(page, 'webhooks-2-log-ja');

    await page.goto(`${server.origin}/admin/webhooks/${stored!.id}?lang=en`);
    await expect(page.locator('h1').textContent()).resolves.toBe(`Delivery log: ${receiver.url}`);
    await expect(rows.nth(0).textContent()).resolves.toContain('delivered');
    expect(await seriousViolations(page)).toEqual([]);
    await saveScreenshot(page, 'webhooks-3-log-en');

    await page.goto(`${server.origin}/admin/webhooks`);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL('**/admin/webhooks?done=deleted');
    await expect(page.locator('main').textContent()).resolves.toContain('No webhooks yet.');
    await page.context().close();
  });
});
