import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const embassy = (overrides: Record<string, unknown> = {}) => ({
  name: 'Ambassador of the People\'s Republic of China to Japan',
  title: 'Ambassador',
  organisation: 'Embassy of the People\'s Republic of China in Japan',
  kind: 'embassy',
  postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
  language: 'zh',
  salutation: '尊敬的大使阁下：',
  jurisdiction: ['JP-13', 'JP-14'],
  ...overrides,
});

async function create(body: unknown) {
  const res = await t.request('POST', '/api/v1/targets', { body });
  expect(res.status).toBe(201);
  return res.json();
}

const missingId = '01890a5d-ac96-774b-bcce-b302099a8057';

describe('targets: happy paths', () => {
  it('creates a target and returns the full view with ISO timestamps', async () => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/targets', { body: embassy({ verifiedAt: '2027-08-01T09:00:00+09:00' }) });
    expect(res.status).toBe(201);
    const target = await res.json();
    expect(target).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      name: 'Ambassador of the People\'s Republic of China to Japan',
      title: 'Ambassador',
      organisation: 'Embassy of the People\'s Republic of China in Japan',
      kind: 'embassy',
      email: null,
      postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
      language: 'zh',
      salutation: '尊敬的大使阁下：',
      timeZone: null,
      jurisdiction: ['JP-13', 'JP-14'],
      verifiedAt: '2027-08-01T00:00:00.000Z',
      externalId: null,
      translations: {},
      createdAt: '2027-09-01T00:00:00.000Z',
      updatedAt: '2027-09-01T00:00:00.000Z',
    });

    const read = await t.request('GET', `/api/v1/targets/${target.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(target);
  });

  it('fills defaults for a minimal target and normalises codes', async () => {
    t = createTestApp();
    const target = await create({
      name: '  Minister of Justice  ',
      kind: 'official',
      email: ' minister@example.org ',
      postalAddress: { lines: ['1-1-1 Kasumigaseki'], country: 'jp' },
      jurisdiction: ['jp-13', 'JP-13', 'JP'],
    });
    expect(target).toMatchObject({
      name: 'Minister of Justice',
      title: null,
      organisation: null,
      email: 'minister@example.org',
      language: 'en',
      salutation: null,
      jurisdiction: ['JP-13', 'JP'],
      verifiedAt: null,
      postalAddress: { lines: ['1-1-1 Kasumigaseki'], postalCode: null, city: null, region: null, country: 'JP' },
    });
  });

  it('lists newest first with a cursor and filters by kind, country, jurisdiction and name', async () => {
    t = createTestApp();
    const names = ['Embassy A', 'Consulate B', 'Consulate C', 'Ministry D'];
    const made = [];
    for (const [i, name] of names.entries()) {
      t.clock.advance(1000);
      made.push(
        await create(
          embassy({
            name,
            organisation: i === 3 ? 'Ministry of Foreign Affairs' : null,
            kind: i === 0 ? 'embassy' : i === 3 ? 'official' : 'consulate',
            postalAddress: { lines: ['x'], country: i === 3 ? 'KR' : 'JP' },
            jurisdiction: i === 1 ? ['JP-01'] : i === 2 ? ['JP-27', 'JP-26'] : [],
          }),
        ),
      );
    }
    const first = await (await t.request('GET', '/api/v1/targets?limit=3')).json();
    expect(first.items.map((x: { name: string }) => x.name)).toEqual(['Ministry D', 'Consulate C', 'Consulate B']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await (await t.request('GET', `/api/v1/targets?limit=3&cursor=${first.nextCursor}`)).json();
    expect(second).toEqual({ items: [made[0]], nextCursor: null });

    const names_ = async (query: string) => {
      const res = await t.request('GET', `/api/v1/targets?${query}`);
      expect(res.status).toBe(200);
      return (await res.json()).items.map((x: { name: string }) => x.name);
    };
    expect(await names_('kind=consulate')).toEqual(['Consulate C', 'Consulate B']);
    expect(await names_('country=kr')).toEqual(['Ministry D']);
    expect(await names_('jurisdiction=JP-26')).toEqual(['Consulate C']);
    expect(await names_('q=consulate')).toEqual(['Consulate C', 'Consulate B']);
    expect(await names_('q=foreign%20affairs')).toEqual(['Ministry D']);
    expect(await names_('q=%25')).toEqual([]);
    expect(await names_('q=_')).toEqual([]);
    expect(await names_('kind=consulate&jurisdiction=JP-01')).toEqual(['Consulate B']);
  });

  it('patches given fields, clears with null, replaces the address whole', async () => {
    t = createTestApp();
    const target = await create(embassy({ email: 'info@example.org' }));
    t.clock.advance(60_000);
    const res = await t.request('PATCH', `/api/v1/targets/${target.id}`, {
      body: { title: null, email: null, postalAddress: { lines: ['Line 1', 'Line 2'], country: 'JP' }, verifiedAt: '2027-09-01T10:00:00Z' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ...target,
      title: null,
      email: null,
      postalAddress: { lines: ['Line 1', 'Line 2'], postalCode: null, city: null, region: null, country: 'JP' },
      verifiedAt: '2027-09-01T10:00:00.000Z',
      updatedAt: '2027-09-01T00:01:00.000Z',
    });
    // An empty patch changes nothing, not even updatedAt.
    t.clock.advance(60_000);
    const same = await t.request('PATCH', `/api/v1/targets/${target.id}`, { body: {} });
    expect(same.status).toBe(200);
    expect((await same.json()).updatedAt).toBe('2027-09-01T00:01:00.000Z');
    // Language is not reset to its default by a patch that leaves it out.
    const renamed = await (await t.request('PATCH', `/api/v1/targets/${target.id}`, { body: { name: 'Renamed' } })).json();
    expect(renamed).toMatchObject({ name: 'Renamed', language: 'zh', jurisdiction: ['JP-13', 'JP-14'] });
  });

  it('deletes an unused target (204) and then answers 404', async () => {
    t = createTestApp();
    const target = await create(embassy());
    const res = await t.request('DELETE', `/api/v1/targets/${target.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const again = await t.request('GET', `/api/v1/targets/${target.id}`);
    expect(again.status).toBe(404);
    expect((await again.json()).error.code).toBe('NOT_FOUND');
  });
});

