import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogs } from '../../../src/web/i18n/index.js';
import { browserMissing, launchBrowser, saveScreenshot, SCREENSHOT_DIR, type TestBrowser } from '../../helpers/browser.js';
import { startServerWithSmtp, type ServerWithSmtp } from '../../helpers/server-process.js';
import { waitFor } from '../../helpers/wait.js';
import { freePort } from '../../helpers/wrangler-dev.js';

const adminToken = 'embed-admin-token-0123456789abcdef';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let running: ServerWithSmtp | undefined;
let browser: TestBrowser;
/** Two blogs on other sites than Signet's (`localhost`, where Signet is `127.0.0.1`): one in EMBED_ORIGINS, one not. */
let allowedBlog: { server: Server; url: string };
let otherBlog: { server: Server; url: string };
const contexts: BrowserContext[] = [];

/** A blog page with the snippet the README gives, pointing at Signet's embed. */
async function startBlog(port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const embed = `${running!.server.url}/c/embed-test/embed?lang=${request.url?.includes('lang=en') ? 'en' : 'ja'}`;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Our blog</title></head><body><main><h1>Our blog</h1>` +
        `<iframe src="${embed}" title="Sign the petition" width="100%" height="800" style="border:0;max-width:40rem" loading="lazy" allow="clipboard-write"></iframe>` +
        `</main></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://localhost:${port}` };
}

beforeAll(async () => {
  if (browserMissing) return;
  const [allowedPort, otherPort] = [await freePort(), await freePort()];
  running = await startServerWithSmtp('embed', adminToken, { EMBED_ORIGINS: `https://blog.example.org, http://localhost:${allowedPort}` });
  allowedBlog = await startBlog(allowedPort);
  otherBlog = await startBlog(otherPort);
  browser = await launchBrowser();

  const api = `${running.server.url}/api/v1`;
  const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const created = await fetch(`${api}/campaigns`, {
    method: 'POST',
    headers: organiser,
    body: JSON.stringify({
      slug: 'embed-test',
      title: 'Stop the forced repatriation of North Korean refugees',
      summary: 'Refugees returned from China face prison camps.',
      locale: 'en',
      timeZone: 'Asia/Tokyo',
      goal: 1000,
      translations: { ja: { title: '北朝鮮難民の強制送還をやめてください', summary: '中国から送還された難民は収容所に送られます。' } },
    }),
  });
  expect(created.status).toBe(201);
  expect((await fetch(`${api}/campaigns/embed-test`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await running?.stop();
  for (const blog of [allowedBlog, otherBlog]) await new Promise((resolve) => blog?.server.close(resolve));
});

async function newPage(options: { locale: string; bypassCSP?: boolean; clipboard?: boolean }): Promise<Page> {
  const context = await browser.browser.newContext({ locale: options.locale, bypassCSP: options.bypassCSP ?? false, viewport: { width: 1024, height: 900 } });
  if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: running!.server.url });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return page;
}

/** The blog page's viewport with the frame in it (a full-page capture does not repaint frames). */
async function frameScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

/** The embed's frame in the blog page, once it has loaded (or failed to). */
async function embedFrame(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('iframe');
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('the iframe has no frame');
  await frame.waitForLoadState('load');
  return frame;
}

describe.skipIf(browserMissing !== null)('the embeddable signing form in chromium', () => {
  it('works inside a frame on an EMBED_ORIGINS site: a supporter signs there, sees the thanks there, and is mailed the link', { timeout: 60_000 }, async () => {
    const page = await newPage({ locale: 'ja-JP' });
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(`${allowedBlog.url}/post`);
    const frame = await embedFrame(page);
    expect(frame.url()).toBe(`${running!.server.url}/c/embed-test/embed?lang=ja`);
    expect(await frame.textContent('h1')).toBe('北朝鮮難民の強制送還をやめてください');
    expect(await frame.textContent('#progress-text')).toBe('目標1,000人のうち0人が署名');
    expect(await frame.textContent('#sign-title')).toBe(catalogs.ja.formHeading);
    await frameScreenshot(page, 'embed-in-blog-ja');

    await frame.fill('#field-name', '佐藤 一郎');
    await frame.fill('#field-email', 'ichiro@example.jp');
    await frame.selectOption('#field-country', 'JP');
    await frame.check('#field-nameOnLetter-initials');
    await Promise.all([frame.waitForURL(/\/c\/embed-test\/embed\/thanks\?lang=ja$/), frame.click('form button[type=submit]')]);
    // The blog page stays; only the frame moved on.
    expect(page.url()).toBe(`${allowedBlog.url}/post`);
    expect(await frame.textContent('h1')).toBe(catalogs.ja.thanksTitle);
    expect(await frame.textContent('#share-title')).toBe(catalogs.ja.shareHeading);
    expect(await frame.getAttribute('#share-url', 'value')).toBe('http://signet.example/c/embed-test?lang=ja');
    await frameScreenshot(page, 'embed-thanks-in-blog-ja');

    const mail = await waitFor('the confirmation email', () => running!.smtp.received.find((m) => m.rcptTo.includes('ichiro@example.jp')));
    expect(mail.raw).toContain('/confirm/');
    expect(consoleErrors).toEqual([]);
  });

  it('is refused by chromium inside a frame on any other site', { timeout: 30_000 }, async () => {
    const page = await newPage({ locale: 'en-US' });
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    const refused = page.waitForEvent('console', (message) => message.text().includes('frame-ancestors'));
    await page.goto(`${otherBlog.url}/post?lang=en`);
    await refused;
    const frame = await embedFrame(page);
    // Chromium replaces a refused document with its own error page: nothing of the form loads.
    expect(frame.url()).toMatch(/^chrome-error:\/\//);
    expect(await frame.locator('#field-name').count()).toBe(0);
    expect(consoleErrors.join('\n')).toContain(
      `Framing '${running!.server.url}/' violates the following Content Security Policy directive: "frame-ancestors https://blog.example.org ${allowedBlog.url}". The request has been blocked.`,
    );
    await saveScreenshot(page, 'embed-refused-elsewhere');

    // The campaign page itself refuses every frame, the allowed blog's included.
    const direct = await fetch(`${running!.server.url}/c/embed-test`);
    expect(direct.headers.get('x-frame-options')).toBe('DENY');
  });

  it('copies the campaign link with the copy button', { timeout: 30_000 }, async () => {
    const page = await newPage({ locale: 'en-US', clipboard: true });
    await page.goto(`${running!.server.url}/c/embed-test?lang=en`);
    await page.click('button[data-copy="share-url"]');
    await page.waitForFunction("document.getElementById('share-status').textContent !== ''");
    expect(await page.textContent('#share-status')).toBe(catalogs.en.shareCopied);
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('http://signet.example/c/embed-test?lang=en');
    await saveScreenshot(page, 'campaign-share-en');
  });

  it('has no serious or critical axe violations on the campaign page, the thanks page and the embed, in Japanese and English', { timeout: 90_000 }, async () => {
    const page = await newPage({ locale: 'ja-JP', bypassCSP: true });
    for (const path of ['/c/embed-test', '/c/embed-test/thanks', '/c/embed-test/embed', '/c/embed-test/embed/thanks']) {
      for (const language of ['ja', 'en']) {
        await page.goto(`${running!.server.url}${path}?lang=${language}`);
        await page.addScriptTag({ content: axeSource });
        type AxeResult = { violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] };
        const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as AxeResult;
        const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target) }));
        expect(bad, `${path}?lang=${language}`).toEqual([]);
        await saveScreenshot(page, `axe${path.replaceAll('/', '-')}-${language}`);
      }
    }
  });
});
