import { and, desc, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import * as v from 'valibot';
import { apiTokens, campaignPartners, campaigns } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { constantTimeEqual, randomToken, sha256Hex } from '../lib/secrets.js';
import type { Access, ServiceContext } from './context.js';
import { assertOrganisationAccess, campaignIdsForSlugs, organisationAccess } from './access.js';
import { type FieldIssue, NotFound, ValidationFailed } from '../lib/service-errors.js';
import { oneLine } from './schemas.js';

/**
 * `privacy`: supporters' rights for requests received by post (export, erase) and the record of requests handled.
 * `bounces`: only reporting bounces (`POST /bounces`), for the token a bounce processor or an ESP's webhook holds;
 * a leaked webhook token then cannot read or send anything.
 */
export const scopes = ['campaigns', 'signatures:read', 'letters', 'deliveries', 'bounces', 'privacy', 'admin'] as const;
export type Scope = (typeof scopes)[number];

/**
 * Who is calling an organiser route: an API token (or the dashboard session
 * opened with one) or a signed-in user. `admin` holds every scope; `access`
 * says which campaigns it reaches (src/services/access.ts).
 */
export type Principal = { kind: 'token' | 'user'; id: string; name: string; scopes: Scope[]; access: Access };

/** "name (id)": how records written by an organiser name who did it. */
export function actorLabel(principal: Pick<Principal, 'id' | 'name'>): string {
  return `${principal.name} (${principal.id})`;
}

/**
 * The access a stored token grants: one partner's opted-in supporters (a partner token), its
 * campaigns as an editor's (its scopes still apply), or the organisation.
 */
export function tokenAccess(token: { campaignIds: readonly string[] | null; partnerId: string | null }): Access {
  const { campaignIds, partnerId } = token;
  if (partnerId !== null) {
    // Made with exactly one campaign; anything else is no token we wrote, and reaches nothing.
    return { kind: 'partner', campaignId: campaignIds?.length === 1 ? campaignIds[0]! : '', partnerId };
  }
  return campaignIds === null ? organisationAccess : { kind: 'campaigns', campaigns: new Map(campaignIds.map((id) => [id, 'editor' as const])) };
}

/** What a partner token may do: read that partner's supporters, nothing else. */
export const PARTNER_TOKEN_SCOPES: readonly Scope[] = ['signatures:read'];

export const CreateTokenInput = v.strictObject({
  name: v.pipe(v.string(), v.trim(), oneLine(), v.minLength(1), v.maxLength(100)),
  scopes: v.pipe(v.array(v.picklist(scopes)), v.minLength(1), v.maxLength(scopes.length)),
  /**
   * Slugs of the campaigns the token is limited to (PRODUCT.md §11): any other campaign answers 404
   * and the organisation's own resources 403. Left out, the token reaches the whole organisation.
   * At most 100, so a list filtered by them stays one bounded query on D1 too.
   */
  campaigns: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(64))), v.minLength(1, 'must name at least one campaign (leave it out for every campaign)'), v.maxLength(100))),
  /**
   * The code of a coalition partner of the one campaign in `campaigns` (PRODUCT.md §13): the token
   * reads only the supporters who ticked that partner's opt-in box, and nothing else. Its scopes
   * must be exactly `signatures:read`.
   */
  partner: v.optional(v.pipe(v.string(), v.maxLength(40))),
});
export type CreateTokenInput = v.InferOutput<typeof CreateTokenInput>;

const TOKEN_PREFIX = 'sgt_';
const LAST_USED_RESOLUTION_MS = 60_000;
/** The token given by ADMIN_TOKEN is not stored; this id stands for it. */
export const ENV_ADMIN_TOKEN_ID = 'env-admin-token';

export function hasScope(principal: Principal, needed: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(needed);
}

/** The campaigns a token is limited to, by slug (null: not limited). */
function toView(row: typeof apiTokens.$inferSelect, slugById: ReadonlyMap<string, string>, partnerCodeById: ReadonlyMap<string, string>) {
  return {
    id: row.id,
    name: row.name,
    prefix: `${TOKEN_PREFIX}${row.prefix}…`,
    scopes: row.scopes,
    campaigns: row.campaignIds === null ? null : row.campaignIds.flatMap((id) => slugById.get(id) ?? []),
    partner: row.partnerId === null ? null : (partnerCodeById.get(row.partnerId) ?? null),
    createdAt: new Date(row.createdAt).toISOString(),
    lastUsedAt: row.lastUsedAt === null ? null : new Date(row.lastUsedAt).toISOString(),
    revokedAt: row.revokedAt === null ? null : new Date(row.revokedAt).toISOString(),
  };
}

/**
 * Creates a token; the secret is returned here once and only its hash is kept. With `campaigns`,
 * the token is limited to them (an unknown slug fails validation at `campaigns.N`).
 */
export async function createToken(ctx: ServiceContext, input: CreateTokenInput) {
  assertOrganisationAccess(ctx.access);
  const idBySlug = input.campaigns === undefined ? null : await campaignIdsForSlugs(ctx, input.campaigns);
  const partner = input.partner === undefined ? null : await partnerForToken(ctx, input, idBySlug);
  const now = ctx.clock.now();
  const secret = randomToken(32);
  const row = {
    id: newId(now),
    name: input.name,
    tokenHash: await sha256Hex(secret),
    prefix: secret.slice(0, 6),
    scopes: [...new Set(input.scopes)],
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
    campaignIds: idBySlug === null ? null : [...new Set(idBySlug.values())],
    partnerId: partner?.id ?? null,
  };
  await ctx.db.atomic([ctx.db.db.insert(apiTokens).values(row)]);
  const slugById = new Map([...(idBySlug ?? new Map<string, string>())].map(([slug, id]) => [id, slug]));
  return { ...toView(row, slugById, new Map(partner ? [[partner.id, partner.code]] : [])), token: `${TOKEN_PREFIX}${secret}` };
}

