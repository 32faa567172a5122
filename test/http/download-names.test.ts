import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attachmentDisposition } from '../../src/http/content-disposition.js';
import { createTestApp, repoLettersDir } from '../helpers/app.js';
import { openCampaign } from '../helpers/signing.js';

// Issue #18: every Chinese-named letter downloaded as `nk-refugees-2027-_.pdf`, so `curl -OJ`
// (which keeps the ASCII `filename`) refused the second. RFC 6266: the real name in `filename*`,
// an ASCII `filename` that no sibling download shares.

const SLUG = 'nk-refugees-2027';
type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => {
  await t?.cleanup();
  t = undefined as unknown as TestApp;
});

/** The two names of a Content-Disposition: the ASCII `filename` and the decoded `filename*`. */
function namesOf(disposition: string | null) {
  const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''([^;]+)$/.exec(disposition ?? '');
  expect(match, disposition ?? 'no header').not.toBeNull();
  return { ascii: match![1]!, utf8: decodeURIComponent(match![2]!) };
}

describe('letter downloads', () => {
  it('give each CJK-named letter of a batch its own ASCII name, with the target id, and the real name in filename*', async () => {
    t = createTestApp();
    const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(join(repoLettersDir, 'targets/china-missions-japan.json'), 'utf8') });
    const { ids } = (await imported.json()) as { ids: string[] };
    await openCampaign(t, SLUG, { locale: 'ja', title: '北朝鮮難民を救おう', targetIds: ids });
    const generated = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } });
    expect(generated.status).toBe(201);
    const { letters } = (await generated.json()) as { letters: { id: string; targetId: string }[] };
    expect(letters).toHaveLength(7);

    const names = [];
    for (const letter of letters) {
      const target = (await (await t.request('GET', `/api/v1/targets/${letter.targetId}`)).json()) as { name: string };
      const pdf = await t.request('GET', `/api/v1/letters/${letter.id}.pdf`);
      expect(pdf.status).toBe(200);
      const { ascii, utf8 } = namesOf(pdf.headers.get('content-disposition'));
      expect(utf8).toBe(`${SLUG}-${target.name}.pdf`);
      expect(ascii).toBe(`${SLUG}-${letter.targetId}.pdf`);
      expect(ascii).toMatch(/^[\x20-\x7e]+$/);
      names.push(ascii);
    }
    expect(new Set(names).size).toBe(7);

    const preview = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${ids[1]}`);
    expect(preview.status).toBe(200);
    expect(namesOf(preview.headers.get('content-disposition'))).toEqual({ ascii: `${SLUG}-preview-${ids[1]}.pdf`, utf8: `${SLUG}-驻札幌总领事-preview.pdf` });
  });
});

describe('attachmentDisposition with a unique part', () => {
  it('leaves out what ASCII cannot show and adds the part, keeping the extension', () => {
    expect(attachmentDisposition('nk-refugees-2027-驻大阪总领事.pdf', 'id-1')).toBe(`attachment; filename="nk-refugees-2027-id-1.pdf"; filename*=UTF-8''nk-refugees-2027-%E9%A9%BB%E5%A4%A7%E9%98%AA%E6%80%BB%E9%A2%86%E4%BA%8B.pdf`);
    expect(namesOf(attachmentDisposition('中文.pdf', 'id-2'))).toEqual({ ascii: 'id-2.pdf', utf8: '中文.pdf' });
    expect(namesOf(attachmentDisposition('北朝鮮-Consulate in Ōsaka.pdf', 'id-3')).ascii).toBe('Consulate in Osaka-id-3.pdf');
    expect(namesOf(attachmentDisposition('reply-a-2027-08-28-Embassy of A.pdf', 'id-4')).ascii).toBe('reply-a-2027-08-28-Embassy of A-id-4.pdf');
    // Without one, the fallback is as before: the name with `_` for what ASCII cannot show.
    expect(namesOf(attachmentDisposition('nk-refugees-2027-驻大阪总领事.pdf')).ascii).toBe('nk-refugees-2027-_.pdf');
  });
});
