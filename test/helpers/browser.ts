import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`); never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or null. Without a browser they are
 * skipped on a developer's machine (so `npm test` passes on a fresh one) but
 * fail under CI, whose script installs chromium.
 */
export const browserMissing = existsSync(CHROMIUM_PATH) ? null : `no browser at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (browserMissing && process.env.CI) throw new Error(`The browser tests must run in CI, but: ${browserMissing}`);

/** Screenshots land here (ignored by git, kept by CI as artifacts). */
export const SCREENSHOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts/screenshots');

export type TestBrowser = { browser: Browser; close: () => Promise<void> };

/**
 * Headless Debian chromium with the flags this sandbox needs: no sandbox as
 * root, no GPU, no /dev/shm, and no background networking (the closed network
 * refuses Chromium's own connections). Playwright gives it a fresh temporary profile.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

/** Saves a full-page screenshot as `test-artifacts/screenshots/<name>.png` and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** An app served on a free port of 127.0.0.1 for the browser, and how to stop it. */
export type ServedApp = { origin: string; close: () => Promise<void> };

export async function serveOnLoopback(fetch: (request: Request) => Response | Promise<Response>): Promise<ServedApp> {
  const { serve } = await import('@hono/node-server');
  const server = await new Promise<ReturnType<typeof serve>>((ready) => {
    const started = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => ready(started));
  });
  const { port } = server.address() as import('node:net').AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise<void>((done) => server.close(() => done())) };
}
