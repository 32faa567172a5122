import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { appendixStrings } from '../../src/letters/template/letter-strings.js';
import { createTestApp, repoLettersDir } from '../helpers/app.js';
import { testPrivacy } from '../helpers/keys.js';
import { storeTestOrganisation, testOrganisation } from '../helpers/organisation.js';
import { openCampaign, signAndConfirm, signature } from '../helpers/signing.js';
import { parsePdfBytes } from './helpers.js';

/**
 * The bilingual letters' fixture (PRODUCT.md §12), shared by the API and the browser tests: the
 * shipped China missions, a Japanese campaign to all seven, and the shape every ja+zh letter must
 * have when read back from its PDF.
 */

export const SLUG = 'bilingual-2027';
const missionsFile = join(repoLettersDir, 'targets/china-missions-japan.json');
export const EMBASSY = '驻日本国特命全权大使';
export const OSAKA = '驻大阪总领事';

export const JA_EMBASSY = '中華人民共和国駐日本国大使館';
export const ZH_EMBASSY = '中华人民共和国驻日本国大使馆';
export const JA_SENDER = '東京難民の権利ネットワーク';
export const ZH_SENDER = '东京难民权利网络';

export type TestApp = ReturnType<typeof createTestApp>;

/** The shipped missions, a Japanese campaign to all seven, supporters in Tokyo (the embassy's district) and Osaka. */
export async function bilingualCampaign(): Promise<{ t: TestApp; idOf: (name: string) => string }> {
  const t = createTestApp({ privacy: { ...testPrivacy, publicRegionMin: 1 } });
  storeTestOrganisation(t.database, { ...testOrganisation, translations: { ja: { name: JA_SENDER }, zh: { name: ZH_SENDER } } });
  const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
  expect(imported.status).toBe(201);
  const { ids } = (await imported.json()) as { ids: string[] };
  await openCampaign(t, SLUG, { locale: 'ja', title: '北朝鮮難民を救おう', targetIds: ids });
  const people = [
    { name: 'Edo Tokyoite', email: 'tokyo@example.org', region: 'JP-13', city: 'Tokyo' },
    { name: 'Kanda Bookseller', email: 'kanda@example.org', region: 'JP-13', city: 'Tokyo' },
    { name: 'Naniwa Osakan', email: 'osaka@example.org', region: 'JP-27', city: 'Osaka' },
  ];
  for (const person of people) {
    await signAndConfirm(t, SLUG, signature(person.email, { ...person, consent: { nameOnLetter: 'full' } }));
    t.clock.advance(60_000);
  }
  const listed = (await (await t.request('GET', '/api/v1/targets?limit=100')).json()) as { items: { id: string; name: string }[] };
  const idOf = (name: string) => listed.items.find((target) => target.name === name)!.id;
  return { t, idOf };
}

/** Pages of a PDF as text with all whitespace removed (pdf.js splits CJK runs with spaces). */
export async function pdfPagesOf(bytes: Uint8Array): Promise<string[]> {
  const pdf = await parsePdfBytes(Buffer.from(bytes));
  return pdf.pages.map((page) => page.replace(/\s+/g, ''));
}

const occurrences = (text: string, part: string) => text.split(part).length - 1;

/**
 * The shape of a bilingual ja+zh letter to the embassy: the Japanese part from page 1 (its
 * addressee and sender in Japanese), the Chinese part from a later page, the appendix after both,
 * once, in Japanese; every page numbered "n / N" with N the page count.
 */
export function expectJapaneseThenChinese(pages: string[], named: string[]) {
  const all = pages.join('\n');
  expect(pages[0]).toContain(JA_EMBASSY);
  expect(pages[0]).toContain('特命全権大使閣下');
  expect(pages[0]).toContain(JA_SENDER);
  expect(pages[0]).not.toContain(ZH_EMBASSY);
  const chineseStart = pages.findIndex((page) => page.includes(ZH_EMBASSY));
  expect(chineseStart).toBeGreaterThan(0);
  expect(pages.slice(0, chineseStart).join('')).toContain('敬具');
  expect(pages[chineseStart]).toContain(`${ZH_EMBASSY}驻日本国特命全权大使阁下`);
  expect(pages.slice(chineseStart).join('')).toContain(ZH_SENDER);
  expect(pages.slice(chineseStart).join('')).not.toContain(JA_EMBASSY);

  const appendixStart = pages.findIndex((page) => page.includes(appendixStrings.ja.title));
  expect(appendixStart).toBeGreaterThan(chineseStart);
  const header = (language: 'ja' | 'zh') => Object.values(appendixStrings[language].columns).join('');
  expect(occurrences(all, appendixStrings.ja.title)).toBe(1);
  expect(occurrences(all, header('ja'))).toBe(1);
  expect(all).not.toContain(header('zh'));
  for (const name of named) expect(occurrences(all, name), name).toBe(1);
  expect(occurrences(pages.slice(appendixStart).join(''), named[0]!)).toBe(1);

  pages.forEach((page, index) => expect(page, `page ${index + 1}`).toContain(`${index + 1}/${pages.length}`));
}
