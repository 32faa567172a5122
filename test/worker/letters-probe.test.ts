import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameForLetter, type RenderResult } from '../../src/letters/index.js';
import { listTemplates, loadOrganisation, loadTemplate, renderLetter } from '../../src/letters/node/index.js';
import { fontFilePath } from '../../src/letters/node/font-files.js';
import { uploadLocalFonts } from '../../scripts/upload-fonts.js';
import { startWranglerDev, wranglerEnv, type WranglerDev } from '../helpers/wrangler-dev.js';
import { embeddedFontNames, lettersDir, parsePdf, parsePdfBytes, withTempDir, type ParsedPdf } from '../letters/helpers.js';
import { probeLetterInput, probeSignatory } from './letters-probe/probe-letter.js';

// The letters on Workers (src/letters/worker/) in the real workerd runtime (wrangler dev
// --local): the bundled templates, the pdf/ layout with pdfkit's browser build and the fonts
// read from (Miniflare's) R2, where scripts/upload-fonts.ts puts them, PDFs in R2 too; through
// the fixture Worker in ./letters-probe/.

type Rendered = { stored: string; result: RenderResult; faces: string[] };

let worker: WranglerDev;
const stateDir = mkdtempSync(join(tmpdir(), 'signet-letters-probe-'));

beforeAll(async () => {
  const persistTo = join(stateDir, 'state');
  uploadLocalFonts(persistTo, { bucket: 'signet-letters-probe', env: wranglerEnv(stateDir), quiet: true });
  worker = await startWranglerDev({ config: 'test/worker/letters-probe/wrangler.toml', persistTo, timeoutMs: 180_000 });
}, 200_000);

