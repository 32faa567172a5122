import { afterEach, describe, expect, it } from 'vitest';
import { campaigns, signatures } from '../src/db/schema.js';
import { createTestApp } from './helpers/app.js';
import { openCampaign, signature } from './helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

describe('robustness of every write route', () => {
  const writeRoutes: [string, string][] = [
    ['POST', '/api/v1/campaigns'],
    ['PATCH', '/api/v1/campaigns/save-refugees'],
    ['POST', '/api/v1/campaigns/save-refugees/signatures'],
    ['POST', '/api/v1/signatures/confirm'],
    ['POST', '/api/v1/tokens'],
  ];

  it('answers malformed JSON with 400 MALFORMED_BODY, never a 5xx', async () => {
    t = createTestApp();
    await openCampaign(t);
    for (const [method, path] of writeRoutes) {
      for (const raw of ['{', '{"a":', 'null', '[]', '"text"', '12', '\u0000', '{"slug":"\ud800"}']) {
        const res = await t.request(method, path, { raw });
        expect(res.status, `${method} ${path} ${JSON.stringify(raw)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${path} ${JSON.stringify(raw)}`).toBeLessThan(500);
        expect(['MALFORMED_BODY', 'VALIDATION_FAILED']).toContain((await res.json()).error.code);
      }
    }
  });

  it('refuses bodies that are not JSON with 415 and oversized bodies with 413', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const form = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, token: null });
    expect(form.status).toBe(415);
    expect((await form.json()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const huge = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body: signature('big@example.org', { comment: 'x'.repeat(2 * 1024 * 1024) }), token: null });
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    // Declared too large: refused from the header alone, before reading the body.
    const declared = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body: signature('big2@example.org'), token: null, headers: { 'content-length': String(2 * 1024 * 1024) } });
    expect(declared.status).toBe(413);
    expect((await declared.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await t.database.db.select().from(signatures)).toHaveLength(0);
  });

  it('answers wrong types with field details', async () => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/campaigns', { body: { slug: 12, title: ['x'], locale: null, goal: '10' } });
    expect(res.status).toBe(400);
    const paths = (await res.json()).error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['slug', 'title', 'locale', 'goal']));
  });

  it('stores injection strings as plain data', async () => {
    t = createTestApp();
    const title = `'; DROP TABLE campaigns; -- <script>alert(1)</script>`;
    const res = await t.request('POST', '/api/v1/campaigns', { body: { slug: 'inject-me', title, locale: 'en' } });
    expect(res.status).toBe(201);
    expect((await res.json()).title).toBe(title);
    expect(await t.database.db.select().from(campaigns)).toHaveLength(1);
    const pathInjection = await t.request('GET', `/api/v1/campaigns/${encodeURIComponent("x' OR '1'='1")}`);
    expect(pathInjection.status).toBe(404);
  });

  it('sets security headers and a request id on every response', async () => {
    t = createTestApp();
    const res = await t.request('GET', '/healthz', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.request('GET', '/healthz', { token: null, headers: { 'x-request-id': 'proxy-id-12345' } });
    expect(kept.headers.get('x-request-id')).toBe('proxy-id-12345');
    const forged = await t.request('GET', '/healthz', { token: null, headers: { 'x-request-id': 'bad id\twith tab' } });
    expect(forged.headers.get('x-request-id')).not.toContain('bad');
  });
});

describe('logs', () => {
  it('log requests with ids and no personal data or secrets', async () => {
    const lines: string[] = [];
    const { createJsonLogger } = await import('../src/lib/logger.js');
    t = createTestApp({ logger: createJsonLogger('debug', (line) => lines.push(line)) });
    const slug = await openCampaign(t);
    const res = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, {
      body: signature('private.person@example.org', { name: 'Private Person' }),
      token: null,
      headers: { 'x-forwarded-for': '198.51.100.23' },
    });
    expect(res.status).toBe(202);
    const log = lines.join('\n');
    const entry = lines.map((l) => JSON.parse(l)).find((l) => l.route === '/api/v1/campaigns/:slug/signatures');
    expect(entry).toMatchObject({ level: 'info', event: 'request', method: 'POST', status: 202, requestId: res.headers.get('x-request-id') });
    for (const secret of ['private.person', 'Private Person', '198.51.100.23', 'test-admin-token']) expect(log).not.toContain(secret);
  });
});
