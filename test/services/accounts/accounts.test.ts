import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { accountLinks, adminSessions, auditEvents, campaigns, outbox, users } from '../../../src/db/schema.js';
import { base32Decode, totpCode, totpStep } from '../../../src/lib/totp.js';
import { issueOwnerSetupLink } from '../../../src/services/accounts.js';
import { SIGN_IN_INTERVAL_MS } from '../../../src/services/sign-in-throttle.js';
import { SESSION_IDLE_MS, SESSION_LIFETIME_MS } from '../../../src/services/admin-sessions.js';
import { createTestApp } from '../../helpers/app.js';
import { accountClient, formFields, lastAccountEmail, type TestApp } from './account-client.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const OWNER = { name: 'Aiko Owner', email: 'owner@example.org', password: 'owner password 1234' };

/** The app with its owner created through the first-start link, signed in. */
async function withOwner() {
  t = createTestApp();
  const url = await issueOwnerSetupLink(t.ctx);
  const owner = accountClient(t);
  const res = await owner.request('POST', new URL(url!).pathname, { ...OWNER, locale: 'en' });
  expect(res.status, await res.clone().text()).toBe(303);
  await owner.page('/admin/users');
  return owner;
}

async function createCampaign(slug: string) {
  const res = await t.request('POST', '/api/v1/campaigns', { body: { slug, title: `Campaign ${slug}`, locale: 'en', body: 'Text.' } });
  expect(res.status, await res.clone().text()).toBe(201);
  const [row] = await t.database.db.select().from(campaigns).where(eq(campaigns.slug, slug));
  return row!.id;
}

/** Invites `email` with `roles` (form fields), accepts the mailed invitation with `password`; the new user's client, signed in. */
async function invited(owner: ReturnType<typeof accountClient>, email: string, roles: Record<string, string>, password = 'member password 1234') {
  const res = await owner.post('/admin/users', { email, name: '', locale: 'en', orgRole: '', ...roles });
  expect(res.status, await res.clone().text()).toBe(303);
  const mail = await lastAccountEmail(t, email);
  const member = accountClient(t, '192.0.2.20');
  expect((await member.page(mail.path)).res.status).toBe(200);
  const accepted = await member.request('POST', mail.path, { name: `Member ${email}`, password });
  expect(accepted.status, await accepted.clone().text()).toBe(303);
  return member;
}

describe('owner at first start', () => {
  it('prints a link while nobody has an account; the link creates the owner once and signs them in', async () => {
    t = createTestApp();
    const first = await issueOwnerSetupLink(t.ctx);
    const second = await issueOwnerSetupLink(t.ctx);
    expect(second).toMatch(/^http:\/\/localhost:3000\/admin\/setup\/[A-Za-z0-9_-]{43}$/);
    // Only the link printed last works: each start makes the earlier ones unusable.
    const stale = accountClient(t);
    expect((await stale.page(new URL(first!).pathname)).res.status).toBe(404);
    // Only the SHA-256 of the secret is stored.
    const stored = await t.database.db.select().from(accountLinks);
    expect(stored.map((l) => l.tokenHash).join()).not.toContain(second!.split('/').pop());

    const owner = accountClient(t);
    // The sign-in page, where the README sends newcomers, says where the way in is while nobody has an account.
    const signIn = await owner.page('/admin/login');
    expect(signIn.html).toContain('Nobody has an account yet. Open the owner-setup link that the server printed');
    const form = await owner.page(new URL(second!).pathname);
    expect(form.res.status).toBe(200);
    expect(form.html).toContain('Create the owner account');
    // Opening the link used nothing up (mail scanners and previews fetch links).
    expect((await owner.page(new URL(second!).pathname)).res.status).toBe(200);

    const short = await owner.request('POST', new URL(second!).pathname, { ...OWNER, password: 'short' });
    expect(short.status).toBe(422);
    const emailAsPassword = await owner.request('POST', new URL(second!).pathname, { ...OWNER, password: OWNER.email.toUpperCase() });
    expect(emailAsPassword.status).toBe(422);
    expect(await emailAsPassword.text()).toContain('must not be your email address');

    const created = await owner.request('POST', new URL(second!).pathname, { ...OWNER, locale: 'ja' });
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/admin/campaigns');
    expect((await accountClient(t).page('/admin/login')).html).not.toContain('Nobody has an account yet');
    const cookie = created.headers.getSetCookie().find((c) => c.startsWith('signet_session='))!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/admin');
    const [row] = await t.database.db.select().from(users);
    expect(row).toMatchObject({ email: OWNER.email, orgRole: 'owner', locale: 'ja' });
    expect(row!.passwordHash).toMatch(/^\$scrypt\$/);

    // Signed in, in the language the owner chose; the users page is theirs.
    const usersPage = await owner.page('/admin/users');
    expect(usersPage.res.status).toBe(200);
    expect(usersPage.html).toContain('<html lang="ja">');
    expect(usersPage.html).toContain('ユーザーを招待');

    // Used once: the same link again, or a new link now that a user exists, creates nobody.
    const again = accountClient(t);
    expect((await again.request('POST', new URL(second!).pathname, { ...OWNER, email: 'intruder@example.org' })).status).toBe(404);
    expect(await issueOwnerSetupLink(t.ctx)).toBeNull();
    expect(await t.database.db.select().from(users)).toHaveLength(1);
  });

  it('expires the owner-setup link after 24 hours', async () => {
    t = createTestApp();
    const url = await issueOwnerSetupLink(t.ctx);
    t.clock.advance(24 * 3_600_000 + 1);
    const late = accountClient(t);
    expect((await late.request('POST', new URL(url!).pathname, OWNER)).status).toBe(404);
  });
});