describe('targets: errors', () => {
  it('needs a token (401) with the campaigns scope (403)', async () => {
    t = createTestApp();
    const none = await t.request('GET', '/api/v1/targets', { token: null });
    expect(none.status).toBe(401);
    expect((await none.json()).error).toMatchObject({ code: 'UNAUTHORIZED', requestId: expect.any(String) });

    const bad = await t.request('POST', '/api/v1/targets', { token: 'not-a-real-token', body: embassy() });
    expect(bad.status).toBe(401);

    const made = await t.request('POST', '/api/v1/tokens', { body: { name: 'reader', scopes: ['signatures:read'] } });
    expect(made.status).toBe(201);
    const { token } = await made.json();
    for (const [method, path] of [
      ['GET', '/api/v1/targets'],
      ['POST', '/api/v1/targets'],
      ['POST', '/api/v1/targets/import'],
      ['GET', `/api/v1/targets/${missingId}`],
      ['PATCH', `/api/v1/targets/${missingId}`],
      ['DELETE', `/api/v1/targets/${missingId}`],
    ] as const) {
      const res = await t.request(method, path, { token, body: method === 'GET' || method === 'DELETE' ? undefined : embassy() });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect((await res.json()).error).toMatchObject({ code: 'FORBIDDEN', details: { required: 'campaigns' } });
    }

    const campaigner = await (await t.request('POST', '/api/v1/tokens', { body: { name: 'campaigner', scopes: ['campaigns'] } })).json();
    expect((await t.request('POST', '/api/v1/targets', { token: campaigner.token, body: embassy() })).status).toBe(201);
  });

  it('refuses malformed JSON (400) and non-JSON bodies (415)', async () => {
    t = createTestApp();
    const malformed = await t.request('POST', '/api/v1/targets', { raw: '{"name": "x",' });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error).toMatchObject({ code: 'MALFORMED_BODY', requestId: expect.any(String) });

    const form = await t.request('POST', '/api/v1/targets', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect((await form.json()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers any malformed or non-object body with a 4xx, never a 5xx or a write', async () => {
    t = createTestApp();
    const target = await create(embassy());
    const bodies = ['{', '{"a":', 'null', '[]', '"text"', '12', '\u0000', '{"name":["x"]}', '[{"name":"x"}]'];
    for (const [method, path] of [['POST', '/api/v1/targets'], ['PATCH', `/api/v1/targets/${target.id}`]] as const) {
      for (const raw of bodies) {
        const res = await t.request(method, path, { raw });
        expect(res.status, `${method} ${JSON.stringify(raw)}`).toBe(400);
        expect(['MALFORMED_BODY', 'VALIDATION_FAILED']).toContain((await res.json()).error.code);
      }
    }
    for (const raw of bodies) {
      const res = await t.request('POST', '/api/v1/targets/import', { raw });
      expect(res.status, `import ${JSON.stringify(raw)}`).toBe(422);
      expect((await res.json()).error.code).toBe('IMPORT_FAILED');
    }
    const all = await (await t.request('GET', '/api/v1/targets')).json();
    expect(all.items).toEqual([target]);
  });

  it('answers wrong types, bad values and unknown fields with 400 VALIDATION_FAILED and paths', async () => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/targets', {
      body: {
        name: 42,
        kind: 'president',
        email: 'not-an-email',
        postalAddress: { lines: [], country: 'Japan', street: 'x' },
        language: 'fr',
        jurisdiction: ['Tokyo'],
        verifiedAt: 'yesterday',
        isAdmin: true,
      },
    });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    const paths = error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining(['name', 'kind', 'email', 'postalAddress.lines', 'postalAddress.country', 'postalAddress.street', 'language', 'jurisdiction.0', 'verifiedAt', 'isAdmin']),
    );
    for (const detail of error.details) expect(detail.message).toEqual(expect.any(String));

    const tooMany = await t.request('POST', '/api/v1/targets', {
      body: embassy({ name: 'x'.repeat(201), postalAddress: { lines: ['1', '2', '3', '4', '5', '6', '7'], country: 'JP' }, jurisdiction: Array.from({ length: 101 }, (_, i) => `JP-${i}`), email: `${'a'.repeat(250)}@example.org` }),
    });
    expect(tooMany.status).toBe(400);
    expect((await tooMany.json()).error.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['name', 'postalAddress.lines', 'jurisdiction', 'email']),
    );

    const blankName = await t.request('POST', '/api/v1/targets', { body: embassy({ name: '   ', postalAddress: { lines: ['ok', ' '], country: 'JP' } }) });
    expect((await blankName.json()).error.details.map((d: { path: string }) => d.path)).toEqual(['name', 'postalAddress.lines.1']);

    const target = await create(embassy());
    const patch = await t.request('PATCH', `/api/v1/targets/${target.id}`, { body: { name: null, kind: 'x', id: 'mine' } });
    expect(patch.status).toBe(400);
    expect((await patch.json()).error.details.map((d: { path: string }) => d.path)).toEqual(['name', 'kind', 'id']);
  });

  it('answers 404 NOT_FOUND for unknown and malformed ids on every id route', async () => {
    t = createTestApp();
    for (const id of [missingId, 'not-a-uuid', "1' OR '1'='1", '..%2F..%2Fetc']) {
      for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
        const res = await t.request(method, `/api/v1/targets/${id}`, { body: method === 'PATCH' ? { name: 'x' } : undefined });
        expect(res.status, `${method} ${id}`).toBe(404);
        expect((await res.json()).error).toMatchObject({ code: 'NOT_FOUND', message: 'Target was not found.' });
      }
    }
  });

  it('answers 400 for bad list queries', async () => {
    t = createTestApp();
    const res = await t.request('GET', '/api/v1/targets?kind=king&country=Japan&limit=0&cursor=nope');
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['kind', 'country', 'limit']));
    const cursor = await t.request('GET', '/api/v1/targets?cursor=nope');
    expect(cursor.status).toBe(400);
    expect((await cursor.json()).error.details).toEqual([{ path: 'cursor', message: expect.any(String) }]);
  });

  it('refuses to delete a target a campaign uses: 409 TARGET_IN_USE with the slugs', async () => {
    t = createTestApp();
    const used = await create(embassy());
    const other = await create(embassy({ name: 'Other' }));
    for (const slug of ['zeta-letters', 'alpha-letters']) {
      const res = await t.request('POST', '/api/v1/campaigns', { body: { slug, title: 'Letters', locale: 'ja', targetIds: [used.id] } });
      expect(res.status).toBe(201);
    }
    const res = await t.request('DELETE', `/api/v1/targets/${used.id}`);
    expect(res.status).toBe(409);
    expect((await res.json()).error).toMatchObject({
      code: 'TARGET_IN_USE',
      message: expect.stringContaining('2 campaigns'),
      details: { campaigns: ['alpha-letters', 'zeta-letters'] },
    });
    expect((await t.request('GET', `/api/v1/targets/${used.id}`)).status).toBe(200);
    expect((await t.request('DELETE', `/api/v1/targets/${other.id}`)).status).toBe(204);

    // Once no campaign uses it, it can go.
    for (const slug of ['zeta-letters', 'alpha-letters']) {
      expect((await t.request('PATCH', `/api/v1/campaigns/${slug}`, { body: { targetIds: [] } })).status).toBe(200);
    }
    expect((await t.request('DELETE', `/api/v1/targets/${used.id}`)).status).toBe(204);
  });
});

