import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { letterBatches } from '../../../src/db/schema.js';
import { regionName } from '../../../src/lib/regions.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { testPrivacy } from '../../helpers/keys.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';
import { parsePdfBytes } from '../../letters/helpers.js';

/**
 * Letters routed by jurisdiction (PRODUCT.md §11) with the shipped China missions: each
 * consulate's letter speaks only for the supporters of its consular district, the embassy's for
 * those of its own district and everyone no district covers. Every check reads the PDFs back.
 */

const SLUG = 'routed-2027';
const missionsFile = join(repoLettersDir, 'targets/china-missions-japan.json');

const EMBASSY = '驻日本国特命全权大使';
const OSAKA = '驻大阪总领事';
const SAPPORO = '驻札幌总领事';

type TestApp = ReturnType<typeof createTestApp>;
type Letter = { id: string; targetId: string; signatureId: string | null; signatureCount: number };
type Generated = { batchId: string; routing: string; letters: Letter[]; skippedTargets: { targetId: string; targetName: string; reason: string }[] };

let t: TestApp;
afterEach(async () => {
  await t?.cleanup();
  t = undefined as unknown as TestApp;
});

/** Supporters by where they live; names are Latin so they survive pdf.js text extraction unsplit once whitespace is removed. */
const supporters = {
  osakan: { name: 'Naniwa Osakan', email: 'osaka@example.org', region: 'JP-27', city: 'Osaka' },
  hiddenOsakan: { name: 'Hidden Osakan', email: 'hidden@example.org', region: 'JP-27', city: 'Sakai', consent: { nameOnLetter: 'none' } },
  tokyoite: { name: 'Edo Tokyoite', email: 'tokyo@example.org', region: 'JP-13', city: 'Tokyo' },
  sapporan: { name: 'Snowy Sapporan', email: 'sapporo@example.org', region: 'JP-01', city: 'Sapporo' },
  regionless: { name: 'Nowhere Regionless', email: 'noregion@example.org', region: undefined, city: 'Somewhere' },
  seoulite: { name: 'Hangang Seoulite', email: 'seoul@example.org', country: 'KR', region: 'KR-11', city: 'Seoul' },
};
const named = ['NaniwaOsakan', 'EdoTokyoite', 'SnowySapporan', 'NowhereRegionless', 'HangangSeoulite'];

/** The missions, a campaign writing to all seven, and the supporters above; PUBLIC_REGION_MIN 1 so every region is named in the totals. */
async function setup() {
  t = createTestApp({ privacy: { ...testPrivacy, publicRegionMin: 1 } });
  const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
  expect(imported.status).toBe(201);
  const { ids } = (await imported.json()) as { ids: string[] };
  await openCampaign(t, SLUG, { locale: 'ja', title: '北朝鮮難民を救おう', targetIds: ids });
  for (const supporter of Object.values(supporters)) {
    const { consent, ...rest } = supporter as typeof supporter & { consent?: unknown };
    await signAndConfirm(t, SLUG, signature(supporter.email, { ...rest, consent: consent ?? { nameOnLetter: 'full' } }));
    t.clock.advance(60_000);
  }
  const targets = (await (await t.request('GET', '/api/v1/targets?limit=100')).json()) as { items: { id: string; name: string }[] };
  const idOf = (name: string) => targets.items.find((target) => target.name === name)!.id;
  return { targetIds: ids, idOf };
}

async function generate(body: unknown): Promise<Generated> {
  const res = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Generated;
}

/** A stored letter's text with all whitespace removed (pdf.js splits CJK runs with spaces). */
async function letterText(letterId: string): Promise<string> {
  const res = await t.request('GET', `/api/v1/letters/${letterId}.pdf`);
  expect(res.status).toBe(200);
  const pdf = await parsePdfBytes(Buffer.from(await res.arrayBuffer()));
  return pdf.pages.join('\n').replace(/\s+/g, '');
}

