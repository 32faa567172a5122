import { mkdtemp, readdir, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attachmentDisposition } from '../../../src/http/content-disposition.js';
import { createLocalLetterPorts } from '../../../src/letters/node/letter-store.js';
import { createLetterRenderPool } from '../../../src/letters/node/render-pool.js';
import { generateLetters, previewLetter } from '../../../src/services/letters.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { parsePdfBytes } from '../../letters/helpers.js';
import { latestConfirmToken, openCampaign, signature } from '../../helpers/signing.js';

const missionsFile = join(repoLettersDir, 'targets/china-missions-japan.json');
const SLUG = 'save-refugees-2027';

type TestApp = ReturnType<typeof createTestApp>;
type Letter = { id: string; targetId: string; signatureId: string | null; signatureCount: number; sha256: string; pages: number; bytes: number };

let t: TestApp;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await t?.cleanup();
  t = undefined as unknown as TestApp;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Text of a PDF with whitespace removed: pdf.js splits CJK runs with spaces and line breaks. */
const compact = (text: string) => text.replace(/\s+/g, '');

async function pdfText(res: Response) {
  const parsed = await parsePdfBytes(Buffer.from(await res.arrayBuffer()));
  return { ...parsed, all: parsed.pages.join('\n'), compactAll: compact(parsed.pages.join('\n')) };
}

async function sign(app: TestApp, email: string, name: string, nameOnLetter: 'full' | 'initials' | 'none', region = 'JP-13') {
  const signed = await app.request('POST', `/api/v1/campaigns/${SLUG}/signatures`, {
    token: null,
    body: signature(email, { name, region, consent: { nameOnLetter } }),
  });
  expect(signed.status).toBe(202);
  const confirmed = await app.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: await latestConfirmToken(app, email) } });
  expect(confirmed.status).toBe(200);
  app.clock.advance(60_000);
}

/** The shipped missions, a Japanese campaign writing to all seven, and four confirmed supporters. */
async function setup(options: { lettersDir?: string; sign?: boolean; deps?: Parameters<typeof createTestApp>[0] } = {}) {
  t = createTestApp({ ...(options.lettersDir ? { lettersDir: options.lettersDir } : {}), ...options.deps });
  const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
  expect(imported.status).toBe(201);
  const { ids } = (await imported.json()) as { ids: string[] };
  await openCampaign(t, SLUG, { locale: 'ja', title: '北朝鮮難民を救おう', targetIds: ids });
  if (options.sign !== false) {
    await sign(t, 'aiko@example.org', 'Aiko Tanaka', 'full');
    await sign(t, 'jane@example.org', 'Jane Doe', 'initials', 'JP-27');
    await sign(t, 'secret@example.org', 'Secret Person', 'none');
    await sign(t, 'taro@example.org', '山田太郎', 'full', 'JP-27');
  }
  return { targetIds: ids };
}

const generate = (body: unknown, token?: string | null) => t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body, token });

