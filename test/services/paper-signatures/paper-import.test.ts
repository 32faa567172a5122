import { count, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outbox, paperImports, signatures } from '../../../src/db/schema.js';
import { csvRow } from '../../../src/lib/csv.js';
import { auditLog } from '../audit/helpers.js';
import { createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';
import { parsePdfBytes } from '../../letters/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
type Report = {
  id: string | null;
  dryRun: boolean;
  rows: number;
  accepted: number;
  imported: number;
  merged: number;
  rejectedCount: number;
  rejected: { row: number; errors: { field: string | null; code: string; message: string }[] }[];
};
type ErrorBody = { error: { code: string; message: string; details?: unknown } };

const SLUG = 'save-refugees';
const header = ['name', 'email', 'country', 'region', 'city', 'name_on_letter', 'show_publicly', 'updates', 'collected_at', 'locale'];

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.cleanup());

function csv(rows: Record<string, string>[], columns = header): string {
  return csvRow(columns) + rows.map((row) => csvRow(columns.map((column) => row[column] ?? ''))).join('');
}

function importCsv(body: string, query = '') {
  return t.request('POST', `/api/v1/campaigns/${SLUG}/signatures/import${query ? `?${query}` : ''}`, { raw: body, headers: { 'content-type': 'text/csv; charset=utf-8' } });
}

async function signatureCount(): Promise<number> {
  const res = await t.request('GET', `/api/v1/campaigns/${SLUG}`);
  return ((await res.json()) as { signatureCount: number }).signatureCount;
}

async function rowCount(table: typeof signatures | typeof outbox | typeof paperImports): Promise<number> {
  const [row] = await t.database.db.select({ n: count() }).from(table);
  return row!.n;
}

/** Each kind of mistake a typist makes, one per bad row, with the code the report must give it. */
const mistakes: { cells: Record<string, string>; field: string; code: string }[] = [
  { cells: { name: '' }, field: 'name', code: 'REQUIRED' },
  { cells: { email: 'not-an-email' }, field: 'email', code: 'INVALID_EMAIL' },
  { cells: { region: 'XX-99' }, field: 'region', code: 'UNKNOWN_REGION' },
  { cells: { country: 'US', region: 'JP-13' }, field: 'region', code: 'REGION_NOT_IN_COUNTRY' },
  { cells: { name_on_letter: 'maybe' }, field: 'name_on_letter', code: 'INVALID_CHOICE' },
  { cells: { updates: 'perhaps' }, field: 'updates', code: 'INVALID_CHOICE' },
  { cells: { collected_at: '2027-13-01' }, field: 'collected_at', code: 'INVALID_DATE' },
  { cells: { collected_at: '2099-01-01' }, field: 'collected_at', code: 'FUTURE_DATE' },
  { cells: { locale: 'fr' }, field: 'locale', code: 'INVALID_LOCALE' },
  { cells: { country: 'Japan' }, field: 'country', code: 'INVALID_COUNTRY' },
];

/**
 * 1,000 typed-up rows: a third each asking to be named in full, by initials, or (empty box) not
 * at all; every tenth without an email; five repeating an address higher up; one the address of
 * a web supporter; and the ten mistakes above spread through the file.
 */
function thousandRows(webEmail: string) {
  const badAt = new Map(mistakes.map((mistake, i) => [97 * (i + 1), mistake]));
  const rows: Record<string, string>[] = [];
  const kinds: ('full' | 'initials' | 'none')[] = [];
  for (let i = 1; i <= 1000; i++) {
    const kind = (['full', 'initials', 'none'] as const)[i % 3]!;
    const name = kind === 'full' ? `Full${i} Paper` : kind === 'initials' ? `Initials${i} Qorvath` : `Hidden${i} Zvonar`;
    let email = i % 10 === 0 ? '' : `paper${i}@example.org`;
    if (i === 500) email = webEmail;
    if ([601, 602, 603, 604, 605].includes(i)) email = `paper${i - 600}@example.org`;
    const row: Record<string, string> = {
      name,
      email,
      country: 'JP',
      region: i % 2 === 0 ? 'JP-13' : '大阪府',
      city: 'Setagaya',
      name_on_letter: kind === 'none' ? '' : kind,
      show_publicly: i % 4 === 0 ? 'yes' : '',
      updates: i % 5 === 0 ? 'yes' : 'no',
      collected_at: '2027-08-30',
      locale: '',
    };
    const mistake = badAt.get(i);
    if (mistake) Object.assign(row, mistake.cells);
    rows.push(row);
    kinds.push(kind);
  }
  return { body: csv(rows), badLines: [...badAt.keys()].map((i) => i + 1), kinds };
}

