import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import { ORGANISATION_PROFILE_ID, organisationProfile, type OrganisationProfileData, type OrganisationSignatory, type PostalAddress } from '../db/schema.js';
import type { LetterTemplateStore } from '../letters/letter-ports.js';
import { addressBlockLines } from '../letters/template/postal-address.js';
import type { LetterLanguage, Organisation } from '../letters/template/types.js';
import { assertOrganisationAccess } from './access.js';
import type { OrganisationState, ServiceContext } from './context.js';
import { Conflict, type FieldIssue, ValidationFailed } from '../lib/service-errors.js';
import { isoOrNull, Locale, SingleLine } from './schemas.js';
import { PostalAddressInput } from './targets.js';

/**
 * The organisation profile (PRODUCT.md §12): who sends the letters, signs
 * them, answers the covering emails and is named to supporters as the body
 * responsible for their data. One row, seeded from `letters/organisation.json`
 * the first time it is read; after that the file only supplies the logo.
 */

/** Where the profile is seeded from, and the logo found: `letters/organisation.json` (Node) or its bundle (Workers). */
export type OrganisationSeed = Pick<LetterTemplateStore, 'loadOrganisation'>;

const CACHE_KEY = 'organisation';
/** How long pages and the dashboard banner may show a profile another process has changed since. */
export const ORGANISATION_CACHE_TTL_MS = 5_000;

/**
 * The placeholder shipped in `letters/organisation.json`. A seed carrying any
 * of these is the shipped example (also one only partly edited: a letter must
 * not go out with the placeholder's address for replies), and a saved profile
 * may carry none of them.
 */
export const shippedExample = {
  name: 'Example Human Rights Network Japan',
  email: 'letters@example.org',
  phone: '+81 3-0000-0000',
} as const;

const sameText = (a: string | null | undefined, b: string) => (a ?? '').trim().toLowerCase() === b.toLowerCase();

/** The fields of a profile that still hold the shipped placeholder, as validation issues. */
function exampleIssues(profile: Pick<OrganisationProfileData, 'name' | 'email' | 'phone' | 'translations'>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const placeholder = "is the shipped example's; give your organisation's own";
  if (sameText(profile.name, shippedExample.name)) issues.push({ path: 'name', message: placeholder });
  if (sameText(profile.email, shippedExample.email)) issues.push({ path: 'email', message: placeholder });
  if (sameText(profile.phone, shippedExample.phone)) issues.push({ path: 'phone', message: placeholder });
  for (const [locale, translation] of Object.entries(profile.translations)) {
    if (translation?.name !== undefined && sameText(translation.name, shippedExample.name)) issues.push({ path: `translations.${locale}.name`, message: placeholder });
  }
  return issues;
}

/** Whether `letters/organisation.json` as read is (still partly) the shipped placeholder. */
export function seedIsShippedExample(seed: Organisation): boolean {
  return exampleIssues(profileFromSeed(seed)).length > 0;
}

const Required = (max: number) => v.pipe(SingleLine(max), v.minLength(1, 'must not be empty'));

/** An optional one-line field: blank or left out is none (null). */
const Optional = (max: number) =>
  v.optional(v.nullable(v.pipe(SingleLine(max), v.transform((text): string | null => (text === '' ? null : text)))), null);

const Email = v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(254), v.email('must be an email address'));

const Website = v.optional(
  v.nullable(
    v.pipe(
      v.string(),
      v.trim(),
      v.transform((text): string | null => (text === '' ? null : text)),
      v.nullable(v.pipe(v.string(), v.maxLength(300), v.regex(/^https?:\/\/[^\s/]+\.[^\s]*$/i, 'must be a web address such as https://example.org'), v.url('must be a web address such as https://example.org'))),
    ),
  ),
  null,
);

const SignatoryInput = v.strictObject({ name: Required(200), title: Optional(200) });

const TranslationInput = v.strictObject({
  name: v.optional(Required(200)),
  postalAddress: v.optional(PostalAddressInput),
  signatory: v.optional(SignatoryInput),
});

/** valibot's object schemas accept arrays (typeof [] is 'object'); a body of `[]` is not a profile. */
const NotAnArray = v.custom<unknown>((input) => !Array.isArray(input), 'must be an object');

/**
 * `PUT /api/v1/organisation` and the dashboard form: the whole profile (what is left out is cleared).
 * `translations` give the name, address and signatory in other languages, used for letters in that language.
 */
export const OrganisationInput = v.pipe(
  NotAnArray,
  v.strictObject({
    name: Required(200),
    postalAddress: PostalAddressInput,
    email: Email,
    phone: Optional(50),
    website: Website,
    signatory: SignatoryInput,
    translations: v.optional(v.record(Locale, TranslationInput), {}),
  }),
);
export type OrganisationInput = v.InferOutput<typeof OrganisationInput>;

