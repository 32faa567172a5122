import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { letterBatches, letterTemplateVersions } from '../../src/db/schema.js';
import { createLocalLetterPorts } from '../../src/letters/node/letter-store.js';
import { runLetterRedactions } from '../../src/services/letter-redaction.js';
import { createTestApp, repoLettersDir } from '../helpers/app.js';
import { openCampaign, signAndConfirm } from '../helpers/signing.js';
import { parsePdfBytes } from '../letters/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => {
  await t?.cleanup();
  t = undefined as unknown as TestApp;
});

const API = '/api/v1';
const SLUG = 'free-the-detained';
const EN = `${API}/templates/embassy-petition/en`;
const ERASED = { name: 'Quentin Marchbanks', email: 'quentin@example.net' };

type TemplateView = {
  name: string;
  language: string;
  version: number;
  shipped: boolean;
  savedBy: string | null;
  savedAt: string | null;
  fields: Record<string, unknown> & { body: string; subject: string };
  source: string;
  variables: string[];
};
type Batch = { batchId: string; templateVersions: Record<string, number>; letters: { id: string }[] };

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const compact = (text: string) => text.replace(/\s+/g, '');

async function pdfText(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/pdf');
  return compact((await parsePdfBytes(Buffer.from(await res.arrayBuffer()))).pages.join('\n'));
}

/** One embassy writing in English, a campaign to it, and two supporters named in full. */
async function setup() {
  t = createTestApp();
  const target = await json<{ id: string }>(
    await t.request('POST', `${API}/targets`, {
      body: { name: 'Embassy of Testland', kind: 'embassy', postalAddress: { lines: ['1 Embassy Row'], city: 'Tokyo', country: 'JP' }, language: 'en' },
    }),
    201,
  );
  await openCampaign(t, SLUG, { targetIds: [target.id] });
  const consent = { nameOnLetter: 'full', showPublicly: false, updates: false };
  await signAndConfirm(t, SLUG, { name: ERASED.name, email: ERASED.email, country: 'JP', region: 'JP-13', city: 'Tokyo', consent });
  await signAndConfirm(t, SLUG, { name: 'Aiko Tanaka', email: 'aiko@example.org', country: 'JP', region: 'JP-13', city: 'Tokyo', consent });
  t.clock.advance(60_000);
  return { targetId: target.id };
}

