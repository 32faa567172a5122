import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totpCode, totpStep } from '../../../src/lib/totp.js';
import { issueOwnerSetupLink } from '../../../src/services/accounts.js';
import { createTestApp } from '../../helpers/app.js';
import { browserMissing, launchBrowser, serveOnLoopback, type ServedApp, saveScreenshot, type TestBrowser } from '../../helpers/browser.js';
import { accountClient, lastAccountEmail, type TestApp } from './account-client.js';
import { invitedMember, MEMBER_PASSWORD, organisationWithCampaigns } from './team-fixture.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let t: TestApp;
let server: ServedApp;
let origin: string;
let browser: TestBrowser;

beforeAll(async () => {
  if (browserMissing) return;
  t = createTestApp();
  server = await serveOnLoopback(t.app.fetch);
  origin = server.origin;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.cleanup();
});

type AxeResult = { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[] };
type Found = { page: string; id: string; impact: string | null; help: string; nodes: unknown[] };

/** A fresh browser; signed in as the client's user when one is given (its session cookie). */
async function browserFor(client?: ReturnType<typeof accountClient>): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', bypassCSP: true });
  const session = client?.jar.get('signet_session');
  if (client) expect(session, 'a signed-in client').toBeDefined();
  if (session) await context.addCookies([{ name: 'signet_session', value: session, domain: '127.0.0.1', path: '/admin', httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

async function seriousViolations(page: Page, label: string): Promise<Found[]> {
  await page.addScriptTag({ content: axeSource });
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as AxeResult;
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ page: label, id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target) }));
}

const withLanguage = (path: string, language: string) => `${path}${path.includes('?') ? '&' : '?'}lang=${language}`;

/** Opens `path` in English and in Japanese and runs axe on each; the violations found. */
async function audit(page: Page, path: string, status = 200): Promise<Found[]> {
  const found: Found[] = [];
  for (const language of ['en', 'ja']) {
    const response = await page.goto(`${origin}${withLanguage(path, language)}`);
    expect(response?.status(), `${language} ${path}`).toBe(status);
    expect(await page.getAttribute('html', 'lang'), path).toBe(language);
    found.push(...(await seriousViolations(page, `${language} ${path}`)));
  }
  return found;
}

/** Signs in through the form and stops at the second step, where the TOTP code is asked for. */
async function signInUntilTotp(page: Page, email: string) {
  await page.goto(`${origin}/admin/login`);
  await page.locator('#f-email').fill(email);
  await page.locator('#f-password').fill(MEMBER_PASSWORD);
  await page.locator('form[action="/admin/login"] button[type="submit"]').click();
  await page.waitForURL('**/admin/login/totp*');
}

