import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { letterTemplateVersions } from '../../../src/db/schema.js';
import { createTestApp } from '../../helpers/app.js';
import { browserMissing, dashboardSession, launchBrowser, saveScreenshot, seriousViolations, serveOnLoopback, type ServedApp, type TestBrowser } from '../../helpers/browser.js';
import { openCampaign, signAndConfirm } from '../../helpers/signing.js';
import { parsePdfBytes } from '../../letters/helpers.js';

const SLUG = 'forced-returns';
const PAGE = '/admin/templates/embassy-petition/ja';
let t: ReturnType<typeof createTestApp>;
let server: ServedApp;
let browser: TestBrowser;
let sessionCookie: string;

beforeAll(async () => {
  if (browserMissing) return;
  t = createTestApp();
  const target = await t.request('POST', '/api/v1/targets', {
    body: { name: '中華人民共和国駐大阪総領事館', kind: 'consulate', language: 'ja', postalAddress: { lines: ['靭本町3-9-2'], postalCode: '550-0004', city: '大阪市西区', region: '大阪府', country: 'JP' } },
  });
  await openCampaign(t, SLUG, { locale: 'ja', title: '強制送還をやめて', targetIds: [((await target.json()) as { id: string }).id] });
  await signAndConfirm(t, SLUG, { name: '山田花子', email: 'hanako@example.jp', country: 'JP', region: 'JP-27', city: '大阪', consent: { nameOnLetter: 'full', showPublicly: false, updates: false } });
  sessionCookie = await dashboardSession(t.app, '/admin/templates');
  server = await serveOnLoopback(t.app.fetch);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.cleanup();
});

describe.skipIf(browserMissing !== null)('letter templates in the dashboard, in a real browser under its CSP', () => {
  it('an organiser edits the Japanese letter: a typo refused with its line, the draft previewed in the page, saved, used by the next batch, and reset', { timeout: 240_000 }, async () => {
    // The page's own CSP stays on: the preview must work without any inline script.
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, locale: 'ja-JP', session: sessionCookie, timeout: 20_000 });
    const cspErrors: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspErrors.push(message.text());
    });

    await page.goto(`${server.origin}/admin/templates?lang=ja`);
    await expect(page.locator('h1').textContent()).resolves.toBe('書簡テンプレート');
    await saveScreenshot(page, 'templates-1-list-ja');
    await Promise.all([page.waitForURL(`**${PAGE}`), page.locator(`tr[data-template="embassy-petition/ja"] a`).click()]);
    await expect(page.locator('#template-in-use').textContent()).resolves.toBe('使用中: Signet に同梱の初期の文面');
    await expect(page.locator('#f-closing').inputValue()).resolves.toBe('敬具');
    await expect(page.locator('#f-closingAlign').inputValue()).resolves.toBe('right');
    await expect(page.locator('#template-variables').textContent()).resolves.toContain('{{target.postalAddress.lines[]}}');

    // A typo in the third line of the body: refused on the body field, with the line, nothing saved.
    await page.locator('#f-body').fill('時下ますますご清祥のこととお慶び申し上げます。\n\n{{signatures.totl}}名の賛同者を代表し、要請いたします。');
    await Promise.all([page.waitForLoadState('load'), page.locator('#template-form button[type="submit"]:not([formaction])').click()]);
    await expect(page.locator('#e-body').textContent()).resolves.toBe('3行目: 変数「signatures.totl」はありません。変数の一覧と綴りを確認してください。');
    await expect(page.locator('#error-summary').isVisible()).resolves.toBe(true);
    await saveScreenshot(page, 'templates-2-refused-ja');
    expect(await t.database.db.select().from(letterTemplateVersions)).toEqual([]);

    // The corrected draft, previewed in the frame below the form before it is saved. The frame's
    // PDF viewer replaces what the page can read back, so the bytes are taken on their way to it.
    let previewPdf: Buffer | undefined;
    await page.route(`**${PAGE}/preview`, async (route) => {
      const response = await route.fetch();
      previewPdf = await response.body();
      await route.fulfill({ response });
    });
    await page.locator('#f-body').fill('時下ますますご清祥のこととお慶び申し上げます。\n\n{{signatures.total}}名の賛同者を代表し、ツバメの要請をいたします。');
    const [previewResponse] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith(`${PAGE}/preview`)),
      page.locator('#template-preview-button').click(),
    ]);
    expect(previewResponse.status()).toBe(200);
    expect(previewResponse.headers()['content-type']).toBe('application/pdf');
    expect(previewResponse.frame().name()).toBe('template-preview');
    expect(page.url()).toBe(`${server.origin}${PAGE}`);
    const previewText = (await parsePdfBytes(previewPdf!)).pages.join('').replace(/\s+/g, '');
    expect(previewText).toContain('1名の賛同者を代表し、ツバメの要請をいたします。');
    expect(previewText).toContain('中華人民共和国駐大阪総領事館');
    // Time for the frame's viewer to draw the page before the screenshot.
    await page.waitForTimeout(2_500);
    await saveScreenshot(page, 'templates-3-preview-ja');
    expect(await t.database.db.select().from(letterTemplateVersions)).toEqual([]);

    await Promise.all([page.waitForURL(`**${PAGE}?done=saved&version=1`), page.locator('#template-form button[type="submit"]:not([formaction])').click()]);
    await expect(page.locator('#template-done').textContent()).resolves.toBe('保存しました。これから作成する書簡には第1版が使われます。');
    await expect(page.locator('tr[data-current="true"]').getAttribute('data-version')).resolves.toBe('1');
    await saveScreenshot(page, 'templates-4-saved-ja');

    const batch = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } });
    const generated = (await batch.json()) as { templateVersions: Record<string, number>; letters: { id: string }[] };
    expect(generated.templateVersions).toEqual({ ja: 1 });
    const letter = await t.request('GET', `/api/v1/letters/${generated.letters[0]!.id}.pdf`);
    expect((await parsePdfBytes(Buffer.from(await letter.arrayBuffer()))).pages.join('').replace(/\s+/g, '')).toContain('ツバメの要請');

    // Reset asks for the box to be ticked first (the browser refuses the form without it).
    await page.locator('#template-reset button[type="submit"]').click();
    expect(page.url()).toBe(`${server.origin}${PAGE}?done=saved&version=1`);
    await page.locator('#template-reset input[name="confirm"]').check();
    await Promise.all([page.waitForURL(`**${PAGE}?done=reset&version=2`), page.locator('#template-reset button[type="submit"]').click()]);
    await expect(page.locator('#template-done').textContent()).resolves.toBe('初期の文面に戻しました（第2版）。');
    await expect(page.locator('#f-body').inputValue()).resolves.toContain('ノン・ルフールマン原則');
    await expect(page.locator('#template-versions tbody tr').count()).resolves.toBe(3);
    await saveScreenshot(page, 'templates-5-reset-ja');

    expect(cspErrors).toEqual([]);
    await page.context().close();

    // axe is injected as an inline script, so only its own context lifts the CSP.
    const auditPage = await browser.newPage({ viewport: { width: 1280, height: 1000 }, session: sessionCookie, audited: true, timeout: 30_000 });
    for (const path of [`${PAGE}?lang=ja`, `${PAGE}?lang=en`, '/admin/templates?lang=en']) {
      await auditPage.goto(`${server.origin}${path}`);
      expect(await seriousViolations(auditPage), path).toEqual([]);
    }
    await saveScreenshot(auditPage, 'templates-6-list-en');
    await auditPage.context().close();
  });
});
