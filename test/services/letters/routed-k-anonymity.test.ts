import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { regionName } from '../../../src/lib/regions.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';
import { parsePdfBytes } from '../../letters/helpers.js';

/**
 * Routed letters are k-anonymous (PRODUCT.md §8, k = PUBLIC_REGION_MIN, 5 here): a target never
 * learns that between 1 and k − 1 supporters who are not named in full signed from its district.
 * Such a share is folded into the embassy's letter; the consulate still gets its letter, and
 * reads the same whether nobody or the folded supporters signed there. Every target gets the
 * petition unless the organiser skips the empty ones. Every check reads the PDFs back, with the
 * shipped China missions (Nagasaki's consulate serves JP-42 only).
 */

const SLUG = 'folded-2027';
const missionsFile = join(repoLettersDir, 'targets/china-missions-japan.json');
const EMBASSY = '驻日本国特命全权大使';
const OSAKA = '驻大阪总领事';
const NAGASAKI = '驻长崎总领事';
const CUTOFF = '2027-09-10T00:00:00.000Z';

type TestApp = ReturnType<typeof createTestApp>;
type Letter = { id: string; targetId: string; signatureCount: number; sha256: string };
type Generated = { batchId: string; emptyTargets: string; letters: Letter[]; skippedTargets: { targetId: string; targetName: string; reason: string }[] };
type Supporter = { name: string; email: string; region?: string; nameOnLetter: 'full' | 'initials' | 'none' };

const apps: TestApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.cleanup();
});

/** Three supporters named in full elsewhere, so the national total is never the number under test. */
const elsewhere: Supporter[] = [
  { name: 'Naniwa Osakan', email: 'osaka1@example.org', region: 'JP-27', nameOnLetter: 'full' },
  { name: 'Dotonbori Walker', email: 'osaka2@example.org', region: 'JP-27', nameOnLetter: 'full' },
  { name: 'Edo Tokyoite', email: 'tokyo@example.org', region: 'JP-13', nameOnLetter: 'full' },
];
const loneHidden: Supporter = { name: 'Lone Nagasakian', email: 'lone@example.org', region: 'JP-42', nameOnLetter: 'none' };
const loneInitials: Supporter = { name: 'Inita Nagasakian', email: 'initials@example.org', region: 'JP-42', nameOnLetter: 'initials' };

/** The seven missions, a campaign writing to all of them, and `supporters`, each confirmed through the API. */
async function setup(supporters: Supporter[]) {
  const t = createTestApp();
  apps.push(t);
  const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
  expect(imported.status).toBe(201);
  const { ids } = (await imported.json()) as { ids: string[] };
  await openCampaign(t, SLUG, { locale: 'ja', title: '北朝鮮難民を救おう', targetIds: ids });
  for (const supporter of supporters) {
    const { nameOnLetter, ...rest } = supporter;
    await signAndConfirm(t, SLUG, signature(supporter.email, { ...rest, city: 'Somewhere', consent: { nameOnLetter } }));
    t.clock.advance(60_000);
  }
  t.clock.set(Date.parse(CUTOFF) + 3_600_000);
  const targets = (await (await t.request('GET', '/api/v1/targets?limit=100')).json()) as { items: { id: string; name: string }[] };
  const idOf = (name: string) => targets.items.find((target) => target.name === name)!.id;

  const generate = async (extra: Record<string, unknown> = {}): Promise<Generated> => {
    const res = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target', routing: 'jurisdiction', cutoffAt: CUTOFF, ...extra } });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as Generated;
  };
  /** A stored letter's text with all whitespace removed (pdf.js splits CJK runs with spaces). */
  const letterText = async (letterId: string) => {
    const res = await t.request('GET', `/api/v1/letters/${letterId}.pdf`);
    expect(res.status).toBe(200);
    return pdfText(Buffer.from(await res.arrayBuffer()));
  };
  return { t, idOf, generate, letterText };
}

async function pdfText(bytes: Buffer): Promise<string> {
  return (await parsePdfBytes(bytes)).pages.join('\n').replace(/\s+/g, '');
}