describe('invitations, roles and what each role reaches', () => {
  it('invites an editor of one campaign by email; the editor reaches that campaign only, and a viewer changes nothing', async () => {
    const owner = await withOwner();
    const a = await createCampaign('campaign-a');
    await createCampaign('campaign-b');
    await owner.page('/admin/users');

    const editor = await invited(owner, 'editor@example.org', { [`role:${a}`]: 'editor' });
    const mail = await lastAccountEmail(t, 'editor@example.org');
    expect(mail.message.subject).toBe('You are invited to the Signet dashboard');
    expect(mail.message.text).toContain('Aiko Owner invited you');
    // The outbox holds the link's id, never its secret.
    expect(JSON.stringify(mail.row.message)).not.toContain(mail.path.split('/').pop());
    // The invitation is single use.
    const reuse = accountClient(t);
    expect((await reuse.request('POST', mail.path, { name: 'Someone else', password: 'another password 123' })).status).toBe(404);

    const list = await editor.page('/admin/campaigns');
    expect(list.res.status).toBe(200);
    expect(list.html).toContain('campaign-a');
    expect(list.html).not.toContain('campaign-b');
    expect((await editor.page('/admin/campaigns/campaign-b')).res.status).toBe(404);
    // Not the users page (organisation-wide), and no Users link in the navigation.
    expect((await editor.page('/admin/users')).res.status).toBe(403);
    expect(list.html).not.toContain('href="/admin/users"');

    const viewer = await invited(owner, 'viewer@example.org', { [`role:${a}`]: 'viewer' });
    expect((await viewer.page('/admin/campaigns/campaign-a')).res.status).toBe(200);
    // The editor's form, as the editor would submit it, is valid: the viewer's same submission is refused for the role alone.
    const edit = await editor.page('/admin/campaigns/campaign-a/edit');
    const fields = { ...formFields(edit.html, '/admin/campaigns/campaign-a'), title: 'Changed by a viewer' };
    await viewer.page('/admin/campaigns/campaign-a');
    const refused = await viewer.post('/admin/campaigns/campaign-a', { ...fields, _csrf: /name="_csrf" value="([^"]+)"/.exec((await viewer.page('/admin/campaigns/campaign-a')).html)![1]! });
    expect(refused.status).not.toBe(303);
    expect([403, 422]).toContain(refused.status);
    expect(await refused.text()).toContain('viewer');
    // …and the editor's is saved.
    const saved = await editor.post('/admin/campaigns/campaign-a', { ...fields, title: 'Changed by the editor' });
    expect(saved.status, await saved.clone().text()).toBe(303);
    const [campaign] = await t.database.db.select().from(campaigns).where(eq(campaigns.slug, 'campaign-a'));
    expect(campaign!.title).toBe('Changed by the editor');

    // The audit log names the user who acted, as a user.
    await t.audit.flush();
    const events = await t.database.db.select().from(auditEvents).where(eq(auditEvents.action, 'user.invite'));
    expect(events[0]).toMatchObject({ actorType: 'user', actorName: 'Aiko Owner' });
    expect(events.map((e) => e.objectType)).toEqual(['user', 'user']);
  });

  it('keeps at least one owner, lets admins not touch owners, and ends a removed user\'s sessions at once', async () => {
    const owner = await withOwner();
    const a = await createCampaign('campaign-a');
    const admin = await invited(owner, 'admin@example.org', { orgRole: 'admin' });
    const [ownerRow] = await t.database.db.select().from(users).where(eq(users.email, OWNER.email));
    const [adminRow] = await t.database.db.select().from(users).where(eq(users.email, 'admin@example.org'));

    await owner.page('/admin/users');
    const demoteSelf = await owner.post(`/admin/users/${ownerRow!.id}`, { orgRole: 'admin' });
    expect(demoteSelf.status).toBe(409);
    expect(await demoteSelf.text()).toContain('at least one owner');
    expect((await owner.post(`/admin/users/${ownerRow!.id}/remove`)).status).toBe(409);

    await admin.page('/admin/users');
    expect((await admin.post(`/admin/users/${ownerRow!.id}/remove`)).status).toBe(403);
    expect((await admin.post('/admin/users', { email: 'second-owner@example.org', orgRole: 'owner', locale: 'en' })).status).toBe(403);

    // The owner makes the admin a campaign viewer: the admin's next request already has only that.
    expect((await owner.post(`/admin/users/${adminRow!.id}`, { orgRole: '', [`role:${a}`]: 'viewer' })).status).toBe(303);
    expect((await admin.page('/admin/users')).res.status).toBe(403);
    expect((await admin.page('/admin/campaigns/campaign-a')).res.status).toBe(200);

    expect((await owner.post(`/admin/users/${adminRow!.id}/remove`)).status).toBe(303);
    const after = await admin.request('GET', '/admin/campaigns');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/^\/admin\/login/);
    expect(await t.database.db.select().from(adminSessions).where(eq(adminSessions.userId, adminRow!.id))).toHaveLength(0);
    const again = accountClient(t, '192.0.2.99');
    expect((await again.signIn('admin@example.org', 'member password 1234')).status).toBe(401);
  });
});

