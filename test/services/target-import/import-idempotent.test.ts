import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';

// PRODUCT.md §12 "Imports are idempotent": the same file twice makes its targets once.

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const missionsText = readFileSync(join(repoLettersDir, 'targets/china-missions-japan.json'), 'utf8');
type Mission = Record<string, unknown> & { externalId?: string; name: string; email?: string };
const missions = () => (JSON.parse(missionsText) as { targets: Mission[] }).targets;

const importJson = async (body: unknown) => {
  const res = await t.request('POST', '/api/v1/targets/import', { raw: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
};
const importCsv = async (csv: string) => {
  const res = await t.request('POST', '/api/v1/targets/import', { raw: csv, headers: { 'content-type': 'text/csv' } });
  return { status: res.status, body: await res.json() };
};

async function directory() {
  const res = await t.request('GET', '/api/v1/targets?limit=500');
  expect(res.status).toBe(200);
  return (await res.json()).items as Array<Record<string, unknown> & { id: string; name: string; externalId: string | null }>;
}

describe('importing the shipped China missions twice', () => {
  it('makes 7 targets, then finds all 7 unchanged, then updates the one a corrected file changes', async () => {
    t = createTestApp();
    const first = await importJson(missionsText);
    expect(first).toEqual({ status: 201, body: { created: 7, updated: 0, unchanged: 0, ids: expect.any(Array) } });

    const second = await importJson(missionsText);
    expect(second).toEqual({ status: 201, body: { created: 0, updated: 0, unchanged: 7, ids: first.body.ids } });
    const listed = await directory();
    expect(listed).toHaveLength(7);
    expect(listed.map((x) => x.externalId).sort()).toEqual(missions().map((m) => m.externalId).sort());

    const corrected = missions().map((m) => (m.externalId === 'cn-consulate-osaka' ? { ...m, email: 'letters-osaka@example.org' } : m));
    const third = await importJson({ targets: corrected });
    expect(third).toEqual({ status: 201, body: { created: 0, updated: 1, unchanged: 6, ids: first.body.ids } });
    const osaka = (await directory()).find((x) => x.externalId === 'cn-consulate-osaka')!;
    expect(osaka).toMatchObject({ name: '驻大阪总领事', email: 'letters-osaka@example.org' });
    expect(await directory()).toHaveLength(7);
  });

  it('matches by external id even when the name changes', async () => {
    t = createTestApp();
    const first = await importJson(missionsText);
    const renamed = missions().map((m) => (m.externalId === 'cn-embassy-tokyo' ? { ...m, name: '中华人民共和国驻日本国特命全权大使' } : m));
    const again = await importJson(renamed);
    expect(again.body).toEqual({ created: 0, updated: 1, unchanged: 6, ids: first.body.ids });
    const embassy = await (await t.request('GET', `/api/v1/targets/${first.body.ids[0]}`)).json();
    expect(embassy).toMatchObject({ externalId: 'cn-embassy-tokyo', name: '中华人民共和国驻日本国特命全权大使' });
  });

  it('adopts the targets an earlier version imported without external ids, once, instead of adding 7 more', async () => {
    t = createTestApp();
    const withoutIds = missions().map(({ externalId: _unused, ...rest }) => rest);
    const old = await importJson(withoutIds);
    expect(old.body).toMatchObject({ created: 7 });
    expect((await directory()).every((x) => x.externalId === null)).toBe(true);

    const adopted = await importJson(missionsText);
    expect(adopted.body).toEqual({ created: 0, updated: 7, unchanged: 0, ids: old.body.ids });
    const again = await importJson(missionsText);
    expect(again.body).toEqual({ created: 0, updated: 0, unchanged: 7, ids: old.body.ids });
    expect(await directory()).toHaveLength(7);
  });

  it('matches rows without external ids by name, organisation and country (CSV)', async () => {
    t = createTestApp();
    const csv = [
      'name,organisation,kind,address_lines,country,email',
      'Consul-General,Consulate-General in Osaka,consulate,3-9-2 Utsubohommachi,JP,',
      'Consul-General,Consulate-General in Nagoya,consulate,2-8-37 Higashisakura,JP,',
    ].join('\n');
    const first = await importCsv(csv);
    expect(first.body).toMatchObject({ created: 2, updated: 0, unchanged: 0 });
    expect(await importCsv(csv)).toEqual({ status: 201, body: { created: 0, updated: 0, unchanged: 2, ids: first.body.ids } });
    const changed = await importCsv(csv.replace('2-8-37 Higashisakura,JP,', '2-8-37 Higashisakura,JP,nagoya@example.org'));
    expect(changed.body).toEqual({ created: 0, updated: 1, unchanged: 1, ids: first.body.ids });
    expect(await directory()).toHaveLength(2);
  });

  it('reads external ids from an external_id column', async () => {
    t = createTestApp();
    const csv = 'external_id,name,kind,address_lines,country\nmof-1,Minister,official,1 Road,JP\n';
    const first = await importCsv(csv);
    expect(first.body).toMatchObject({ created: 1 });
    const renamed = await importCsv(csv.replace('Minister,', 'Minister of Justice,'));
    expect(renamed.body).toEqual({ created: 0, updated: 1, unchanged: 0, ids: first.body.ids });
    expect((await directory()).map((x) => [x.externalId, x.name])).toEqual([['mof-1', 'Minister of Justice']]);
  });
});

describe('rows that would meet one target', () => {
  it('refuses a file naming one external id twice, or one name, organisation and country twice, writing nothing', async () => {
    t = createTestApp();
    const [embassy, sapporo] = missions();
    const twice = await importJson([embassy, { ...sapporo, externalId: embassy!.externalId }]);
    expect(twice.status).toBe(422);
    expect(twice.body.error).toMatchObject({ code: 'IMPORT_FAILED', details: [{ row: 2, field: 'externalId', message: 'repeats the external id of row 1' }] });

    const { externalId: _a, ...plain } = embassy!;
    const sameKey = await importJson([plain, { ...plain, email: 'other@example.org' }]);
    expect(sameKey.status).toBe(422);
    expect(sameKey.body.error.details).toEqual([{ row: 2, field: null, message: expect.stringContaining('name, organisation and country of row 1') }]);

    const csv = await importCsv('external_id,name,kind,address_lines,country\nx-1,A,official,1 Road,JP\nx-1,B,official,2 Road,JP\n');
    expect(csv.body.error.details).toEqual([{ row: 3, field: 'external_id', message: 'repeats the external id of row 2' }]);
    expect(await directory()).toEqual([]);
  });

  it('makes each target once when the same file is imported twice at the same moment', async () => {
    t = createTestApp();
    const [a, b] = await Promise.all([importJson(missionsText), importJson(missionsText)]);
    expect([a.body.created, b.body.created].sort()).toEqual([0, 7]);
    expect([a.body.unchanged, b.body.unchanged].sort()).toEqual([0, 7]);
    expect(b.body.ids).toEqual(a.body.ids);
    expect(await directory()).toHaveLength(7);
  });
});

describe('external ids through the targets API', () => {
  it('are set, shown, changed and unique', async () => {
    t = createTestApp();
    const target = { name: 'Embassy X', kind: 'embassy', postalAddress: { lines: ['1 Road'], country: 'JP' }, externalId: 'x-embassy' };
    const created = await t.request('POST', '/api/v1/targets', { body: target });
    expect(created.status).toBe(201);
    const view = await created.json();
    expect(view.externalId).toBe('x-embassy');

    const taken = await t.request('POST', '/api/v1/targets', { body: { ...target, name: 'Embassy Y' } });
    expect(taken.status).toBe(409);
    expect((await taken.json()).error).toMatchObject({ code: 'CONFLICT', message: 'Another target has the external id "x-embassy".' });

    const other = await (await t.request('POST', '/api/v1/targets', { body: { ...target, name: 'Embassy Z', externalId: null } })).json();
    expect(other.externalId).toBeNull();
    const clash = await t.request('PATCH', `/api/v1/targets/${other.id}`, { body: { externalId: 'x-embassy' } });
    expect(clash.status).toBe(409);
    const renamed = await t.request('PATCH', `/api/v1/targets/${other.id}`, { body: { externalId: 'z-embassy' } });
    expect(renamed.status).toBe(200);
    expect((await renamed.json()).externalId).toBe('z-embassy');
  });
});
