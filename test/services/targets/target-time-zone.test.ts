import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const target = (overrides: Record<string, unknown> = {}) => ({
  name: 'Embassy',
  kind: 'embassy',
  email: 'embassy@example.org',
  postalAddress: { lines: ['3-4-33 Moto-Azabu'], city: 'Tokyo', country: 'JP' },
  ...overrides,
});

describe('a target’s time zone', () => {
  it('is optional, stored as ICU names it, shown, changed and cleared', async () => {
    t = createTestApp();
    const without = await t.request('POST', '/api/v1/targets', { body: target() });
    expect(without.status).toBe(201);
    expect(await without.json()).toMatchObject({ timeZone: null });

    const created = await t.request('POST', '/api/v1/targets', { body: target({ timeZone: 'europe/berlin' }) });
    expect(created.status).toBe(201);
    const { id, timeZone } = (await created.json()) as { id: string; timeZone: string };
    expect(timeZone).toBe('Europe/Berlin');
    expect(await (await t.request('GET', `/api/v1/targets/${id}`)).json()).toMatchObject({ timeZone: 'Europe/Berlin' });

    const changed = await t.request('PATCH', `/api/v1/targets/${id}`, { body: { timeZone: 'America/New_York' } });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ timeZone: 'America/New_York' });
    const cleared = await t.request('PATCH', `/api/v1/targets/${id}`, { body: { timeZone: null } });
    expect(await cleared.json()).toMatchObject({ timeZone: null });
  });

  it('refuses a zone that is not IANA with field details', async () => {
    t = createTestApp();
    for (const [method, path, body] of [
      ['POST', '/api/v1/targets', target({ timeZone: 'Mars/Olympus_Mons' })],
      ['POST', '/api/v1/targets', target({ timeZone: 9 })],
    ] as const) {
      const res = await t.request(method, path, { body });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'timeZone' }] });
    }
    const { id } = (await (await t.request('POST', '/api/v1/targets', { body: target() })).json()) as { id: string };
    const patched = await t.request('PATCH', `/api/v1/targets/${id}`, { body: { timeZone: 'Nowhere' } });
    expect(patched.status).toBe(400);
    expect((await patched.json()).error.details).toEqual([{ path: 'timeZone', message: 'must be an IANA time zone, e.g. Asia/Tokyo' }]);
  });

  it('is imported from a CSV column timeZone (or time_zone) and from JSON, and a bad one names its row', async () => {
    t = createTestApp();
    const csv = ['name,kind,email,address_lines,country,timeZone', 'Seoul office,embassy,a@example.org,1 Sejong-daero,KR,Asia/Seoul', 'Tokyo office,embassy,,1-1 Nagatacho,JP,'].join('\n');
    const imported = await t.request('POST', '/api/v1/targets/import', { raw: csv, headers: { 'content-type': 'text/csv' } });
    expect(imported.status).toBe(201);
    const json = await t.request('POST', '/api/v1/targets/import', { raw: JSON.stringify([target({ name: 'Berlin office', timeZone: 'Europe/Berlin' })]) });
    expect(json.status).toBe(201);
    const listed = (await (await t.request('GET', '/api/v1/targets')).json()) as { items: { name: string; timeZone: string | null }[] };
    expect(Object.fromEntries(listed.items.map((item) => [item.name, item.timeZone]))).toEqual({
      'Seoul office': 'Asia/Seoul',
      'Tokyo office': null,
      'Berlin office': 'Europe/Berlin',
    });

    const bad = await t.request('POST', '/api/v1/targets/import', {
      raw: ['name,kind,address_lines,country,time_zone', 'Bad office,embassy,1 Main St,US,America/Atlantis'].join('\n'),
      headers: { 'content-type': 'text/csv' },
    });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error).toMatchObject({
      code: 'IMPORT_FAILED',
      details: [{ row: 2, field: 'time_zone', message: 'must be an IANA time zone, e.g. Asia/Tokyo' }],
    });
  });
});