/** The appendix's summary (the letters are in Chinese): after its title, before the list of names or the region table. */
function summaryOf(text: string): string {
  // The body names the list too ("…联署人名单附于本信之后"); the appendix's title is followed by its summary.
  const appendix = text.slice(text.indexOf('联署人名单共有') + '联署人名单'.length);
  const ends = ['序号', '本信计入的签名（按地区）', '各地区签名数'].map((marker) => appendix.indexOf(marker)).filter((at) => at >= 0);
  // The page footer ("2 / 2") is extracted where it falls; the summary has no slash of its own.
  return appendix.slice(0, Math.min(...ends)).replace(/\d+\/\d+/g, '');
}

/** The region table: from its title to the number on its total line. */
function regionTableOf(text: string): string {
  const start = text.lastIndexOf('本信计入的签名（按地区）');
  expect(start, 'the region table of a routed letter').toBeGreaterThan(0);
  return /^.*?合计[\d,]+/.exec(text.slice(start))![0];
}

describe('a letter routed by jurisdiction never reveals a small share of supporters who are not named in full', () => {
  it('folds a lone `none` and a lone `initials` supporter of Nagasaki into the embassy\'s letter; Nagasaki still gets its letter, counting no one', async () => {
    const { idOf, generate, letterText } = await setup([...elsewhere, loneHidden, loneInitials]);
    const batch = await generate();
    const byTarget = new Map(batch.letters.map((letter) => [letter.targetId, letter]));

    const nagasaki = byTarget.get(idOf(NAGASAKI))!;
    expect(nagasaki.signatureCount).toBe(0);
    const nagasakiText = await letterText(nagasaki.id);
    // The petition's national total, and nothing of the two who signed from Nagasaki.
    expect(nagasakiText).toContain('本请愿书的5名联署人');
    expect(summaryOf(nagasakiText)).toBe('共有5人签署本请愿书，本信未计入其中任何人。');
    expect(regionTableOf(nagasakiText)).toBe('本信计入的签名（按地区）地区签名数合计0');
    expect(nagasakiText).not.toMatch(/LoneNagasakian|I\.N\.|Inita/);

    // The embassy counts both and lists the one who agreed to initials, as her consent allows.
    const embassy = byTarget.get(idOf(EMBASSY))!;
    expect(embassy.signatureCount).toBe(3);
    const embassyText = await letterText(embassy.id);
    expect(summaryOf(embassyText)).toBe('共有5人签署本请愿书，本信计入其中3人。以下列出其中希望具名的2人，其余签署人只计入人数。');
    expect(embassyText).toContain('EdoTokyoite');
    expect(embassyText).toContain('I.N.');
    expect(embassyText).not.toContain('LoneNagasakian');
    // Nagasaki's 2 are below k in the embassy's own table too: merged, never named.
    expect(regionTableOf(embassyText)).toBe('本信计入的签名（按地区）地区签名数其他地区（各不足5人的地区合计）3合计3');
    expect(embassyText).not.toContain(regionName('JP-42', 'zh'));

    expect(byTarget.get(idOf(OSAKA))!.signatureCount).toBe(2);
  });

  it('still names a `full` supporter of Nagasaki in Nagasaki\'s letter, which counts only them', async () => {
    const { idOf, generate, letterText } = await setup([...elsewhere, loneHidden, { name: 'Open Nagasakian', email: 'open@example.org', region: 'JP-42', nameOnLetter: 'full' }]);
    const batch = await generate();
    const byTarget = new Map(batch.letters.map((letter) => [letter.targetId, letter]));
    const nagasaki = byTarget.get(idOf(NAGASAKI))!;
    expect(nagasaki.signatureCount).toBe(1);
    const text = await letterText(nagasaki.id);
    expect(text).toContain('OpenNagasakian');
    expect(summaryOf(text)).toBe('共有5人签署本请愿书，本信计入其中1人。他们均希望具名，列于下方。');
    expect(byTarget.get(idOf(EMBASSY))!.signatureCount).toBe(2);
    expect(await letterText(byTarget.get(idOf(EMBASSY))!.id)).not.toContain('OpenNagasakian');
  });

  it('keeps k supporters who are not named in full in their own district\'s letter', async () => {
    const five = Array.from({ length: 5 }, (_, i): Supporter => ({ name: `Hidden ${i}`, email: `hidden${i}@example.org`, region: 'JP-42', nameOnLetter: 'none' }));
    const { idOf, generate, letterText } = await setup([...elsewhere, ...five]);
    const batch = await generate();
    const byTarget = new Map(batch.letters.map((letter) => [letter.targetId, letter]));
    const nagasaki = byTarget.get(idOf(NAGASAKI))!;
    expect(nagasaki.signatureCount).toBe(5);
    const text = await letterText(nagasaki.id);
    expect(summaryOf(text)).toBe('共有8人签署本请愿书，本信计入其中5人。他们均未要求具名，因此只计入人数。');
    expect(regionTableOf(text)).toBe(`本信计入的签名（按地区）地区签名数${regionName('JP-42', 'zh')}5合计5`);
    expect(byTarget.get(idOf(EMBASSY))!.signatureCount).toBe(1);
  });

  it('writes Nagasaki the same letter, byte for byte, whether its lone supporter lives there or in Osaka', async () => {
    const folded = await setup([...elsewhere, loneHidden]);
    const empty = await setup([...elsewhere, { ...loneHidden, region: 'JP-27' }]);
    const [foldedBatch, emptyBatch] = [await folded.generate(), await empty.generate()];
    const nagasakiOf = (app: typeof folded, batch: Generated) => batch.letters.find((letter) => letter.targetId === app.idOf(NAGASAKI))!;
    const [a, b] = [nagasakiOf(folded, foldedBatch), nagasakiOf(empty, emptyBatch)];
    expect(a.signatureCount).toBe(0);
    expect(b.signatureCount).toBe(0);
    const [textA, textB] = [await folded.letterText(a.id), await empty.letterText(b.id)];
    expect(summaryOf(textA)).toBe(summaryOf(textB));
    expect(regionTableOf(textA)).toBe(regionTableOf(textB));
    expect(textA).toBe(textB);
    expect(a.sha256).toBe(b.sha256);
  }, 60_000);
});