describe('the invitation form', () => {
  it('proposes the inviter\'s dashboard language for the invitation email', async () => {
    const owner = await withOwner();
    const selected = (html: string) => /<select[^>]*name="locale"[^>]*>[\s\S]*?<option value="(en|ja)"[^>]*selected/.exec(html)?.[1];
    expect(selected((await owner.page('/admin/users?lang=ja')).html)).toBe('ja');
    expect(selected((await owner.page('/admin/users?lang=en')).html)).toBe('en');
  });
});

describe('an invitation that expired', () => {
  it('lapses after 7 days and can be sent again, the earlier link no longer working', async () => {
    const owner = await withOwner();
    await owner.post('/admin/users', { email: 'late@example.org', locale: 'en', orgRole: 'admin' });
    const first = await lastAccountEmail(t, 'late@example.org');
    t.clock.advance(7 * 24 * 3_600_000 + 1);
    expect((await accountClient(t, '192.0.2.120').page(first.path)).res.status).toBe(404);
    const [user] = await t.database.db.select().from(users).where(eq(users.email, 'late@example.org'));
    await owner.request('POST', '/admin/login', { email: OWNER.email, password: OWNER.password });
    await owner.page('/admin/users');
    expect((await owner.post(`/admin/users/${user!.id}/invitation`)).status).toBe(303);
    const second = await lastAccountEmail(t, 'late@example.org');
    expect(second.path).not.toBe(first.path);
    expect(second.count).toBe(2);
    const accepted = await accountClient(t, '192.0.2.121').request('POST', second.path, { name: 'Late', password: 'late password 12345' });
    expect(accepted.status).toBe(303);
    // Accepted: nothing more to send.
    await owner.page('/admin/users');
    expect((await owner.post(`/admin/users/${user!.id}/invitation`)).status).toBe(409);
  });
});

