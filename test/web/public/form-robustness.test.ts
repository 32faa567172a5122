import { afterEach, expect, it } from 'vitest';
import { signatureSubmissions } from '../../../src/db/schema.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const origin = { origin: 'http://localhost:3000' };
const form = { 'content-type': 'application/x-www-form-urlencoded', ...origin };
const brokenMultipart = { 'content-type': 'multipart/form-data; boundary=x', ...origin };

// Whatever a browser, a bot or a broken proxy posts, the pages answer with their own 4xx page, never a 500.
it('answers malformed form posts and odd paths with 4xx pages, never a 500', async () => {
  t = createTestApp();
  await openCampaign(t, 'fuzz-camp');
  const cases: [method: string, path: string, headers: Record<string, string>, body: string | undefined, status: number][] = [
    ['POST', '/c/fuzz-camp/sign', { 'content-type': 'application/json', ...origin }, '{"a":1}', 400],
    ['POST', '/c/fuzz-camp/sign', brokenMultipart, '--x\r\nbroken', 400],
    ['POST', '/c/fuzz-camp/sign', form, 'name=%E0%A4%A&email=%', 403],
    ['POST', '/c/fuzz-camp/sign', form, 'name=a&name=b&_token=x&_token=y', 403],
    ['POST', '/c/nope/sign', form, 'name=a', 403],
    ['GET', '/c/%ZZ', {}, undefined, 404],
    ['GET', '/c/fuzz-camp?lang=xx', { 'accept-language': ';;;q=abc,*' }, undefined, 200],
    ['POST', '/confirm/abc', { 'content-type': 'text/plain', ...origin }, 'zzz', 400],
    ['POST', '/unsubscribe/abc', { 'content-type': 'application/x-www-form-urlencoded' }, 'List-Unsubscribe=One-Click', 404],
    ['POST', '/admin/login', form, 'token=%', 401],
    ['POST', '/admin/login', brokenMultipart, '--x\r\nbroken', 401],
    ['GET', '/admin/login?next=//evil.example', {}, undefined, 200],
    ['GET', '/admin/campaigns/%ZZ', {}, undefined, 303],
  ];
  for (const [method, path, headers, body, status] of cases) {
    const res = await t.app.request(path, { method, headers, body });
    expect(res.status, `${method} ${path}`).toBe(status);
    // A page (or, for a redirect, nothing): never a JSON error or a stack trace.
    if (status !== 303) expect(res.headers.get('content-type'), `${method} ${path}`).toMatch(/^text\/html/);
  }
});

// The form's body limit trusts a Content-Length (the HTTP parser holds the body to it) and counts
// a chunked body; either way a body far larger than a person types is a 413 page, nothing signed.
it('refuses a form post larger than 64 KB with a 413 page, declared or chunked', async () => {
  t = createTestApp();
  await openCampaign(t, 'big-camp');
  const huge = `name=${'a'.repeat(70 * 1024)}&email=big%40example.org`;
  const declared = await t.app.request('/c/big-camp/sign', { method: 'POST', headers: { ...form, 'content-length': String(huge.length) }, body: huge });
  expect(declared.status).toBe(413);
  expect(declared.headers.get('content-type')).toMatch(/^text\/html/);
  const chunked = await t.app.request('/c/big-camp/sign', {
    method: 'POST',
    headers: form,
    body: new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(huge));
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  expect(chunked.status).toBe(413);
  expect(await t.database.db.select().from(signatureSubmissions)).toHaveLength(0);
});