const generate = async () => json<Batch>(await t.request('POST', `${API}/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } }), 201);
const letterText = async (id: string) => pdfText(await t.request('GET', `${API}/letters/${id}.pdf`));
const storedVersions = async () => t.database.db.select().from(letterTemplateVersions);

describe('letter templates edited through the API (PRODUCT.md §12)', () => {
  it('reads the shipped text as version 0, split into front matter fields and body, with its variables', async () => {
    t = createTestApp();
    const view = await json<TemplateView>(await t.request('GET', EN), 200);
    const shipped = await readFile(join(repoLettersDir, 'embassy-petition/en.md'), 'utf8');
    expect(view).toMatchObject({ name: 'embassy-petition', language: 'en', version: 0, shipped: true, savedBy: null, savedAt: null, source: shipped });
    expect(view.fields).toMatchObject({ pageSize: 'A4', envelopeWindow: 'din5008-b', letterhead: true, closing: 'Respectfully yours,', closingAlign: 'left', salutation: '{{target.salutation}}' });
    expect(view.fields.subject).toContain('Save North Korean Refugees');
    expect(shipped.endsWith(view.fields.body)).toBe(true);
    expect(view.variables).toEqual(expect.arrayContaining(['organisation.name', 'signatures.total', 'target.name']));
    const versions = await json<{ items: unknown[] }>(await t.request('GET', `${EN}/versions`), 200);
    expect(versions.items).toEqual([{ version: 0, isReset: false, savedBy: null, savedAt: null, current: true }]);
  });

  it('saves a new version: the next batch is written with it and records its version; an earlier batch keeps the shipped one', async () => {
    await setup();
    const before = await generate();
    expect(before.templateVersions).toEqual({ en: 0 });
    expect(await letterText(before.letters[0]!.id)).toContain('principleofnon-refoulement');

    const saved = await json<TemplateView>(
      await t.request('PUT', EN, { body: { subject: 'An appeal for {{campaign.title}}', body: 'We, {{organisation.name}}, write for {{signatures.total}} supporters of the Kestrel appeal.\r\n' } }),
      200,
    );
    expect(saved).toMatchObject({ version: 1, shipped: false, savedBy: 'ADMIN_TOKEN', savedAt: new Date(t.clock.now()).toISOString() });
    // Fields left out keep their values; line ends are the file's.
    expect(saved.fields).toMatchObject({ subject: 'An appeal for {{campaign.title}}', closing: 'Respectfully yours,', envelopeWindow: 'din5008-b', body: 'We, {{organisation.name}}, write for {{signatures.total}} supporters of the Kestrel appeal.\n' });
    expect(saved.variables).toEqual(['campaign.title', 'organisation.name', 'signatures.total', 'target.name', 'target.organisation', 'target.salutation', 'target.title']);
    expect(await json<TemplateView>(await t.request('GET', EN), 200)).toMatchObject({ version: 1, source: saved.source });

    const after = await generate();
    expect(after.templateVersions).toEqual({ en: 1 });
    const [row] = await t.database.db.select({ templateVersions: letterBatches.templateVersions }).from(letterBatches).where(eq(letterBatches.id, after.batchId));
    expect(row?.templateVersions).toEqual({ en: 1 });
    const text = await letterText(after.letters[0]!.id);
    expect(text).toContain('writefor2supportersoftheKestrelappeal');
    expect(text).not.toContain('non-refoulement');

    // The list shows the version in use.
    const listed = await json<{ items: { name: string; variants: { language: string; version: number; subject?: string }[] }[] }>(await t.request('GET', `${API}/templates`), 200);
    const petition = listed.items.find((item) => item.name === 'embassy-petition')!;
    expect(petition.variants.find((variant) => variant.language === 'en')).toMatchObject({ version: 1, subject: 'An appeal for {{campaign.title}}' });
    expect(petition.variants.find((variant) => variant.language === 'ja')).toMatchObject({ version: 0 });
  });

  it('refuses an unknown variable by name, field and line, and stores nothing', async () => {
    t = createTestApp();
    const refused = await t.request('PUT', EN, { body: { body: 'First line.\n\nDear {{target.nmae}},\n' } });
    const error = (await json<{ error: { code: string; message: string; details: unknown } }>(refused, 422)).error;
    expect(error).toMatchObject({ code: 'TEMPLATE_INVALID', details: { field: 'body', variable: 'target.nmae', line: 3 } });
    expect(error.message).toBe('Unknown variable "target.nmae" (line 3 of the body).');

    const inSubject = await t.request('PUT', EN, { body: { body: 'Fine.', subject: 'For {{campaign.name}}' } });
    expect((await json<{ error: unknown }>(inSubject, 422)).error).toMatchObject({ code: 'TEMPLATE_INVALID', details: { field: 'subject', variable: 'campaign.name' } });

    const badWindow = await t.request('PUT', EN, { body: { body: 'Fine.', pageSize: 'A4', envelopeWindow: 'us-10' } });
    expect((await json<{ error: unknown }>(badWindow, 400)).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'envelopeWindow' }] });

    expect(await storedVersions()).toEqual([]);
    expect(await json<TemplateView>(await t.request('GET', EN), 200)).toMatchObject({ version: 0 });
  });

  it('stores any field text as written: YAML-looking values, quotes, a line of dashes and Markdown rules come back unchanged', async () => {
    t = createTestApp();
    const fields = {
      subject: '{{campaign.title}}: a "quoted" appeal #1 - key: value',
      addressee: '{{target.name}}\n---\n  {{target.organisation}}: {x}',
      salutation: "'Dear' friends,",
      closing: '- not a list\n> nor a quote',
      body: 'Intro.\n\n---\n\nsubject: not front matter\n---\n',
    };
    const saved = await json<TemplateView>(await t.request('PUT', EN, { body: fields }), 200);
    const read = await json<TemplateView>(await t.request('GET', EN), 200);
    for (const view of [saved, read]) expect(view.fields).toMatchObject(fields);
  });

  it('refuses a template or language that is not shipped, and a name that could leave letters/', async () => {
    t = createTestApp();
    expect((await json<{ error: { code: string } }>(await t.request('PUT', `${API}/templates/no-such-letter/en`, { body: { body: 'Hello.' } }), 404)).error.code).toBe('TEMPLATE_NOT_FOUND');
    expect((await json<{ error: { code: string } }>(await t.request('GET', `${API}/templates/embassy-petition/fr`), 422)).error.code).toBe('TEMPLATE_INVALID');
    expect((await t.request('GET', `${API}/templates/..%2Forganisation/en`)).status).toBeGreaterThanOrEqual(400);
    expect(await storedVersions()).toEqual([]);
  });

  it('resets to the shipped text as a new version, kept in the history with who and when', async () => {
    t = createTestApp();
    await json(await t.request('PUT', EN, { body: { body: 'Changed.' } }), 200);
    t.clock.advance(60_000);
    const reset = await json<TemplateView>(await t.request('POST', `${EN}/reset`), 200);
    const shipped = await readFile(join(repoLettersDir, 'embassy-petition/en.md'), 'utf8');
    expect(reset).toMatchObject({ version: 2, shipped: true, source: shipped, savedBy: 'ADMIN_TOKEN' });
    const versions = await json<{ items: { version: number; isReset: boolean; current: boolean; savedBy: string | null }[] }>(await t.request('GET', `${EN}/versions`), 200);
    expect(versions.items.map(({ version, isReset, current, savedBy }) => ({ version, isReset, current, savedBy }))).toEqual([
      { version: 2, isReset: true, current: true, savedBy: 'ADMIN_TOKEN' },
      { version: 1, isReset: false, current: false, savedBy: 'ADMIN_TOKEN' },
      { version: 0, isReset: false, current: false, savedBy: null },
    ]);
    const first = await json<{ source: string; fields: { body: string } }>(await t.request('GET', `${EN}/versions/1`), 200);
    expect(first.fields.body).toBe('Changed.');
    expect((await json<{ error: { code: string } }>(await t.request('GET', `${EN}/versions/9`), 404)).error.code).toBe('NOT_FOUND');
  });

  it('renders a batch again after an erasure with the version it recorded, not one saved since', async () => {
    await setup();
    await json(await t.request('PUT', EN, { body: { body: 'Version one speaks for {{signatures.total}} people of the Heron appeal.' } }), 200);
    const batch = await generate();
    expect(batch.templateVersions).toEqual({ en: 1 });
    await json(await t.request('PUT', EN, { body: { body: 'Version two, the Osprey appeal.' } }), 200);

    t.clock.advance(60_000);
    await json(await t.request('POST', `${API}/privacy/erasures`, { body: { email: ERASED.email } }), 200);
    const report = await runLetterRedactions(t.ctx, createLocalLetterPorts({ lettersDir: repoLettersDir, dataDir: t.dataDir }));
    expect(report).toMatchObject({ regenerated: 1, failed: 0 });

    const text = await letterText(batch.letters[0]!.id);
    expect(text).toContain('Versionone');
    expect(text).toContain('Heronappeal');
    expect(text).not.toContain('Osprey');
    expect(text).not.toContain('Marchbanks');
    expect(text).toContain('AikoTanaka');
  });

  it('previews an unsaved draft as a PDF for a campaign\'s target without storing it, and refuses a draft with an unknown variable', async () => {
    const { targetId } = await setup();
    const draft = { body: 'A draft for the Plover appeal, {{signatures.total}} signatures.' };
    const text = await pdfText(await t.request('POST', `${EN}/preview`, { body: { campaign: SLUG, target: targetId, draft } }));
    expect(text).toContain('AdraftforthePloverappeal,2signatures.');
    expect(text).toContain('EmbassyofTestland');
    // Without a target: the campaign's first.
    expect(await pdfText(await t.request('POST', `${EN}/preview`, { body: { campaign: SLUG, draft } }))).toContain('Ploverappeal');
    expect(await storedVersions()).toEqual([]);

    const refused = await t.request('POST', `${EN}/preview`, { body: { campaign: SLUG, draft: { body: 'Hello {{supporter.name}}' } } });
    expect((await json<{ error: unknown }>(refused, 422)).error).toMatchObject({ code: 'TEMPLATE_INVALID', details: { field: 'body', variable: 'supporter.name', line: 1 } });
    expect((await json<{ error: { code: string } }>(await t.request('POST', `${EN}/preview`, { body: { campaign: 'no-such-campaign', draft } }), 404)).error.code).toBe('NOT_FOUND');
  });

  it('lets no token change a template without the letters scope or limited to campaigns, and audits every save', async () => {
    await setup();
    const reader = await json<{ token: string }>(await t.request('POST', `${API}/tokens`, { body: { name: 'reader', scopes: ['campaigns', 'signatures:read'] } }), 201);
    const limited = await json<{ token: string }>(await t.request('POST', `${API}/tokens`, { body: { name: 'campaign team', scopes: ['letters'], campaigns: [SLUG] } }), 201);
    for (const token of [reader.token, limited.token]) {
      const put = await t.request('PUT', EN, { token, body: { body: 'Taken over.' } });
      expect((await json<{ error: { code: string } }>(put, 403)).error.code).toBe('FORBIDDEN');
      const reset = await t.request('POST', `${EN}/reset`, { token });
      expect((await json<{ error: { code: string } }>(reset, 403)).error.code).toBe('FORBIDDEN');
    }
    expect(await storedVersions()).toEqual([]);
    // Reading stays open to a token with letters, also a limited one.
    expect(await json<TemplateView>(await t.request('GET', EN, { token: limited.token }), 200)).toMatchObject({ version: 0 });

    await json(await t.request('PUT', EN, { body: { body: 'Saved by the admin.' } }), 200);
    await json(await t.request('POST', `${EN}/reset`), 200);
    const audit = await json<{ items: { action: string; object: { type: string; id: string | null } | null }[] }>(await t.request('GET', `${API}/audit?limit=100`), 200);
    const actions = audit.items.filter((item) => item.action.startsWith('template.')).map((item) => item.action);
    expect(actions).toEqual(expect.arrayContaining(['template.update', 'template.reset']));
    expect(audit.items.find((item) => item.action === 'template.update')).toMatchObject({ object: { type: 'template', id: 'embassy-petition' } });
  });
});
