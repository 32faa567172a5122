import { cp, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { rowsPerInsert } from '../../../src/db/database.js';
import { campaigns, signatures } from '../../../src/db/schema.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { testPrivacy } from '../../helpers/keys.js';
import { openCampaign } from '../../helpers/signing.js';
import { parsePdfBytes } from '../../letters/helpers.js';

/**
 * What a letter discloses of supporters (PRODUCT.md §8): `full` → name and city, `initials` →
 * initials and country, `none` → counted only; region totals name only regions with at least
 * PUBLIC_REGION_MIN signatures. Each test is an attempt to read more out of a letter than that.
 */

const SLUG = 'disclosure-2027';

type TestApp = ReturnType<typeof createTestApp>;
type Letter = { id: string; signatureId: string | null; signatureCount: number };

let t: TestApp;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await t?.cleanup();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A letters directory with the shipped template and `probe`, which prints every field of `signer` and every region line. */
async function lettersWithProbe(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-disclosure-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await cp(join(repoLettersDir, 'organisation.json'), join(dir, 'organisation.json'));
  await cp(join(repoLettersDir, 'embassy-petition'), join(dir, 'embassy-petition'), { recursive: true });
  await mkdir(join(dir, 'probe'));
  await writeFile(
    join(dir, 'probe', 'en.md'),
    [
      '---',
      'subject: "Probe"',
      'envelopeWindow: none',
      'letterhead: false',
      'closing: "Yours,"',
      '---',
      'From {{#signer}}[{{signer.name}}|{{signer.city}}|{{signer.country}}]{{/signer}}.',
      '',
      '{{#signatures.byRegion}}',
      '- {{region}}: {{count}}',
      '{{/signatures.byRegion}}',
      '',
    ].join('\n'),
  );
  return dir;
}

/** One target per language, a campaign writing to them, and its id. */
async function setup(options: { languages?: ('en' | 'ja')[]; publicRegionMin?: number } = {}) {
  const lettersDir = await lettersWithProbe();
  t = createTestApp({ lettersDir, ...(options.publicRegionMin ? { privacy: { ...testPrivacy, publicRegionMin: options.publicRegionMin } } : {}) });
  const targetIds: string[] = [];
  for (const language of options.languages ?? ['en']) {
    const created = await t.request('POST', '/api/v1/targets', {
      body: { name: `Ambassador (${language})`, kind: 'embassy', postalAddress: { lines: ['3-4-33 Moto-Azabu'], city: 'Minato-ku', country: 'JP' }, language },
    });
    expect(created.status).toBe(201);
    targetIds.push(((await created.json()) as { id: string }).id);
  }
  await openCampaign(t, SLUG, { targetIds });
  const [campaign] = await t.database.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, SLUG));
  return campaign!.id;
}

type Signer = {
  name: string;
  nameOnLetter: 'full' | 'initials' | 'none';
  country?: string;
  region?: string | null;
  city?: string | null;
  status?: 'confirmed' | 'erased' | 'invalidated' | 'pending';
  confirmed?: boolean;
};

let serial = 0;

/** Stores signatures as the signing flow leaves them, confirmed one minute apart (the appendix's order). */
async function addSignatures(campaignId: string, signers: Signer[]) {
  const rows = signers.map((signer) => {
    serial++;
    t.clock.advance(60_000);
    const email = `supporter${serial}@example.org`;
    return {
      id: `signature-${String(serial).padStart(6, '0')}`,
      campaignId,
      name: signer.name,
      email,
      emailNormalized: email,
      country: signer.country ?? 'JP',
      region: signer.region === undefined ? 'JP-13' : signer.region,
      city: signer.city ?? null,
      locale: 'en' as const,
      nameOnLetter: signer.nameOnLetter,
      status: signer.status ?? ('confirmed' as const),
      createdAt: t.clock.now(),
      confirmedAt: signer.confirmed === false ? null : t.clock.now(),
    };
  });
  // Statements stay within D1's bound-parameter limit, which the Node database enforces too; drizzle
  // binds every column of the table (defaults too), not only those given.
  const perInsert = rowsPerInsert(signatures);
  const inserts = [];
  for (let start = 0; start < rows.length; start += perInsert) inserts.push(t.database.db.insert(signatures).values(rows.slice(start, start + perInsert)));
  await t.database.atomic(inserts);
  t.clock.advance(60_000);
}