describe('POST /campaigns/:slug/letters with routing: jurisdiction', () => {
  it('names each supporter only in the letters of the targets their region is routed to, the rest in the embassy\'s', async () => {
    const { idOf } = await setup();
    const batch = await generate({ mode: 'per_target', routing: 'jurisdiction', emptyTargets: 'skip' });
    expect(batch.routing).toBe('jurisdiction');

    const byTarget = new Map(batch.letters.map((letter) => [letter.targetId, letter]));
    expect(new Set(byTarget.keys())).toEqual(new Set([idOf(EMBASSY), idOf(OSAKA), idOf(SAPPORO)]));
    // Tokyo is in the embassy's own district; no region and Korea fall back to it.
    expect(byTarget.get(idOf(EMBASSY))!.signatureCount).toBe(3);
    expect(byTarget.get(idOf(OSAKA))!.signatureCount).toBe(2);
    expect(byTarget.get(idOf(SAPPORO))!.signatureCount).toBe(1);

    const texts = new Map<string, string>();
    for (const letter of batch.letters) texts.set(letter.targetId, await letterText(letter.id));
    const lettersNaming = (name: string) => [...texts].filter(([, text]) => text.includes(name)).map(([targetId]) => targetId);
    expect(lettersNaming('NaniwaOsakan')).toEqual([idOf(OSAKA)]);
    expect(lettersNaming('NowhereRegionless')).toEqual([idOf(EMBASSY)]);
    expect(lettersNaming('HangangSeoulite')).toEqual([idOf(EMBASSY)]);
    expect(lettersNaming('EdoTokyoite')).toEqual([idOf(EMBASSY)]);
    expect(lettersNaming('SnowySapporan')).toEqual([idOf(SAPPORO)]);
    // Counted, never named: the consent rule holds in a routed letter too.
    expect(lettersNaming('HiddenOsakan')).toEqual([]);

    // Every letter speaks for the whole petition; its appendix counts the routed set, as do the region totals.
    const osaka = texts.get(idOf(OSAKA))!;
    expect(osaka).toContain('本请愿书的6名联署人');
    expect(osaka).toContain('共有6人签署本请愿书，本信计入其中2人。');
    expect(osaka).toContain(`${regionName('JP-27', 'zh')}2合计2`);
    expect(osaka).not.toContain(regionName('JP-13', 'zh'));
    const embassy = texts.get(idOf(EMBASSY))!;
    expect(embassy).toContain('共有6人签署本请愿书，本信计入其中3人。');
    expect(embassy).toContain(`${regionName('JP-13', 'zh')}1`);
    expect(embassy).not.toContain(regionName('JP-27', 'zh'));
    expect(texts.get(idOf(SAPPORO))!).toContain('共有6人签署本请愿书，本信计入其中1人。');

    // Skipping empty targets, the four consulates nobody was routed to get no letter, and the batch says so.
    expect(batch.skippedTargets.map((skipped) => skipped.targetName).sort()).toEqual(['驻名古屋总领事', '驻新潟总领事', '驻福冈总领事', '驻长崎总领事'].sort());
    expect(batch.skippedTargets.every((skipped) => skipped.reason === 'NO_SUPPORTERS_ROUTED')).toBe(true);
    const [stored] = await t.database.db.select().from(letterBatches).where(eq(letterBatches.id, batch.batchId));
    expect(stored).toMatchObject({ routing: 'jurisdiction', emptyTargets: 'skip', letterCount: 3 });
    const meta = await t.request('GET', `/api/v1/letters/${byTarget.get(idOf(OSAKA))!.id}`);
    expect(await meta.json()).toMatchObject({ mode: 'per_target', routing: 'jurisdiction', signatureCount: 2 });
  });

  it('by default (routing all) names everyone in every letter, as before', async () => {
    await setup();
    const batch = await generate({ mode: 'per_target' });
    expect(batch.routing).toBe('all');
    expect(batch.letters).toHaveLength(7);
    expect(batch.skippedTargets).toEqual([]);
    for (const letter of batch.letters) {
      expect(letter.signatureCount).toBe(6);
      const text = await letterText(letter.id);
      for (const name of named) expect(text).toContain(name);
      expect(text).not.toContain('HiddenOsakan');
      expect(text).toContain('本请愿书的6名联署人');
    }
  });

  it('sends everyone to every target when the campaign writes to no embassy', async () => {
    const { idOf } = await setup();
    const consulates = ['驻大阪总领事', '驻札幌总领事'].map(idOf);
    const patched = await t.request('PATCH', `/api/v1/campaigns/${SLUG}`, { body: { targetIds: consulates } });
    expect(patched.status, await patched.clone().text()).toBe(200);
    const batch = await generate({ mode: 'per_target', routing: 'jurisdiction' });
    const byTarget = new Map(batch.letters.map((letter) => [letter.targetId, letter]));
    // Tokyo, no region and Korea are in no district here, so they go to both consulates.
    expect(byTarget.get(idOf(OSAKA))!.signatureCount).toBe(5);
    expect(byTarget.get(idOf(SAPPORO))!.signatureCount).toBe(4);
    const osaka = await letterText(byTarget.get(idOf(OSAKA))!.id);
    const sapporo = await letterText(byTarget.get(idOf(SAPPORO))!.id);
    expect(osaka).toContain('NaniwaOsakan');
    expect(sapporo).not.toContain('NaniwaOsakan');
    for (const name of ['EdoTokyoite', 'NowhereRegionless', 'HangangSeoulite']) {
      expect(osaka).toContain(name);
      expect(sapporo).toContain(name);
    }
  });

  it('refuses routing with per_signer letters, naming the field', async () => {
    await setup();
    const res = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_signer', routing: 'jurisdiction' } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { path: string }[]; requestId: string } };
    expect(body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'routing', message: expect.stringContaining('per_target') }], requestId: expect.any(String) });
    const unknown = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target', routing: 'nearest' } });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'routing' }] } });
  });

  it('skipping empty targets, answers 422 when no one has signed, rather than a batch without letters', async () => {
    t = createTestApp();
    const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
    const { ids } = (await imported.json()) as { ids: string[] };
    await openCampaign(t, SLUG, { targetIds: ids });
    const res = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target', routing: 'jurisdiction', emptyTargets: 'skip' } });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: 'UNPROCESSABLE', details: { skippedTargets: expect.any(Array) } } });
    expect(await t.database.db.select().from(letterBatches)).toEqual([]);
  });
});