describe('sign-in with a password', () => {
  it('answers an unknown address, a wrong password and a spent budget alike; the budget refills, one check every 12 minutes', async () => {
    await withOwner();
    const unknown = await accountClient(t, '192.0.2.31').signIn('nobody@example.org', 'whatever password 1');
    const wrong = await accountClient(t, '192.0.2.32').signIn(OWNER.email, 'wrong password 12345');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const message = (html: string) => /<p class="error"[^>]*>([^<]+)</.exec(html)?.[1];
    const wrongMessage = message(await wrong.text());
    expect(wrongMessage).toContain('not right');
    expect(wrongMessage).toContain('sign-in link');
    expect(message(await unknown.text())).toBe(wrongMessage);

    // Four more failures from several addresses spend the budget of clients without this account's device cookie.
    for (let i = 0; i < 4; i++) expect((await accountClient(t, `198.51.100.${i}`).signIn(OWNER.email, `wrong password ${i}xxxxx`)).status).toBe(401);
    const [spent] = await t.database.db.select().from(users).where(eq(users.email, OWNER.email));
    expect(spent!.untrustedBudgetFullAt).toBe(t.clock.now() + 5 * SIGN_IN_INTERVAL_MS);
    // Spent: the right password from a new browser is not even checked, and gets the same answer.
    const right = await accountClient(t, '198.51.100.50').signIn(OWNER.email, OWNER.password);
    expect(right.status).toBe(401);
    expect(message(await right.text())).toBe(wrongMessage);

    // One check comes back every interval; a success gives its check back (the budget counts failures).
    t.clock.advance(SIGN_IN_INTERVAL_MS);
    const later = await accountClient(t, '198.51.100.52').signIn(OWNER.email, OWNER.password);
    expect(later.status).toBe(303);
    const [after] = await t.database.db.select().from(users).where(eq(users.email, OWNER.email));
    expect(after!.untrustedBudgetFullAt).toBe(spent!.untrustedBudgetFullAt);
  });

  it('limits sign-in attempts per client address, whatever the account', async () => {
    await withOwner();
    const client = accountClient(t, '203.0.113.7');
    for (let i = 0; i < 10; i++) expect((await client.signIn(`person${i}@example.org`, 'some password 12345')).status).toBe(401);
    const limited = await client.signIn(OWNER.email, OWNER.password);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Another address is not affected.
    expect((await accountClient(t, '203.0.113.8').signIn(OWNER.email, OWNER.password)).status).toBe(303);
  });

  it('ends a session after two idle hours, or twelve hours however active', async () => {
    await withOwner();
    const client = accountClient(t, '192.0.2.40');
    expect((await client.signIn(OWNER.email, OWNER.password)).status).toBe(303);
    for (let elapsed = 0; elapsed + SESSION_IDLE_MS / 2 < SESSION_LIFETIME_MS; elapsed += SESSION_IDLE_MS / 2) {
      t.clock.advance(SESSION_IDLE_MS / 2);
      expect((await client.request('GET', '/admin/account')).status).toBe(200);
    }
    t.clock.advance(SESSION_IDLE_MS / 2);
    expect((await client.request('GET', '/admin/account')).status).toBe(303);

    expect((await client.signIn(OWNER.email, OWNER.password)).status).toBe(303);
    t.clock.advance(SESSION_IDLE_MS);
    expect((await client.request('GET', '/admin/account')).status).toBe(303);
  });

  it('keeps the API-token sign-in for scripts', async () => {
    await withOwner();
    const client = accountClient(t, '192.0.2.41');
    expect((await client.page('/admin/login/token')).html).toContain('name="token"');
    expect((await client.request('POST', '/admin/login', { token: 'test-admin-token-0123456789abcdef', next: '/admin/campaigns' })).status).toBe(303);
    expect((await client.page('/admin/users')).res.status).toBe(200);
    expect((await client.page('/admin/account')).res.status).toBe(403);
  });
});

