import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totpCode, totpStep } from '../../../src/lib/totp.js';
import { browserMissing, launchBrowser, saveScreenshot, type TestBrowser } from '../../helpers/browser.js';
import { startServerWithSmtp, type ServerWithSmtp } from '../../helpers/server-process.js';
import { waitFor } from '../../helpers/wait.js';
import { parseMail } from '../../mail/helpers/mime.js';

const adminToken = 'accounts-admin-token-0123456789abcdef';

let running: ServerWithSmtp | undefined;
let browser: TestBrowser;

beforeAll(async () => {
  if (browserMissing) return;
  running = await startServerWithSmtp('accounts', adminToken, { SIGN_RATE_LIMIT: 'off' });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

/** A dashboard link from the server's output or an email, pointed at the running server instead of PUBLIC_URL. */
function local(url: string): string {
  return url.replace('http://signet.example', running!.server.url);
}

/** The `n`-th email to an address (from the real SMTP server), its plain text, and the dashboard link it carries. */
async function mailTo(address: string, n: number, kind: 'invitation' | 'reset') {
  const mail = await waitFor(`mail ${n} to ${address}`, () => running!.smtp.received.filter((m) => m.rcptTo.includes(address))[n - 1]);
  const text = parseMail(mail.raw).leaves.find((leaf) => leaf.contentType === 'text/plain')!.text;
  const link = new RegExp(`http://signet\\.example/admin/${kind}/[A-Za-z0-9_-]{43}`).exec(text);
  expect(link, text).not.toBeNull();
  return { text, url: local(link![0]) };
}

async function campaignTitle(slug: string): Promise<string> {
  const res = await fetch(`${running!.server.url}/api/v1/campaigns/${slug}`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { title: string }).title;
}

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return { context, page };
}

/** Accepts an emailed invitation in a fresh browser: name, password, and the user is signed in. */
async function acceptInvitation(url: string, name: string, password: string) {
  const { context, page } = await newPage();
  await page.goto(url);
  await expect(page.locator('h1').textContent()).resolves.toBe('Accept the invitation');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('New password').fill(password);
  await page.getByRole('button', { name: 'Accept and sign in' }).click();
  await page.waitForURL('**/admin/campaigns');
  return { context, page };
}

async function invite(page: Page, email: string, campaignLabel: string, role: 'editor' | 'viewer') {
  await page.goto(`${running!.server.url}/admin/users`);
  const form = page.locator('form[action="/admin/users"]');
  await form.getByLabel('Email address').fill(email);
  await form.getByLabel(campaignLabel).selectOption(role);
  await form.getByRole('button', { name: 'Send the invitation' }).click();
  await page.waitForURL('**/admin/users?done=invited*');
  await expect(page.locator('table').textContent()).resolves.toContain(email);
}

describe.skipIf(browserMissing !== null)('organisers\u2019 accounts in a real browser', () => {
  it('creates the owner from the first-start link, invites an editor and a viewer by email, and each reaches what their role allows; reset and TOTP work', async () => {
    const server = running!.server;
    // The first start prints the owner-setup link (to the terminal, not the JSON log).
    const setupUrl = await waitFor('the owner-setup link', () => /http:\/\/signet\.example\/admin\/setup\/[A-Za-z0-9_-]{43}/.exec(server.stderr())?.[0]);
    expect(server.stdout()).not.toContain('/admin/setup/');

    // The owner.
    const owner = await newPage();
    await owner.page.goto(local(setupUrl));
    await owner.page.getByLabel('Your name').fill('Aiko Owner');
    await owner.page.getByLabel('Email address').fill('owner@example.org');
    await owner.page.getByLabel('New password').fill('owner password for tests');
    await saveScreenshot(owner.page, 'accounts-owner-setup');
    await owner.page.getByRole('button', { name: 'Create the account' }).click();
    await owner.page.waitForURL('**/admin/campaigns');
    await expect(owner.page.locator('#account-link').textContent()).resolves.toBe('Aiko Owner');

    for (const [slug, title] of [
      ['campaign-a', 'Campaign A'],
      ['campaign-b', 'Campaign B'],
    ]) {
      const res = await fetch(`${server.url}/api/v1/campaigns`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ slug, title, locale: 'en', body: 'Text.' }),
      });
      expect(res.status).toBe(201);
    }

    // Invite an editor of A by email; the editor sets a password and is signed in.
    await invite(owner.page, 'editor@example.org', 'Campaign A (campaign-a)', 'editor');
    await saveScreenshot(owner.page, 'accounts-users');
    const invitation = await mailTo('editor@example.org', 1, 'invitation');
    expect(invitation.text).toContain('Aiko Owner invited you');
    const editor = await acceptInvitation(invitation.url, 'Kenji Editor', 'editor password for tests');

    // Only campaign A: B is not listed and answers 404; no Users page.
    const list = await editor.page.locator('main').textContent();
    expect(list).toContain('Campaign A');
    expect(list).not.toContain('Campaign B');
    const hidden = await editor.page.goto(`${server.url}/admin/campaigns/campaign-b`);
    expect(hidden!.status()).toBe(404);
    expect((await editor.page.goto(`${server.url}/admin/users`))!.status()).toBe(403);

    // The editor works in Japanese: chosen on the account page, saved with the account.
    await editor.page.goto(`${server.url}/admin/account`);
    await editor.page.getByLabel('Dashboard language').selectOption('ja');
    await editor.page.getByRole('button', { name: 'Save', exact: true }).click();
    await editor.page.waitForURL('**/admin/account?done=saved');
    await expect(editor.page.locator('html').getAttribute('lang')).resolves.toBe('ja');
    await expect(editor.page.locator('h1').textContent()).resolves.toBe('アカウント設定');
    await expect(editor.page.locator('main').textContent()).resolves.toContain('保存しました。');
    await saveScreenshot(editor.page, 'accounts-editor-japanese');

    // The editor edits campaign A (the form's own controls, whatever language their labels are in).
    await editor.page.goto(`${server.url}/admin/campaigns/campaign-a/edit`);
    await expect(editor.page.locator('html').getAttribute('lang')).resolves.toBe('ja');
    await editor.page.locator('#f-title').fill('Campaign A, edited');
    await editor.page.locator('form[action="/admin/campaigns/campaign-a"] button[type="submit"]').click();
    await editor.page.waitForURL('**/admin/campaigns/campaign-a?done=saved');
    await expect(campaignTitle('campaign-a')).resolves.toBe('Campaign A, edited');

    // A viewer of A can read it but not change it.
    await invite(owner.page, 'viewer@example.org', 'Campaign A, edited (campaign-a)', 'viewer');
    const viewer = await acceptInvitation((await mailTo('viewer@example.org', 1, 'invitation')).url, 'Mei Viewer', 'viewer password for tests');
    expect((await viewer.page.goto(`${server.url}/admin/campaigns/campaign-a`))!.status()).toBe(200);
    // No edit form, even at its address; the campaign page offers no change either.
    expect((await viewer.page.goto(`${server.url}/admin/campaigns/campaign-a/edit`))!.status()).toBe(403);
    await expect(viewer.page.locator('main').textContent()).resolves.toContain('viewer');
    await expect(viewer.page.locator('form[action="/admin/campaigns/campaign-a"]').count()).resolves.toBe(0);
    // A form posted anyway (the page's form token, the campaign's address) is refused by the service.
    await viewer.page.goto(`${server.url}/admin/campaigns/campaign-a`);
    const csrf = await viewer.page.locator('input[name="_csrf"]').first().inputValue();
    const forged = await viewer.page.evaluate(
      async ({ csrf }) => (await fetch('/admin/campaigns/campaign-a', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, title: 'Changed by the viewer', locale: 'en', timeZone: 'UTC', summary: '', body: 'Text.' }).toString() })).status,
      { csrf },
    );
    expect(forged).toBe(403);
    await expect(campaignTitle('campaign-a')).resolves.toBe('Campaign A, edited');

    // Password reset through the emailed link (the editor's pages are in Japanese now).
    await editor.context.clearCookies();
    await editor.page.goto(`${server.url}/admin/forgot?lang=ja`);
    await editor.page.locator('#f-email').fill('editor@example.org');
    await editor.page.locator('form[action="/admin/forgot"] button[type="submit"]').click();
    await expect(editor.page.locator('main').textContent()).resolves.toContain('リンクをお送りしました');
    const reset = await mailTo('editor@example.org', 2, 'reset');
    expect(reset.text).toContain('パスワードの再設定');
    await editor.page.goto(reset.url);
    await editor.page.locator('#f-password').fill('a brand new editor password');
    await editor.page.locator('form button[type="submit"]').click();
    await editor.page.waitForURL('**/admin/login?done=reset');
    await editor.page.locator('#f-email').fill('editor@example.org');
    await editor.page.locator('#f-password').fill('a brand new editor password');
    await editor.page.locator('form[action="/admin/login"] button[type="submit"]').click();
    await editor.page.waitForURL('**/admin/campaigns');
    // The browser that reset the password keeps the editor's device cookie, only for the sign-in pages.
    const device = (await editor.context.cookies()).find((cookie) => cookie.name.startsWith('signet_device_'));
    expect(device).toMatchObject({ httpOnly: true, path: '/admin/login', sameSite: 'Strict' });

    // TOTP: turned on with a code from the key shown, then asked for at sign-in.
    await editor.page.goto(`${server.url}/admin/account`);
    await editor.page.locator('form[action="/admin/account/totp/start"] button').click();
    const secret = base32Decode((await editor.page.locator('#totp-secret').textContent())!)!;
    await expect(editor.page.locator('#totp-uri').getAttribute('href')).resolves.toMatch(/^otpauth:\/\/totp\/Signet%3Aeditor%40example\.org\?secret=/);
    await editor.page.locator('#f-code').fill(await totpCode(secret, totpStep(Date.now())));
    await editor.page.locator('form[action="/admin/account/totp/confirm"] button').click();
    await editor.page.waitForURL('**/admin/account?done=totp-on');

    // A stranger spends the budget of browsers without the editor's device cookie…
    for (let i = 0; i < 5; i++) {
      const guess = await fetch(`${server.url}/admin/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://signet.example' },
        body: new URLSearchParams({ email: 'editor@example.org', password: `a wrong guess number ${i}` }).toString(),
        redirect: 'manual',
      });
      expect(guess.status).toBe(401);
    }
    // …and the editor, signed out, signs in from this browser all the same.
    await editor.context.clearCookies({ name: /session/ });
    await editor.page.goto(`${server.url}/admin/login`);
    await editor.page.locator('#f-email').fill('editor@example.org');
    await editor.page.locator('#f-password').fill('a brand new editor password');
    await editor.page.locator('form[action="/admin/login"] button[type="submit"]').click();
    await editor.page.waitForURL('**/admin/login/totp*');
    await saveScreenshot(editor.page, 'accounts-totp');
    // The code of the next step: the one used to turn TOTP on may not be used again.
    await editor.page.locator('#f-code').fill(await totpCode(secret, totpStep(Date.now()) + 1));
    await editor.page.locator('form[action="/admin/login/totp"] button[type="submit"]').click();
    await editor.page.waitForURL('**/admin/campaigns');
    await expect(editor.page.locator('#account-link').textContent()).resolves.toBe('Kenji Editor');

    for (const session of [owner, editor, viewer]) await session.context.close();
  }, 240_000);
});