describe.skipIf(browserMissing !== null)('the new account and campaign pages of #12 in a real browser', () => {
  it('have no serious or critical axe violations in English or Japanese', { timeout: 300_000 }, async () => {
    const found: Found[] = [];
    const anonymous = await browserFor();

    // Owner setup: the first-start link, before anyone has an account.
    const setupUrl = await issueOwnerSetupLink(t.ctx);
    found.push(...(await audit(anonymous.page, new URL(setupUrl!).pathname)));

    const org = await organisationWithCampaigns(t);
    const roles = (role: string) => ({ [`role:${org.campaignIds.current}`]: role, [`role:${org.campaignIds.cloned}`]: role });
    const editor = await invitedMember(t, org.owner, 'editor@example.org', roles('editor'), '192.0.2.30');
    const withTotp = await invitedMember(t, org.owner, 'second-factor@example.org', roles('viewer'), '192.0.2.31');

    // An invitation still open, so the users page lists it and its link works.
    expect((await org.owner.post('/admin/users', { email: 'invited@example.org', name: '', locale: 'ja', orgRole: '', ...roles('viewer') })).status).toBe(303);
    const invitation = await lastAccountEmail(t, 'invited@example.org');

    // A password reset and a one-time sign-in link, asked for as the forms do.
    const stranger = accountClient(t, '192.0.2.40');
    // A second later than the invitations, so each is the newest email to its address.
    t.clock.advance(1_000);
    expect((await stranger.request('POST', '/admin/forgot', { email: 'editor@example.org' })).status).toBe(200);
    const reset = await lastAccountEmail(t, 'editor@example.org');
    expect(reset.path).toMatch(/^\/admin\/reset\//);
    expect((await stranger.request('POST', '/admin/login/link', { email: 'owner@example.org' })).status).toBe(200);
    const signInLink = await lastAccountEmail(t, 'owner@example.org');
    expect(signInLink.path).toMatch(/^\/admin\/link\//);

    // The signed-out pages.
    for (const path of ['/admin/login', '/admin/login/token', '/admin/login/link', '/admin/forgot', invitation.path, reset.path, signInLink.path]) {
      found.push(...(await audit(anonymous.page, path)));
    }
    found.push(...(await audit(anonymous.page, '/admin/reset/not-a-link-at-all-not-a-link-at-all-not-a-link', 404)));

    // TOTP turned on for one member (a code from the key the account page shows), then asked for at sign-in.
    await withTotp.page('/admin/account');
    expect((await withTotp.post('/admin/account/totp/start')).status).toBe(303);
    const key = /id="totp-secret"[^>]*>([A-Z2-7]+)</.exec((await withTotp.page('/admin/account')).html)?.[1];
    expect(key).toBeDefined();
    const confirmed = await withTotp.post('/admin/account/totp/confirm', { code: await totpCode(base32Decode(key!)!, totpStep(t.clock.now())) });
    expect(confirmed.headers.get('location')).toBe('/admin/account?done=totp-on');
    await signInUntilTotp(anonymous.page, 'second-factor@example.org');
    found.push(...(await audit(anonymous.page, '/admin/login/totp')));
    await anonymous.context.close();

    // The editor half-way through turning TOTP on: the account page shows the key and asks for a code.
    await editor.page('/admin/account');
    expect((await editor.post('/admin/account/totp/start')).status).toBe(303);
    const editing = await browserFor(editor);
    found.push(...(await audit(editing.page, '/admin/account')));
    await expect(editing.page.locator('#totp-secret').count()).resolves.toBe(1);
    await editing.context.close();

    // The owner's pages: account, users (invite form and list), replies, the clone's invitation card, the routing preview.
    const owner = await browserFor(org.owner);
    for (const path of [
      '/admin/account',
      '/admin/users',
      '/admin/campaigns/forced-returns/replies',
      '/admin/campaigns/forced-returns-2028',
      '/admin/campaigns/forced-returns/letters?routing=jurisdiction',
    ]) {
      found.push(...(await audit(owner.page, path)));
    }
    // What the audits were meant to see was there.
    await owner.page.goto(`${origin}/admin/campaigns/forced-returns-2028?lang=en`);
    await expect(owner.page.locator('#invite-previous form').count()).resolves.toBe(1);
    await owner.page.goto(`${origin}/admin/campaigns/forced-returns/letters?routing=jurisdiction&lang=en`);
    await expect(owner.page.locator('details#routing-preview').getAttribute('open')).resolves.not.toBeNull();
    await owner.page.goto(`${origin}/admin/users?lang=en`);
    await expect(owner.page.locator('form[action="/admin/users"]').count()).resolves.toBe(1);
    await expect(owner.page.locator('main').textContent()).resolves.toContain('invited@example.org');

    // The viewer's campaign page, with its note instead of the buttons.
    // (The member with TOTP is a viewer, still signed in from accepting the invitation.)
    const viewer = await browserFor(withTotp);
    found.push(...(await audit(viewer.page, '/admin/campaigns/forced-returns')));
    await expect(viewer.page.locator('#viewer-note').textContent()).resolves.toBe('このキャンペーンは閲覧のみできます（あなたの役割は閲覧者です）。');
    await saveScreenshot(viewer.page, 'accounts-viewer-campaign-ja');
    await viewer.context.close();

    // The audit sees what it should: an unlabelled field is reported, so the empty list below means something.
    const probe = await browserFor();
    await probe.page.setContent('<!doctype html><html lang="en"><head><title>Probe</title></head><body><main><input type="text"></main></body></html>');
    expect((await seriousViolations(probe.page, 'probe')).map((v) => v.id)).toContain('label');
    await probe.context.close();

    expect(found).toEqual([]);

    // Looked at: the users page and the replies page in Japanese.
    await owner.page.goto(`${origin}/admin/users?lang=ja`);
    await saveScreenshot(owner.page, 'accounts-users-ja');
    await owner.page.goto(`${origin}/admin/campaigns/forced-returns/replies?lang=ja`);
    await expect(owner.page.locator('#replies tbody tr').count()).resolves.toBe(1);
    await saveScreenshot(owner.page, 'accounts-replies-ja');
    await owner.context.close();
  });
});