describe('mailed links', () => {
  it('resets a password through a one-hour, single-use link; every session of the account ends', async () => {
    const owner = await withOwner();
    const client = accountClient(t, '192.0.2.50');
    const asked = await client.request('POST', '/admin/forgot', { email: OWNER.email });
    const unknown = await client.request('POST', '/admin/forgot', { email: 'nobody@example.org' });
    expect(asked.status).toBe(200);
    expect(unknown.status).toBe(200);
    const text = (html: string) => html.replace(/name="_csrf" value="[^"]*"/, '');
    expect(text(await asked.text())).toBe(text(await unknown.text()));
    expect(await t.database.db.select().from(outbox).where(eq(outbox.recipient, 'nobody@example.org'))).toHaveLength(0);

    const mail = await lastAccountEmail(t, OWNER.email);
    expect(mail.message.subject).toBe('Reset your Signet dashboard password');
    expect((await client.page(mail.path)).res.status).toBe(200);
    expect((await client.request('POST', mail.path, { password: 'brand new password 99' })).status).toBe(303);
    expect((await client.request('POST', mail.path, { password: 'yet another password 1' })).status).toBe(404);
    // The owner's earlier session ended with the change.
    expect((await owner.request('GET', '/admin/users')).status).toBe(303);
    expect((await client.signIn(OWNER.email, OWNER.password)).status).toBe(401);
    expect((await client.signIn(OWNER.email, 'brand new password 99')).status).toBe(303);

    // A later link expires after an hour.
    await client.request('POST', '/admin/forgot', { email: OWNER.email });
    const late = await lastAccountEmail(t, OWNER.email);
    t.clock.advance(3_600_000 + 1);
    expect((await client.page(late.path)).res.status).toBe(404);
  });

  it('mails at most three links an hour to one account, and limits requests per client address', async () => {
    await withOwner();
    for (let i = 0; i < 5; i++) expect((await accountClient(t, `192.0.2.${60 + i}`).request('POST', '/admin/login/link', { email: OWNER.email })).status).toBe(200);
    const sent = await t.database.db.select().from(outbox).where(eq(outbox.recipient, OWNER.email));
    expect(sent.filter((r) => r.kind === 'account')).toHaveLength(3);
    const one = accountClient(t, '192.0.2.70');
    for (let i = 0; i < 5; i++) expect((await one.request('POST', '/admin/forgot', { email: `x${i}@example.org` })).status).toBe(200);
    expect((await one.request('POST', '/admin/forgot', { email: 'x@example.org' })).status).toBe(429);
  });

  it('signs in with a sign-in link once (a GET uses nothing up); the link lasts 15 minutes', async () => {
    await withOwner();
    const client = accountClient(t, '192.0.2.80');
    await client.request('POST', '/admin/login/link', { email: OWNER.email });
    const mail = await lastAccountEmail(t, OWNER.email);
    expect(mail.message.subject).toBe('Your sign-in link for the Signet dashboard');
    expect((await client.page(mail.path)).res.status).toBe(200);
    const used = await client.request('POST', mail.path, {});
    expect(used.status).toBe(303);
    expect((await client.page('/admin/account')).res.status).toBe(200);
    expect((await accountClient(t, '192.0.2.81').request('POST', mail.path, {})).status).toBe(404);

    await client.request('POST', '/admin/login/link', { email: OWNER.email });
    const late = await lastAccountEmail(t, OWNER.email);
    t.clock.advance(15 * 60_000 + 1);
    expect((await accountClient(t, '192.0.2.82').request('POST', late.path, {})).status).toBe(404);

    // Expired links are swept when a new one is made (after the hour the per-account limit counts them).
    t.clock.advance(3_600_000);
    await accountClient(t, '192.0.2.83').request('POST', '/admin/login/link', { email: OWNER.email });
    const left = await t.database.db.select().from(accountLinks);
    expect(left.filter((l) => l.expiresAt < t.clock.now())).toEqual([]);
    expect(left.filter((l) => l.purpose === 'sign_in')).toHaveLength(1);
  });
});

