import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';

/**
 * Targets named per language (PRODUCT.md §12): `translations` through the target API and the
 * import, which stays idempotent (a changed translation counts as updated, the same one as
 * unchanged).
 */

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const missionsFile = join(repoLettersDir, 'targets/china-missions-japan.json');

type Issue = { path: string; message: string };
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; details: Issue[] } }).error;

const embassy = {
  name: '驻日本国特命全权大使',
  organisation: '中华人民共和国驻日本国大使馆',
  kind: 'embassy',
  language: 'zh',
  postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
};

describe('target translations through the API', () => {
  it('stores the names per language without blank fields, replaces them whole on update', async () => {
    t = createTestApp();
    const created = await t.request('POST', '/api/v1/targets', {
      body: { ...embassy, translations: { ja: { name: '特命全権大使', organisation: '中華人民共和国駐日本国大使館', title: '', salutation: null }, ko: { name: '' } } },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const target = (await created.json()) as { id: string; translations: unknown };
    expect(target.translations).toEqual({ ja: { name: '特命全権大使', organisation: '中華人民共和国駐日本国大使館' } });
    expect(await (await t.request('GET', `/api/v1/targets/${target.id}`)).json()).toMatchObject({ translations: target.translations });

    const updated = await t.request('PATCH', `/api/v1/targets/${target.id}`, { body: { translations: { en: { name: 'Ambassador', salutation: 'Your Excellency,' } } } });
    expect(updated.status).toBe(200);
    expect(((await updated.json()) as { translations: unknown }).translations).toEqual({ en: { name: 'Ambassador', salutation: 'Your Excellency,' } });
  });

  it('refuses an unknown language or field with 400 naming it', async () => {
    t = createTestApp();
    const language = await t.request('POST', '/api/v1/targets', { body: { ...embassy, translations: { fr: { name: 'Ambassadeur' } } } });
    expect(language.status).toBe(400);
    const languageError = await errorOf(language);
    expect(languageError.code).toBe('VALIDATION_FAILED');
    expect(languageError.details).toEqual([expect.objectContaining({ path: 'translations.fr', message: expect.stringContaining('en, ja, ko, zh') })]);

    const field = await t.request('POST', '/api/v1/targets', { body: { ...embassy, translations: { ja: { nickname: '大使' } } } });
    expect(field.status).toBe(400);
    expect((await errorOf(field)).details[0]!.path).toBe('translations.ja.nickname');

    const list = await t.request('POST', '/api/v1/targets', { body: { ...embassy, translations: [{ name: 'x' }] } });
    expect(list.status).toBe(400);
    expect((await errorOf(list)).details[0]!.path).toMatch(/^translations/);
  });
});

describe('target translations through the import', () => {
  it('imports the shipped missions with their ja, zh and en names; the same file again changes nothing; a changed name updates one', async () => {
    t = createTestApp();
    const content = await readFile(missionsFile, 'utf8');
    const first = await t.request('POST', '/api/v1/targets/import', { raw: content });
    expect(await first.json()).toMatchObject({ created: 7, updated: 0, unchanged: 0 });
    const again = await t.request('POST', '/api/v1/targets/import', { raw: content });
    expect(await again.json()).toMatchObject({ created: 0, updated: 0, unchanged: 7 });

    const listed = (await (await t.request('GET', '/api/v1/targets?limit=100')).json()) as { items: { name: string; translations: Record<string, Record<string, string>> }[] };
    const tokyo = listed.items.find((target) => target.name === '驻日本国特命全权大使')!;
    expect(tokyo.translations).toEqual({
      ja: { name: '特命全権大使', organisation: '中華人民共和国駐日本国大使館' },
      zh: { name: '驻日本国特命全权大使', organisation: '中华人民共和国驻日本国大使馆', salutation: '尊敬的大使阁下：' },
      en: { name: 'Ambassador Extraordinary and Plenipotentiary', organisation: 'Embassy of the People\'s Republic of China in Japan', salutation: 'Your Excellency,' },
    });
    for (const target of listed.items) expect(Object.keys(target.translations).sort(), target.name).toEqual(['en', 'ja', 'zh']);
    const osaka = listed.items.find((target) => target.name === '驻大阪总领事')!;
    expect(osaka.translations.ja).toEqual({ name: '総領事', organisation: '中華人民共和国駐大阪総領事館' });
    expect(osaka.translations.en).toMatchObject({ name: 'Consul General', organisation: 'Consulate-General of the People\'s Republic of China in Osaka' });

    const changed = content.replace('"name": "総領事", "organisation": "中華人民共和国駐大阪総領事館"', '"name": "総領事", "organisation": "中華人民共和国駐大阪総領事館", "salutation": "拝啓"');
    expect(changed).not.toBe(content);
    const third = await t.request('POST', '/api/v1/targets/import', { raw: changed });
    expect(await third.json()).toMatchObject({ created: 0, updated: 1, unchanged: 6 });
  });

  it('reads name_ja, organisation_ja … columns of a CSV, and a second import is unchanged', async () => {
    t = createTestApp();
    const csv = [
      'name,organisation,kind,address_lines,country,language,external_id,name_ja,organisation_ja,salutation_en',
      '驻大阪总领事,中华人民共和国驻大阪总领事馆,consulate,靭本町3-9-2,JP,zh,cn-osaka,総領事,中華人民共和国駐大阪総領事館,"Dear Consul General,"',
    ].join('\n');
    const importCsv = () => t.request('POST', '/api/v1/targets/import', { raw: csv, headers: { 'content-type': 'text/csv' } });
    const first = await importCsv();
    expect(first.status, await first.clone().text()).toBe(201);
    expect(await first.json()).toMatchObject({ created: 1 });
    const listed = (await (await t.request('GET', '/api/v1/targets')).json()) as { items: { translations: unknown }[] };
    expect(listed.items[0]!.translations).toEqual({ ja: { name: '総領事', organisation: '中華人民共和国駐大阪総領事館' }, en: { salutation: 'Dear Consul General,' } });
    expect(await (await importCsv()).json()).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
  });

  it('names a bad translation cell by its column', async () => {
    t = createTestApp();
    const csv = ['name,kind,address_lines,country,name_ja', `X,embassy,1 Road,JP,${'長'.repeat(201)}`].join('\n');
    const res = await t.request('POST', '/api/v1/targets/import', { raw: csv, headers: { 'content-type': 'text/csv' } });
    expect(res.status).toBe(422);
    const error = (await res.json()) as { error: { details: { row: number; field: string }[] } };
    expect(error.error.details).toEqual([expect.objectContaining({ row: 2, field: 'name_ja' })]);
  });
});