afterAll(async () => {
  await worker?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(`${worker.url}${path}`, init);
  if (response.status >= 500) throw new Error(`probe answered ${response.status} to ${path}: ${await response.text()}\n${worker.output().slice(-4000)}`);
  return response;
}

async function renderInWorker(names: number, query = ''): Promise<Rendered> {
  return (await (await call(`/render?names=${names}${query}`, { method: 'POST' })).json()) as Rendered;
}

async function download(stored: string): Promise<Buffer> {
  const response = await call(`/files/${stored}`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** The same letter rendered on Node, for comparison. */
async function renderOnNode(names: number): Promise<ParsedPdf> {
  const input = probeLetterInput(await loadTemplate(lettersDir, 'embassy-petition', 'ja'), await loadOrganisation(lettersDir), names);
  return withTempDir(async (dir) => {
    const path = join(dir, 'letter.pdf');
    await renderLetter(input, path, { createdAt: input.date });
    return parsePdf(path);
  });
}

const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('letters in workerd', () => {
  it('loads the bundled templates and organisation as Node loads them from letters/', async () => {
    expect(await (await call('/templates')).json()).toEqual(await listTemplates(lettersDir));
    expect(await (await call('/organisation')).json()).toEqual(await loadOrganisation(lettersDir));
  });

  describe('a letter with 1,000 names in Japanese, Korean, Chinese and Latin script', async () => {
    let rendered: Rendered;
    let pdf: ParsedPdf;

    beforeAll(async () => {
      rendered = await renderInWorker(1000);
      pdf = await parsePdfBytes(await download(rendered.stored));
    }, 120_000);

    it('is stored in R2 under the letter key, as reported', () => {
      expect(rendered.stored).toBe('letters/01900000-0000-7000-8000-000000000001/01900000-0000-7000-8000-000000001000.pdf');
      expect(pdf.bytes.length).toBe(rendered.result.bytes);
      expect(createHash('sha256').update(pdf.bytes).digest('hex')).toBe(rendered.result.sha256);
      expect(rendered.result.warnings).toEqual([]);
    });

    it('numbers every page "n / N" and lists every name in order', () => {
      expect(pdf.pages).toHaveLength(rendered.result.pages);
      expect(rendered.result.pages).toBeGreaterThan(15);
      pdf.pages.forEach((page, index) => expect(/(\d+) \/ (\d+)/.exec(flat(page))?.slice(1).map(Number)).toEqual([index + 1, rendered.result.pages]));
      const text = flat(pdf.pages.join(' '));
      let position = -1;
      for (const index of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 251, 252, 253, 254, 995, 996, 997, 998, 999]) {
        const row = `${index + 1} ${nameForLetter(probeSignatory(index))}`;
        const at = text.indexOf(row, position + 1);
        expect(at, row).toBeGreaterThan(position);
        position = at;
      }
      expect(text).not.toContain('1001 ');
    });

    it('embeds only the faces it draws with, subset', () => {
      expect(rendered.faces.sort()).toEqual(['jp-bold', 'jp-regular', 'kr-regular', 'latin-bold', 'latin-regular', 'sc-regular', 'tc-regular']);
      const fonts = embeddedFontNames(pdf.raw);
      for (const face of ['NotoSans-Regular', 'NotoSansJP-Regular', 'NotoSansKR-Regular', 'NotoSansSC-Regular', 'NotoSansTC-Regular']) {
        expect(fonts.some((name) => name.endsWith(`+${face}`)), face).toBe(true);
      }
    });

    it('lays the letter out as Node does: the same pages with the same text', async () => {
      const node = await renderOnNode(1000);
      expect(pdf.pages).toEqual(node.pages);
      expect(pdf.info.Title).toBe(node.info.Title);
    });

    it('goes into a print queue with a cover sheet (pdf-lib in workerd)', async () => {
      const response = await call('/print-queue', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [rendered.stored] }) });
      const queue = await parsePdfBytes(Buffer.from(await response.arrayBuffer()));
      expect(Number(response.headers.get('x-letter-pages'))).toBe(rendered.result.pages);
      expect(queue.pages).toHaveLength(Number(response.headers.get('x-cover-pages')) + rendered.result.pages);
      expect(flat(queue.pages[0]!)).toContain('呉江浩 特命全権大使');
    });
  });

  it('uploads a letter larger than a part in parts of one size (R2 multipart, as Miniflare checks it)', async () => {
    const partSize = 5 * 1024 * 1024;
    const rendered = await renderInWorker(120_000, `&partSize=${partSize}`);
    expect(rendered.result.bytes).toBeGreaterThan(partSize);
    const bytes = await download(rendered.stored);
    expect(bytes.length).toBe(rendered.result.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(rendered.result.sha256);
    // Only the last pages are read back: extracting the text of 2,000 pages takes half a minute.
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    expect(pdf.numPages).toBe(rendered.result.pages);
    const lastPages: string[] = [];
    for (let page = pdf.numPages - 2; page <= pdf.numPages; page++) {
      const content = await (await pdf.getPage(page)).getTextContent();
      lastPages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
    }
    await pdf.destroy();
    expect(flat(lastPages.join(' '))).toContain(`120000 ${nameForLetter(probeSignatory(119_999))}`);
  }, 120_000);

  it('streams a letter as it renders', async () => {
    const response = await call('/stream?names=60&language=en');
    expect(response.headers.get('content-type')).toBe('application/pdf');
    const pdf = await parsePdfBytes(Buffer.from(await response.arrayBuffer()));
    const text = flat(pdf.pages.join(' '));
    expect(text).toContain('Signatories');
    expect(text).toContain(`60 ${nameForLetter(probeSignatory(59))}`);
  });

  it('refuses a template language that is not one, as Node does', async () => {
    const response = await fetch(`${worker.url}/render?names=1&language=xx`, { method: 'POST' });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: 'TEMPLATE_INVALID', message: 'Template language "xx" is not valid: use one of en, ja, ko, zh.' } });
  });

  it('names the missing font object and the command that uploads the fonts', async () => {
    expect((await fetch(`${worker.url}/fonts/kr-bold`, { method: 'DELETE' })).status).toBe(204);
    try {
      const response = await fetch(`${worker.url}/render-fresh-fonts?names=1`, { method: 'POST' });
      expect(response.status).toBe(500);
      const { error } = (await response.json()) as { error: { name: string; message: string } };
      expect(error.name).toBe('LetterFontMissing');
      expect(error.message).toContain('kr-bold');
      expect(error.message).toContain('fonts/kr-bold.ttf');
      expect(error.message).toContain('npm run worker:fonts');
    } finally {
      await call('/fonts/kr-bold', { method: 'PUT', body: readFileSync(fontFilePath('kr', 'bold')) });
    }
    // The isolate's fonts, read before the object went, still render.
    expect((await renderInWorker(1)).result.pages).toBeGreaterThan(0);
  });

  it("removes a batch's letters from R2", async () => {
    const { stored } = await renderInWorker(3);
    expect((await call(`/files/${stored}`)).status).toBe(200);
    expect((await call('/batches/01900000-0000-7000-8000-000000000001', { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/files/${stored}`)).status).toBe(404);
  });
});
