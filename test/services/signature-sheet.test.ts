import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { en, type Messages } from '../../src/web/i18n/en.js';
import { ja } from '../../src/web/i18n/ja.js';
import { createTestApp } from '../helpers/app.js';
import { testOrganisation } from '../helpers/organisation.js';
import { openCampaign } from '../helpers/signing.js';

let t: ReturnType<typeof createTestApp>;
let dir: string;

beforeEach(() => {
  t = createTestApp();
  dir = mkdtempSync(join(tmpdir(), 'signet-sheet-'));
});
afterEach(() => {
  t.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The text of one page, as poppler reads it. */
function pageText(pdf: string, page: number): string {
  return execFileSync('pdftotext', ['-f', String(page), '-l', String(page), '-enc', 'UTF-8', pdf, '-'], { encoding: 'utf8' });
}

/** What the QR code on one page says, read from a 150 dpi rendering of the page. */
function qrOf(pdf: string, page: number): string {
  const prefix = join(dir, `page-${page}`);
  execFileSync('pdftoppm', ['-r', '150', '-png', '-f', String(page), '-l', String(page), pdf, prefix]);
  const image = readdirSync(dir).find((name) => name.startsWith(`page-${page}`) && name.endsWith('.png'));
  return execFileSync('zbarimg', ['--quiet', '--raw', join(dir, image!)], { encoding: 'utf8' }).trim();
}

const consentStrings = (m: Messages) => [
  m.consentNameLegend,
  m.consentNameFull,
  m.consentNameInitials,
  m.consentNameNone,
  m.consentPublicLegend,
  m.consentPublicYes,
  m.consentUpdatesLegend,
  m.consentUpdatesYes,
];

async function bilingualCampaign() {
  return openCampaign(t, 'save-refugees', {
    summary: 'Stop the forced return of North Korean refugees.',
    translations: { ja: { title: '脱北者の強制送還を止めて', summary: '中国に脱北者の強制送還をやめるよう求めます。' } },
  });
}

describe('GET /api/v1/campaigns/:slug/signature-sheet.pdf', () => {
  it('prints, per language, the petition and the consent choices worded exactly as on the signing form, and a QR code to the signing page', async () => {
    const slug = await bilingualCampaign();
    const res = await t.request('GET', `/api/v1/campaigns/${slug}/signature-sheet.pdf?languages=ja,en`);
    expect(res.status, await res.clone().text().then((body) => body.slice(0, 300))).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toContain('save-refugees-signature-sheet.pdf');
    const pdf = join(dir, 'sheet.pdf');
    writeFileSync(pdf, new Uint8Array(await res.arrayBuffer()));
    expect(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' })).toMatch(/Pages:\s+2\b/);

    const japanese = pageText(pdf, 1);
    const english = pageText(pdf, 2);
    expect(japanese).toContain('脱北者の強制送還を止めて');
    expect(japanese).toContain('中国に脱北者の強制送還をやめるよう求めます。');
    expect(english).toContain('Save North Korean refugees');
    expect(english).toContain('Stop the forced return of North Korean refugees.');
    // Each choice is printed whole on a line of its own in the key above the rows.
    const lines = (text: string) => text.split('\n').map((line) => line.trim());
    for (const wording of consentStrings(ja)) expect(lines(japanese).some((line) => line.includes(wording)), wording).toBe(true);
    for (const wording of consentStrings(en)) expect(lines(english).some((line) => line.includes(wording)), wording).toBe(true);
    expect(japanese).not.toContain(en.consentNameFull);
    // Who holds the data, as the form's privacy notice says it.
    expect(english).toContain(en.privacyController.replace('{organisation}', testOrganisation.name));
    expect(japanese).toContain(ja.privacyController.replace('{organisation}', testOrganisation.name));
    // Numbered rows.
    expect(lines(english)).toContain('1');
    expect(lines(english)).toContain('10');

    const signingUrl = 'http://localhost:3000/c/save-refugees?lang=ja&ref=paper';
    expect(qrOf(pdf, 1)).toBe(signingUrl);
    expect(qrOf(pdf, 2)).toBe(signingUrl);
    // The QR code is drawn, not an embedded picture.
    expect(execFileSync('pdfimages', ['-list', pdf], { encoding: 'utf8' }).trim().split('\n').length).toBe(2);
  });

  it("defaults to the campaign's language, then its translations", async () => {
    const slug = await bilingualCampaign();
    const res = await t.request('GET', `/api/v1/campaigns/${slug}/signature-sheet.pdf`);
    expect(res.status).toBe(200);
    const pdf = join(dir, 'sheet.pdf');
    writeFileSync(pdf, new Uint8Array(await res.arrayBuffer()));
    expect(pageText(pdf, 1)).toContain(en.consentNameFull);
    expect(pageText(pdf, 2)).toContain(ja.consentNameFull);
    expect(qrOf(pdf, 1)).toBe('http://localhost:3000/c/save-refugees?lang=en&ref=paper');
  });

  it('refuses a language the campaign has no text in, and unknown languages, with 400', async () => {
    const slug = await bilingualCampaign();
    const missing = await t.request('GET', `/api/v1/campaigns/${slug}/signature-sheet.pdf?languages=ja,ko`);
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as { error: { code: string; details: { path: string; message: string }[] } };
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.details).toEqual([{ path: 'languages', message: 'the campaign has no text in ko: add a translation first' }]);
    const unknown = await t.request('GET', `/api/v1/campaigns/${slug}/signature-sheet.pdf?languages=fr`);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
  });

  it('needs the campaigns scope and a known campaign', async () => {
    await bilingualCampaign();
    expect((await t.request('GET', '/api/v1/campaigns/nope/signature-sheet.pdf')).status).toBe(404);
    expect((await t.request('GET', '/api/v1/campaigns/save-refugees/signature-sheet.pdf', { token: null })).status).toBe(401);
    const created = await t.request('POST', '/api/v1/tokens', { body: { name: 'letters only', scopes: ['letters'] } });
    const { token } = (await created.json()) as { token: string };
    const refused = await t.request('GET', '/api/v1/campaigns/save-refugees/signature-sheet.pdf', { token });
    expect(refused.status).toBe(403);
  });
});
