import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import * as v from 'valibot';
import { apiTokens } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { constantTimeEqual, randomToken, sha256Hex } from '../lib/secrets.js';
import type { ServiceContext } from './context.js';
import { organisationAccess, type Access } from './access.js';
import { NotFound } from './errors.js';

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

/** The access a stored token grants: its campaigns as an editor's (its scopes still apply), or the organisation. */
export function tokenAccess(campaignIds: readonly string[] | null): Access {
  return campaignIds === null ? organisationAccess : { kind: 'campaigns', campaigns: new Map(campaignIds.map((id) => [id, 'editor' as const])) };
}

export const CreateTokenInput = v.strictObject({
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)),
  scopes: v.pipe(v.array(v.picklist(scopes)), v.minLength(1), v.maxLength(scopes.length)),
});
export type CreateTokenInput = v.InferOutput<typeof CreateTokenInput>;

const TOKEN_PREFIX = 'sgt_';
const LAST_USED_RESOLUTION_MS = 60_000;
/** The token given by ADMIN_TOKEN is not stored; this id stands for it. */
export const ENV_ADMIN_TOKEN_ID = 'env-admin-token';

export function hasScope(principal: Principal, needed: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(needed);
}

function toView(row: typeof apiTokens.$inferSelect) {
  return {
    id: row.id,
    name: row.name,
    prefix: `${TOKEN_PREFIX}${row.prefix}…`,
    scopes: row.scopes,
    createdAt: new Date(row.createdAt).toISOString(),
    lastUsedAt: row.lastUsedAt === null ? null : new Date(row.lastUsedAt).toISOString(),
    revokedAt: row.revokedAt === null ? null : new Date(row.revokedAt).toISOString(),
  };
}

/** Creates a token; the secret is returned here once and only its hash is kept. */
export async function createToken(ctx: ServiceContext, input: CreateTokenInput) {
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
    campaignIds: null,
  };
  await ctx.db.atomic([ctx.db.db.insert(apiTokens).values(row)]);
  return { ...toView(row), token: `${TOKEN_PREFIX}${secret}` };
}

export async function listTokens(ctx: ServiceContext) {
  const rows = await ctx.db.db.select().from(apiTokens).orderBy(desc(apiTokens.createdAt));
  return rows.map(toView);
}

export async function revokeToken(ctx: ServiceContext, id: string) {
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
  return { kind: 'token', id: row.id, name: row.name, scopes: row.scopes as Scope[], access: tokenAccess(row.campaignIds) };
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