describe('the worked example of docs/letters.md', () => {
  it('counts 12 with the embassy, 7 with Osaka, 1 with Nagasaki and none with the other consulates, each letter speaking for the 20', async () => {
    const people = (region: string, place: string, consents: Supporter['nameOnLetter'][]) =>
      consents.map((nameOnLetter, i): Supporter => ({ name: `${place} ${nameOnLetter} ${i}`, email: `${place}-${i}@example.org`, region, nameOnLetter }));
    const { idOf, generate, letterText } = await setup([
      ...people('JP-13', 'tokyo', ['full', 'full', 'full', 'full', 'initials', 'initials', 'initials', 'none', 'none', 'none']),
      ...people('JP-27', 'osaka', ['full', 'full', 'initials', 'initials', 'initials', 'none', 'none']),
      ...people('JP-42', 'nagasaki', ['full', 'initials', 'none']),
    ]);
    const batch = await generate();
    const counts = new Map(batch.letters.map((letter) => [letter.targetId, letter.signatureCount]));
    expect(counts.get(idOf(EMBASSY))).toBe(12);
    expect(counts.get(idOf(OSAKA))).toBe(7);
    expect(counts.get(idOf(NAGASAKI))).toBe(1);
    for (const name of ['驻札幌总领事', '驻新潟总领事', '驻名古屋总领事', '驻福冈总领事']) expect(counts.get(idOf(name))).toBe(0);
    const osaka = await letterText(batch.letters.find((letter) => letter.targetId === idOf(OSAKA))!.id);
    expect(osaka).toContain('本请愿书的20名联署人');
    expect(summaryOf(osaka)).toBe('共有20人签署本请愿书，本信计入其中7人。以下列出其中希望具名的5人，其余签署人只计入人数。');
    const skipping = await generate({ emptyTargets: 'skip' });
    expect(skipping.letters.map((letter) => letter.targetId).sort()).toEqual([idOf(EMBASSY), idOf(OSAKA), idOf(NAGASAKI)].sort());
  }, 60_000);
});