describe('two-step sign-in (TOTP)', () => {
  it('turns on only with a right code, then asks for a code after the password and refuses a code used before', async () => {
    const owner = await withOwner();
    await owner.page('/admin/account');
    expect((await owner.post('/admin/account/totp/start')).status).toBe(303);
    const setup = await owner.page('/admin/account');
    const secretText = /id="totp-secret">([A-Z2-7]+)</.exec(setup.html)![1]!;
    expect(setup.html).toContain('otpauth://totp/Signet%3Aowner%40example.org?secret=');
    const secret = base32Decode(secretText)!;
    // The secret is sealed: the database alone does not give it.
    const [sealed] = await t.database.db.select().from(users);
    expect(sealed!.totpSecretSealed).toMatch(/^v1\./);
    expect(sealed!.totpSecretSealed).not.toContain(secretText);

    expect((await owner.post('/admin/account/totp/confirm', { code: '000000' === (await totpCode(secret, totpStep(t.clock.now()))) ? '111111' : '000000' })).status).toBe(422);
    expect((await owner.post('/admin/account/totp/confirm', { code: await totpCode(secret, totpStep(t.clock.now())) })).status).toBe(303);

    t.clock.advance(30_000);
    const client = accountClient(t, '192.0.2.90');
    const password = await client.signIn(OWNER.email, OWNER.password);
    expect(password.status).toBe(303);
    expect(password.headers.get('location')).toBe('/admin/login/totp?next=%2Fadmin%2Fcampaigns');
    // No session yet: only the short-lived pending state.
    expect(client.jar.has('signet_session')).toBe(false);
    expect((await client.request('GET', '/admin/campaigns')).status).toBe(303);
    expect((await client.page('/admin/login/totp')).html).toContain('name="code"');
    expect((await client.request('POST', '/admin/login/totp', { code: '12345x' })).status).toBe(401);
    const code = await totpCode(secret, totpStep(t.clock.now()));
    const done = await client.request('POST', '/admin/login/totp', { code, next: '/admin/campaigns' });
    expect(done.status).toBe(303);
    expect(client.jar.has('signet_session')).toBe(true);

    // The same code again (same step) is refused, even with a fresh password step.
    const other = accountClient(t, '192.0.2.91');
    expect((await other.signIn(OWNER.email, OWNER.password)).status).toBe(303);
    expect((await other.request('POST', '/admin/login/totp', { code })).status).toBe(401);
    t.clock.advance(30_000);
    expect((await other.request('POST', '/admin/login/totp', { code: await totpCode(secret, totpStep(t.clock.now())) })).status).toBe(303);

    // A mailed sign-in link stands in for the password, never for the code.
    const byLink = accountClient(t, '192.0.2.93');
    await byLink.request('POST', '/admin/login/link', { email: OWNER.email });
    const link = await lastAccountEmail(t, OWNER.email);
    const linked = await byLink.request('POST', link.path, {});
    expect(linked.headers.get('location')).toBe('/admin/login/totp');
    expect(byLink.jar.has('signet_session')).toBe(false);
    t.clock.advance(30_000);
    expect((await byLink.request('POST', '/admin/login/totp', { code: await totpCode(secret, totpStep(t.clock.now())) })).status).toBe(303);
    expect(byLink.jar.has('signet_session')).toBe(true);

    // A forged pending state opens nothing.
    const forger = accountClient(t, '192.0.2.92');
    forger.jar.set('signet_totp_pending', `${sealed!.id}.${t.clock.now() + 60_000}.${'0'.repeat(32)}`);
    expect((await forger.request('POST', '/admin/login/totp', { code: await totpCode(secret, totpStep(t.clock.now()) + 1) })).status).toBe(401);
  });
});