async function scopedToken(scopes: string[]) {
  const res = await t.request('POST', '/api/v1/tokens', { body: { name: `t-${scopes.join('-')}`, scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

describe('GET /api/v1/templates', () => {
  it('lists the shipped template with its languages and variables', async () => {
    await setup({ sign: false });
    const res = await t.request('GET', '/api/v1/templates');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { name: string; languages: string[]; variables: string[]; variants: { language: string; error?: unknown }[] }[] };
    const petition = items.find((item) => item.name === 'embassy-petition');
    expect(petition?.languages).toEqual(['en', 'ja', 'zh']);
    expect(petition?.variables).toEqual(expect.arrayContaining(['organisation.name', 'signatures.total', 'target.name']));
    expect(petition?.variants.every((variant) => variant.error === undefined)).toBe(true);
  });
});

describe('GET /api/v1/campaigns/:slug/letters/preview.pdf', () => {
  it('streams a draft for one target with its address, in Japanese on request, and stores nothing', async () => {
    const { targetIds } = await setup();
    const res = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${targetIds[0]}&language=ja`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="save-refugees-2027-preview-${targetIds[0]}\\.pdf"; filename\\*=UTF-8''`));
    const pdf = await pdfText(res);
    const page1 = compact(pdf.pages[0]!);
    // A Japanese letter names the embassy in Japanese (its translations), not in the directory's Chinese.
    for (const part of ['106-0046', '東京都港区元麻布3-4-33', '中華人民共和国駐日本国大使館']) expect(page1).toContain(part);
    expect(page1).not.toContain('中华人民共和国驻日本国大使馆');
    expect(pdf.compactAll).toContain('本要請には4名が署名しました');
    expect(pdf.compactAll).toContain('AikoTanaka');
    expect(pdf.compactAll).not.toContain('Secret');
    await expect(readdir(t.dataDir)).rejects.toThrow();
  });

  it('writes in the target\'s language (zh) by default', async () => {
    const { targetIds } = await setup();
    const res = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${targetIds[1]}`);
    expect(res.status).toBe(200);
    const pdf = await pdfText(res);
    expect(pdf.compactAll).toContain('本请愿书的4名联署人');
    expect(compact(pdf.pages[0]!)).toContain('064-0913');
  });

  it('answers 404 for an unknown target and for a target of another campaign', async () => {
    await setup({ sign: false });
    const unknown = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=0190f7a0-0000-7000-8000-000000000000`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const other = await t.request('POST', '/api/v1/targets', {
      body: { name: 'Someone', kind: 'official', postalAddress: { lines: ['1 Main St'], city: 'Springfield', country: 'US' }, language: 'en' },
    });
    const otherId = ((await other.json()) as { id: string }).id;
    const unlinked = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${otherId}`);
    expect(unlinked.status).toBe(404);
    expect(await unlinked.json()).toMatchObject({ error: { code: 'NOT_FOUND', message: expect.stringContaining('not one of this campaign') } });
    const missing = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf`);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'target' }] } });
  });
});