describe('POST /api/v1/campaigns/:slug/signatures/import', () => {
  it('takes 1,000 typed-up rows with 10 bad ones: the dry run names the 10, the import takes the others, counts once per address and letters name people only as their box says', async () => {
    const target = await t.request('POST', '/api/v1/targets', { body: { name: 'Ambassador', kind: 'embassy', postalAddress: { lines: ['3-4-33 Moto-Azabu'], city: 'Minato-ku', country: 'JP' }, language: 'en' } });
    const { id: targetId } = (await target.json()) as { id: string };
    await openCampaign(t, SLUG, { targetIds: [targetId] });
    const webEmail = 'web.supporter@example.org';
    await signAndConfirm(t, SLUG, signature(webEmail, { name: 'Web Supporter', consent: { nameOnLetter: 'full' } }));
    const outboxBefore = await rowCount(outbox);
    const { body, badLines } = thousandRows(webEmail);

    const dry = await importCsv(body, 'dryRun=true&event=Shinjuku%20street%20stall&sheet=A-01');
    const report = (await dry.json()) as Report;
    expect(dry.status, JSON.stringify(report).slice(0, 500)).toBe(200);
    expect(report).toMatchObject({ id: null, dryRun: true, rows: 1000, accepted: 990, imported: 984, merged: 6, rejectedCount: 10 });
    expect(report.rejected.map((rejected) => rejected.row)).toEqual(badLines);
    expect(report.rejected.map((rejected) => rejected.errors.map((error) => [error.field, error.code]))).toEqual(mistakes.map((mistake) => [[mistake.field, mistake.code]]));
    expect(await rowCount(signatures)).toBe(1);
    expect(await rowCount(paperImports)).toBe(0);

    // All or nothing: the bad rows refuse the file, named, and nothing is written.
    const refused = await importCsv(body, 'event=Shinjuku%20street%20stall');
    const refusal = (await refused.json()) as ErrorBody;
    expect(refused.status).toBe(422);
    expect(refusal.error.code).toBe('IMPORT_FAILED');
    expect(refusal.error.message).toContain('10 rows have problems, so nothing was imported');
    expect((refusal.error.details as Report['rejected']).map((rejected) => rejected.row)).toEqual(badLines);
    expect(await rowCount(signatures)).toBe(1);
    expect(await signatureCount()).toBe(1);

    const imported = await importCsv(body, 'skipInvalid=true&event=Shinjuku%20street%20stall&sheet=A-01&collectedOn=2027-08-31');
    const result = (await imported.json()) as Report;
    expect(imported.status, JSON.stringify(result).slice(0, 500)).toBe(201);
    expect(result).toMatchObject({ dryRun: false, rows: 1000, accepted: 990, imported: 984, merged: 6, rejectedCount: 10 });
    expect(result.rejected.map((rejected) => rejected.row)).toEqual(badLines);
    expect(await rowCount(signatures)).toBe(985);
    expect(await signatureCount()).toBe(985);
    // Nothing was queued for anyone: paper is confirmed as it stands.
    expect(await rowCount(outbox)).toBe(outboxBefore);

    // The web supporter's own signature stays as they confirmed it.
    const [web] = await t.database.db.select().from(signatures).where(eq(signatures.emailNormalized, webEmail));
    expect(web).toMatchObject({ name: 'Web Supporter', nameOnLetter: 'full', source: null });
    // Sheet, event and day are on each paper signature; a row's own day wins over the import's.
    const [paper] = await t.database.db.select().from(signatures).where(eq(signatures.emailNormalized, 'paper1@example.org'));
    expect(paper).toMatchObject({ status: 'confirmed', name: 'Initials1 Qorvath', nameOnLetter: 'initials', region: 'JP-27', showPublicly: false, updates: false });
    expect(paper!.source).toEqual({ kind: 'paper', import: result.id, sheet: 'A-01', event: 'Shinjuku street stall', collectedOn: '2027-08-30', row: '2' });
    const [record] = await t.database.db.select().from(paperImports);
    expect(record).toMatchObject({ id: result.id, sheet: 'A-01', event: 'Shinjuku street stall', collectedOn: '2027-08-31', rows: 1000, imported: 984, merged: 6, rejected: 10 });

    // Rows without an email are there, with no address and nothing to send news to.
    const addressless = await t.database.db.select().from(signatures).where(eq(signatures.email, ''));
    // Every tenth row, but for the one given the web supporter's address and one refused.
    expect(addressless).toHaveLength(98);
    expect(addressless.every((row) => row.emailNormalized === `paper:${row.id}` && row.updates === false)).toBe(true);

    // Importing the same file again adds no one: every address is merged (address-less rows cannot be told apart, so they are added again: the organiser is warned in the README).
    const again = (await (await importCsv(body, 'skipInvalid=true&dryRun=true')).json()) as Report;
    expect(again.imported).toBe(98);

    const letters = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } });
    expect(letters.status, await letters.clone().text()).toBe(201);
    const [letter] = ((await letters.json()) as { letters: { id: string; signatureCount: number }[] }).letters;
    expect(letter!.signatureCount).toBe(985);
    const pdf = await t.request('GET', `/api/v1/letters/${letter!.id}.pdf`);
    const text = (await parsePdfBytes(Buffer.from(await pdf.arrayBuffer()))).pages.join('\n').replace(/\s+/g, ' ');
    const goodRows = (kind: string, pattern: RegExp) =>
      thousandRows(webEmail)
        .kinds.map((k, i) => ({ k, i: i + 1 }))
        .filter(({ k, i }) => k === kind && !badLines.includes(i + 1) && ![601, 602, 603, 604, 605, 500].includes(i))
        .filter(({ i }) => pattern.test(String(i))).length;
    // Every `full` row is named with its city; no `initials` or `none` row's name is printed.
    expect(text.match(/Full\d+ Paper/g)?.length).toBe(goodRows('full', /./));
    expect(text).toContain('Full3 Paper Setagaya');
    expect(text).not.toMatch(/Initials\d+|Qorvath|Hidden\d+|Zvonar/);
    expect(text.match(/I\. Q\./g)?.length).toBe(goodRows('initials', /./));
    expect(text).toContain('Web Supporter');
  });

  it('merges a paper row into a web signature given later: the web confirmation applies, counted once', async () => {
    await openCampaign(t, SLUG);
    const imported = await importCsv(csv([{ name: '田中 愛子', email: 'Aiko@Example.jp', country: 'JP', name_on_letter: 'full' }]));
    expect(imported.status).toBe(201);
    expect(await signatureCount()).toBe(1);
    const signed = await t.request('POST', `/api/v1/campaigns/${SLUG}/signatures`, { token: null, body: signature('aiko@example.jp', { name: 'Aiko Tanaka', consent: { nameOnLetter: 'initials' } }) });
    expect(signed.status).toBe(202);
    const confirmed = await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: await latestConfirmToken(t, 'aiko@example.jp') } });
    expect(confirmed.status).toBe(200);
    expect(await signatureCount()).toBe(1);
    const rows = await t.database.db.select().from(signatures);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: 'Aiko Tanaka', nameOnLetter: 'initials', status: 'confirmed' });
  });

  it('takes the file as multipart too, with the fields as parts, and records the import in the audit log', async () => {
    await openCampaign(t, SLUG);
    const form = new FormData();
    form.set('file', new File([csv([{ name: 'Ken Sato', email: '', country: '' }])], 'sheet.csv', { type: 'text/csv' }));
    form.set('country', 'JP');
    form.set('event', 'Osaka rally');
    const res = await t.app.request(`/api/v1/campaigns/${SLUG}/signatures/import`, { method: 'POST', body: form, headers: { authorization: 'Bearer test-admin-token-0123456789abcdef' } });
    const report = (await res.json()) as Report;
    expect(res.status, JSON.stringify(report)).toBe(201);
    expect(report).toMatchObject({ imported: 1, merged: 0, rejectedCount: 0 });
    await t.audit.flush();
    const log = await auditLog(t, 'action=signatures.import');
    expect(log.items).toHaveLength(1);
    expect(log.items[0]).toMatchObject({ action: 'signatures.import', object: { type: 'paper_import', id: report.id }, status: 201 });
    const listed = await t.request('GET', `/api/v1/campaigns/${SLUG}/signatures/imports`);
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([expect.objectContaining({ id: report.id, event: 'Osaka rally', imported: 1 })]);
  });

  it('refuses what it cannot read with a clear 4xx and writes nothing', async () => {
    await openCampaign(t, SLUG);
    const cases: [Response | Promise<Response>, number, string][] = [
      [importCsv('name,mood\nKen,happy\n'), 422, 'IMPORT_FAILED'],
      [importCsv('email\nken@example.org\n'), 422, 'IMPORT_FAILED'],
      [importCsv('name\n'), 422, 'IMPORT_FAILED'],
      [importCsv('name,email\n"Ken,ken@example.org\n'), 422, 'IMPORT_FAILED'],
      [t.request('POST', `/api/v1/campaigns/${SLUG}/signatures/import`, { raw: '\xff\xfe', headers: { 'content-type': 'text/csv; charset=shift_jis' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [t.request('POST', `/api/v1/campaigns/${SLUG}/signatures/import`, { body: { name: 'Ken' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [importCsv('name\nKen\n', 'dryRun=maybe'), 400, 'VALIDATION_FAILED'],
      [importCsv('name\nKen\n', 'collectedOn=tomorrow'), 400, 'VALIDATION_FAILED'],
      [importCsv('name\nKen\n', 'collectedOn=2027-02-31'), 400, 'VALIDATION_FAILED'],
      [importCsv('name\nKen\n', 'collectedOn=2027-09-02'), 400, 'VALIDATION_FAILED'],
      [importCsv('name\nKen\n', 'country=Japan'), 400, 'VALIDATION_FAILED'],
      [t.request('POST', '/api/v1/campaigns/nope/signatures/import', { raw: 'name\nKen\n', headers: { 'content-type': 'text/csv' } }), 404, 'NOT_FOUND'],
      [t.request('POST', `/api/v1/campaigns/${SLUG}/signatures/import`, { raw: 'name\nKen\n', headers: { 'content-type': 'text/csv', 'content-length': String(17 * 1024 * 1024) } }), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      const body = (await res.json()) as ErrorBody;
      expect([res.status, body.error.code], body.error.message).toEqual([status, code]);
    }
    const noBody = await t.request('POST', `/api/v1/campaigns/${SLUG}/signatures/import`);
    expect(noBody.status).toBe(415);
    const notUtf8 = await t.app.request(`/api/v1/campaigns/${SLUG}/signatures/import`, {
      method: 'POST',
      body: new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x93, 0x63, 0x92, 0x86]),
      headers: { authorization: 'Bearer test-admin-token-0123456789abcdef', 'content-type': 'text/csv' },
    });
    expect(notUtf8.status).toBe(422);
    expect(((await notUtf8.json()) as ErrorBody).error.message).toContain('not UTF-8');
    expect(await rowCount(signatures)).toBe(0);
    expect(await rowCount(paperImports)).toBe(0);
  });

  it('needs the campaigns scope, and write access to the campaign', async () => {
    await openCampaign(t, SLUG);
    const readOnly = await t.request('POST', '/api/v1/tokens', { body: { name: 'reader', scopes: ['signatures:read'] } });
    const { token } = (await readOnly.json()) as { token: string };
    const res = await t.request('POST', `/api/v1/campaigns/${SLUG}/signatures/import`, { token, raw: 'name\nKen\n', headers: { 'content-type': 'text/csv' } });
    expect(res.status).toBe(403);
    expect(await rowCount(signatures)).toBe(0);
  });

  it('keeps a spreadsheet formula typed on a sheet inert when the signatures are exported', async () => {
    await openCampaign(t, SLUG);
    expect((await importCsv(csv([{ name: '=HYPERLINK("http://evil.example","x")', email: 'x@example.org', country: 'JP' }]))).status).toBe(201);
    const exported = await (await t.request('GET', `/api/v1/campaigns/${SLUG}/signatures.csv`)).text();
    expect(exported).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
  });
});
