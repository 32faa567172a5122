import { desc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { outbox, type StoredOutboxMessage } from '../../../src/db/schema.js';
import { renderStoredMessage } from '../../../src/mail/messages.js';
import type { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';

export type TestApp = ReturnType<typeof createTestApp>;

/** The Origin the test app accepts form POSTs from. */
const ORIGIN = 'http://localhost';

/**
 * A browser stand-in over app.request for the account pages: a cookie jar
 * (session, pending second factor, language), the Origin of the site on
 * every form, and the session's form token picked up from each page.
 */
export function accountClient(app: TestApp, clientIp = '192.0.2.10') {
  const jar = new Map<string, string>();
  let csrf = '';
  const client = {
    jar,
    async request(method: string, path: string, form?: Record<string, string>) {
      const headers: Record<string, string> = { 'x-forwarded-for': clientIp };
      if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      let body: string | undefined;
      if (form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers.origin = ORIGIN;
        body = new URLSearchParams(form).toString();
      }
      const res = await app.app.request(path, { method, headers, body });
      for (const set of res.headers.getSetCookie()) {
        const [pair] = set.split(';');
        const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
        if (value === '' || /Max-Age=0/.test(set)) jar.delete(name);
        else jar.set(name, value);
      }
      return res;
    },
    async page(path: string) {
      const res = await client.request('GET', path);
      const html = await res.text();
      const token = /name="_csrf" value="([^"]+)"/.exec(html);
      if (token) csrf = token[1]!;
      return { res, html };
    },
    /** A form POST of a signed-in page, carrying the session's form token. */
    post(path: string, form: Record<string, string> = {}) {
      return client.request('POST', path, { _csrf: csrf, ...form });
    },
    signIn(email: string, password: string) {
      return client.request('POST', '/admin/login', { email, password, next: '/admin/campaigns' });
    },
  };
  return client;
}

/** The newest account email queued to an address, rendered as it would be sent, and the dashboard path of its link. */
export async function lastAccountEmail(app: TestApp, to: string) {
  const rows = await app.database.db.select().from(outbox).where(eq(outbox.recipient, to)).orderBy(desc(outbox.createdAt), desc(outbox.id));
  const row = rows.find((r) => r.kind === 'account');
  expect(row, `an account email to ${to}`).toBeDefined();
  const message = await renderStoredMessage(row!.message as StoredOutboxMessage, row!.recipient, testLinks);
  const url = /http:\/\/localhost:3000(\/admin\/(?:invitation|link|reset)\/[A-Za-z0-9_-]{43})/.exec(message.text ?? '');
  expect(url, message.text).not.toBeNull();
  return { row: row!, message, path: url![1]!, count: rows.filter((r) => r.kind === 'account').length };
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The fields a page's form would submit as it stands (inputs, textareas, selected options), found by the form's action. */
export function formFields(html: string, action: string): Record<string, string> {
  const start = html.indexOf(`action="${action}"`);
  expect(start, `a form posting to ${action}`).toBeGreaterThan(-1);
  const form = html.slice(start, html.indexOf('</form>', start));
  const fields: Record<string, string> = {};
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(tag)?.[1];
    const type = /\btype="([^"]*)"/.exec(tag)?.[1] ?? 'text';
    if (!name || ((type === 'checkbox' || type === 'radio') && !/\bchecked\b/.test(tag))) continue;
    fields[unescape(name)] = unescape(/\bvalue="([^"]*)"/.exec(tag)?.[1] ?? (type === 'checkbox' ? 'on' : ''));
  }
  for (const [, name, body] of form.matchAll(/<textarea\b[^>]*\bname="([^"]*)"[^>]*>([\s\S]*?)<\/textarea>/g)) fields[unescape(name!)] = unescape(body!);
  for (const [, name, body] of form.matchAll(/<select\b[^>]*\bname="([^"]*)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const selected = /<option\b[^>]*\bvalue="([^"]*)"[^>]*\bselected\b/.exec(body!) ?? /<option\b[^>]*\bvalue="([^"]*)"/.exec(body!);
    fields[unescape(name!)] = unescape(selected?.[1] ?? '');
  }
  return fields;
}