/** The profile as organisers read it: `isExample` is true while it is still the shipped placeholder (or none could be read). */
export type OrganisationView = OrganisationProfileData & { isExample: boolean; updatedAt: string | null };

const storedAddress = (address: v.InferOutput<typeof PostalAddressInput>): PostalAddress => ({
  lines: address.lines,
  postalCode: address.postalCode ?? null,
  city: address.city ?? null,
  region: address.region ?? null,
  country: address.country,
});

const storedSignatory = (signatory: v.InferOutput<typeof SignatoryInput>): OrganisationSignatory => ({ name: signatory.name, title: signatory.title ?? null });

function profileOf(input: OrganisationInput): OrganisationProfileData {
  const translations: OrganisationProfileData['translations'] = {};
  for (const [locale, text] of Object.entries(input.translations) as [Locale, v.InferOutput<typeof TranslationInput>][]) {
    const translation = {
      ...(text.name !== undefined ? { name: text.name } : {}),
      ...(text.postalAddress !== undefined ? { postalAddress: storedAddress(text.postalAddress) } : {}),
      ...(text.signatory !== undefined ? { signatory: storedSignatory(text.signatory) } : {}),
    };
    if (Object.keys(translation).length > 0) translations[locale] = translation;
  }
  return {
    name: input.name,
    postalAddress: storedAddress(input.postalAddress),
    email: input.email,
    phone: input.phone ?? null,
    website: input.website ?? null,
    signatory: storedSignatory(input.signatory),
    translations,
  };
}

/** `letters/organisation.json` (its older shape: address lines and a country) as a profile. */
function profileFromSeed(seed: Organisation): OrganisationProfileData {
  return {
    name: seed.name,
    postalAddress: { lines: seed.addressLines, postalCode: null, city: null, region: null, country: seed.country },
    email: seed.email ?? '',
    phone: seed.phone ?? null,
    website: seed.website ?? null,
    signatory: { name: seed.representative?.name ?? '', title: seed.representative?.title ?? null },
    translations: {},
  };
}

/** Nothing to show: organisation.json could not be read and nobody has saved a profile. */
const noProfile: OrganisationProfileData = {
  name: '',
  postalAddress: { lines: [], postalCode: null, city: null, region: null, country: 'JP' },
  email: '',
  phone: null,
  website: null,
  signatory: { name: '', title: null },
  translations: {},
};

async function storedState(ctx: ServiceContext): Promise<OrganisationState | undefined> {
  const [row] = await ctx.db.db.select().from(organisationProfile).where(eq(organisationProfile.id, ORGANISATION_PROFILE_ID));
  return row ? { profile: row.profile, isExample: row.isExample, updatedAt: row.updatedAt } : undefined;
}

/**
 * The stored profile, seeded from `letters/organisation.json` when there is none yet (two
 * first readers racing insert the same seed; one wins). A seed that cannot be read is not
 * stored: the profile is then "not set" until an organiser saves one.
 */
async function readState(ctx: ServiceContext, seed: OrganisationSeed): Promise<OrganisationState> {
  const stored = await storedState(ctx);
  if (stored) return stored;
  let profile: OrganisationProfileData;
  try {
    profile = profileFromSeed(await seed.loadOrganisation());
  } catch (error) {
    ctx.logger.warn('organisation profile not seeded: letters/organisation.json cannot be read', { error: String(error) });
    return { profile: noProfile, isExample: true, updatedAt: null };
  }
  const now = ctx.clock.now();
  const isExample = exampleIssues(profile).length > 0;
  await ctx.db.atomic([ctx.db.db.insert(organisationProfile).values({ id: ORGANISATION_PROFILE_ID, profile, isExample, updatedAt: now }).onConflictDoNothing()]);
  return (await storedState(ctx)) ?? { profile, isExample, updatedAt: now };
}

/**
 * The profile as pages and the dashboard banner show it: read at most every few seconds per
 * process (a save in this process shows at once).
 */
function cachedState(ctx: ServiceContext, seed: OrganisationSeed): Promise<OrganisationState> {
  const now = ctx.clock.now();
  const cached = ctx.organisation?.get(CACHE_KEY, now);
  if (cached) return cached;
  const loading = readState(ctx, seed);
  ctx.organisation?.set(CACHE_KEY, loading, now);
  loading.catch(() => ctx.organisation?.delete(CACHE_KEY));
  return loading;
}

const toView = (state: OrganisationState): OrganisationView => ({ ...state.profile, isExample: state.isExample, updatedAt: isoOrNull(state.updatedAt) });