/** The partner a token is limited to: of the one campaign named, with `signatures:read` as its only scope. */
async function partnerForToken(ctx: ServiceContext, input: CreateTokenInput, idBySlug: ReadonlyMap<string, string> | null): Promise<{ id: string; code: string }> {
  const issues: FieldIssue[] = [];
  if (idBySlug === null || idBySlug.size !== 1) issues.push({ path: 'campaigns', message: 'a partner token names exactly one campaign: the partner\'s' });
  if (input.scopes.some((scope) => !PARTNER_TOKEN_SCOPES.includes(scope))) {
    issues.push({ path: 'scopes', message: 'a partner token only reads its supporters: its scopes must be ["signatures:read"]' });
  }
  if (issues.length > 0) throw new ValidationFailed(issues);
  const campaignId = [...idBySlug!.values()][0]!;
  const [found] = await ctx.db.db
    .select({ id: campaignPartners.id, code: campaignPartners.code })
    .from(campaignPartners)
    .where(and(eq(campaignPartners.campaignId, campaignId), eq(campaignPartners.code, input.partner!.trim().toLowerCase())));
  if (!found) throw new ValidationFailed([{ path: 'partner', message: `This campaign has no partner "${input.partner}".` }]);
  return found;
}

export async function listTokens(ctx: ServiceContext) {
  assertOrganisationAccess(ctx.access);
  const rows = await ctx.db.db.select().from(apiTokens).orderBy(desc(apiTokens.createdAt));
  const limitedTo = [...new Set(rows.flatMap((row) => row.campaignIds ?? []))];
  // Slugs read in slices: D1 binds at most 100 parameters per query.
  const slugById = new Map<string, string>();
  for (let start = 0; start < limitedTo.length; start += 100) {
    const found = await ctx.db.db.select({ id: campaigns.id, slug: campaigns.slug }).from(campaigns).where(inArray(campaigns.id, limitedTo.slice(start, start + 100)));
    for (const campaign of found) slugById.set(campaign.id, campaign.slug);
  }
  const partnerIds = [...new Set(rows.flatMap((row) => row.partnerId ?? []))];
  const partnerCodeById = new Map<string, string>();
  for (let start = 0; start < partnerIds.length; start += 100) {
    const found = await ctx.db.db
      .select({ id: campaignPartners.id, code: campaignPartners.code })
      .from(campaignPartners)
      .where(inArray(campaignPartners.id, partnerIds.slice(start, start + 100)));
    for (const partner of found) partnerCodeById.set(partner.id, partner.code);
  }
  return rows.map((row) => toView(row, slugById, partnerCodeById));
}

export async function revokeToken(ctx: ServiceContext, id: string) {
  assertOrganisationAccess(ctx.access);
  const [row] = await ctx.db.db.select().from(apiTokens).where(eq(apiTokens.id, id));
  if (!row) throw new NotFound('Token');
  if (row.revokedAt === null) {
    await ctx.db.atomic([
      ctx.db.db.update(apiTokens).set({ revokedAt: ctx.clock.now() }).where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt))),
    ]);
  }
}

/**
 * Resolves a bearer secret to a principal, or null. Stored tokens are found
 * by the SHA-256 of the secret (an attacker cannot steer a hash lookup) and
 * the ADMIN_TOKEN setting is compared in constant time.
 */
export async function authenticateToken(
  ctx: ServiceContext,
  presented: string,
  adminToken: string | undefined,
): Promise<Principal | null> {
  if (adminToken !== undefined && constantTimeEqual(presented, adminToken)) {
    return { kind: 'token', id: ENV_ADMIN_TOKEN_ID, name: 'ADMIN_TOKEN', scopes: ['admin'], access: organisationAccess };
  }
  if (!presented.startsWith(TOKEN_PREFIX)) return null;
  const hash = await sha256Hex(presented.slice(TOKEN_PREFIX.length));
  const [row] = await ctx.db.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hash));
  if (!row || row.revokedAt !== null || !constantTimeEqual(row.tokenHash, hash)) return null;
  const now = ctx.clock.now();
  if (row.lastUsedAt === null || now - row.lastUsedAt > LAST_USED_RESOLUTION_MS) {
    await ctx.db.atomic([
      ctx.db.db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(and(eq(apiTokens.id, row.id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now)))),
    ]);
  }
  return { kind: 'token', id: row.id, name: row.name, scopes: row.scopes as Scope[], access: tokenAccess(row) };
}

/**
 * On a first start with no ADMIN_TOKEN and no tokens at all, makes one admin
 * token so a new user can begin at once. Returns its secret, or null.
 */
export async function ensureBootstrapToken(ctx: ServiceContext, adminToken: string | undefined): Promise<string | null> {
  if (adminToken !== undefined) return null;
  const [existing] = await ctx.db.db.select({ id: apiTokens.id }).from(apiTokens).limit(1);
  if (existing) return null;
  const created = await createToken(ctx, { name: 'bootstrap admin', scopes: ['admin'] });
  return created.token;
}