describe('targets: security and robustness', () => {
  it('stores injection strings as plain text', async () => {
    t = createTestApp();
    const hostile = "'; DROP TABLE targets; --";
    const target = await create(embassy({ name: hostile, organisation: '<script>alert(1)</script>', salutation: '" OR 1=1 --' }));
    expect(target).toMatchObject({ name: hostile, organisation: '<script>alert(1)</script>', salutation: '" OR 1=1 --' });
    const listed = await (await t.request('GET', `/api/v1/targets?q=${encodeURIComponent(hostile)}`)).json();
    expect(listed.items.map((x: { id: string }) => x.id)).toEqual([target.id]);
    const all = await (await t.request('GET', '/api/v1/targets')).json();
    expect(all.items).toHaveLength(1);
    const res = await t.request('GET', `/api/v1/targets/${target.id}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('refuses control characters that could break a header or a CSV row', async () => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/targets', {
      body: embassy({ name: 'Ambassador\r\nBcc: victim@example.org', postalAddress: { lines: ['a\u0000b'], country: 'JP' } }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.details.map((d: { path: string }) => d.path)).toEqual(['name', 'postalAddress.lines.0']);
  });

  it('round-trips Japanese, Korean, Chinese and emoji', async () => {
    t = createTestApp();
    const samples = [
      { name: '中華人民共和国駐日本国大使', salutation: '拝啓' },
      { name: '주일본 중화인민공화국 대사관', salutation: '존경하는 대사님께' },
      { name: '中华人民共和国驻日本国大使馆', salutation: '尊敬的大使阁下：' },
      { name: 'Ambassador 🕊️✉️ 👨‍👩‍👧', salutation: 'Dear 🌸' },
    ];
    for (const sample of samples) {
      const target = await create(embassy(sample));
      expect(target).toMatchObject(sample);
      expect(await (await t.request('GET', `/api/v1/targets/${target.id}`)).json()).toMatchObject(sample);
    }
    const found = await (await t.request('GET', `/api/v1/targets?q=${encodeURIComponent('대사관')}`)).json();
    expect(found.items.map((x: { name: string }) => x.name)).toEqual(['주일본 중화인민공화국 대사관']);
  });
});