describe('attacks on the account pages', () => {
  it('does not take a link of one kind for another, nor a guessed or altered secret', async () => {
    const owner = await withOwner();
    await createCampaign('campaign-a');
    await owner.post('/admin/users', { email: 'someone@example.org', locale: 'en', orgRole: 'admin' });
    const invitation = await lastAccountEmail(t, 'someone@example.org');
    const secret = invitation.path.split('/').pop()!;
    const attacker = accountClient(t, '192.0.2.100');
    for (const kind of ['reset', 'link', 'setup']) {
      expect((await attacker.request('POST', `/admin/${kind}/${secret}`, { password: 'attacker password 123', name: 'x', email: 'x@example.org' })).status).toBe(404);
    }
    const altered = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
    expect((await attacker.request('POST', `/admin/invitation/${altered}`, { name: 'x', password: 'attacker password 123' })).status).toBe(404);
    expect((await attacker.request('POST', `/admin/invitation/${'A'.repeat(43)}`, { name: 'x', password: 'attacker password 123' })).status).toBe(404);
    // The real invitation still works after all that.
    expect((await accountClient(t, '192.0.2.101').request('POST', invitation.path, { name: 'Someone', password: 'someone password 123' })).status).toBe(303);
  });

  it('lets one of two racing uses of an invitation through, never both (the invitee\'s language is the email\'s)', async () => {
    const owner = await withOwner();
    await owner.post('/admin/users', { email: 'race@example.org', locale: 'ja', orgRole: 'admin' });
    const mail = await lastAccountEmail(t, 'race@example.org');
    expect(mail.message.subject).toBe('Signet 管理画面への招待');
    expect(mail.message.text).toContain('Aiko Owner さんから');
    const answers = await Promise.all([
      accountClient(t, '192.0.2.110').request('POST', mail.path, { name: 'First', password: 'first racer password' }),
      accountClient(t, '192.0.2.111').request('POST', mail.path, { name: 'Second', password: 'second racer password' }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 404]);
    const winner = answers[0]!.status === 303 ? 'first racer password' : 'second racer password';
    const loser = winner.startsWith('first') ? 'second racer password' : 'first racer password';
    expect((await accountClient(t, '192.0.2.112').signIn('race@example.org', loser)).status).toBe(401);
    expect((await accountClient(t, '192.0.2.113').signIn('race@example.org', winner)).status).toBe(303);
    expect(await t.database.db.select().from(adminSessions).where(eq(adminSessions.userId, (await t.database.db.select().from(users).where(eq(users.email, 'race@example.org')))[0]!.id))).toHaveLength(2);
  });

  it('refuses account changes without the session\'s form token or from another origin', async () => {
    const owner = await withOwner();
    const noToken = await owner.request('POST', '/admin/users', { email: 'csrf@example.org', locale: 'en', orgRole: 'admin' });
    expect(noToken.status).toBe(403);
    const crossSite = await t.app.request('/admin/users', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', cookie: [...owner.jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      body: new URLSearchParams({ email: 'csrf@example.org', orgRole: 'admin' }).toString(),
    });
    expect(crossSite.status).toBe(403);
    expect(await t.database.db.select().from(users).where(eq(users.email, 'csrf@example.org'))).toHaveLength(0);
  });

  it('lets an owner turn off a user\'s lost second factor, but not an admin an owner\'s', async () => {
    const owner = await withOwner();
    const admin = await invited(owner, 'admin@example.org', { orgRole: 'admin' });
    const [ownerRow] = await t.database.db.select().from(users).where(eq(users.email, OWNER.email));
    const [adminRow] = await t.database.db.select().from(users).where(eq(users.email, 'admin@example.org'));
    for (const client of [owner, admin]) {
      await client.page('/admin/account');
      await client.post('/admin/account/totp/start');
      const secret = base32Decode(/id="totp-secret">([A-Z2-7]+)</.exec((await client.page('/admin/account')).html)![1]!)!;
      expect((await client.post('/admin/account/totp/confirm', { code: await totpCode(secret, totpStep(t.clock.now())) })).status).toBe(303);
    }
    await admin.page('/admin/users');
    expect((await admin.post(`/admin/users/${ownerRow!.id}/totp-off`)).status).toBe(403);
    await owner.page('/admin/users');
    expect((await owner.post(`/admin/users/${adminRow!.id}/totp-off`)).status).toBe(303);
    const signIn = await accountClient(t, '192.0.2.102').signIn('admin@example.org', 'member password 1234');
    expect(signIn.headers.get('location')).toBe('/admin/campaigns');
    const ownerSignIn = await accountClient(t, '192.0.2.103').signIn(OWNER.email, OWNER.password);
    expect(ownerSignIn.headers.get('location')).toMatch(/^\/admin\/login\/totp/);
  });
});
