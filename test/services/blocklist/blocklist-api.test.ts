import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { type TestApp, tokenWith } from '../../helpers/abuse.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const add = (body: unknown, token?: string | null) => t.request('POST', '/api/v1/blocklist', { body, token });

describe('block list API', () => {
  it('adds entries in canonical form, lists them newest first and removes them', async () => {
    t = createTestApp();
    const cases = [
      [{ kind: 'domain', value: '*.Spam.Example', note: 'bot burst, 1 Sept' }, '*.spam.example'],
      [{ kind: 'domain', value: 'Bücher.example' }, 'xn--bcher-kva.example'],
      [{ kind: 'email', value: '  Bot@Example.ORG ' }, 'bot@example.org'],
      [{ kind: 'ip', value: '2001:db8:1:2:3:4:5:6' }, '2001:db8:1:2::/64'],
      [{ kind: 'ip', value: '::ffff:198.51.100.0/120' }, '198.51.100.0/24'],
      [{ kind: 'ip', value: '203.0.113.9' }, '203.0.113.9'],
    ] as const;
    const ids: string[] = [];
    for (const [body, value] of cases) {
      t.clock.advance(1000);
      const res = await add(body);
      expect(res.status).toBe(201);
      const created = await res.json();
      expect(created).toEqual({
        id: expect.any(String),
        kind: body.kind,
        value,
        note: 'note' in body ? body.note : null,
        createdBy: 'ADMIN_TOKEN (env-admin-token)',
        createdAt: new Date(t.clock.now()).toISOString(),
      });
      ids.push(created.id);
    }
    const listed = await t.request('GET', '/api/v1/blocklist');
    expect(listed.status).toBe(200);
    expect((await listed.json()).items.map((e: { value: string }) => e.value)).toEqual(cases.map(([, value]) => value).reverse());

    expect((await t.request('DELETE', `/api/v1/blocklist/${ids[0]}`)).status).toBe(204);
    const again = await t.request('DELETE', `/api/v1/blocklist/${ids[0]}`);
    expect(again.status).toBe(404);
    expect((await again.json()).error.code).toBe('NOT_FOUND');
    expect((await (await t.request('GET', '/api/v1/blocklist')).json()).items).toHaveLength(cases.length - 1);
  });

  it('refuses the same entry twice, however it is written', async () => {
    t = createTestApp();
    const first = await (await add({ kind: 'ip', value: '2001:db8:1:2::1' })).json();
    const res = await add({ kind: 'ip', value: '2001:DB8:1:2:ffff::' });
    expect(res.status).toBe(409);
    expect((await res.json()).error).toMatchObject({ code: 'ALREADY_BLOCKED', details: { id: first.id } });
    // The same text under another kind is another entry.
    expect((await add({ kind: 'domain', value: 'example.org' })).status).toBe(201);
    expect((await add({ kind: 'email', value: 'a@example.org' })).status).toBe(201);
  });

  it('answers invalid entries with 400 VALIDATION_FAILED naming the field', async () => {
    t = createTestApp();
    const cases: [unknown, string, RegExp][] = [
      [{ kind: 'domain', value: 'not a domain' }, 'value', /must be a domain/],
      [{ kind: 'domain', value: 'localhost' }, 'value', /must be a domain/],
      [{ kind: 'domain', value: 'spam.*.example' }, 'value', /must be a domain/],
      [{ kind: 'domain', value: '192.0.2.1' }, 'value', /must be a domain/],
      [{ kind: 'email', value: 'nobody' }, 'value', /email address/],
      [{ kind: 'ip', value: '192.0.2.1/24' }, 'value', /the network is 192\.0\.2\.0\/24/],
      [{ kind: 'ip', value: '10.0.0.0/4' }, 'value', /at most \/8 wide/],
      [{ kind: 'ip', value: 'example.org' }, 'value', /IP address or CIDR/],
      [{ kind: 'ip', value: '' }, 'value', /must not be empty/],
      [{ kind: 'asn', value: 'AS64496' }, 'kind', /email, domain or ip/],
      [{ kind: 'domain', value: 'example.org', note: 'two\nlines' }, 'note', /one line/],
      [{ kind: 'domain', value: 'example.org', extra: true }, 'extra', /.+/],
      [{ kind: 'domain' }, 'value', /.+/],
    ];
    for (const [body, path, message] of cases) {
      const res = await add(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = await res.json();
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.details, JSON.stringify(body)).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(message) }]));
    }
    expect((await (await t.request('GET', '/api/v1/blocklist')).json()).items).toEqual([]);
  });

  it('needs the admin scope: 401 without a token, 403 with any other scope', async () => {
    t = createTestApp();
    const campaignsToken = await tokenWith(t, ['campaigns', 'signatures:read', 'privacy']);
    const body = { kind: 'domain', value: 'spam.example' };
    for (const token of [null, 'sgt_not-a-token']) {
      expect((await t.request('GET', '/api/v1/blocklist', { token })).status).toBe(401);
      expect((await add(body, token)).status).toBe(401);
      expect((await t.request('DELETE', '/api/v1/blocklist/x', { token })).status).toBe(401);
    }
    const refused = await add(body, campaignsToken);
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toMatchObject({ code: 'FORBIDDEN', details: { required: 'admin' } });
    expect((await t.request('GET', '/api/v1/blocklist', { token: campaignsToken })).status).toBe(403);
    const created = await (await add(body)).json();
    expect((await t.request('DELETE', `/api/v1/blocklist/${created.id}`, { token: campaignsToken })).status).toBe(403);
    const adminToken = await tokenWith(t, ['admin']);
    expect((await t.request('DELETE', `/api/v1/blocklist/${created.id}`, { token: adminToken })).status).toBe(204);
  });
});
