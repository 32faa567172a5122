import { and, asc, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { campaigns, campaignTargets, type PostalAddress, replies, type TargetTranslations, targets } from '../db/schema.js';
import { newId, uuidPattern } from '../lib/ids.js';
import { assertOrganisationAccess, listableCampaignIds } from './access.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound } from '../lib/service-errors.js';
import { afterCursor, decodeCursor, type PageQuery, toPage } from './pagination.js';
import { CountryCode, IsoDateTime, isoOrNull, Locale, SingleLine, TimeZone } from './schemas.js';
import { locales } from '../lib/locales.js';

export const targetKinds = ['embassy', 'consulate', 'official', 'other'] as const;
export const TargetKind = v.picklist(targetKinds, `must be one of: ${targetKinds.join(', ')}`);
export type TargetKind = v.InferOutput<typeof TargetKind>;

/** An optional one-line field: a blank value means "none" (null), as a form or spreadsheet sends it. */
const TextOrNull = (max: number) =>
  v.nullable(v.pipe(SingleLine(max), v.transform((text) => (text === '' ? null : text))));

const EmailOrNull = v.nullable(
  v.pipe(
    v.string(),
    v.trim(),
    v.transform((text) => (text === '' ? null : text)),
    v.nullable(v.pipe(v.string(), v.maxLength(254), v.email('must be an email address'))),
  ),
);

/**
 * A region a target serves: an ISO 3166-2 subdivision (JP-13 for Tokyo) or,
 * for a target serving a whole country, its ISO 3166-1 alpha-2 code.
 */
export const RegionCode = v.pipe(
  v.string(),
  v.trim(),
  v.toUpperCase(),
  v.regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'must be an ISO 3166-2 region code (e.g. JP-13) or a country code'),
);

const Jurisdiction = v.pipe(
  v.array(RegionCode),
  v.maxLength(100, 'must have at most 100 region codes'),
  v.transform((codes) => [...new Set(codes)]),
);

export const PostalAddressInput = v.strictObject({
  lines: v.pipe(
    v.array(v.pipe(SingleLine(200), v.minLength(1, 'must not be empty'))),
    v.minLength(1, 'must have 1 to 6 lines'),
    v.maxLength(6, 'must have 1 to 6 lines'),
  ),
  postalCode: v.optional(TextOrNull(20)),
  city: v.optional(TextOrNull(100)),
  region: v.optional(TextOrNull(100)),
  country: CountryCode,
});
export type PostalAddressInput = v.InferOutput<typeof PostalAddressInput>;

/** The IANA zone of the target's office, as ICU names it (`asia/tokyo` → `Asia/Tokyo`); blank means none. */
const TimeZoneOrNull = v.nullable(
  v.pipe(
    v.string(),
    v.trim(),
    v.transform((text) => (text === '' ? null : text)),
    v.nullable(v.pipe(TimeZone, v.transform((zone) => new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone))),
  ),
);

const Name = v.pipe(SingleLine(200), v.minLength(1, 'must not be empty'));

const ExternalIdOrNull = TextOrNull(100);

/** One language's names of a target: each field blank or left out falls back to the target's own. */
const TargetTranslationInput = v.strictObject({
  name: v.optional(TextOrNull(200)),
  title: v.optional(TextOrNull(200)),
  organisation: v.optional(TextOrNull(200)),
  salutation: v.optional(TextOrNull(200)),
});

/**
 * The target's names per letter language (`{ ja: { name, title, organisation, salutation } }`),
 * stored without blank fields or empty languages so that the same names always compare equal (an
 * import that repeats them changes nothing).
 */
export const TargetTranslationsInput = v.pipe(
  v.record(v.picklist(locales, `must be a letter language: ${locales.join(', ')}`), TargetTranslationInput),
  v.transform(normaliseTranslations),
);

