import { and, asc, desc, eq, gt, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import * as v from 'valibot';
import { rowsPerInsert, type WriteStatement } from '../db/database.js';
import { campaigns, campaignTargets, letterBatches, letters, signatures, targets } from '../db/schema.js';
import type { LetterPorts } from '../letters/letter-ports.js';
import type { TemplateSummary } from '../letters/letter-ports.js';
import { publicRegionTotals, type RegionTally } from '../letters/template/region-totals.js';
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
import { letterRoutings, planRouting, routedSignatures, routedTallies, type LetterRouting, type RoutingPlan } from './letter-routing.js';
import { NotFound, ServiceError, Unprocessable, ValidationFailed } from './errors.js';
import { letterOrganisation } from './organisation.js';
import { IsoDateTime, isoOrNull, Locale, TemplateName } from './schemas.js';

/** The template a campaign without a `letterTemplate` writes with. */
export const DEFAULT_LETTER_TEMPLATE = 'embassy-petition';

export const letterModes = ['per_target', 'per_signer'] as const;
export type LetterMode = (typeof letterModes)[number];

export const GenerateLettersInput = v.pipe(
  v.strictObject({
    mode: v.picklist(letterModes, 'must be per_target or per_signer'),
    template: v.optional(TemplateName),
    cutoffAt: v.optional(IsoDateTime),
    /** per_target only: `jurisdiction` writes each target only for the supporters of its regions (src/services/letter-routing.ts). */
    routing: v.optional(v.picklist(letterRoutings, 'must be all or jurisdiction')),
  }),
  v.forward(
    // A per-signer letter speaks for one supporter to every target; there is no list to split.
    v.check((input) => input.mode === 'per_target' || (input.routing ?? 'all') === 'all', 'routing by jurisdiction needs mode per_target'),
    ['routing'],
  ),
);
export type GenerateLettersInput = v.InferOutput<typeof GenerateLettersInput>;

export const PreviewLetterQuery = v.object({
  target: v.pipe(v.string(), v.nonEmpty('must be a target id')),
  template: v.optional(TemplateName),
  language: v.optional(Locale),
  /** `jurisdiction`: the draft speaks only for the supporters routed to this target, as a routed batch would. */
  routing: v.optional(v.picklist(letterRoutings, 'must be all or jurisdiction')),
});
export type PreviewLetterQuery = v.InferOutput<typeof PreviewLetterQuery>;

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

type SignatureTotals = { count: number; tallies: RegionTally[] };

/** The signatures letters at `cutoffAt` count, per country and region. */
export async function signatureTotals(ctx: ServiceContext, campaignId: string, cutoffAt: number): Promise<SignatureTotals> {
  const rows = await ctx.db.db
    .select({ country: signatures.country, region: signatures.region, count: sql<number>`count(*)` })
    .from(signatures)
    .where(countedBy(campaignId, cutoffAt))
    .groupBy(signatures.country, signatures.region);
  const tallies = rows.map((r) => ({ country: r.country, region: r.region, count: Number(r.count) }));
  return { count: tallies.reduce((sum, r) => sum + r.count, 0), tallies };
}

type ShownTotals = { count: number; byRegion: RegionCount[] };

/** The totals as a letter in `language` shows them: small regions merged, region names in that language (built once per language). */
function shownTotals(ctx: ServiceContext, totals: SignatureTotals): (language: LetterLanguage) => ShownTotals {
  const byLanguage = new Map<LetterLanguage, ShownTotals>();
  return (language) => {
    let shown = byLanguage.get(language);
    if (!shown) {
      shown = { count: totals.count, byRegion: publicRegionTotals(totals.tallies, language, ctx.privacy.publicRegionMin) };
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
 * chose `none`: they are counted, never listed. `routed` keeps only the supporters routed to one
 * target (src/services/letter-routing.ts).
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

function toLetterTarget(row: TargetRow, language: LetterLanguage): LetterTarget {
  const address = row.postalAddress;
  return {
    name: row.name,
    title: row.title ?? '',
    organisation: row.organisation ?? '',
    salutation: row.salutation ?? '',
    language: isLetterLanguage(row.language) ? row.language : language,
    postalAddress: {
      lines: address.lines,
      postalCode: address.postalCode ?? undefined,
      city: address.city ?? undefined,
      region: address.region ?? undefined,
      country: address.country,
    },
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
 * the campaign's locale and English, the first the template is written in. Variants are loaded
 * once per call of the verb.
 */
function templateChooser(ports: LetterPorts, name: string, campaign: CampaignRow) {
  const loaded = new Map<string, Promise<LetterTemplate | null>>();
  const load = (language: string) => {
    let found = loaded.get(language);
    if (!found) {
      found = ports.loadTemplate(name, language).catch((error: unknown) => {
        if (error instanceof TemplateError && error.code === 'TEMPLATE_NOT_FOUND') return null;
        throw error;
      });
      loaded.set(language, found);
    }
    return found;
  };
  return async (target: TargetRow, language?: LetterLanguage): Promise<LetterTemplate> => {
    const candidates = language ? [language] : [...new Set([target.language, campaign.locale, 'en'])];
    for (const candidate of candidates) {
      const template = await load(candidate);
      if (template) return template;
    }
    throw new TemplateError('TEMPLATE_NOT_FOUND', `Template "${name}" was not found in ${candidates.join(', ')}.`);
  };
}

function parseId(id: string): string | null {
  const lower = id.toLowerCase();
  return uuidPattern.test(lower) ? lower : null;
}

/** Every template in `letters/`, with its languages, the variables it names, and any variant that cannot be used. */
export async function listLetterTemplates(ports: LetterPorts): Promise<{ items: TemplateSummary[] }> {
  return { items: await ports.listTemplates() };
}

/**
 * A draft of one target's letter as it would go out now: current confirmed signatures, today's
 * date. Nothing is stored. An unknown target and a target the campaign does not write to are both
 * `NOT_FOUND`; template problems are `TemplateError`s raised before any byte is sent.
 */
export async function previewLetter(
  ctx: ServiceContext,
  ports: LetterPorts,
  slug: string,
  query: PreviewLetterQuery,
): Promise<{ body: ReadableStream<Uint8Array>; filename: string }> {
  const campaign = await findCampaign(ctx, slug, 'read');
  const targetId = parseId(query.target);
  const [target] = targetId ? await ctx.db.db.select().from(targets).where(eq(targets.id, targetId)) : [];
  if (!target) throw new NotFound('Target');
  const [link] = await ctx.db.db
    .select({ targetId: campaignTargets.targetId })
    .from(campaignTargets)
    .where(and(eq(campaignTargets.campaignId, campaign.id), eq(campaignTargets.targetId, target.id)));
  if (!link) throw new ServiceError('NOT_FOUND', 'The target is not one of this campaign\'s targets.');

  const templateName = query.template ?? campaign.letterTemplate ?? DEFAULT_LETTER_TEMPLATE;
  const template = await templateChooser(ports, templateName, campaign)(target, query.language);
  const organisation = (await letterOrganisation(ctx, ports, 'previewing letters'))(template.language);
  const now = ctx.clock.now();
  const totals = await signatureTotals(ctx, campaign.id, now);
  const share: LetterShare =
    query.routing === 'jurisdiction'
      ? routedShare(ctx, planRouting(await linkedTargets(ctx, campaign.id)), target.id, totals)
      : { count: totals.count, shownIn: shownTotals(ctx, totals) };
  const input: LetterInput = {
    template,
    campaign: toLetterCampaign(ctx, campaign, template.language),
    target: toLetterTarget(target, template.language),
    organisation,
    date: now,
    signatures: { ...share.shownIn(template.language), signatories: () => toSignatories(signersAt(ctx, campaign.id, now, true, share.routed)) },
  };
  const body = await ports.renderToStream(input, { createdAt: now });
  return { body, filename: `${campaign.slug}-${target.name}-preview.pdf` };
}

export type GeneratedLetter = {
  id: string;
  targetId: string;
  signatureId: string | null;
  language: LetterLanguage;
  signatureCount: number;
  sha256: string;
  pages: number;
  bytes: number;
};

/** Told after each letter is rendered (the CLI prints a progress line). */
export type LetterProgress = (event: { index: number; total: number; targetName: string; letter: GeneratedLetter }) => void;

/** A target that got no letter in a batch routed by jurisdiction, and why. */
export type SkippedTarget = { targetId: string; targetName: string; reason: 'NO_SUPPORTERS_ROUTED' };

/** The supporters one letter speaks for: all of them, or those routed to its target. */
type LetterShare = { count: number; shownIn: (language: LetterLanguage) => ShownTotals; routed?: SQL };

type LetterJob = { target: TargetRow; template: LetterTemplate; signer: SignerRow | null; share: LetterShare };

/** One target's share of a batch routed by jurisdiction: its count and region totals from the routed tallies, its names by `routed`. */
function routedShare(ctx: ServiceContext, plan: RoutingPlan, targetId: string, totals: SignatureTotals): LetterShare {
  const tallies = routedTallies(plan, targetId, totals.tallies);
  const routedTotals = { count: tallies.reduce((sum, tally) => sum + tally.count, 0), tallies };
  return { count: routedTotals.count, shownIn: shownTotals(ctx, routedTotals), routed: routedSignatures(plan, targetId) };
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
 * `routing: 'jurisdiction'` (per_target only) gives each target's letter only the supporters
 * routed to it (src/services/letter-routing.ts): its count, region totals and named supporters
 * follow. A target nobody is routed to gets no letter and is listed in `skippedTargets`; when no
 * target would get one, nothing is rendered (422 UNPROCESSABLE).
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
  template: string;
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
  const choose = templateChooser(ports, templateName, campaign);
  // Every template variant is checked before the first PDF is rendered.
  const perTarget: { target: TargetRow; template: LetterTemplate }[] = [];
  for (const target of campaignTargetRows) perTarget.push({ target, template: await choose(target) });
  const organisation = await letterOrganisation(ctx, ports, 'generating letters');
  const totals = await signatureTotals(ctx, campaign.id, cutoffAt);
  const everyone: LetterShare = { count: totals.count, shownIn: shownTotals(ctx, totals) };
  const routing: LetterRouting = input.routing ?? 'all';

  const jobs: LetterJob[] = [];
  const skippedTargets: SkippedTarget[] = [];
  if (input.mode === 'per_target' && routing === 'jurisdiction') {
    const plan = planRouting(campaignTargetRows);
    for (const entry of perTarget) {
      const share = routedShare(ctx, plan, entry.target.id, totals);
      if (share.count === 0) skippedTargets.push({ targetId: entry.target.id, targetName: entry.target.name, reason: 'NO_SUPPORTERS_ROUTED' });
      else jobs.push({ ...entry, signer: null, share });
    }
    if (jobs.length === 0) {
      throw new Unprocessable('UNPROCESSABLE', 'No signature was confirmed by the cut-off, so routed by jurisdiction no target would get a letter.', { skippedTargets });
    }
  } else if (input.mode === 'per_target') {
    for (const entry of perTarget) jobs.push({ ...entry, signer: null, share: everyone });
  } else {
    const signers: SignerRow[] = [];
    for await (const signer of signersAt(ctx, campaign.id, cutoffAt, false)) signers.push(signer);
    for (const entry of perTarget) for (const signer of signers) jobs.push({ ...entry, signer, share: everyone });
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
    const batch = { id: batchId, campaignId: campaign.id, mode: input.mode, routing, template: templateName, cutoffAt, letterCount: rows.length, createdAt: now };
    const statements: WriteStatement[] = [ctx.db.db.insert(letterBatches).values(batch)];
    const perInsert = rowsPerInsert(letters);
    for (let start = 0; start < rows.length; start += perInsert) statements.push(ctx.db.db.insert(letters).values(rows.slice(start, start + perInsert)));
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
    template: templateName,
    cutoffAt: new Date(cutoffAt).toISOString(),
    letters: rows.map(toGenerated),
    skippedTargets,
  };
}

function letterInput(
  ctx: ServiceContext,
  campaign: CampaignRow,
  organisation: (language: LetterLanguage) => Organisation,
  job: LetterJob,
  cutoffAt: number,
): LetterInput {
  const language = job.template.language;
  return {
    template: job.template,
    campaign: toLetterCampaign(ctx, campaign, language),
    target: toLetterTarget(job.target, language),
    organisation: organisation(language),
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
    template: job.template.name,
    language: job.template.language,
    cutoffAt,
    signatureCount: job.share.count,
    sha256: result.sha256,
    pages: result.pages,
    bytes: result.bytes,
    path,
    createdAt: now,
  };
}

function toGenerated(row: LetterRow): GeneratedLetter {
  return {
    id: row.id,
    targetId: row.targetId,
    signatureId: row.signatureId,
    language: row.language,
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
    cutoffAt: isoOrNull(letter.cutoffAt),
    signatureCount: letter.signatureCount,
    sha256: letter.sha256,
    pages: letter.pages,
    bytes: letter.bytes,
    createdAt: new Date(letter.createdAt).toISOString(),
    pdf: `/api/v1/letters/${letter.id}.pdf`,
  };
}

/** A stored letter's PDF and a file name for it (`<campaign>-<target>.pdf`). */
export async function openLetterPdf(
  ctx: ServiceContext,
  ports: LetterPorts,
  id: string,
): Promise<{ body: ReadableStream<Uint8Array>; bytes: number; filename: string }> {
  const { letter, mode, slug, targetName } = await findLetter(ctx, id);
  const file = await ports.files.openRead(letter.path);
  if (!file) throw new ServiceError('LETTER_FILE_MISSING', 'The letter\'s PDF is no longer stored; generate the letters again.');
  // Per-signer letters share a target, so the letter's own id tells them apart (no supporter's name).
  const suffix = mode === 'per_signer' ? `-${letter.id.slice(-8)}` : '';
  return { ...file, filename: `${slug}-${targetName}${suffix}.pdf` };
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
      signatureCount: letters.signatureCount,
      sha256: letters.sha256,
      pages: letters.pages,
      bytes: letters.bytes,
    })
    .from(letters)
    .innerJoin(targets, eq(targets.id, letters.targetId))
    .where(and(eq(letters.campaignId, campaignId), inArray(letters.batchId, batches.map((b) => b.id))))
    .orderBy(letters.id);
  // A routed batch writes to no target nobody was routed to; which those were is not stored, so
  // they are the campaign's targets without a letter in the batch (exact unless the targets changed since).
  const linked = batches.some((batch) => batch.routing === 'jurisdiction') ? await linkedTargets(ctx, campaignId) : [];
  return batches.map((batch) => {
    const batchLetters = rows.filter((r) => r.batchId === batch.id);
    const written = new Set(batchLetters.map((letter) => letter.targetId));
    const skippedTargets: SkippedTarget[] =
      batch.routing === 'jurisdiction'
        ? linked.filter((target) => !written.has(target.id)).map((target) => ({ targetId: target.id, targetName: target.name, reason: 'NO_SUPPORTERS_ROUTED' }))
        : [];
    return {
      id: batch.id,
      mode: batch.mode,
      routing: batch.routing,
      template: batch.template,
      cutoffAt: new Date(batch.cutoffAt).toISOString(),
      createdAt: new Date(batch.createdAt).toISOString(),
      letters: batchLetters,
      skippedTargets,
    };
  });
}
