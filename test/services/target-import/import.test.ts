import { afterEach, describe, expect, it } from 'vitest';
import { importTargets } from '../../../src/services/target-import.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const HEADER = 'name,title,organisation,kind,email,address_lines,postal_code,city,region,country,language,salutation,jurisdiction,verified_at';

const importCsv = (csv: string, contentType = 'text/csv; charset=utf-8') =>
  t.request('POST', '/api/v1/targets/import', { raw: csv, headers: { 'content-type': contentType } });
const importJson = (body: unknown) => t.request('POST', '/api/v1/targets/import', { raw: typeof body === 'string' ? body : JSON.stringify(body) });

async function allTargets() {
  const res = await t.request('GET', '/api/v1/targets?limit=500');
  expect(res.status).toBe(200);
  return (await res.json()).items as Array<Record<string, unknown> & { id: string; name: string }>;
}

const target = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  kind: 'consulate',
  postalAddress: { lines: ['東桜2-8-37'], postalCode: '461-0005', city: '名古屋市東区', region: '愛知県', country: 'JP' },
  ...overrides,
});

describe('target import: CSV', () => {
  it('imports every row, with multi-line cells, | separated lines, ; separated codes and defaults', async () => {
    t = createTestApp();
    const csv = [
      HEADER,
      'Consul-General in Nagoya,Consul-General,Consulate-General in Nagoya,consulate,,東桜2-8-37,461-0005,名古屋市東区,愛知県,JP,zh,尊敬的总领事阁下：,JP-23;JP-21 JP-24,',
      '"Minister, Justice",,Ministry of Justice,official,minister@example.org,"1-1-1 Kasumigaseki',
      'Chiyoda-ku",100-8977,Tokyo,,jp,,,JP-13,2027-08-01T00:00:00Z',
      'Embassy X,,,embassy,,Line one | Line two|Line three,,,,KR,ko,,,',
    ].join('\r\n');
    const res = await importCsv(csv);
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toEqual({ created: 3, updated: 0, unchanged: 0, ids: [expect.any(String), expect.any(String), expect.any(String)] });

    const byId = new Map((await allTargets()).map((x) => [x.id, x]));
    expect(byId.size).toBe(3);
    expect(byId.get(body.ids[0])).toMatchObject({
      name: 'Consul-General in Nagoya',
      title: 'Consul-General',
      kind: 'consulate',
      email: null,
      language: 'zh',
      salutation: '尊敬的总领事阁下：',
      jurisdiction: ['JP-23', 'JP-21', 'JP-24'],
      verifiedAt: null,
      postalAddress: { lines: ['東桜2-8-37'], postalCode: '461-0005', city: '名古屋市東区', region: '愛知県', country: 'JP' },
    });
    expect(byId.get(body.ids[1])).toMatchObject({
      name: 'Minister, Justice',
      title: null,
      email: 'minister@example.org',
      language: 'en',
      jurisdiction: ['JP-13'],
      verifiedAt: '2027-08-01T00:00:00.000Z',
      postalAddress: { lines: ['1-1-1 Kasumigaseki', 'Chiyoda-ku'], postalCode: '100-8977', city: 'Tokyo', region: null, country: 'JP' },
    });
    expect(byId.get(body.ids[2])).toMatchObject({ kind: 'embassy', language: 'ko', jurisdiction: [], postalAddress: { lines: ['Line one', 'Line two', 'Line three'], country: 'KR' } });
  });

  it('accepts any column order, header case and spacing, capitalised codes, a BOM and trailing empty rows', async () => {
    t = createTestApp();
    const csv = '\uFEFF Country ,KIND,name,address_lines,Language\nJP,Embassy,With BOM,元麻布3-4-33,ZH\n,,,,\n\n';
    const res = await importCsv(csv, 'text/csv');
    expect(res.status).toBe(201);
    expect((await res.json()).created).toBe(1);
    const [only] = await allTargets();
    expect(only).toMatchObject({ name: 'With BOM', kind: 'embassy', language: 'zh', postalAddress: { country: 'JP' } });
  });

  it('imports nothing when one row is bad, and reports row (CSV line), field and message', async () => {
    t = createTestApp();
    const csv = [
      HEADER,
      'Good One,,,embassy,,Line,,,,JP,,,,',
      'Bad Kind,,,president,,Line,,,,JP,,,,',
      'Good Two,,,consulate,,"Line a',
      'Line b",,,,JP,,,,',
      ',,,consulate,nope,,,,,Japan,fr,,Tokyo,tomorrow',
      'Short row,embassy',
    ].join('\n');
    const res = await importCsv(csv);
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.code).toBe('IMPORT_FAILED');
    expect(error.message).toContain('nothing was imported');
    expect(error.message).toContain('header being line 1');
    expect(error.details).toEqual(
      expect.arrayContaining([
        { row: 3, field: 'kind', message: expect.stringContaining('embassy, consulate, official, other') },
        { row: 6, field: 'name', message: expect.any(String) },
        { row: 6, field: 'email', message: 'must be an email address' },
        { row: 6, field: 'address_lines', message: expect.any(String) },
        { row: 6, field: 'country', message: expect.stringContaining('ISO 3166-1') },
        { row: 6, field: 'language', message: expect.any(String) },
        { row: 6, field: 'jurisdiction', message: expect.stringMatching(/^item 1: /) },
        { row: 6, field: 'verified_at', message: expect.any(String) },
        { row: 7, field: null, message: 'has 2 cells; the header has 14' },
      ]),
    );
    expect(error.details.some((d: { row: number }) => [2, 4, 5].includes(d.row))).toBe(false);
    expect(await allTargets()).toEqual([]);
  });

  it('names unknown, repeated and missing columns', async () => {
    t = createTestApp();
    const unknown = await importCsv('name,kind,address_lines,country,phone,fax\nX,embassy,L,JP,1,2\n');
    expect(unknown.status).toBe(422);
    expect((await unknown.json()).error).toMatchObject({ code: 'IMPORT_FAILED', message: expect.stringContaining('Unknown CSV columns: "phone", "fax"') });

    const repeated = await importCsv('name,kind,address_lines,country,name\nX,embassy,L,JP,Y\n');
    expect((await repeated.json()).error.message).toContain('Repeated CSV column: name');

    const missing = await importCsv('name,kind\nX,embassy\n');
    expect((await missing.json()).error.message).toContain('Missing CSV columns: address_lines, country');
  });

  it('reports malformed CSV, empty files and non-UTF-8 bytes as 422, never 5xx', async () => {
    t = createTestApp();
    const unclosed = await importCsv(`${HEADER}\n"Unclosed,,,embassy,,L,,,,JP,,,,\n`);
    expect(unclosed.status).toBe(422);
    expect((await unclosed.json()).error).toMatchObject({ code: 'IMPORT_FAILED', message: expect.stringContaining('The CSV could not be read') });

    for (const empty of ['', '\uFEFF', `${HEADER}\n`, `${HEADER}\n,,,,,,,,,,,,,\n`]) {
      const res = await importCsv(empty);
      expect(res.status, JSON.stringify(empty)).toBe(422);
      expect((await res.json()).error.message).toBe('The file holds no targets.');
    }

    // "名前" in Shift_JIS.
    const shiftJis = new Uint8Array([0x96, 0xbc, 0x91, 0x4f, 0x0a]);
    const sjis = await t.app.request('/api/v1/targets/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' },
      body: shiftJis,
    });
    expect(sjis.status).toBe(422);
    expect((await sjis.json()).error.message).toContain('not UTF-8');
    expect(await allTargets()).toEqual([]);
  });

  it('refuses other media types and charsets with 415', async () => {
    t = createTestApp();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/csv; charset=shift_jis']) {
      const res = await importCsv(`${HEADER}\n`, type);
      expect(res.status, type).toBe(415);
      expect((await res.json()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('refuses more than 5,000 rows with a clear message', async () => {
    t = createTestApp();
    const row = 'Target,,,other,,L,,,,JP,,,,';
    const csv = `${HEADER}\n${Array.from({ length: 5001 }, () => row).join('\n')}\n`;
    const res = await importCsv(csv);
    expect(res.status).toBe(422);
    expect((await res.json()).error).toMatchObject({ code: 'IMPORT_FAILED', message: expect.stringContaining('at most 5,000 rows; this one has 5,001') });
    expect(await allTargets()).toEqual([]);
  });

  it('imports 5,000 rows in one go', async () => {
    t = createTestApp();
    const rows = Array.from({ length: 5000 }, (_, i) => `"Target ${i}, 名古屋 🕊️",Consul,Org,other,t${i}@example.org,Line 1|Line 2,100-0001,City,Region,JP,ja,Dear,JP-01;JP-02,`);
    const res = await importCsv(`${HEADER}\n${rows.join('\n')}\n`);
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.created).toBe(5000);
    expect(new Set(body.ids).size).toBe(5000);
    const count = t.database.sqlite.prepare('select count(*) as n from targets').get() as { n: number };
    expect(count.n).toBe(5000);
    const last = await (await t.request('GET', `/api/v1/targets/${body.ids[4999]}`)).json();
    expect(last).toMatchObject({ name: 'Target 4999, 名古屋 🕊️', email: 't4999@example.org', jurisdiction: ['JP-01', 'JP-02'], postalAddress: { lines: ['Line 1', 'Line 2'] } });
  });
});

describe('target import: JSON', () => {
  it('imports an array, in order, and a { targets } object with a note', async () => {
    t = createTestApp();
    const res = await importJson([target('First'), target('Second', { language: 'ja', email: 'a@example.org' })]);
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.created).toBe(2);
    expect(await (await t.request('GET', `/api/v1/targets/${body.ids[0]}`)).json()).toMatchObject({ name: 'First', language: 'en' });
    expect(await (await t.request('GET', `/api/v1/targets/${body.ids[1]}`)).json()).toMatchObject({ name: 'Second', language: 'ja', email: 'a@example.org' });
    // Newest first: the same millisecond, so the id (which keeps the file's order) decides.
    expect((await allTargets()).map((x) => x.name)).toEqual(['Second', 'First']);

    const wrapped = await importJson({ note: 'Checked 2027-08', targets: [target('Third')] });
    expect(wrapped.status).toBe(201);
    expect((await wrapped.json()).created).toBe(1);
  });

  it('imports nothing when one item is bad, reporting array positions from 1 and JSON paths', async () => {
    t = createTestApp();
    const res = await importJson([
      target('Good'),
      target('Bad', { kind: 'king', postalAddress: { lines: ['x'], country: 'JP', street: 'y' } }),
      'not an object',
      target('Also good'),
      target('Unknown field', { phone: '123' }),
    ]);
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.code).toBe('IMPORT_FAILED');
    expect(error.message).toContain('3 rows have problems');
    expect(error.message).toContain('positions in the JSON array');
    expect(error.details).toEqual([
      { row: 2, field: 'kind', message: expect.any(String) },
      { row: 2, field: 'postalAddress.street', message: expect.any(String) },
      { row: 3, field: null, message: expect.any(String) },
      { row: 5, field: 'phone', message: expect.any(String) },
    ]);
    expect(await allTargets()).toEqual([]);
  });

  it('reports malformed JSON and wrong shapes as 422 IMPORT_FAILED', async () => {
    t = createTestApp();
    const cases: Array<[string, string]> = [
      ['[{"name": "x",', 'The JSON could not be parsed'],
      ['"just a string"', 'must be an array of targets'],
      ['{"targets": {"name": "x"}}', 'must be an array of targets'],
      ['{"targets": [], "extra": 1}', 'Unknown top-level field: extra'],
      ['{"targets": [{}], "note": 5}', 'The top-level "note" must be a string'],
      ['[]', 'The file holds no targets.'],
      ['null', 'must be an array of targets'],
    ];
    for (const [body, message] of cases) {
      const res = await importJson(body);
      expect(res.status, body).toBe(422);
      expect((await res.json()).error).toMatchObject({ code: 'IMPORT_FAILED', message: expect.stringContaining(message) });
    }
  });

  it('caps the details of a hopeless file', async () => {
    t = createTestApp();
    const res = await importJson(Array.from({ length: 300 }, () => ({})));
    expect(res.status).toBe(422);
    const { error } = await res.json();
    expect(error.details).toHaveLength(200);
    expect(error.message).toContain('300 rows have problems');
    expect(error.message).toContain('The first 200 of');
  });

  it('strips a BOM in content given directly to the service (the CLI reads files as they are)', async () => {
    t = createTestApp();
    const result = await importTargets(t.ctx, { format: 'json', content: `\uFEFF${JSON.stringify([target('From a file')])}` });
    expect(result.created).toBe(1);
    expect((await allTargets())[0]).toMatchObject({ id: result.ids[0], name: 'From a file' });
  });
});