function normaliseTranslations(input: Record<string, v.InferOutput<typeof TargetTranslationInput>>): TargetTranslations {
  const out: TargetTranslations = {};
  for (const language of locales) {
    const given = input[language];
    if (!given) continue;
    const fields = Object.fromEntries(Object.entries(given).filter(([, value]) => typeof value === 'string' && value !== ''));
    if (Object.keys(fields).length > 0) out[language] = fields;
  }
  return out;
}

/** valibot's object schemas accept arrays (typeof [] is 'object'); a body of `[]` is not a target. */
const NotAnArray = v.custom<unknown>((input) => !Array.isArray(input), 'must be an object');

export const CreateTargetInput = v.pipe(
  NotAnArray,
  v.strictObject({
    name: Name,
    title: v.optional(TextOrNull(200)),
    organisation: v.optional(TextOrNull(200)),
    kind: TargetKind,
    email: v.optional(EmailOrNull),
    postalAddress: PostalAddressInput,
    /** The language letters to this target are written in. */
    language: v.optional(Locale, 'en'),
    salutation: v.optional(TextOrNull(200)),
    jurisdiction: v.optional(Jurisdiction, () => []),
    /** Letters by email reach the office inside the mailing's sending window on this zone's clock (null: the mailing's zone). */
    timeZone: v.optional(TimeZoneOrNull),
    verifiedAt: v.optional(v.nullable(IsoDateTime)),
    /** The target's id in another system or file (`cn-embassy-tokyo`), unique in the directory: what an import matches it by. */
    externalId: v.optional(ExternalIdOrNull),
    /** Names and salutation in other languages, for letters written in them. */
    translations: v.optional(TargetTranslationsInput, () => ({})),
  }),
);
export type CreateTargetInput = v.InferOutput<typeof CreateTargetInput>;

/** Every field optional, none defaulted; `postalAddress`, `jurisdiction` and `translations` are replaced whole. */
export const UpdateTargetInput = v.pipe(
  NotAnArray,
  v.strictObject({
    name: v.optional(Name),
    title: v.optional(TextOrNull(200)),
    organisation: v.optional(TextOrNull(200)),
    kind: v.optional(TargetKind),
    email: v.optional(EmailOrNull),
    postalAddress: v.optional(PostalAddressInput),
    language: v.optional(Locale),
    salutation: v.optional(TextOrNull(200)),
    jurisdiction: v.optional(Jurisdiction),
    timeZone: v.optional(TimeZoneOrNull),
    verifiedAt: v.optional(v.nullable(IsoDateTime)),
    externalId: v.optional(ExternalIdOrNull),
    translations: v.optional(TargetTranslationsInput),
  }),
);
export type UpdateTargetInput = v.InferOutput<typeof UpdateTargetInput>;

export const TargetListQuery = v.object({
  kind: v.optional(TargetKind),
  country: v.optional(CountryCode),
  /** Targets serving this region, e.g. `JP-13`. */
  jurisdiction: v.optional(RegionCode),
  /** Part of the name or organisation, case-insensitive for Latin letters. */
  q: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(100))),
  /** A campaign's slug: only the targets it writes to. */
  campaign: v.optional(v.pipe(v.string(), v.maxLength(64))),
});
export type TargetListQuery = v.InferOutput<typeof TargetListQuery>;

export type TargetRow = typeof targets.$inferSelect;

function toPostalAddress(input: PostalAddressInput): PostalAddress {
  return {
    lines: input.lines,
    postalCode: input.postalCode ?? null,
    city: input.city ?? null,
    region: input.region ?? null,
    country: input.country,
  };
}

/** The stored row of a validated create input (shared with the import). */
export function toTargetRow(input: CreateTargetInput, id: string, now: number): TargetRow {
  return {
    id,
    name: input.name,
    title: input.title ?? null,
    organisation: input.organisation ?? null,
    kind: input.kind,
    email: input.email ?? null,
    postalAddress: toPostalAddress(input.postalAddress),
    timeZone: input.timeZone ?? null,
    language: input.language,
    salutation: input.salutation ?? null,
    jurisdiction: input.jurisdiction,
    verifiedAt: input.verifiedAt ?? null,
    externalId: input.externalId ?? null,
    translations: input.translations,
    createdAt: now,
    updatedAt: now,
  };
}