async function generate(body: Record<string, unknown>): Promise<Letter[]> {
  const res = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body });
  expect(res.status).toBe(201);
  return ((await res.json()) as { letters: Letter[] }).letters;
}

/** A stored letter's text, whitespace runs made single spaces. */
async function letterText(letter: Letter): Promise<string> {
  const res = await t.request('GET', `/api/v1/letters/${letter.id}.pdf`);
  expect(res.status).toBe(200);
  const pdf = await parsePdfBytes(Buffer.from(await res.arrayBuffer()));
  return pdf.pages.join('\n').replace(/\s+/g, ' ');
}

/** The region table at the end of the appendix, as [label, count] lines (the total line last). */
function regionTable(text: string, header: string, total: string): [string, number][] {
  const start = text.lastIndexOf(header);
  expect(start, 'region table').toBeGreaterThan(0);
  // The total line is the label alone before a number: a merged line may contain the word too ("…の地域の合計）").
  const totalLine = new RegExp(` ${total} [\\d,]+`, 'g');
  totalLine.lastIndex = start;
  const end = totalLine.exec(text);
  expect(end, 'total line').not.toBeNull();
  const body = text.slice(start + header.length, end!.index + end![0].length);
  return [...body.matchAll(/(.+?) ([\d,]+)(?= |$)/g)].map((match) => [match[1]!.trim(), Number(match[2]!.replace(/,/g, ''))]);
}

const tokyoSupporters = (count: number, nameOnLetter: 'full' | 'initials' | 'none' = 'full'): Signer[] =>
  Array.from({ length: count }, (_, i) => ({ name: `Tokyo Supporter ${i + 1}`, nameOnLetter, city: 'Setagaya' }));

describe('the appendix of a per_target letter', () => {
  it('prints a `full` signer\'s city, an `initials` signer\'s initials and country but never their city, and nothing of a `none` signer', async () => {
    const campaignId = await setup();
    await addSignatures(campaignId, [
      { name: 'Aiko Tanaka', nameOnLetter: 'full', city: 'Shimokitazawa' },
      { name: 'Jane Doe', nameOnLetter: 'initials', country: 'GB', region: 'GB-ENG', city: 'Kichijoji' },
      { name: 'Secret Person', nameOnLetter: 'none', city: 'Nakameguro' },
    ]);
    const [letter] = await generate({ mode: 'per_target' });
    const text = await letterText(letter!);
    expect(text).toContain('No. Name City Country 1 Aiko Tanaka Shimokitazawa Japan 2 J. D. United Kingdom');
    expect(text).not.toContain('Kichijoji');
    expect(text).not.toMatch(/Jane|Doe|Secret|Person|Nakameguro/);
    expect(letter!.signatureCount).toBe(3);
  });
});

