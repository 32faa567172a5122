import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatures } from '../../../src/db/schema.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { browserMissing, launchBrowser, saveScreenshot, serveOnLoopback, type ServedApp, type TestBrowser } from '../../helpers/browser.js';
import { openCampaign } from '../../helpers/signing.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SLUG = 'forced-returns';
let t: ReturnType<typeof createTestApp>;
let server: ServedApp;
let browser: TestBrowser;
let sessionCookie: string;
let dir: string;

beforeAll(async () => {
  if (browserMissing) return;
  t = createTestApp();
  dir = mkdtempSync(join(tmpdir(), 'signet-paper-browser-'));
  await openCampaign(t, SLUG, { locale: 'ja', title: '強制送還をやめて', translations: { en: { title: 'Stop the forced returns' } } });
  const login = await t.app.request('/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin/campaigns' }).toString(),
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
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type AxeResult = { violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] };

async function seriousViolations(page: Page) {
  await page.addScriptTag({ content: axeSource });
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as AxeResult;
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target) }));
}

describe.skipIf(browserMissing !== null)('the street signatures page, in a real browser', () => {
  it('an organiser downloads the sheet, checks a typed-up file, sees the bad row, and imports the others', { timeout: 180_000 }, async () => {
    // The page runs no script of its own; the CSP is bypassed only so axe-core can be injected.
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'ja-JP', acceptDownloads: true, bypassCSP: true });
    await context.addCookies([{ name: 'signet_session', value: sessionCookie, domain: '127.0.0.1', path: '/admin', httpOnly: true, sameSite: 'Strict' }]);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);

    await page.goto(`${server.origin}/admin/campaigns/${SLUG}?lang=ja`);
    await Promise.all([page.waitForURL(`**/admin/campaigns/${SLUG}/paper`), page.getByRole('link', { name: '街頭署名' }).click()]);
    expect(await seriousViolations(page)).toEqual([]);
    await saveScreenshot(page, 'paper-1-page-ja');

    await page.getByLabel('英語').check();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '署名用紙をダウンロード（PDF）' }).click()]);
    const pdf = join(dir, 'sheet.pdf');
    await download.saveAs(pdf);
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');

    const csv = join(dir, 'shinjuku.csv');
    writeFileSync(csv, ['name,email,region,name_on_letter,updates', '山田 花子,hanako@example.jp,東京都,full,yes', '佐藤 健,,大阪府,,', '名無し,壊れた@,JP-13,,'].join('\n'));
    await page.getByLabel('CSV ファイル').setInputFiles(csv);
    await page.getByLabel('活動名（任意）').fill('新宿駅前');
    await page.getByLabel('国の記入がない行の国（任意、例：JP）').fill('JP');
    await page.getByRole('button', { name: 'ファイルを確認する' }).click();
    await expect(page.locator('#check-report').textContent()).resolves.toContain('3行：新しい署名 2件、既存の署名と統合 0件（1回だけ数えます）、問題のある行 1件。');
    await expect(page.locator('#rejected-rows').textContent()).resolves.toContain('メールアドレスではありません');
    expect(await seriousViolations(page)).toEqual([]);
    await saveScreenshot(page, 'paper-2-check-ja');

    await page.getByLabel('問題のある行を除いて、ほかの行を取り込む').check();
    await Promise.all([page.waitForURL(/\/paper\?imported=/), page.getByRole('button', { name: '取り込む', exact: true }).click()]);
    await expect(page.locator('#import-done').textContent()).resolves.toBe('取り込みました：新しい署名 2件、統合 0件、除外 1件。');
    await expect(page.locator('#paper-imports').textContent()).resolves.toContain('新宿駅前');
    await saveScreenshot(page, 'paper-3-imported-ja');
    const [stored] = await t.database.db.select({ n: count() }).from(signatures);
    expect(stored!.n).toBe(2);
    await context.close();
  });
});