describe('GET /campaigns/:slug/letters/preview.pdf?routing=jurisdiction', () => {
  it('drafts one target\'s letter with only the supporters routed to it', async () => {
    const { idOf } = await setup();
    const res = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${idOf(OSAKA)}&routing=jurisdiction`);
    expect(res.status).toBe(200);
    const text = (await parsePdfBytes(Buffer.from(await res.arrayBuffer()))).pages.join('\n').replace(/\s+/g, '');
    expect(text).toContain('共有6人签署本请愿书，本信计入其中2人。');
    expect(text).toContain('NaniwaOsakan');
    for (const name of ['EdoTokyoite', 'SnowySapporan', 'NowhereRegionless', 'HangangSeoulite']) expect(text).not.toContain(name);
    const everyone = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${idOf(OSAKA)}`);
    expect((await parsePdfBytes(Buffer.from(await everyone.arrayBuffer()))).pages.join('\n').replace(/\s+/g, '')).toContain('本请愿书的6名联署人');
  });
});

describe('GET /campaigns/:slug/routing-preview', () => {
  it('counts per target and region where the supporters would go, without a single name', async () => {
    const { idOf } = await setup();
    const res = await t.request('GET', `/api/v1/campaigns/${SLUG}/routing-preview`);
    expect(res.status).toBe(200);
    const raw = await res.text();
    for (const supporter of Object.values(supporters)) {
      expect(raw).not.toContain(supporter.name);
      expect(raw).not.toContain(supporter.email);
      expect(raw).not.toContain(supporter.city);
    }
    const preview = JSON.parse(raw) as {
      total: number;
      targets: { id: string; kind: string; count: number; takesUnserved: boolean; byRegion: { region: string | null; count: number }[] }[];
      unserved: { count: number; byRegion: unknown[]; targetIds: string[] };
    };
    expect(preview.total).toBe(6);
    const of = (name: string) => preview.targets.find((target) => target.id === idOf(name))!;
    // The letters' own region tables (PUBLIC_REGION_MIN is 1 here, so every listed region is named).
    expect(of(OSAKA)).toMatchObject({ kind: 'consulate', count: 2, takesUnserved: false, byRegion: [{ region: 'JP-27', count: 2 }] });
    expect(of(EMBASSY)).toMatchObject({ kind: 'embassy', count: 3, takesUnserved: true });
    expect(of(EMBASSY).byRegion).toEqual([
      { region: 'JP-13', count: 1 },
      { region: 'KR-11', count: 1 },
      // The supporter who named no region; the row says so, for the letter's wording.
      { region: null, count: 1, merges: { small: false, unstated: true } },
    ]);
    expect(preview.targets.filter((target) => target.count === 0)).toHaveLength(4);
    expect(preview.unserved).toMatchObject({ count: 2, targetIds: [idOf(EMBASSY)] });
  });

  it('answers 404 to a token limited to another campaign, as for an unknown campaign', async () => {
    await setup();
    await openCampaign(t, 'other-campaign');
    const created = await t.request('POST', '/api/v1/tokens', { body: { name: 'other only', scopes: ['letters'], campaigns: ['other-campaign'] } });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    const hidden = await t.request('GET', `/api/v1/campaigns/${SLUG}/routing-preview`, { token });
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const own = await t.request('GET', '/api/v1/campaigns/other-campaign/routing-preview', { token });
    expect(own.status).toBe(200);
    const unknown = await t.request('GET', '/api/v1/campaigns/no-such-campaign/routing-preview');
    expect(unknown.status).toBe(404);
  });
});
