// Dashboard sign-in on Workers (#17, finding 6): PBKDF2 instead of scrypt,
// and the per-account budgets in D1, so they hold across isolates. Run in
// workerd through `npm run worker:dev`, with the invitation mailed to a real
// SMTP server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerDevProcess, type WorkerDevProcess } from '../helpers/worker-dev-process.js';
import { waitFor } from '../helpers/wait.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers/smtp-server.js';

const adminToken = 'throttle-admin-token-0123456789abcdef';
const publicUrl = 'http://signet.example';
const OWNER = { email: 'owner@example.org', password: 'owner password 1234' };
let smtp: TestSmtpServer;
let worker: WorkerDevProcess;

beforeAll(async () => {
  smtp = await startSmtpServer();
  worker = await startWorkerDevProcess({ ADMIN_TOKEN: adminToken, SMTP_URL: smtp.url, PUBLIC_URL: publicUrl, SIGN_RATE_LIMIT: 'off' });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await smtp?.close();
});

/** A browser stand-in over fetch: a cookie jar and the site's Origin on every form. */
function browser(clientIp: string) {
  const jar = new Map<string, string>();
  return {
    jar,
    async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>) {
      const headers: Record<string, string> = { 'cf-connecting-ip': clientIp };
      if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      if (form) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: publicUrl });
      const res = await fetch(`${worker.url}${path}`, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
      for (const set of res.headers.getSetCookie()) {
        const [pair] = set.split(';');
        const name = pair!.slice(0, pair!.indexOf('='));
        const value = pair!.slice(pair!.indexOf('=') + 1);
        if (value === '' || /Max-Age=0/.test(set)) jar.delete(name);
        else jar.set(name, value);
      }
      return res;
    },
    signIn(email: string, password: string) {
      return this.request('POST', '/admin/login', { email, password, next: '/admin/campaigns' });
    },
  };
}

describe('dashboard sign-in on Workers', () => {
  it('keeps the budgets in D1: strangers spend the untrusted one, the owner\'s browser still signs in', async () => {
    const admin = browser('192.0.2.1');
    expect((await admin.request('POST', '/admin/login', { token: adminToken, next: '/admin/users' })).status).toBe(303);
    const usersPage = await (await admin.request('GET', '/admin/users')).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(usersPage)![1]!;
    const invited = await admin.request('POST', '/admin/users', { _csrf: csrf, email: OWNER.email, name: '', locale: 'en', orgRole: 'owner' });
    expect(invited.status, await invited.clone().text()).toBe(303);
    const mail = await waitFor('the invitation', () => smtp.received.find((m) => m.rcptTo.includes(OWNER.email)), 30_000);
    const path = /http:\/\/signet\.example(\/admin\/invitation\/[A-Za-z0-9_-]{43})/.exec(mail.raw.replace(/=\r?\n/g, ''))![1]!;

    const laptop = browser('192.0.2.10');
    expect((await laptop.request('POST', path, { name: 'Aiko Owner', password: OWNER.password })).status).toBe(303);
    expect([...laptop.jar.keys()].some((name) => name.startsWith('signet_device_'))).toBe(true);
    // The device's own budget: a failure writes its row, a success gives the check back.
    expect((await laptop.signIn(OWNER.email, 'mistyped password 1')).status).toBe(401);

    for (let i = 0; i < 8; i++) expect((await browser(`2001:db8:${i + 1}::7`).signIn(OWNER.email, `wrong password ${i} xx`)).status).toBe(401);
    const newBrowser = await browser('198.51.100.7').signIn(OWNER.email, OWNER.password);
    expect(newBrowser.status).toBe(401);

    const home = await laptop.signIn(OWNER.email, OWNER.password);
    expect(home.status, await home.clone().text()).toBe(303);
    expect(home.headers.get('location')).toBe('/admin/campaigns');
  }, 90_000);
});