describe('every target gets the petition under routing by jurisdiction', () => {
  it('writes to every mission by default, and skips those that would count no one with emptyTargets: skip', async () => {
    const { idOf, generate, letterText } = await setup([...elsewhere, loneHidden]);
    const batch = await generate();
    expect(batch.emptyTargets).toBe('write');
    expect(batch.letters).toHaveLength(7);
    expect(batch.skippedTargets).toEqual([]);
    const sapporo = batch.letters.find((letter) => letter.targetId === idOf('驻札幌总领事'))!;
    expect(sapporo.signatureCount).toBe(0);
    expect(summaryOf(await letterText(sapporo.id))).toBe('共有4人签署本请愿书，本信未计入其中任何人。');

    const skipping = await generate({ emptyTargets: 'skip' });
    expect(skipping.emptyTargets).toBe('skip');
    expect(new Set(skipping.letters.map((letter) => letter.targetId))).toEqual(new Set([idOf(EMBASSY), idOf(OSAKA)]));
    // Nagasaki, whose lone supporter was folded, is skipped like the districts nobody signed from.
    expect(skipping.skippedTargets.map((skipped) => skipped.targetName).sort()).toEqual(['驻名古屋总领事', '驻新潟总领事', '驻札幌总领事', '驻福冈总领事', NAGASAKI].sort());
  });

  it('refuses emptyTargets on per_signer letters, naming the field', async () => {
    const { t } = await setup([]);
    const res = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_signer', emptyTargets: 'skip' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'emptyTargets', message: expect.stringContaining('per_target') }] } });
  });
});

describe('previews follow the same rule', () => {
  it('drafts Nagasaki\'s letter without its folded supporters', async () => {
    const { t, idOf } = await setup([...elsewhere, loneHidden]);
    const res = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${idOf(NAGASAKI)}&routing=jurisdiction`);
    expect(res.status).toBe(200);
    const text = await pdfText(Buffer.from(await res.arrayBuffer()));
    expect(summaryOf(text)).toBe('共有4人签署本请愿书，本信未计入其中任何人。');
    expect(regionTableOf(text)).toBe('本信计入的签名（按地区）地区签名数合计0');

    const skipped = await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${idOf(NAGASAKI)}&routing=jurisdiction&emptyTargets=skip`);
    expect(skipped.status).toBe(422);
    expect(await skipped.json()).toMatchObject({ error: { code: 'UNPROCESSABLE', details: { reason: 'NO_SUPPORTERS_ROUTED' } } });
  });

  it('shows per target what its letter will count, the folded supporters to the organiser only as a count, and who gets a letter', async () => {
    const { t, idOf } = await setup([...elsewhere, loneHidden, loneInitials]);
    const res = await t.request('GET', `/api/v1/campaigns/${SLUG}/routing-preview`);
    expect(res.status).toBe(200);
    const preview = (await res.json()) as {
      total: number;
      minimum: number;
      targets: { id: string; count: number; folded: number; foldedIn: number; letter: boolean; byRegion: { region: string | null; count: number }[] }[];
    };
    expect(preview).toMatchObject({ total: 5, minimum: 5 });
    const of = (name: string) => preview.targets.find((target) => target.id === idOf(name))!;
    expect(of(NAGASAKI)).toMatchObject({ count: 0, folded: 2, foldedIn: 0, letter: true, byRegion: [] });
    expect(of(EMBASSY)).toMatchObject({ count: 3, folded: 0, foldedIn: 2, letter: true, byRegion: [{ region: null, count: 3 }] });
    expect(of(OSAKA)).toMatchObject({ count: 2, folded: 0, letter: true, byRegion: [{ region: null, count: 2 }] });
    // No per-target figure the letter would not show, apart from the organiser's folded counts.
    for (const target of preview.targets) for (const line of target.byRegion) if (line.region !== null) expect(line.count).toBeGreaterThanOrEqual(5);

    const skipping = (await (await t.request('GET', `/api/v1/campaigns/${SLUG}/routing-preview?emptyTargets=skip`)).json()) as typeof preview;
    expect(skipping.targets.filter((target) => target.letter).map((target) => target.id).sort()).toEqual([idOf(EMBASSY), idOf(OSAKA)].sort());
  });
});
