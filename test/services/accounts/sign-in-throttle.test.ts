import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { users } from '../../../src/db/schema.js';
import { ScryptPasswordHasher } from '../../../src/entry/node-passwords.js';
import type { PasswordHasher } from '../../../src/lib/passwords.js';
import { base32Decode, totpCode, totpStep } from '../../../src/lib/totp.js';
import { issueOwnerSetupLink } from '../../../src/services/accounts.js';
import { createTestApp, testPasswords } from '../../helpers/app.js';
import { accountClient, lastAccountEmail, type TestApp } from './account-client.js';

// Issue #17, finding 6: nobody who merely knows an organiser's address can
// keep them out (the owner's usual browser and the mailed link always work),
// while guessing stays bounded per account whatever the attacker's addresses.
// Finding 7: sign-in hashing is shared fairly, so a flood from many /64s
// cannot turn the owner's sign-in into a 429.

let t: TestApp;
afterEach(async () => t?.cleanup());

const OWNER = { name: 'Aiko Owner', email: 'owner@example.org', password: 'owner password 1234' };
const HOUR = 3_600_000;

/** A client from its own /64, as an attacker with a large IPv6 allocation would use. */
function stranger(i: number) {
  return accountClient(t, `2001:db8:${(i + 1).toString(16)}::7`);
}

/** A hasher that counts the checks made against one stored hash (the owner's), around the real scrypt. */
function countingHasher(inner: PasswordHasher) {
  const counts = { all: 0, against: new Map<string, number>() };
  const hasher: PasswordHasher = {
    hash: (password, lane) => inner.hash(password, lane),
    verify: (password, stored, lane) => {
      counts.all += 1;
      counts.against.set(stored, (counts.against.get(stored) ?? 0) + 1);
      return inner.verify(password, stored, lane);
    },
  };
  return { hasher, counts };
}

async function ownerHash(): Promise<string> {
  const [row] = await t.database.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.email, OWNER.email));
  return row!.passwordHash!;
}

/** The owner created through the first-start link; their laptop (the browser that created the account) is returned signed in. */
async function withOwner(overrides: Parameters<typeof createTestApp>[0] = {}) {
  t = createTestApp(overrides);
  const url = await issueOwnerSetupLink(t.ctx);
  const laptop = accountClient(t, '192.0.2.10');
  const res = await laptop.request('POST', new URL(url!).pathname, { ...OWNER, locale: 'en' });
  expect(res.status, await res.clone().text()).toBe(303);
  return laptop;
}

const errorText = (html: string) => /<p class="error"[^>]*>([^<]+)</.exec(html)?.[1];

