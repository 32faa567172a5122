import { afterEach, describe, expect, it } from 'vitest';
import { apiTokens } from '../../src/db/schema.js';
import { createTestApp } from '../helpers/app.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

describe('API tokens', () => {
  it('creates a token shown once, stores only its hash, and enforces its scopes', async () => {
    t = createTestApp();
    const created = await t.request('POST', '/api/v1/tokens', { body: { name: 'reader', scopes: ['signatures:read'] } });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const token = await created.json();
    expect(token).toMatchObject({ name: 'reader', scopes: ['signatures:read'] });
    expect(token.token).toMatch(/^sgt_[A-Za-z0-9_-]{43}$/);

    const stored = JSON.stringify(await t.database.db.select().from(apiTokens));
    expect(stored).not.toContain(token.token.slice(4));

    const listed = await (await t.request('GET', '/api/v1/tokens')).json();
    expect(listed.items).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(token.token.slice(4));

    // signatures:read may not create campaigns.
    const forbidden = await t.request('POST', '/api/v1/campaigns', { token: token.token, body: { slug: 'abc', title: 'x', locale: 'en' } });
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error).toMatchObject({ code: 'FORBIDDEN', details: { required: 'campaigns' } });
    // …nor manage tokens.
    expect((await t.request('GET', '/api/v1/tokens', { token: token.token })).status).toBe(403);
  });

  it('revokes a token', async () => {
    t = createTestApp();
    const token = await (await t.request('POST', '/api/v1/tokens', { body: { name: 'temp', scopes: ['campaigns'] } })).json();
    expect((await t.request('GET', '/api/v1/campaigns', { token: token.token })).status).toBe(200);
    expect((await t.request('DELETE', `/api/v1/tokens/${token.id}`)).status).toBe(204);
    const after = await t.request('GET', '/api/v1/campaigns', { token: token.token });
    expect(after.status).toBe(401);
    expect((await after.json()).error.code).toBe('UNAUTHORIZED');
    expect((await t.request('DELETE', '/api/v1/tokens/0190c2a0-0000-7000-8000-000000000000')).status).toBe(404);
  });

  it('refuses missing, malformed, unknown and near-miss tokens with 401', async () => {
    t = createTestApp();
    for (const authorization of [undefined, 'Basic abc', 'Bearer', 'Bearer sgt_unknown', `Bearer ${'test-admin-token-0123456789abcdeX'}`]) {
      const res = await t.app.request('/api/v1/campaigns', { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      const body = await res.json();
      expect(body.error.code).toBe('UNAUTHORIZED');
      expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
    }
  });

  it('validates token input', async () => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/tokens', { body: { name: '', scopes: ['root'] } });
    expect(res.status).toBe(400);
    const paths = (await res.json()).error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'scopes.0']));
  });
});
