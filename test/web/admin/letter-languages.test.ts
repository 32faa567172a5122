import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { letterBatches, letters } from '../../../src/db/schema.js';
import { createLocalLetterPorts } from '../../../src/letters/node/letter-store.js';
import { runLetterRedactions } from '../../../src/services/letter-redaction.js';
import { repoLettersDir } from '../../helpers/app.js';
import { createRunner, readMailing, SEND_AT, SEND_AT_LOCAL } from '../../services/mailings/runner-helpers.js';
import { bilingualCampaign, EMBASSY, expectJapaneseThenChinese, JA_EMBASSY, OSAKA, pdfPagesOf, SLUG, type TestApp, ZH_EMBASSY } from '../../letters/bilingual-fixture.js';

/**
 * Letter languages (PRODUCT.md §12): with `languages: ['ja', 'zh']` each target gets one PDF
 * holding the Japanese letter, then the Chinese one from a new page, each with its own addressee
 * and sender block in its language, and the signature appendix once at the end. Every check
 * reads the PDF back.
 */

type Letter = { id: string; targetId: string; language: string; languages: string[]; pages: number };
type Generated = { batchId: string; languages: string[] | null; letters: Letter[] };

let t: TestApp;
afterEach(async () => {
  await t?.cleanup();
  t = undefined as unknown as TestApp;
});

async function setup() {
  const campaign = await bilingualCampaign();
  t = campaign.t;
  return { idOf: campaign.idOf };
}

async function generate(body: unknown): Promise<Generated> {
  const res = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Generated;
}

async function pdfPages(res: Response): Promise<string[]> {
  expect(res.status, res.status === 200 ? '' : await res.clone().text()).toBe(200);
  return pdfPagesOf(new Uint8Array(await res.arrayBuffer()));
}

describe('POST /campaigns/:slug/letters with languages', () => {
  it('writes one PDF per target: the Japanese letter, then the Chinese one, then the appendix once', async () => {
    const { idOf } = await setup();
    const batch = await generate({ mode: 'per_target', routing: 'jurisdiction', languages: ['ja', 'zh'] });
    expect(batch.languages).toEqual(['ja', 'zh']);
    expect(batch.letters).toHaveLength(7);
    const embassy = batch.letters.find((letter) => letter.targetId === idOf(EMBASSY))!;
    expect(embassy).toMatchObject({ language: 'ja', languages: ['ja', 'zh'] });

    const pages = await pdfPages(await t.request('GET', `/api/v1/letters/${embassy.id}.pdf`));
    expect(pages).toHaveLength(embassy.pages);
    expectJapaneseThenChinese(pages, ['EdoTokyoite', 'KandaBookseller']);
    // Routed by jurisdiction: Osaka's supporter is in Osaka's letter, not the embassy's.
    expect(pages.join('')).not.toContain('NaniwaOsakan');

    // One part per language: the Japanese letter alone has fewer pages by the Chinese part's.
    const japanese = await generate({ mode: 'per_target', routing: 'jurisdiction', languages: ['ja'] });
    const japaneseEmbassy = japanese.letters.find((letter) => letter.targetId === idOf(EMBASSY))!;
    const chinesePart = pages.length - pages.findIndex((page) => page.includes(ZH_EMBASSY)) - 1;
    expect(japaneseEmbassy.pages).toBe(embassy.pages - chinesePart);

    const osaka = await pdfPages(await t.request('GET', `/api/v1/letters/${batch.letters.find((letter) => letter.targetId === idOf(OSAKA))!.id}.pdf`));
    expect(osaka[0]).toContain('中華人民共和国駐大阪総領事館総領事閣下');
    expect(osaka.join('')).toContain('中华人民共和国驻大阪总领事馆驻大阪总领事阁下');

    const [stored] = await t.database.db.select().from(letterBatches).where(eq(letterBatches.id, batch.batchId));
    expect(stored!.languages).toEqual(['ja', 'zh']);
    const meta = await (await t.request('GET', `/api/v1/letters/${embassy.id}`)).json();
    expect(meta).toMatchObject({ language: 'ja', languages: ['ja', 'zh'] });
  }, 120_000);

  it('without languages, writes each target in its own language as before', async () => {
    const { idOf } = await setup();
    const batch = await generate({ mode: 'per_target' });
    expect(batch.languages).toBeNull();
    const embassy = batch.letters.find((letter) => letter.targetId === idOf(EMBASSY))!;
    expect(embassy).toMatchObject({ language: 'zh', languages: ['zh'] });
    const pages = await pdfPages(await t.request('GET', `/api/v1/letters/${embassy.id}.pdf`));
    expect(pages[0]).toContain(ZH_EMBASSY);
    expect(pages.join('')).not.toContain(JA_EMBASSY);
  }, 60_000);

  it('refuses a bad language list with 400 and the field, and a language the template lacks with 404', async () => {
    await setup();
    for (const languages of [['ja', 'fr'], ['ja', 'ja'], [], 'ja']) {
      const res = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target', languages } });
      expect(res.status, JSON.stringify(languages)).toBe(400);
      const body = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } };
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.details.some((detail) => detail.path.startsWith('languages')), JSON.stringify(body)).toBe(true);
    }
    // A letter language the template is not written in: refused naming it, nothing stored.
    const korean = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target', languages: ['ja', 'ko'] } });
    expect(korean.status).toBe(404);
    const koreanError = ((await korean.json()) as { error: { code: string; message: string } }).error;
    expect(koreanError.code).toBe('TEMPLATE_NOT_FOUND');
    expect(koreanError.message).toContain('ko');
    expect(await t.database.db.select().from(letterBatches)).toHaveLength(0);
    const preview = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=x&languages=ja,xx`);
    expect(preview.status).toBe(400);
    expect(((await preview.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toMatch(/^languages/);
    const mailing = await t.request('POST', '/api/v1/mailings', {
      body: { campaign: SLUG, kind: 'letters', sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo', languages: ['de'] },
    });
    expect(mailing.status).toBe(400);
    expect(((await mailing.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toMatch(/^languages/);
  });
});

describe('GET /campaigns/:slug/letters/preview.pdf?languages=', () => {
  it('drafts the letter in each language in order, the appendix once', async () => {
    const { idOf } = await setup();
    const pages = await pdfPages(await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${idOf(EMBASSY)}&routing=jurisdiction&languages=ja,zh`));
    expectJapaneseThenChinese(pages, ['EdoTokyoite', 'KandaBookseller']);
  }, 60_000);
});

