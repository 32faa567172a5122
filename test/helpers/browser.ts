import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ADMIN_TOKEN } from './app.js';

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

/** How a test's page is opened: each in a fresh context, so pages share no cookies. */
export type PageOptions = {
  viewport: { width: number; height: number };
  locale?: string;
  /** A dashboard session (`dashboardSession`) to be signed in with. */
  session?: string;
  /** Lifts the page's CSP, only so `seriousViolations` can inject axe-core as an inline script. */
  audited?: boolean;
  /** Playwright's default timeout for the page's actions, in ms. */
  timeout?: number;
};

export type TestBrowser = {
  browser: Browser;
  /** A page in a context of its own; close it with `page.context().close()` or with the browser. */
  newPage: (options: PageOptions) => Promise<Page>;
  close: () => Promise<void>;
};

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
    async newPage(options) {
      const context = await browser.newContext({ viewport: options.viewport, ...(options.locale ? { locale: options.locale } : {}), ...(options.audited ? { bypassCSP: true } : {}) });
      if (options.session) await context.addCookies([{ name: 'signet_session', value: options.session, domain: '127.0.0.1', path: '/admin', httpOnly: true, sameSite: 'Strict' }]);
      const page = await context.newPage();
      page.setDefaultTimeout(options.timeout ?? 15_000);
      return page;
    },
    close: () => browser.close(),
  };
}

/**
 * Signs in to the dashboard with the admin token, through the app itself, and returns the
 * session cookie's value for `newPage({ session })`: the browser tests are about the pages
 * after sign-in, which test/web/admin tests on its own.
 */
export async function dashboardSession(app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, next = '/admin/campaigns'): Promise<string> {
  const login = await app.request('/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, next }).toString(),
  });
  expect(login.status).toBe(303);
  return /signet_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

type AxeResult = { violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] };

/** axe-core's serious and critical violations on the whole page as it stands (open it `audited`). */
export async function seriousViolations(page: Page): Promise<{ id: string; nodes: unknown[] }[]> {
  await page.addScriptTag({ content: axeSource });
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as AxeResult;
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target) }));
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
