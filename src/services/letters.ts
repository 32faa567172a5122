import { and, asc, desc, eq, gt, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import * as v from 'valibot';
import { rowsPerInsert, type WriteStatement } from '../db/database.js';
import { campaigns, campaignTargets, letterBatches, letters, signatures, targets } from '../db/schema.js';
import type { LetterPorts } from '../letters/letter-ports.js';
import { publicRegionTotals } from '../letters/template/region-totals.js';
import { TemplateError } from '../letters/template/template-error.js';
import {
  letterLanguages,
  type LetterCampaign,
  type LetterInput,
  type LetterLanguage,
  type LetterTarget,
  type LetterTemplate,
  type Organisation,
  type RegionCount,
  type RenderResult,
  type Signatory,
} from '../letters/template/types.js';
import { newId, uuidPattern } from '../lib/ids.js';
import { type AccessNeed, assertCampaignAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { requestRedactionIfErasedSince } from './letter-redaction-queue.js';
import { currentLetterTemplate, letterTemplateAt, type VersionedTemplate } from './letter-template-versions.js';
import {
  emptyTargetChoices,
  getsLetter,
  letterRoutings,
  letterShare,
  letterSignatures,
  namedInFull,
  planRouting,
  splitByJurisdiction,
  type ConsentTally,
  type EmptyTargets,
  type LetterRouting,
  type LetterSplit,
  type RoutableTarget,
} from './letter-routing.js';
import { NotFound, ServiceError, Unprocessable, ValidationFailed } from '../lib/service-errors.js';
import { letterOrganisation, letterPostalAddress } from './organisation.js';
import { IsoDateTime, isoOrNull, Locale, TemplateName } from './schemas.js';

/** The template a campaign without a `letterTemplate` writes with. */
export const DEFAULT_LETTER_TEMPLATE = 'embassy-petition';

export const letterModes = ['per_target', 'per_signer'] as const;
export type LetterMode = (typeof letterModes)[number];

/**
 * The languages each letter is written in, in order: the original, then its translations, all in
 * one PDF per letter (PRODUCT.md §12). Left out: each target's own language.
 */
export const LetterLanguages = v.pipe(
  v.array(v.picklist(letterLanguages, `must be a letter language: ${letterLanguages.join(', ')}`)),
  v.minLength(1, 'must name at least one language'),
  v.check((languages) => new Set(languages).size === languages.length, 'must not name a language twice'),
);

/** `languages` in a query string: comma-separated (`ja,zh`). */
const LetterLanguagesParam = v.pipe(
  v.string(),
  v.transform((text) => text.split(',').map((language) => language.trim().toLowerCase())),
  LetterLanguages,
);

export const GenerateLettersInput = v.pipe(
  v.strictObject({
    mode: v.picklist(letterModes, 'must be per_target or per_signer'),
    template: v.optional(TemplateName),
    cutoffAt: v.optional(IsoDateTime),
    /** per_target only: `jurisdiction` writes each target only for the supporters of its regions (src/services/letter-routing.ts). */
    routing: v.optional(v.picklist(letterRoutings, 'must be all or jurisdiction')),
    /** per_target only: `skip` writes no letter to a target whose letter would count no one (default `write`: every target gets the petition). */
    emptyTargets: v.optional(v.picklist(emptyTargetChoices, 'must be write or skip')),
    /** The languages of each letter, in order (default: each target's language). */
    languages: v.optional(LetterLanguages),
  }),
  v.forward(
    // A per-signer letter speaks for one supporter to every target; there is no list to split.
    v.check((input) => input.mode === 'per_target' || (input.routing ?? 'all') === 'all', 'routing by jurisdiction needs mode per_target'),
    ['routing'],
  ),
  v.forward(
    v.check((input) => input.mode === 'per_target' || input.emptyTargets === undefined, 'emptyTargets needs mode per_target'),
    ['emptyTargets'],
  ),
);
export type GenerateLettersInput = v.InferOutput<typeof GenerateLettersInput>;

export const PreviewLetterQuery = v.object({
  target: v.pipe(v.string(), v.nonEmpty('must be a target id')),
  template: v.optional(TemplateName),
  language: v.optional(Locale),
  /** `ja,zh`: the draft in each language in order, as a batch with these languages would write it (instead of `language`). */
  languages: v.optional(LetterLanguagesParam),
  /** `jurisdiction`: the draft speaks only for the supporters routed to this target, as a routed batch would. */
  routing: v.optional(v.picklist(letterRoutings, 'must be all or jurisdiction')),
  /** `skip`: a target whose letter would count no one gets no draft either (422), as a batch would skip it. */
  emptyTargets: v.optional(v.picklist(emptyTargetChoices, 'must be write or skip')),
});
export type PreviewLetterQuery = v.InferOutput<typeof PreviewLetterQuery>;
export type LetterLanguages = v.InferOutput<typeof LetterLanguages>;

type CampaignRow = typeof campaigns.$inferSelect;
type TargetRow = typeof targets.$inferSelect;
type LetterRow = typeof letters.$inferSelect;

/** Rows read from the signatures table per query while feeding the renderer. */
const SIGNER_PAGE_SIZE = 1000;

const isLetterLanguage = (value: string): value is LetterLanguage => (letterLanguages as readonly string[]).includes(value);

/** A campaign within the caller's reach for `need` (404 outside it, 403 for a viewer changing it). */
async function findCampaign(ctx: ServiceContext, slug: string, need: AccessNeed): Promise<CampaignRow> {
  const [row] = await ctx.db.db.select().from(campaigns).where(eq(campaigns.slug, slug));
  if (!row) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, row.id, need);
  return row;
}

/** The targets a campaign writes to, in its order. */
export async function linkedTargets(ctx: ServiceContext, campaignId: string): Promise<TargetRow[]> {
  const rows = await ctx.db.db
    .select({ target: targets })
    .from(campaignTargets)
    .innerJoin(targets, eq(targets.id, campaignTargets.targetId))
    .where(eq(campaignTargets.campaignId, campaignId))
    .orderBy(asc(campaignTargets.position));
  return rows.map((r) => r.target);
}

/**
 * Signatures a letter counts: confirmed at or before the cut-off, also when the supporter has had
 * their data erased since (their support stands, only their details are gone); a later
 * invalidation takes one out.
 */
const countedBy = (campaignId: string, cutoffAt: number): SQL =>
  and(eq(signatures.campaignId, campaignId), inArray(signatures.status, ['confirmed', 'erased']), lte(signatures.confirmedAt, cutoffAt))!;

/** Signatures a letter may name or be written for: confirmed at or before the cut-off and not erased. */
const confirmedBy = (campaignId: string, cutoffAt: number): SQL =>
  and(eq(signatures.campaignId, campaignId), eq(signatures.status, 'confirmed'), lte(signatures.confirmedAt, cutoffAt))!;

export type SignatureTotals = { count: number; tallies: ConsentTally[] };

/** The signatures letters at `cutoffAt` count, per country, region and whether they are named in full (one query). */
export async function signatureTotals(ctx: ServiceContext, campaignId: string, cutoffAt: number): Promise<SignatureTotals> {
  const rows = await ctx.db.db
    .select({ country: signatures.country, region: signatures.region, namedInFull: sql<number>`${namedInFull}`, count: sql<number>`count(*)` })
    .from(signatures)
    .where(countedBy(campaignId, cutoffAt))
    .groupBy(signatures.country, signatures.region, namedInFull);
  const tallies = rows.map((r) => ({ country: r.country, region: r.region, namedInFull: Number(r.namedInFull) === 1, count: Number(r.count) }));
  return { count: tallies.reduce((sum, r) => sum + r.count, 0), tallies };
}

/** How a routed batch or preview divides the supporters at these totals (k = PUBLIC_REGION_MIN). */
export function splitRouting(ctx: ServiceContext, campaignTargets: readonly RoutableTarget[], totals: SignatureTotals): LetterSplit {
  return splitByJurisdiction(planRouting(campaignTargets), totals.tallies, ctx.privacy.publicRegionMin);
}

type ShownTotals = { count: number; total?: number; byRegion: RegionCount[] };

/**
 * One letter's totals as it shows them in `language`: small regions merged within the letter,
 * region names in that language (built once per language). `total`: the petition's count, for a
 * letter that speaks for a share of it.
 */
function shownTotals(ctx: ServiceContext, share: { count: number; tallies: readonly ConsentTally[] }, total?: number): (language: LetterLanguage) => ShownTotals {
  const byLanguage = new Map<LetterLanguage, ShownTotals>();
  return (language) => {
    let shown = byLanguage.get(language);
    if (!shown) {
      const byRegion = publicRegionTotals(share.tallies, language, ctx.privacy.publicRegionMin);
      shown = total === undefined ? { count: share.count, byRegion } : { count: share.count, total, byRegion };
      byLanguage.set(language, shown);
    }
    return shown;
  };
}

const signerColumns = {
  id: signatures.id,
  name: signatures.name,
  nameOnLetter: signatures.nameOnLetter,
  city: signatures.city,
  country: signatures.country,
  locale: signatures.locale,
  confirmedAt: signatures.confirmedAt,
};
type SignerRow = { id: string; name: string; nameOnLetter: Signatory['nameOnLetter']; city: string | null; country: string; locale: string; confirmedAt: number | null };

/**
 * Confirmed signers at the cut-off, in the order of the appendix (confirmedAt, then id), read a
 * page at a time so an appendix of any length never sits in memory. `namedOnly` skips those who
 * chose `none`: they are counted, never listed. `routed` keeps only the supporters of one
 * target's letter (`letterSignatures`, src/services/letter-routing.ts).
 */
async function* signersAt(ctx: ServiceContext, campaignId: string, cutoffAt: number, namedOnly: boolean, routed?: SQL): AsyncGenerator<SignerRow> {
  let after: { confirmedAt: number; id: string } | null = null;
  for (;;) {
    const rows: SignerRow[] = await ctx.db.db
      .select(signerColumns)
      .from(signatures)
      .where(
        and(
          confirmedBy(campaignId, cutoffAt),
          namedOnly ? inArray(signatures.nameOnLetter, ['full', 'initials']) : undefined,
          routed,
          after
            ? or(gt(signatures.confirmedAt, after.confirmedAt), and(eq(signatures.confirmedAt, after.confirmedAt), gt(signatures.id, after.id)))
            : undefined,
        ),
      )
      .orderBy(asc(signatures.confirmedAt), asc(signatures.id))
      .limit(SIGNER_PAGE_SIZE);
    yield* rows;
    const last = rows[rows.length - 1];
    if (!last || rows.length < SIGNER_PAGE_SIZE) return;
    after = { confirmedAt: last.confirmedAt ?? 0, id: last.id };
  }
}

async function* toSignatories(rows: AsyncIterable<SignerRow>): AsyncGenerator<Signatory> {
  for await (const row of rows) yield toSignatory(row);
}

/** What the renderer gets of a signer: no more than their consent lets a letter print (the city only for `full`, no name for `none`). */
function toSignatory(row: SignerRow): Signatory {
  return {
    name: row.nameOnLetter === 'none' ? '' : row.name,
    nameOnLetter: row.nameOnLetter,
    city: row.nameOnLetter === 'full' ? (row.city ?? undefined) : undefined,
    country: row.country,
    locale: row.locale,
  };
}

/** A target as a letter in `language` names it: its names in that language, field by field, else its own. */
function toLetterTarget(row: TargetRow, language: LetterLanguage): LetterTarget {
  const named = row.translations[language] ?? {};
  return {
    name: named.name ?? row.name,
    title: named.title ?? row.title ?? '',
    organisation: named.organisation ?? row.organisation ?? '',
    salutation: named.salutation ?? row.salutation ?? '',
    language: isLetterLanguage(row.language) ? row.language : language,
    postalAddress: letterPostalAddress(row.postalAddress),
  };
}

function toLetterCampaign(ctx: ServiceContext, row: CampaignRow, language: LetterLanguage): LetterCampaign {
  const translation = row.translations[language];
  return {
    slug: row.slug,
    title: translation?.title ?? row.title,
    summary: translation?.summary ?? row.summary,
    timeZone: row.timeZone,
    locale: row.locale,
    url: `${ctx.publicUrl}/c/${row.slug}`,
  };
}

/**
 * Finds the template variant for a target: the language asked for, or else the target's language,
 * the campaign's locale and English, the first the template is written in, each at the version
 * letters use now (src/services/letter-template-versions.ts). Variants are loaded once per call of the verb.
 */
function templateChooser(ctx: ServiceContext, ports: LetterPorts, name: string, campaign: CampaignRow) {
  const loaded = new Map<string, Promise<VersionedTemplate | null>>();
  const load = (language: string) => {
    let found = loaded.get(language);
    if (!found) {
      found = currentLetterTemplate(ctx, ports, name, language).catch((error: unknown) => {
        if (error instanceof TemplateError && error.code === 'TEMPLATE_NOT_FOUND') return null;
        throw error;
      });
      loaded.set(language, found);
    }
    return found;
  };
  const choose = async (target: TargetRow, language?: LetterLanguage): Promise<VersionedTemplate> => {
    const candidates = language ? [language] : [...new Set([target.language, campaign.locale, 'en'])];
    for (const candidate of candidates) {
      const chosen = await load(candidate);
      if (chosen) return chosen;
    }
    throw new TemplateError('TEMPLATE_NOT_FOUND', `Template "${name}" was not found in ${candidates.join(', ')}.`);
  };
  /** The variant of each language asked for, in order; without languages, the one variant chosen for the target. */
  return async (target: TargetRow, languages?: readonly LetterLanguage[] | null): Promise<VersionedTemplate[]> => {
    if (!languages) return [await choose(target)];
    const chosen: VersionedTemplate[] = [];
    for (const language of languages) chosen.push(await choose(target, language));
    return chosen;
  };
}

/** One target's letter in each of its templates' languages: the first part, then the translations. */
function letterParts(
  ctx: ServiceContext,
  campaign: CampaignRow,
  target: TargetRow,
  templates: readonly LetterTemplate[],
  organisation: (language: LetterLanguage) => Organisation,
): Pick<LetterInput, 'template' | 'campaign' | 'target' | 'organisation' | 'translations'> {
  const [first, ...rest] = templates.map((template) => ({
    template,
    campaign: toLetterCampaign(ctx, campaign, template.language),
    target: toLetterTarget(target, template.language),
    organisation: organisation(template.language),
  }));
  return rest.length > 0 ? { ...first!, translations: rest } : first!;
}

function parseId(id: string): string | null {
  const lower = id.toLowerCase();
  return uuidPattern.test(lower) ? lower : null;
}

/**
 * A draft of one target's letter as it would go out now: current confirmed signatures, today's
 * date. Nothing is stored. An unknown target and a target the campaign does not write to are both
 * `NOT_FOUND`; template problems are `TemplateError`s raised before any byte is sent. `draft`: an
 * unsaved template text to show instead of the one letters use (the template editor's preview);
 * without `query.target`, the campaign's first target.
 */
export async function previewLetter(
  ctx: ServiceContext,
  ports: LetterPorts,
  slug: string,
  query: Omit<PreviewLetterQuery, 'target'> & { target?: string },
  draft?: LetterTemplate,
): Promise<{ body: ReadableStream<Uint8Array>; filename: string; uniquePart: string }> {
  const campaign = await findCampaign(ctx, slug, 'read');
  const targetId = query.target === undefined ? (await linkedTargets(ctx, campaign.id))[0]?.id : parseId(query.target);
  if (!targetId && query.target === undefined) throw new Unprocessable('NO_TARGETS', 'The campaign has no targets to write to; add targetIds to it first.');
  const [target] = targetId ? await ctx.db.db.select().from(targets).where(eq(targets.id, targetId)) : [];
  if (!target) throw new NotFound('Target');
  const [link] = await ctx.db.db
    .select({ targetId: campaignTargets.targetId })
    .from(campaignTargets)
    .where(and(eq(campaignTargets.campaignId, campaign.id), eq(campaignTargets.targetId, target.id)));
  if (!link) throw new ServiceError('NOT_FOUND', 'The target is not one of this campaign\'s targets.');

  const templateName = query.template ?? campaign.letterTemplate ?? DEFAULT_LETTER_TEMPLATE;
  const templates = draft
    ? [draft]
    : (await templateChooser(ctx, ports, templateName, campaign)(target, query.languages ?? (query.language ? [query.language] : undefined))).map((chosen) => chosen.template);
  const template = templates[0]!;
  const organisation = await letterOrganisation(ctx, ports, 'previewing letters');
  const now = ctx.clock.now();
  const totals = await signatureTotals(ctx, campaign.id, now);
  const share: LetterShare =
    query.routing === 'jurisdiction' ? routedShare(ctx, splitRouting(ctx, await linkedTargets(ctx, campaign.id), totals), target.id, totals) : everyoneShare(ctx, totals);
  if (!getsLetter(share.count, query.emptyTargets ?? 'write')) {
    throw new Unprocessable('UNPROCESSABLE', 'This target\'s letter would count no one, so with emptyTargets skip it would get no letter.', { reason: 'NO_SUPPORTERS_ROUTED' });
  }
  const input: LetterInput = {
    ...letterParts(ctx, campaign, target, templates, organisation),
    date: now,
    signatures: { ...share.shownIn(template.language), signatories: () => toSignatories(signersAt(ctx, campaign.id, now, true, share.routed)) },
  };
  const body = await ports.renderToStream(input, { createdAt: now });
  return { body, filename: `${campaign.slug}-${target.name}-preview.pdf`, uniquePart: target.id };
}

export type GeneratedLetter = {
  id: string;
  targetId: string;
  signatureId: string | null;
  language: LetterLanguage;
  /** Every language the PDF holds the letter in, in order; `language` is the first. */
  languages: LetterLanguage[];
  signatureCount: number;
  sha256: string;
  pages: number;
  bytes: number;
};

/** Told after each letter is rendered (the CLI prints a progress line). */
export type LetterProgress = (event: { index: number; total: number; targetName: string; letter: GeneratedLetter }) => void;

/** A target that got no letter because its letter would count no one (`emptyTargets: 'skip'`). */
export type SkippedTarget = { targetId: string; targetName: string; reason: 'NO_SUPPORTERS_ROUTED' };

/** The supporters one letter speaks for: all of them, or its target's share under routing. */
type LetterShare = { count: number; shownIn: (language: LetterLanguage) => ShownTotals; routed?: SQL };

/** `templates`: one per language of the letter, in order. */
type LetterJob = { target: TargetRow; templates: LetterTemplate[]; signer: SignerRow | null; share: LetterShare; petitionCount: number };

const everyoneShare = (ctx: ServiceContext, totals: SignatureTotals): LetterShare => ({ count: totals.count, shownIn: shownTotals(ctx, totals) });

/**
 * One target's share of a batch routed by jurisdiction, after folding (src/services/letter-routing.ts):
 * its count and region totals from its tallies, its names by `routed`, and the petition's total.
 */
function routedShare(ctx: ServiceContext, split: LetterSplit, targetId: string, totals: SignatureTotals): LetterShare {
  const share = letterShare(split, targetId, totals.tallies);
  return { count: share.count, shownIn: shownTotals(ctx, share, totals.count), routed: letterSignatures(split, targetId) };
}

/** Each target's share of a per_target batch: everyone, or its share under routing by jurisdiction. */
function targetShares(ctx: ServiceContext, campaignTargets: readonly TargetRow[], totals: SignatureTotals, routing: LetterRouting): (targetId: string) => LetterShare {
  if (routing === 'all') {
    const everyone = everyoneShare(ctx, totals);
    return () => everyone;
  }
  const split = splitRouting(ctx, campaignTargets, totals);
  return (targetId) => routedShare(ctx, split, targetId, totals);
}

/**
 * The targets a per_target batch at `cutoffAt` would write to and those it would skip, decided as
 * generateLetters decides (a letters mailing's dry run), and those whose letter would count no
 * supporter (skipped, or written with the petition's total only); `supporters`: the petition's count. Read access to the campaign is enough.
 */
export async function plannedLetterTargets(
  ctx: ServiceContext,
  slug: string,
  options: { routing: LetterRouting; emptyTargets: EmptyTargets; cutoffAt: number },
): Promise<{ written: TargetRow[]; skipped: TargetRow[]; withoutSupporters: TargetRow[]; supporters: number }> {
  const campaign = await findCampaign(ctx, slug, 'read');
  const campaignTargets = await linkedTargets(ctx, campaign.id);
  const totals = await signatureTotals(ctx, campaign.id, options.cutoffAt);
  const shareOf = targetShares(ctx, campaignTargets, totals, options.routing);
  const written: TargetRow[] = [];
  const skipped: TargetRow[] = [];
  const withoutSupporters: TargetRow[] = [];
  for (const target of campaignTargets) {
    const count = shareOf(target.id).count;
    (getsLetter(count, options.emptyTargets) ? written : skipped).push(target);
    // Whatever the choice, a letter that would count no one is one the organiser should hear of.
    if (!getsLetter(count, 'skip')) withoutSupporters.push(target);
  }
  return { written, skipped, withoutSupporters, supporters: totals.count };
}

/**
 * Renders a campaign's letters at a cut-off and records them as one batch. Signatures count if
 * they were confirmed at or before `cutoffAt` (default: now; erased ones still count, unnamed),
 * region totals merge regions below PUBLIC_REGION_MIN, and the cut-off is the letters' date
 * and PDF creation date, so the same inputs give the same PDFs. `per_target`: one letter per linked
 * target with the appendix of named signatories. `per_signer`: one letter per confirmed signer per
 * target, without an appendix. The rows are written in one atomic step after every PDF rendered;
 * if anything fails, the batch's files are deleted and nothing is recorded.
 *
 * `routing: 'jurisdiction'` (per_target only) gives each target's letter only its share of the
 * supporters (src/services/letter-routing.ts): its count, region totals and named supporters
 * follow, a district's few supporters not named in full are folded into the embassy's letter, and
 * every letter also states the petition's total. Every target gets a letter, also one that counts
 * no one, unless `emptyTargets: 'skip'`: then such a target is listed in `skippedTargets`, and
 * when no target would get one, nothing is rendered (422 UNPROCESSABLE).
 */
export async function generateLetters(
  ctx: ServiceContext,
  ports: LetterPorts,
  slug: string,
  input: GenerateLettersInput,
  onProgress?: LetterProgress,
): Promise<{
  batchId: string;
  mode: LetterMode;
  routing: LetterRouting;
  emptyTargets: EmptyTargets;
  template: string;
  /** The version of each language's template the letters were written with (0: the shipped file). */
  templateVersions: Partial<Record<LetterLanguage, number>>;
  languages: LetterLanguage[] | null;
  cutoffAt: string;
  letters: GeneratedLetter[];
  skippedTargets: SkippedTarget[];
}> {
  const campaign = await findCampaign(ctx, slug, 'write');
  const now = ctx.clock.now();
  const cutoffAt = input.cutoffAt ?? now;
  if (cutoffAt > now) throw new ValidationFailed([{ path: 'cutoffAt', message: 'must not be in the future' }]);
  const campaignTargetRows = await linkedTargets(ctx, campaign.id);
  if (campaignTargetRows.length === 0) {
    throw new Unprocessable('NO_TARGETS', 'The campaign has no targets to write to; add targetIds to it first.');
  }

  const templateName = input.template ?? campaign.letterTemplate ?? DEFAULT_LETTER_TEMPLATE;
  const choose = templateChooser(ctx, ports, templateName, campaign);
  // Every template variant is checked before the first PDF is rendered.
  const perTarget: { target: TargetRow; templates: LetterTemplate[] }[] = [];
  const templateVersions: Partial<Record<LetterLanguage, number>> = {};
  for (const target of campaignTargetRows) {
    const chosen = await choose(target, input.languages);
    perTarget.push({ target, templates: chosen.map((variant) => variant.template) });
    for (const variant of chosen) templateVersions[variant.template.language] = variant.version;
  }
  const organisation = await letterOrganisation(ctx, ports, 'generating letters');
  const totals = await signatureTotals(ctx, campaign.id, cutoffAt);
  const routing: LetterRouting = input.routing ?? 'all';
  const emptyTargets: EmptyTargets = input.emptyTargets ?? 'write';

  const jobs: LetterJob[] = [];
  const skippedTargets: SkippedTarget[] = [];
  if (input.mode === 'per_target') {
    const shareOf = targetShares(ctx, campaignTargetRows, totals, routing);
    for (const entry of perTarget) {
      const share = shareOf(entry.target.id);
      if (getsLetter(share.count, emptyTargets)) jobs.push({ ...entry, signer: null, share, petitionCount: totals.count });
      else skippedTargets.push({ targetId: entry.target.id, targetName: entry.target.name, reason: 'NO_SUPPORTERS_ROUTED' });
    }
    if (jobs.length === 0) {
      throw new Unprocessable('UNPROCESSABLE', 'With emptyTargets skip no target would get a letter: none of the letters would count a signature confirmed by the cut-off.', { skippedTargets });
    }
  } else {
    const signers: SignerRow[] = [];
    for await (const signer of signersAt(ctx, campaign.id, cutoffAt, false)) signers.push(signer);
    const everyone = everyoneShare(ctx, totals);
    for (const entry of perTarget) for (const signer of signers) jobs.push({ ...entry, signer, share: everyone, petitionCount: totals.count });
  }

  const batchId = newId(now);
  const rows: LetterRow[] = [];
  try {
    for (const [index, job] of jobs.entries()) {
      const letterId = newId(now);
      const place = await ports.files.pathFor(batchId, letterId);
      const result = await ports.renderToFile(letterInput(ctx, campaign, organisation, job, cutoffAt), place.output, { createdAt: cutoffAt });
      const row = letterRow(campaign.id, batchId, letterId, job, cutoffAt, result, place.stored, now);
      rows.push(row);
      onProgress?.({ index: index + 1, total: jobs.length, targetName: job.target.name, letter: toGenerated(row) });
    }
    const batch = {
      id: batchId,
      campaignId: campaign.id,
      mode: input.mode,
      routing,
      emptyTargets,
      template: templateName,
      languages: input.languages ?? null,
      cutoffAt,
      letterCount: rows.length,
      templateVersions,
      createdAt: now,
    };
    const statements: WriteStatement[] = [ctx.db.db.insert(letterBatches).values(batch)];
    const perInsert = rowsPerInsert(letters);
    for (let start = 0; start < rows.length; start += perInsert) statements.push(ctx.db.db.insert(letters).values(rows.slice(start, start + perInsert)));
    // An erasure committed while these were rendered could not find this batch: it is rendered again (src/services/letter-redaction.ts).
    statements.push(requestRedactionIfErasedSince(ctx, batchId, now, ctx.clock.now()));
    await ctx.db.atomic(statements);
  } catch (error) {
    await ports.files.removeBatch(batchId).catch((cleanupError: unknown) => {
      ctx.logger.error('letter batch cleanup failed', { batchId, error: String(cleanupError) });
    });
    throw error;
  }
  return {
    batchId,
    mode: input.mode,
    routing,
    emptyTargets,
    template: templateName,
    templateVersions,
    languages: input.languages ?? null,
    cutoffAt: new Date(cutoffAt).toISOString(),
    letters: rows.map(toGenerated),
    skippedTargets,
  };
}

/** A stored per_target letter as `renderStoredLetter` needs it; `languages` null (a letter from before 0020): `language` alone. */
export type StoredLetter = { id: string; targetId: string; template: string; language: LetterLanguage; languages: LetterLanguage[] | null };

/**
 * Renders the per_target letters of a stored batch again, each over its own file, as
 * generateLetters would at the batch's cut-off, with the template versions the batch recorded and what the database holds now: erased
 * supporters counted but no longer named (src/services/letter-redaction.ts). What is read once
 * per batch (campaign, organisation, totals, routing) is read here; the function returned renders
 * one letter. The file is replaced whole (renamed into place on disk, one put in R2), never half
 * written. Template problems are TemplateErrors, as for generateLetters.
 */
export async function storedLetterRenderer(
  ctx: ServiceContext,
  ports: LetterPorts,
  batch: { id: string; campaignId: string; routing: LetterRouting; cutoffAt: number; templateVersions: Partial<Record<LetterLanguage, number>> },
): Promise<(letter: StoredLetter) => Promise<RenderResult & { signatureCount: number }>> {
  const [campaign] = await ctx.db.db.select().from(campaigns).where(eq(campaigns.id, batch.campaignId));
  if (!campaign) throw new NotFound('Campaign');
  // While the profile is the shipped example this refuses, and the redaction job withdraws the letter rather than keep a name.
  const organisation = await letterOrganisation(ctx, ports, 'rendering letters again');
  const totals = await signatureTotals(ctx, campaign.id, batch.cutoffAt);
  const shareOf = targetShares(ctx, await linkedTargets(ctx, campaign.id), totals, batch.routing);
  return async (letter) => {
    const [target] = await ctx.db.db.select().from(targets).where(eq(targets.id, letter.targetId));
    if (!target) throw new NotFound('Target');
    // In the languages it was written in, each with the words of the version it used, not one saved since.
    const templates: LetterTemplate[] = [];
    for (const language of letter.languages ?? [letter.language]) {
      templates.push(await letterTemplateAt(ctx, ports, letter.template, language, batch.templateVersions[language as LetterLanguage] ?? 0));
    }
    const share = shareOf(target.id);
    const place = await ports.files.pathFor(batch.id, letter.id);
    const input = letterInput(ctx, campaign, organisation, { target, templates, signer: null, share, petitionCount: totals.count }, batch.cutoffAt);
    const result = await ports.renderToFile(input, place.output, { createdAt: batch.cutoffAt });
    return { ...result, signatureCount: share.count };
  };
}

function letterInput(
  ctx: ServiceContext,
  campaign: CampaignRow,
  organisation: (language: LetterLanguage) => Organisation,
  job: LetterJob,
  cutoffAt: number,
): LetterInput {
  const language = job.templates[0]!.language;
  return {
    ...letterParts(ctx, campaign, job.target, job.templates, organisation),
    date: cutoffAt,
    signatures: {
      ...job.share.shownIn(language),
      signatories: job.signer ? [] : () => toSignatories(signersAt(ctx, campaign.id, cutoffAt, true, job.share.routed)),
    },
    ...(job.signer ? { recipientSignature: toSignatory(job.signer) } : {}),
  };
}

function letterRow(
  campaignId: string,
  batchId: string,
  id: string,
  job: LetterJob,
  cutoffAt: number,
  result: RenderResult,
  path: string,
  now: number,
): LetterRow {
  return {
    id,
    batchId,
    campaignId,
    targetId: job.target.id,
    signatureId: job.signer?.id ?? null,
    template: job.templates[0]!.name,
    language: job.templates[0]!.language,
    languages: job.templates.map((template) => template.language),
    cutoffAt,
    signatureCount: job.share.count,
    petitionCount: job.petitionCount,
    sha256: result.sha256,
    pages: result.pages,
    bytes: result.bytes,
    path,
    createdAt: now,
    regeneratedAt: null,
    withdrawnAt: null,
  };
}

function toGenerated(row: LetterRow): GeneratedLetter {
  return {
    id: row.id,
    targetId: row.targetId,
    signatureId: row.signatureId,
    language: row.language,
    languages: row.languages ?? [row.language],
    signatureCount: row.signatureCount,
    sha256: row.sha256,
    pages: row.pages,
    bytes: row.bytes,
  };
}

async function findLetter(ctx: ServiceContext, id: string) {
  const letterId = parseId(id);
  if (!letterId) throw new NotFound('Letter');
  const [found] = await ctx.db.db
    .select({ letter: letters, mode: letterBatches.mode, routing: letterBatches.routing, slug: campaigns.slug, targetName: targets.name })
    .from(letters)
    .innerJoin(letterBatches, eq(letterBatches.id, letters.batchId))
    .innerJoin(campaigns, eq(campaigns.id, letters.campaignId))
    .innerJoin(targets, eq(targets.id, letters.targetId))
    .where(eq(letters.id, letterId));
  if (!found) throw new NotFound('Letter');
  assertCampaignAccess(ctx.access, found.letter.campaignId, 'read', 'Letter');
  return found;
}

/** A letter's metadata (never its signatories). */
export async function getLetter(ctx: ServiceContext, id: string) {
  const { letter, mode, routing, slug } = await findLetter(ctx, id);
  return {
    id: letter.id,
    batchId: letter.batchId,
    mode,
    routing,
    campaign: slug,
    campaignId: letter.campaignId,
    targetId: letter.targetId,
    signatureId: letter.signatureId,
    template: letter.template,
    language: letter.language,
    languages: letter.languages ?? [letter.language],
    cutoffAt: isoOrNull(letter.cutoffAt),
    signatureCount: letter.signatureCount,
    sha256: letter.sha256,
    pages: letter.pages,
    bytes: letter.bytes,
    createdAt: new Date(letter.createdAt).toISOString(),
    /** Set when the PDF was rendered again after an erasure (sha256, pages and bytes are then the new file's). */
    regeneratedAt: isoOrNull(letter.regeneratedAt),
    /** Set when the PDF was withdrawn after an erasure: it can no longer be downloaded or delivered. */
    withdrawnAt: isoOrNull(letter.withdrawnAt),
    pdf: `/api/v1/letters/${letter.id}.pdf`,
  };
}

/**
 * A stored letter's PDF and a file name for it (`<campaign>-<target>.pdf`), with the part that
 * keeps its ASCII fallback apart from its batch's other letters: the target's id, or for
 * per-signer letters (several to one target) the letter's own.
 */
export async function openLetterPdf(
  ctx: ServiceContext,
  ports: LetterPorts,
  id: string,
): Promise<{ body: ReadableStream<Uint8Array>; bytes: number; filename: string; uniquePart: string }> {
  const { letter, mode, slug, targetName } = await findLetter(ctx, id);
  if (letter.withdrawnAt !== null) throw letterWithdrawn();
  const file = await ports.files.openRead(letter.path);
  if (!file) throw new ServiceError('LETTER_FILE_MISSING', 'The letter\'s PDF is no longer stored; generate the letters again.');
  // Per-signer letters share a target, so the letter's own id tells them apart (no supporter's name).
  const suffix = mode === 'per_signer' ? `-${letter.id.slice(-8)}` : '';
  return { ...file, filename: `${slug}-${targetName}${suffix}.pdf`, uniquePart: mode === 'per_signer' ? letter.id : letter.targetId };
}

/** A withdrawn letter's answer (410): said plainly, so an organiser knows to generate the letters again. */
export function letterWithdrawn(): ServiceError {
  return new ServiceError(
    'LETTER_WITHDRAWN',
    'This letter was withdrawn after an erasure: it could not be rendered again without the supporter whose data was erased, so its PDF was deleted. Generate the letters again for a current one.',
  );
}

/** The letter batches of a campaign, newest first, with their letters and the targets' names (the dashboard's letters page). */
export async function listLetterBatches(ctx: ServiceContext, campaignId: string, limit = 20) {
  assertCampaignAccess(ctx.access, campaignId, 'read');
  const batches = await ctx.db.db
    .select()
    .from(letterBatches)
    .where(eq(letterBatches.campaignId, campaignId))
    .orderBy(desc(letterBatches.createdAt), desc(letterBatches.id))
    .limit(limit);
  if (batches.length === 0) return [];
  const rows = await ctx.db.db
    .select({
      id: letters.id,
      batchId: letters.batchId,
      targetId: letters.targetId,
      targetName: targets.name,
      signatureId: letters.signatureId,
      language: letters.language,
      languages: letters.languages,
      signatureCount: letters.signatureCount,
      sha256: letters.sha256,
      pages: letters.pages,
      bytes: letters.bytes,
      regeneratedAt: letters.regeneratedAt,
      withdrawnAt: letters.withdrawnAt,
    })
    .from(letters)
    .innerJoin(targets, eq(targets.id, letters.targetId))
    // The campaign's order of targets, as its page lists them (rendering in parallel gives ids in no useful order).
    .leftJoin(campaignTargets, and(eq(campaignTargets.campaignId, letters.campaignId), eq(campaignTargets.targetId, letters.targetId)))
    .where(and(eq(letters.campaignId, campaignId), inArray(letters.batchId, batches.map((b) => b.id))))
    .orderBy(sql`${campaignTargets.position} is null`, asc(campaignTargets.position), letters.id);
  // A batch that skips empty targets writes to no target whose letter would count no one; which
  // those were is not stored, so they are the campaign's targets without a letter in the batch
  // (exact unless the targets changed since).
  const skips = (batch: (typeof batches)[number]) => batch.mode === 'per_target' && batch.emptyTargets === 'skip';
  const linked = batches.some(skips) ? await linkedTargets(ctx, campaignId) : [];
  return batches.map((batch) => {
    const batchLetters = rows.filter((r) => r.batchId === batch.id);
    const written = new Set(batchLetters.map((letter) => letter.targetId));
    const skippedTargets: SkippedTarget[] = skips(batch)
      ? linked.filter((target) => !written.has(target.id)).map((target) => ({ targetId: target.id, targetName: target.name, reason: 'NO_SUPPORTERS_ROUTED' }))
      : [];
    return {
      id: batch.id,
      mode: batch.mode,
      routing: batch.routing,
      emptyTargets: batch.emptyTargets,
      template: batch.template,
      templateVersions: batch.templateVersions,
      languages: batch.languages,
      cutoffAt: new Date(batch.cutoffAt).toISOString(),
      createdAt: new Date(batch.createdAt).toISOString(),
      letters: batchLetters.map((letter) => ({ ...letter, languages: letter.languages ?? [letter.language] })),
      skippedTargets,
    };
  });
}