describe('nobody can keep an organiser out', () => {
  it('signs the owner in from their usual browser after fifty wrong passwords from fifty /64s, and sets a device cookie that says nothing about them', async () => {
    const laptop = await withOwner();
    const first = await laptop.signIn(OWNER.email, OWNER.password);
    expect(first.status).toBe(303);
    const device = first.headers.getSetCookie().find((c) => /^signet_device_[0-9a-f]{16}=/.test(c));
    expect(device, first.headers.getSetCookie().join('\n')).toBeDefined();
    expect(device).toContain('HttpOnly');
    expect(device).toContain('Path=/admin/login');
    expect(device).toContain('SameSite=Strict');
    expect(device).toContain(`Max-Age=${365 * 24 * 3600}`);
    expect(device).not.toMatch(/owner|example|Aiko/i);

    for (let i = 0; i < 50; i++) {
      const res = await stranger(i).signIn(OWNER.email, `wrong password ${i} xxxx`);
      expect(res.status).toBe(401);
    }
    const home = await laptop.signIn(OWNER.email, OWNER.password);
    expect(home.status, errorText(await home.clone().text())).toBe(303);
    expect(home.headers.get('location')).toBe('/admin/campaigns');
    expect((await laptop.page('/admin/account')).res.status).toBe(200);

    // A new browser (no device cookie) with the right password shares the strangers' spent budget: the same answer as a wrong password.
    const newBrowser = await accountClient(t, '192.0.2.11').signIn(OWNER.email, OWNER.password);
    const wrong = await accountClient(t, '192.0.2.12').signIn(OWNER.email, 'wrong password again 1');
    expect(newBrowser.status).toBe(401);
    expect(errorText(await newBrowser.text())).toBe(errorText(await wrong.text()));
  });

  it('names the device cookie __Secure- and marks it Secure where PUBLIC_URL is https, as the session cookie', async () => {
    const laptop = await withOwner({ publicUrl: 'https://signet.example' });
    const signedIn = await laptop.signIn(OWNER.email, OWNER.password);
    expect(signedIn.status).toBe(303);
    const cookies = signedIn.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('__Secure-signet_session='))).toContain('Secure');
    expect(cookies.find((c) => /^__Secure-signet_device_[0-9a-f]{16}=/.test(c))).toContain('Secure');
    for (let i = 0; i < 6; i++) await stranger(i).signIn(OWNER.email, `wrong password ${i} ssss`);
    expect((await laptop.signIn(OWNER.email, OWNER.password)).status).toBe(303);
  });

  it('lets the owner in through the mailed link and the right TOTP code while strangers spend the password budget', async () => {
    const laptop = await withOwner();
    await laptop.page('/admin/account');
    expect((await laptop.post('/admin/account/totp/start')).status).toBe(303);
    const secret = base32Decode(/id="totp-secret">([A-Z2-7]+)</.exec((await laptop.page('/admin/account')).html)![1]!)!;
    expect((await laptop.post('/admin/account/totp/confirm', { code: await totpCode(secret, totpStep(t.clock.now())) })).status).toBe(303);

    for (let i = 0; i < 20; i++) expect((await stranger(i).signIn(OWNER.email, `wrong password ${i} yyyy`)).status).toBe(401);

    // The owner on a borrowed computer: a link, then the code.
    t.clock.advance(30_000);
    const borrowed = accountClient(t, '198.51.100.40');
    expect((await borrowed.request('POST', '/admin/login/link', { email: OWNER.email })).status).toBe(200);
    const link = await lastAccountEmail(t, OWNER.email);
    const used = await borrowed.request('POST', link.path, {});
    expect(used.headers.get('location')).toBe('/admin/login/totp');
    const signedIn = await borrowed.request('POST', '/admin/login/totp', { code: await totpCode(secret, totpStep(t.clock.now())), next: '/admin/campaigns' });
    expect(signedIn.status, errorText(await signedIn.clone().text())).toBe(303);
    expect(borrowed.jar.has('signet_session')).toBe(true);

    // Whoever holds a link (the mailbox) but not the phone gets five codes with it, then none, the right one included.
    t.clock.advance(30_000);
    const thief = accountClient(t, '198.51.100.41');
    await thief.request('POST', '/admin/login/link', { email: OWNER.email });
    expect((await thief.request('POST', (await lastAccountEmail(t, OWNER.email)).path, {})).status).toBe(303);
    const right = await totpCode(secret, totpStep(t.clock.now()));
    const wrongCode = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) expect((await thief.request('POST', '/admin/login/totp', { code: wrongCode })).status).toBe(401);
    expect((await thief.request('POST', '/admin/login/totp', { code: right })).status).toBe(401);
    expect(thief.jar.has('signet_session')).toBe(false);
  });

  it('holds strangers without the device cookie to 10 password checks in any hour, 5 an hour after that, and does the same work for every refusal', async () => {
    const { hasher, counts } = countingHasher(testPasswords);
    await withOwner({ passwords: hasher });
    const hash = await ownerHash();
    // One attempt every 72 s for three hours, each from a /64 of its own (no per-address limit is reached).
    const checksPerHour: number[] = [];
    let attempts = 0;
    for (let hour = 0; hour < 3; hour++) {
      const before = counts.against.get(hash) ?? 0;
      for (let i = 0; i < 50; i++) {
        const res = await stranger(attempts).signIn(OWNER.email, `guess number ${attempts} zzzz`);
        expect(res.status).toBe(401);
        attempts += 1;
        t.clock.advance(72_000);
      }
      checksPerHour.push((counts.against.get(hash) ?? 0) - before);
    }
    expect(checksPerHour[0]).toBeLessThanOrEqual(10);
    expect(checksPerHour[1]).toBeLessThanOrEqual(5);
    expect(checksPerHour[2]).toBeLessThanOrEqual(5);
    expect(checksPerHour.reduce((a, b) => a + b)).toBeGreaterThan(0);
    // Any hour, not only the hours counted from the start: the first 5 at once, then 1 every 12 minutes.
    expect(checksPerHour[0]! + checksPerHour[1]!).toBeLessThanOrEqual(15);
    // Every refusal cost one hash (a dummy where the real one was not checked), so timing tells nothing.
    expect(counts.all).toBe(attempts);
  });

  it('holds a device to its own failures: a stolen device cookie gets 5 checks at once, and costs the owner\'s other browsers nothing', async () => {
    const { hasher, counts } = countingHasher(testPasswords);
    const laptop = await withOwner({ passwords: hasher });
    const phone = accountClient(t, '192.0.2.30');
    expect((await phone.signIn(OWNER.email, OWNER.password)).status).toBe(303);
    const hash = await ownerHash();
    const before = counts.against.get(hash) ?? 0;
    // The laptop's cookie in a thief's hands, guessing from the laptop's address and beyond its per-address limit.
    const answers: number[] = [];
    for (let i = 0; i < 20; i++) answers.push((await laptop.signIn(OWNER.email, `thief guess ${i} xxxx`)).status);
    expect((counts.against.get(hash) ?? 0) - before).toBe(5);
    expect(answers.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    // Once its budget is spent the device is a stranger again: limited by address as strangers are.
    expect(answers).toContain(429);
    expect(answers.every((status) => status === 401 || status === 429)).toBe(true);
    // The owner's phone is another device, with a budget of its own.
    expect((await phone.signIn(OWNER.email, OWNER.password)).status).toBe(303);
  });

  it('serves the owner\'s sign-in from their device while 200 bogus sign-ins from 200 /64s fill the hasher\'s line', async () => {
    // scrypt at N=2^14 (tens of ms a hash) through the app's hasher port, so a line forms.
    const laptop = await withOwner({ passwords: new ScryptPasswordHasher({ log2N: 14, r: 8, p: 1 }) });
    expect((await laptop.signIn(OWNER.email, OWNER.password)).status).toBe(303);

    let firstRefusal!: () => void;
    const lineFull = new Promise<void>((resolve) => (firstRefusal = resolve));
    const flood = Array.from({ length: 200 }, (_, i) =>
      stranger(1000 + i)
        .signIn(`nobody${i}@example.org`, `bogus password ${i} xx`)
        .then((res) => {
          if (res.status === 429) firstRefusal();
          return res.status;
        }),
    );
    await lineFull;
    const started = Date.now();
    const owner = await laptop.signIn(OWNER.email, OWNER.password);
    const waited = Date.now() - started;
    expect(owner.status, errorText(await owner.clone().text())).toBe(303);
    const statuses = await Promise.all(flood);
    // The flood itself was answered (401 checked, 429 past the line), never with a 5xx.
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    // The owner did not wait behind the strangers' line (at most the hash running, plus slack for a loaded machine).
    expect(waited, `waited ${waited} ms`).toBeLessThan(5_000);
  }, 60_000);

  it('binds the device cookie to its user and ends it when the password is reset', async () => {
    const laptop = await withOwner();
    expect((await laptop.signIn(OWNER.email, OWNER.password)).status).toBe(303);
    await laptop.page('/admin/users');
    expect((await laptop.post('/admin/users', { email: 'member@example.org', name: '', locale: 'en', orgRole: 'admin' })).status).toBe(303);
    const invitation = await lastAccountEmail(t, 'member@example.org');
    const memberBrowser = accountClient(t, '192.0.2.20');
    expect((await memberBrowser.request('POST', invitation.path, { name: 'Member', password: 'member password 1234' })).status).toBe(303);
    const memberCookie = [...memberBrowser.jar.keys()].find((name) => name.startsWith('signet_device_'))!;
    const ownerCookie = [...laptop.jar.keys()].find((name) => name.startsWith('signet_device_'))!;
    expect(memberCookie).toBeDefined();
    expect(ownerCookie).toBeDefined();
    expect(memberCookie).not.toBe(ownerCookie);

    // Strangers spend both accounts' budgets.
    for (let i = 0; i < 12; i++) {
      await stranger(i).signIn('member@example.org', `wrong password ${i} mmmm`);
      await stranger(100 + i).signIn(OWNER.email, `wrong password ${i} oooo`);
    }
    // The owner's laptop is not the member's device: neither its cookie, nor its cookie under the member's cookie name.
    expect((await laptop.signIn('member@example.org', 'member password 1234')).status).toBe(401);
    laptop.jar.set(memberCookie, laptop.jar.get(ownerCookie)!);
    expect((await laptop.signIn('member@example.org', 'member password 1234')).status).toBe(401);
    laptop.jar.delete(memberCookie);
    // The member's own browser is.
    expect((await memberBrowser.signIn('member@example.org', 'member password 1234')).status).toBe(303);

    // The owner resets the password from the phone: the laptop's cookie ends with the old password.
    const phone = accountClient(t, '192.0.2.30');
    expect((await phone.request('POST', '/admin/forgot', { email: OWNER.email })).status).toBe(200);
    const reset = await lastAccountEmail(t, OWNER.email);
    expect((await phone.request('POST', reset.path, { password: 'new owner password 99' })).status).toBe(303);
    for (let i = 0; i < 12; i++) await stranger(200 + i).signIn(OWNER.email, `wrong password ${i} pppp`);
    expect((await laptop.signIn(OWNER.email, 'new owner password 99')).status).toBe(401);
    // The phone proved the mailbox with the reset link: it signs in with the new password.
    expect((await phone.signIn(OWNER.email, 'new owner password 99')).status).toBe(303);
  });
});