function toView(row: TargetRow) {
  const address = row.postalAddress;
  return {
    id: row.id,
    name: row.name,
    title: row.title,
    organisation: row.organisation,
    kind: row.kind,
    email: row.email,
    postalAddress: {
      lines: address.lines,
      postalCode: address.postalCode ?? null,
      city: address.city ?? null,
      region: address.region ?? null,
      country: address.country,
    },
    language: row.language,
    salutation: row.salutation,
    jurisdiction: row.jurisdiction,
    timeZone: row.timeZone,
    verifiedAt: isoOrNull(row.verifiedAt),
    externalId: row.externalId,
    translations: row.translations,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}
export type TargetView = ReturnType<typeof toView>;

/** Ids are lower-case UUIDs; anything else names no target (404, like an unknown id). */
function normaliseId(id: string): string | null {
  const lower = id.toLowerCase();
  return uuidPattern.test(lower) ? lower : null;
}

async function findTarget(ctx: ServiceContext, id: string): Promise<TargetRow | undefined> {
  const normalised = normaliseId(id);
  if (!normalised) return undefined;
  const [row] = await ctx.db.db.select().from(targets).where(eq(targets.id, normalised));
  return row;
}

/** Adds a target to the directory. */
export async function createTarget(ctx: ServiceContext, input: CreateTargetInput): Promise<TargetView> {
  assertOrganisationAccess(ctx.access);
  const now = ctx.clock.now();
  const row = toTargetRow(input, newId(now), now);
  try {
    await ctx.db.atomic([ctx.db.db.insert(targets).values(row)]);
  } catch (error) {
    throw externalIdTaken(error, row.externalId);
  }
  return toView(row);
}

/** A write refused because another target has the external id: a 409 naming it, anything else as it came. */
export function externalIdTaken(error: unknown, externalId: string | null | undefined): unknown {
  if (!String(error).includes('UNIQUE constraint failed: targets.external_id')) return error;
  return new Conflict('CONFLICT', `Another target has the external id ${JSON.stringify(externalId ?? '')}.`, [{ path: 'externalId', message: 'is used by another target' }]);
}

/**
 * Targets linked to one of these campaigns (by id), for a caller limited to them. Reading with
 * a subquery keeps one target linked to two of them from showing twice.
 */
function linkedToAny(campaignIds: string[]) {
  return inArray(targets.id, sql`(select ${campaignTargets.targetId} from ${campaignTargets} where ${inArray(campaignTargets.campaignId, campaignIds)})`);
}

/**
 * One target by id; `NotFound` for an unknown or malformed id. The directory is the
 * organisation's: a campaign-limited caller sees only the targets its campaigns write to.
 */
export async function getTarget(ctx: ServiceContext, id: string): Promise<TargetView> {
  const row = await findTarget(ctx, id);
  if (!row) throw new NotFound('Target');
  const visible = await listableCampaignIds(ctx);
  if (visible !== null) {
    const [linked] = await ctx.db.db.select({ id: targets.id }).from(targets).where(and(eq(targets.id, row.id), linkedToAny(visible)));
    if (!linked) throw new NotFound('Target');
  }
  return toView(row);
}

/** The directory, newest first, filtered by kind, country, region served and a name search. */
export async function listTargets(ctx: ServiceContext, query: PageQuery & TargetListQuery) {
  const after = decodeCursor(query.cursor);
  const visible = await listableCampaignIds(ctx, query.campaign);
  const search = query.q ? `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  const rows = await ctx.db.db
    .select()
    .from(targets)
    .where(
      and(
        query.kind ? eq(targets.kind, query.kind) : undefined,
        query.country ? sql`json_extract(${targets.postalAddress}, '$.country') = ${query.country}` : undefined,
        query.jurisdiction
          ? sql`exists (select 1 from json_each(${targets.jurisdiction}) where json_each.value = ${query.jurisdiction})`
          : undefined,
        search
          ? sql`(${targets.name} like ${search} escape '\\' or coalesce(${targets.organisation}, '') like ${search} escape '\\')`
          : undefined,
        query.campaign !== undefined && visible === null
          ? inArray(targets.id, sql`(select ${campaignTargets.targetId} from ${campaignTargets} inner join ${campaigns} on ${campaigns.id} = ${campaignTargets.campaignId} where ${campaigns.slug} = ${query.campaign})`)
          : undefined,
        visible === null ? undefined : linkedToAny(visible),
        afterCursor(targets.createdAt, targets.id, after),
      ),
    )
    .orderBy(desc(targets.createdAt), desc(targets.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toView);
}

/** Changes the given fields; `null` clears an optional one. */
export async function updateTarget(ctx: ServiceContext, id: string, input: UpdateTargetInput): Promise<TargetView> {
  assertOrganisationAccess(ctx.access);
  const current = await findTarget(ctx, id);
  if (!current) throw new NotFound('Target');
  const { postalAddress, ...fields } = input;
  const changes: Partial<TargetRow> = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  if (postalAddress) changes.postalAddress = toPostalAddress(postalAddress);
  if (Object.keys(changes).length === 0) return toView(current);
  changes.updatedAt = ctx.clock.now();
  try {
    await ctx.db.atomic([ctx.db.db.update(targets).set(changes).where(eq(targets.id, current.id))]);
  } catch (error) {
    throw externalIdTaken(error, changes.externalId);
  }
  return getTarget(ctx, current.id);
}

async function campaignSlugsUsing(ctx: ServiceContext, targetId: string): Promise<string[]> {
  const rows = await ctx.db.db
    .select({ slug: campaigns.slug })
    .from(campaignTargets)
    .innerJoin(campaigns, eq(campaigns.id, campaignTargets.campaignId))
    .where(eq(campaignTargets.targetId, targetId))
    .orderBy(asc(campaigns.slug));
  return rows.map((r) => r.slug);
}

function targetInUse(slugs: string[]) {
  return new Conflict(
    'TARGET_IN_USE',
    `The target is used by ${slugs.length} campaign${slugs.length === 1 ? '' : 's'}; remove it from ${slugs.length === 1 ? 'it' : 'them'} first.`,
    { campaigns: slugs },
  );
}

/** Deletes a target that no campaign uses; otherwise `TARGET_IN_USE` with the campaigns' slugs. */
export async function deleteTarget(ctx: ServiceContext, id: string): Promise<void> {
  assertOrganisationAccess(ctx.access);
  const current = await findTarget(ctx, id);
  if (!current) throw new NotFound('Target');
  const slugs = await campaignSlugsUsing(ctx, current.id);
  if (slugs.length > 0) throw targetInUse(slugs);
  // A reply keeps its sender (replies.target_id restricts the delete): answered rather than failing on the foreign key.
  const [replied] = await ctx.db.db.select({ id: replies.id }).from(replies).where(eq(replies.targetId, current.id)).limit(1);
  if (replied) throw new Conflict('TARGET_IN_USE', 'Replies from this target are recorded; delete them first.', { campaigns: [], replies: true });
  try {
    await ctx.db.atomic([ctx.db.db.delete(targets).where(eq(targets.id, current.id))]);
  } catch (error) {
    // A campaign can link the target between the check and the delete; the foreign key decides.
    if (String(error).includes('FOREIGN KEY constraint failed')) throw targetInUse(await campaignSlugsUsing(ctx, current.id));
    throw error;
  }
}
