import { expect } from 'vitest';
import { ADMIN_TOKEN, type createTestApp } from './app.js';

type TestApp = ReturnType<typeof createTestApp>;

/** A signed-in browser stand-in over app.request: keeps the session cookie and the form token, sends this site's Origin with forms. */
export function adminBrowser(app: TestApp) {
  let cookie = '';
  let csrf = '';
  const request = async (method: string, path: string, form?: Record<string, string> | URLSearchParams) => {
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = 'http://localhost';
      body = new URLSearchParams(form).toString();
    }
    const res = await app.app.request(path, { method, headers, body });
    const match = /(?:^|, )((?:__Secure-)?signet_session)=([^;]*)/.exec(res.headers.get('set-cookie') ?? '');
    if (match) cookie = match[2] ? `${match[1]}=${match[2]}` : '';
    return res;
  };
  const page = async (path: string) => {
    const res = await request('GET', path);
    const html = await res.text();
    csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? csrf;
    return { status: res.status, html };
  };
  return {
    page,
    /** A form POST with the session's form token; pairs (a URLSearchParams) for repeated fields such as checkboxes. */
    post: (path: string, form: Record<string, string> | [string, string][]) =>
      request('POST', path, new URLSearchParams([['_csrf', csrf], ...(Array.isArray(form) ? form : Object.entries(form))])),
    async login() {
      const res = await request('POST', '/admin/login', { token: ADMIN_TOKEN, next: '/admin/campaigns' });
      expect(res.status).toBe(303);
      await page('/admin/campaigns');
    },
  };
}