/** `GET /api/v1/organisation`: the profile, seeded if it was never read. Organisation access only. */
export async function readOrganisation(ctx: ServiceContext, seed: OrganisationSeed): Promise<OrganisationView> {
  assertOrganisationAccess(ctx.access);
  return toView(await readState(ctx, seed));
}

/**
 * Replaces the whole profile (`PUT /api/v1/organisation`, the dashboard form). A value still
 * holding the shipped placeholder (its name, email or phone) is refused by field, so what is
 * saved is never the example. Organisation access only.
 */
export async function updateOrganisation(ctx: ServiceContext, input: OrganisationInput): Promise<OrganisationView> {
  assertOrganisationAccess(ctx.access);
  const profile = profileOf(input);
  const issues = exampleIssues(profile);
  if (issues.length > 0) throw new ValidationFailed(issues, "The organisation profile still holds the shipped example's details.");
  const now = ctx.clock.now();
  await ctx.db.atomic([
    ctx.db.db
      .insert(organisationProfile)
      .values({ id: ORGANISATION_PROFILE_ID, profile, isExample: false, updatedAt: now })
      .onConflictDoUpdate({ target: organisationProfile.id, set: { profile, isExample: false, updatedAt: now } }),
  ]);
  ctx.organisation?.delete(CACHE_KEY);
  return toView({ profile, isExample: false, updatedAt: now });
}

/** Whether the profile is still the shipped example (or none is set): the dashboard's banner. */
export async function organisationNotSet(ctx: ServiceContext, seed: OrganisationSeed): Promise<boolean> {
  return (await cachedState(ctx, seed)).isExample;
}

/** The organisation as a public page names it in `language`, or undefined while it is not set (the page then says so). */
export async function publicOrganisation(ctx: ServiceContext, seed: OrganisationSeed, language: LetterLanguage): Promise<Organisation | undefined> {
  const state = await cachedState(ctx, seed);
  return state.isExample ? undefined : organisationInLanguage(state.profile, language);
}

/** `409 ORGANISATION_NOT_SET`, saying what to do before `action` (e.g. "generating letters"). */
export const organisationNotSetError = (action: string) =>
  new Conflict('ORGANISATION_NOT_SET', `Set your organisation's name and address in the dashboard (Organisation) before ${action}: the profile is still the shipped example.`);

/**
 * The profile for anything sent in the organisation's name; `ORGANISATION_NOT_SET` (409) while
 * it is the shipped example. Read fresh: a profile saved a moment ago in another process counts.
 */
export async function requireOrganisation(ctx: ServiceContext, seed: OrganisationSeed, action: string): Promise<OrganisationProfileData> {
  const state = await readState(ctx, seed);
  if (state.isExample) throw organisationNotSetError(action);
  return state.profile;
}

/** The sender lines of an address: the way its country writes it, without the country (the letterhead's own). */
export function senderAddressLines(address: PostalAddress): string[] {
  return addressBlockLines([], letterPostalAddress(address), address.country);
}

/** A stored address as letters take it: absent parts left out rather than null. */
export function letterPostalAddress(address: PostalAddress) {
  return {
    lines: address.lines,
    postalCode: address.postalCode ?? undefined,
    city: address.city ?? undefined,
    region: address.region ?? undefined,
    country: address.country,
  };
}

/** The organisation as a letter (or page) in `language` shows it: that language's name, address and signatory where given. */
export function organisationInLanguage(profile: OrganisationProfileData, language: LetterLanguage, logo?: string): Organisation {
  const local = profile.translations[language] ?? {};
  const address = local.postalAddress ?? profile.postalAddress;
  const signatory = local.signatory ?? profile.signatory;
  return {
    name: local.name ?? profile.name,
    addressLines: senderAddressLines(address),
    country: address.country,
    postalAddress: letterPostalAddress(address),
    ...(profile.email ? { email: profile.email } : {}),
    ...(profile.website ? { website: profile.website } : {}),
    ...(profile.phone ? { phone: profile.phone } : {}),
    ...(logo ? { logo } : {}),
    ...(signatory.name ? { representative: { name: signatory.name, ...(signatory.title ? { title: signatory.title } : {}) } } : {}),
  };
}

/**
 * The organisation for letters, per letter language, with the logo of `letters/organisation.json`;
 * `ORGANISATION_NOT_SET` (409) while the profile is the shipped example.
 */
export async function letterOrganisation(ctx: ServiceContext, ports: OrganisationSeed, action: string): Promise<(language: LetterLanguage) => Organisation> {
  const profile = await requireOrganisation(ctx, ports, action);
  const { logo } = await ports.loadOrganisation();
  return (language) => organisationInLanguage(profile, language, logo);
}