describe('region totals', () => {
  it('name only regions with at least PUBLIC_REGION_MIN signatures, in the letter\'s language, and merge the rest with those not stated', async () => {
    const campaignId = await setup({ languages: ['en', 'ja'] });
    await addSignatures(campaignId, [
      ...tokyoSupporters(5),
      { name: 'Osaka One', nameOnLetter: 'full', region: 'JP-27', city: 'Namba' },
      { name: 'Osaka Two', nameOnLetter: 'initials', region: 'JP-27' },
      { name: 'No Region', nameOnLetter: 'none', region: null },
      // Stored before regions came from the fixed list: free text is never printed.
      { name: 'Old Row', nameOnLetter: 'none', region: '京都府' },
      { name: 'Californian', nameOnLetter: 'none', country: 'US', region: 'US-CA' },
    ]);
    const [english, japanese] = await generate({ mode: 'per_target' });

    const en = await letterText(english!);
    expect(regionTable(en, 'Signatures by region Region Signatures', 'Total')).toEqual([
      ['Tokyo', 5],
      ['Other regions (each with fewer than 5) or not stated', 5],
      ['Total', 10],
    ]);
    expect(en).not.toMatch(/Osaka \d|California|京都府|JP-27|JP-13|Tôkyô/);

    const ja = await letterText(japanese!);
    expect(regionTable(ja, '地域別署名数 地域 署名数', '合計')).toEqual([
      ['東京都', 5],
      ['その他の地域（5名未満の地域の合計）・地域の記載なし', 5],
      ['合計', 10],
    ]);
    expect(ja).not.toMatch(/大阪府|California|京都府/);
  });

  it('follow PUBLIC_REGION_MIN as set', async () => {
    const campaignId = await setup({ publicRegionMin: 2 });
    await addSignatures(campaignId, [...tokyoSupporters(3), { name: 'Osaka One', nameOnLetter: 'none', region: 'JP-27' }, { name: 'Osaka Two', nameOnLetter: 'none', region: 'JP-27' }, { name: 'Alone', nameOnLetter: 'none', region: 'JP-01' }]);
    const [letter] = await generate({ mode: 'per_target', template: 'probe' });
    const text = await letterText(letter!);
    expect(text).toContain('• Tokyo: 3 • Osaka: 2 • Other regions (each with fewer than 2): 1');
    expect(text).not.toContain('Hokkaido');
  });

  it('never let a count single out a supporter who chose to be counted only', async () => {
    const campaignId = await setup();
    // Five named supporters in Tokyo and one unnamed supporter, alone in Hokkaido.
    await addSignatures(campaignId, [...tokyoSupporters(5), { name: 'Hidden Hokkaido', nameOnLetter: 'none', region: 'JP-01', city: 'Wakkanai' }]);
    const [letter] = await generate({ mode: 'per_target' });
    const text = await letterText(letter!);
    const lines = regionTable(text, 'Signatures by region Region Signatures', 'Total');
    // Every named region holds at least PUBLIC_REGION_MIN people; the one below it is merged.
    for (const [label, count] of lines) {
      if (!label.startsWith('Other regions') && label !== 'Total') expect(count, label).toBeGreaterThanOrEqual(testPrivacy.publicRegionMin);
    }
    expect(lines).toContainEqual(['Other regions (each with fewer than 5)', 1]);
    expect(text).not.toMatch(/Hokkaido|Hokkaidô|JP-01|Wakkanai|Hidden/);
  });
});

describe('appendix wording', () => {
  it('says everyone is named when everyone is, and counts a lone named signer under words true for them', async () => {
    const campaignId = await setup({ languages: ['en', 'ja'] });
    await addSignatures(campaignId, [...tokyoSupporters(5), { name: 'Osaka Alone', nameOnLetter: 'full', region: 'JP-27', city: 'Namba' }]);
    const [english, japanese] = await generate({ mode: 'per_target' });

    const en = await letterText(english!);
    expect(en).toContain('6 people signed this petition. All of them asked to be named and are listed below.');
    expect(en).not.toContain('counted but not named');
    expect(regionTable(en, 'Signatures by region Region Signatures', 'Total')).toEqual([
      ['Tokyo', 5],
      ['Other regions (each with fewer than 5)', 1],
      ['Total', 6],
    ]);

    const ja = await letterText(japanese!);
    expect(ja.replace(/ /g, '')).toContain('本要請には6名が署名しました。全員が氏名の記載を希望したため、以下に記します。');
    expect(ja).not.toContain('その他の方');
    expect(regionTable(ja, '地域別署名数 地域 署名数', '合計')).toEqual([
      ['東京都', 5],
      ['その他の地域（5名未満の地域の合計）', 1],
      ['合計', 6],
    ]);
    expect(ja).not.toMatch(/地域の記載なし|大阪府 1/);
  });

  it('still says the others are only counted when some are', async () => {
    const campaignId = await setup({ languages: ['ja'] });
    await addSignatures(campaignId, [...tokyoSupporters(4), { name: 'Quiet One', nameOnLetter: 'none' }]);
    const [letter] = await generate({ mode: 'per_target' });
    expect((await letterText(letter!)).replace(/ /g, '')).toContain('氏名の記載を希望した4名を以下に記します。その他の方は人数にのみ含めています。');
  });
});