describe('POST /api/v1/campaigns/:slug/letters', () => {
  it('writes one letter per target with the consenting signatories, frozen at the cut-off', async () => {
    const { targetIds } = await setup();
    const cutoffAt = new Date(t.clock.now()).toISOString();
    t.clock.advance(60_000);
    await sign(t, 'late@example.org', 'Late Signer', 'full');

    const res = await generate({ mode: 'per_target', cutoffAt });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { batchId: string; cutoffAt: string; letters: Letter[] };
    expect(body.cutoffAt).toBe(cutoffAt);
    expect(body.letters).toHaveLength(7);
    expect(body.letters.map((l) => l.targetId)).toEqual(targetIds);
    for (const letter of body.letters) {
      expect(letter).toMatchObject({ signatureId: null, signatureCount: 4, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(letter.pages).toBeGreaterThanOrEqual(2);
    }
    expect(await readdir(join(t.dataDir, 'letters', body.batchId))).toHaveLength(7);

    for (const letter of body.letters) {
      const pdf = await pdfText(await t.request('GET', `/api/v1/letters/${letter.id}.pdf`));
      expect(pdf.bytes.length).toBe(letter.bytes);
      expect(pdf.compactAll).toContain('本请愿书的4名联署人');
      expect(pdf.all).toContain('Aiko Tanaka');
      expect(pdf.compactAll).toContain('山田太郎');
      expect(pdf.all).toContain('J. D.');
      expect(pdf.all).not.toContain('Jane');
      expect(pdf.all).not.toContain('Secret');
      expect(pdf.all).not.toContain('Late');
      // Appendix in order of confirmation: Aiko, Jane (initials), then Taro.
      expect(pdf.compactAll.indexOf('AikoTanaka')).toBeLessThan(pdf.compactAll.indexOf('J.D.'));
      expect(pdf.compactAll.indexOf('J.D.')).toBeLessThan(pdf.compactAll.lastIndexOf('山田太郎'));
    }

    // The same inputs again: the same text (and bytes), a new batch.
    const again = (await (await generate({ mode: 'per_target', cutoffAt })).json()) as { batchId: string; letters: Letter[] };
    expect(again.batchId).not.toBe(body.batchId);
    expect(again.letters.map((l) => l.sha256)).toEqual(body.letters.map((l) => l.sha256));
    const first = await pdfText(await t.request('GET', `/api/v1/letters/${body.letters[3]!.id}.pdf`));
    const second = await pdfText(await t.request('GET', `/api/v1/letters/${again.letters[3]!.id}.pdf`));
    expect(second.pages).toEqual(first.pages);

    // Without a cut-off: now, so the late signer is in.
    const now = (await (await generate({ mode: 'per_target' })).json()) as { letters: Letter[] };
    expect(now.letters[0]!.signatureCount).toBe(5);
    expect((await pdfText(await t.request('GET', `/api/v1/letters/${now.letters[0]!.id}.pdf`))).all).toContain('Late Signer');
  });

  it('serves a letter\'s metadata and its PDF with a UTF-8 file name', async () => {
    const { targetIds } = await setup();
    const body = (await (await generate({ mode: 'per_target' })).json()) as { batchId: string; letters: Letter[] };
    const letter = body.letters[4]!;

    const meta = await t.request('GET', `/api/v1/letters/${letter.id}`);
    expect(meta.status).toBe(200);
    expect(await meta.json()).toEqual({
      id: letter.id,
      batchId: body.batchId,
      mode: 'per_target',
      routing: 'all',
      campaign: SLUG,
      campaignId: expect.any(String),
      targetId: targetIds[4],
      signatureId: null,
      template: 'embassy-petition',
      language: 'zh',
      languages: ['zh'],
      cutoffAt: new Date(t.clock.now()).toISOString(),
      signatureCount: 4,
      sha256: letter.sha256,
      pages: letter.pages,
      bytes: letter.bytes,
      createdAt: expect.any(String),
      regeneratedAt: null,
      withdrawnAt: null,
      pdf: `/api/v1/letters/${letter.id}.pdf`,
    });

    const pdf = await t.request('GET', `/api/v1/letters/${letter.id}.pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-length')).toBe(String(letter.bytes));
    expect(pdf.headers.get('content-disposition')).toBe(
      `attachment; filename="${SLUG}-${letter.targetId}.pdf"; filename*=UTF-8''${SLUG}-${encodeURIComponent('驻大阪总领事')}.pdf`,
    );
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');

    expect((await t.request('GET', '/api/v1/letters/0190f7a0-0000-7000-8000-000000000000')).status).toBe(404);
    expect((await t.request('GET', '/api/v1/letters/0190f7a0-0000-7000-8000-000000000000.pdf')).status).toBe(404);
    expect((await t.request('GET', '/api/v1/letters/nope.pdf')).status).toBe(404);
  });

  it('writes one letter per confirmed signer per target in per_signer mode', async () => {
    await setup({ sign: false });
    await sign(t, 'aiko@example.org', 'Aiko Tanaka', 'full');
    await sign(t, 'taro@example.org', '山田太郎', 'initials');
    const res = await generate({ mode: 'per_signer' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { letters: Letter[] };
    expect(body.letters).toHaveLength(2 * 7);
    expect(new Set(body.letters.map((l) => l.signatureId)).size).toBe(2);
    // Target-major: the first target's letters, one per signer in order of confirmation.
    const first = body.letters.slice(0, 2);
    expect(new Set(first.map((l) => l.targetId)).size).toBe(1);
    for (const letter of first) expect(letter.signatureCount).toBe(2);
    const pdf = await pdfText(await t.request('GET', `/api/v1/letters/${first[1]!.id}.pdf`));
    // No appendix: nobody else's name travels in a supporter's own letter.
    expect(pdf.pages).toHaveLength(first[1]!.pages);
    expect(pdf.compactAll).not.toContain('共有2人签署本请愿书');
    expect(pdf.all).not.toContain('Aiko');
    expect(pdf.compactAll).toContain('本请愿书的2名联署人');
    const meta = (await (await t.request('GET', `/api/v1/letters/${first[1]!.id}`)).json()) as { mode: string; signatureId: string };
    expect(meta).toMatchObject({ mode: 'per_signer', signatureId: first[1]!.signatureId });
    const disposition = (await t.request('GET', `/api/v1/letters/${first[1]!.id}.pdf`)).headers.get('content-disposition');
    expect(disposition).toContain(`-${first[1]!.id.slice(-8)}-${first[1]!.id}.pdf"`);
    expect(disposition).toMatch(new RegExp(`-${first[1]!.id.slice(-8)}\\.pdf$`));
  });

  it('still writes letters when nobody signed, saying how many did', async () => {
    await setup({ sign: false });
    const res = await generate({ mode: 'per_target' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { letters: Letter[] };
    expect(body.letters.map((l) => l.signatureCount)).toEqual(Array(7).fill(0));
    const pdf = await pdfText(await t.request('GET', `/api/v1/letters/${body.letters[0]!.id}.pdf`));
    expect(pdf.compactAll).toContain('本请愿书的0名联署人');
    expect((await generate({ mode: 'per_signer' })).status).toBe(201);
  });
});

describe('letters on the worker pool', () => {
  it('renders the same letters on a worker as in process, to files and to the response', async () => {
    const pool = createLetterRenderPool({ size: 1 });
    cleanups.push(() => pool.close());
    const { targetIds } = await setup({ deps: { letterRenderPool: pool } });
    const cutoffAt = new Date(t.clock.now()).toISOString();
    const onPool = (await (await generate({ mode: 'per_target', cutoffAt })).json()) as { letters: Letter[] };
    const preview = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${targetIds[0]}`);
    expect(preview.status).toBe(200);
    const previewText = (await pdfText(preview)).pages;

    const inProcessPorts = createLocalLetterPorts({ lettersDir: repoLettersDir, dataDir: t.dataDir });
    const inProcess = await generateLetters(t.ctx, inProcessPorts, SLUG, { mode: 'per_target', cutoffAt: Date.parse(cutoffAt) });
    expect(onPool.letters.map((l) => [l.sha256, l.pages, l.bytes])).toEqual(inProcess.letters.map((l) => [l.sha256, l.pages, l.bytes]));
    const draft = await previewLetter(t.ctx, inProcessPorts, SLUG, { target: targetIds[0]! });
    expect((await pdfText(new Response(draft.body))).pages).toEqual(previewText);
  });
});

describe('letters: errors and security', () => {
  it('needs a token with the letters scope', async () => {
    const { targetIds } = await setup({ sign: false });
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/v1/templates'],
      ['GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${targetIds[0]}`],
      ['POST', `/api/v1/campaigns/${SLUG}/letters`, { mode: 'per_target' }],
      ['GET', '/api/v1/letters/0190f7a0-0000-7000-8000-000000000000'],
      ['GET', '/api/v1/letters/0190f7a0-0000-7000-8000-000000000000.pdf'],
    ];
    const campaignsOnly = await scopedToken(['campaigns']);
    const lettersToken = await scopedToken(['letters']);
    for (const [method, path, body] of routes) {
      const anonymous = await t.request(method, path, { token: null, body });
      expect(anonymous.status, path).toBe(401);
      expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      const forbidden = await t.request(method, path, { token: campaignsOnly, body });
      expect(forbidden.status, path).toBe(403);
      expect(await forbidden.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect((await t.request('GET', '/api/v1/templates', { token: lettersToken })).status).toBe(200);
  });

  it('refuses unknown campaigns and templates, bad modes, future cut-offs and paths in template names', async () => {
    const { targetIds } = await setup({ sign: false });
    const unknownCampaign = await t.request('POST', '/api/v1/campaigns/no-such-campaign/letters', { body: { mode: 'per_target' } });
    expect(unknownCampaign.status).toBe(404);
    expect(await unknownCampaign.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const unknownPreview = await t.request('GET', `/api/v1/campaigns/no-such-campaign/letters/preview.pdf?target=${targetIds[0]}`);
    expect(unknownPreview.status).toBe(404);

    const unknownTemplate = await generate({ mode: 'per_target', template: 'no-such-template' });
    expect(unknownTemplate.status).toBe(404);
    expect(await unknownTemplate.json()).toMatchObject({ error: { code: 'TEMPLATE_NOT_FOUND', message: expect.stringContaining('no-such-template') } });
    const unknownLanguage = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${targetIds[0]}&language=ko`);
    expect(unknownLanguage.status).toBe(404);
    expect(await unknownLanguage.json()).toMatchObject({ error: { code: 'TEMPLATE_NOT_FOUND' } });

    const badMode = await generate({ mode: 'per_everyone' });
    expect(badMode.status).toBe(400);
    expect(await badMode.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'mode' }] } });
    const noMode = await generate({});
    expect(noMode.status).toBe(400);
    const future = await generate({ mode: 'per_target', cutoffAt: '2099-01-01T00:00:00Z' });
    expect(future.status).toBe(400);
    expect(await future.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'cutoffAt' }] } });

    for (const template of ['../x', '..%2Fx', '/etc/passwd', 'Embassy']) {
      const traversal = await generate({ mode: 'per_target', template });
      expect(traversal.status, template).toBe(400);
      expect(await traversal.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'template' }] } });
    }
    const traversalPreview = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${targetIds[0]}&template=..%2Fx`);
    expect(traversalPreview.status).toBe(400);
    expect(await traversalPreview.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'template' }] } });
    expect(await readdir(join(t.dataDir, 'letters')).catch(() => [])).toEqual([]);
  });

  it('answers 422 NO_TARGETS for a campaign without targets', async () => {
    await setup({ sign: false });
    await t.request('PATCH', `/api/v1/campaigns/${SLUG}`, { body: { targetIds: [] } });
    const res = await generate({ mode: 'per_target' });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: 'NO_TARGETS' } });
  });

  it('refuses a template naming an unknown variable with the variable and its line, and leaves no files', async () => {
    const lettersDir = await mkdtemp(join(tmpdir(), 'signet-letters-api-'));
    cleanups.push(() => rm(lettersDir, { recursive: true, force: true }));
    await cp(join(repoLettersDir, 'organisation.json'), join(lettersDir, 'organisation.json'));
    await cp(join(repoLettersDir, 'embassy-petition'), join(lettersDir, 'embassy-petition'), { recursive: true });
    const original = await readFile(join(repoLettersDir, 'embassy-petition', 'zh.md'), 'utf8');
    const broken = original.replace('{{signatures.total}}', '{{signatures.grandTotal}}');
    const line = broken.split('\n').findIndex((text) => text.includes('{{signatures.grandTotal}}')) + 1;
    expect(line).toBeGreaterThan(10);
    await writeFile(join(lettersDir, 'embassy-petition', 'zh.md'), broken);
    const { targetIds } = await setup({ lettersDir });

    const expected = { error: { code: 'TEMPLATE_INVALID', message: expect.stringContaining('signatures.grandTotal'), details: { variable: 'signatures.grandTotal', line } } };
    const preview = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${targetIds[0]}`);
    expect(preview.status).toBe(422);
    expect(await preview.json()).toMatchObject(expected);
    const generated = await generate({ mode: 'per_target' });
    expect(generated.status).toBe(422);
    expect(await generated.json()).toMatchObject(expected);
    expect(await readdir(join(t.dataDir, 'letters')).catch(() => [])).toEqual([]);

    // The template list shows the broken variant with its error, and the others as usable.
    const { items } = (await (await t.request('GET', '/api/v1/templates')).json()) as { items: { name: string; variants: { language: string; error?: unknown }[] }[] };
    expect(items[0]!.variants.find((variant) => variant.language === 'zh')).toMatchObject({ error: { code: 'TEMPLATE_INVALID', variable: 'signatures.grandTotal', line } });
  });
});

describe('attachmentDisposition', () => {
  it('gives an ASCII fallback and the UTF-8 name', () => {
    expect(attachmentDisposition('北朝鮮-Consulate in Ōsaka.pdf')).toBe(
      `attachment; filename="_-Consulate in Osaka.pdf"; filename*=UTF-8''%E5%8C%97%E6%9C%9D%E9%AE%AE-Consulate%20in%20%C5%8Csaka.pdf`,
    );
    expect(attachmentDisposition('a"b/../c\r\n.pdf')).toBe(`attachment; filename="a_b_.._c_.pdf"; filename*=UTF-8''a_b_.._c_.pdf`);
  });
});