describe('a letters mailing with languages', () => {
  it('queues the bilingual letter for each target', async () => {
    const { idOf } = await setup();
    const res = await t.request('POST', '/api/v1/mailings', {
      body: { campaign: SLUG, kind: 'letters', channel: 'print', routing: 'jurisdiction', languages: ['ja', 'zh'], sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const mailing = (await res.json()) as { id: string; languages: string[] };
    expect(mailing.languages).toEqual(['ja', 'zh']);

    const runner = createRunner(t);
    t.clock.set(SEND_AT);
    for (let step = 0; step < 10 && (await readMailing(t, mailing.id)).status !== 'finished'; step++) await runner.tick();
    expect((await readMailing(t, mailing.id)).status).toBe('finished');

    const queue = (await (await t.request('GET', `/api/v1/print-queue?campaign=${SLUG}`)).json()) as { items: { letterId: string; target: { id: string } }[] };
    expect(queue.items).toHaveLength(7);
    const embassyItem = queue.items.find((item) => item.target.id === idOf(EMBASSY))!;
    const [letter] = await t.database.db.select().from(letters).where(eq(letters.id, embassyItem.letterId));
    expect(letter!.languages).toEqual(['ja', 'zh']);
    expectJapaneseThenChinese(await pdfPages(await t.request('GET', `/api/v1/letters/${embassyItem.letterId}.pdf`)), ['EdoTokyoite', 'KandaBookseller']);
  }, 120_000);
});

describe('rendering again after an erasure', () => {
  it('keeps the letter\'s languages', async () => {
    const { idOf } = await setup();
    const batch = await generate({ mode: 'per_target', routing: 'jurisdiction', languages: ['ja', 'zh'] });
    const embassy = batch.letters.find((letter) => letter.targetId === idOf(EMBASSY))!;
    const erased = await t.request('POST', '/api/v1/privacy/erasures', { body: { email: 'kanda@example.org' } });
    expect(erased.status).toBe(200);
    const report = await runLetterRedactions(t.ctx, createLocalLetterPorts({ lettersDir: repoLettersDir, dataDir: t.dataDir }));
    expect(report).toMatchObject({ regenerated: 1, failed: 0 });

    const meta = (await (await t.request('GET', `/api/v1/letters/${embassy.id}`)).json()) as { regeneratedAt: string | null; languages: string[] };
    expect(meta.regeneratedAt).not.toBeNull();
    expect(meta.languages).toEqual(['ja', 'zh']);
    const pages = await pdfPages(await t.request('GET', `/api/v1/letters/${embassy.id}.pdf`));
    expect(pages.join('')).not.toContain('KandaBookseller');
    expectJapaneseThenChinese(pages, ['EdoTokyoite']);
  }, 120_000);
});