describe('counting', () => {
  it('counts signatures erased after confirming, never names them, and leaves out the unconfirmed and invalidated', async () => {
    const campaignId = await setup();
    await addSignatures(campaignId, [
      ...tokyoSupporters(5),
      { name: 'Erased Supporter', nameOnLetter: 'full', city: 'Erasedtown', status: 'erased' },
      { name: 'Erased Before Confirming', nameOnLetter: 'full', status: 'erased', confirmed: false },
      { name: 'Invalidated Supporter', nameOnLetter: 'full', status: 'invalidated' },
    ]);
    const [letter] = await generate({ mode: 'per_target' });
    expect(letter!.signatureCount).toBe(6);
    const text = await letterText(letter!);
    expect(text).toContain('6 people signed this petition. The 5 who asked to be named are listed below');
    expect(regionTable(text, 'Signatures by region Region Signatures', 'Total')).toEqual([
      ['Tokyo', 6],
      ['Total', 6],
    ]);
    expect(text).not.toMatch(/Erased|Invalidated/);

    // A supporter whose data was erased gets no letter of their own.
    const perSigner = await generate({ mode: 'per_signer' });
    expect(perSigner).toHaveLength(5);
    expect(perSigner.every((l) => l.signatureCount === 6)).toBe(true);
  });
});

describe('per_signer letters', () => {
  it('show of their signer only what the appendix would: name, city and country for `full`, initials and country for `initials`, nothing for `none`', async () => {
    const campaignId = await setup();
    await addSignatures(campaignId, [
      { name: 'Aiko Tanaka', nameOnLetter: 'full', city: 'Shimokitazawa' },
      { name: 'Jane Doe', nameOnLetter: 'initials', city: 'Kichijoji' },
      { name: 'Secret Person', nameOnLetter: 'none', city: 'Nakameguro' },
    ]);
    const letters = await generate({ mode: 'per_signer', template: 'probe' });
    expect(letters).toHaveLength(3);
    const fromLines = await Promise.all(letters.map(async (letter) => /From (\[.*?\])\./.exec(await letterText(letter))?.[1]));
    expect(fromLines).toEqual(['[Aiko Tanaka|Shimokitazawa|Japan]', '[J. D.||Japan]', '[||]']);
    for (const letter of letters.slice(1)) expect(await letterText(letter)).not.toMatch(/Kichijoji|Nakameguro|Jane|Secret/);
  });

  it('from the shipped template say a list is attached only where one is', async () => {
    const campaignId = await setup();
    await addSignatures(campaignId, [{ name: 'Aiko Tanaka', nameOnLetter: 'full', city: 'Shimokitazawa' }]);
    const [perTarget] = await generate({ mode: 'per_target' });
    // The page footer ("1 / 3") may fall inside the sentence.
    expect(await letterText(perTarget!)).toContain('asked to be named are attached to this letter.');
    const [perSigner] = await generate({ mode: 'per_signer' });
    const text = await letterText(perSigner!);
    expect(text).toContain('discuss it with you.');
    expect(text).not.toContain('attached');
  });
});
