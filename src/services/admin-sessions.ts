import { and, eq, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import type { WriteStatement } from '../db/database.js';
import { adminSessions, apiTokens } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import type { Keyring } from '../lib/keyring.js';
import { constantTimeEqual, KeyedHasher, randomToken, sha256Hex } from '../lib/secrets.js';
import type { ServiceContext } from './context.js';
import { organisationAccess } from './access.js';
import { ENV_ADMIN_TOKEN_ID, tokenAccess, type Principal, type Scope } from './tokens.js';
import { signedInUser } from './user-principal.js';

/** A dashboard session ends 12 hours after sign-in, however active. */
export const SESSION_LIFETIME_MS = 12 * 3_600_000;
/** …and sooner after two hours without a request (the last-seen time slides with use). */
export const SESSION_IDLE_MS = 2 * 3_600_000;
/** Last-seen is written at most once a minute, so page views do not each cost a write. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

export type AdminSession = {
  id: string;
  principal: Principal;
  expiresAt: number;
  /** The form token every POST of this session carries. */
  csrfToken: string;
  /** A signed-in user's saved dashboard language (none for a token's session). */
  locale?: 'en' | 'ja';
  /** A signed-in user's organisation role (none for a token's session, or a campaign member). */
  orgRole?: 'owner' | 'admin' | null;
};

/**
 * The CSRF token of a session: an HMAC of the session id keyed by the cookie
 * secret. Only the holder of the cookie can compute it, the server needs to
 * store nothing more, and a leaked database (which holds session ids but only
 * hashes of the secrets) yields no usable token.
 */
function csrfTokenFor(secret: string, sessionId: string): Promise<string> {
  return new KeyedHasher(secret).hash(`csrf:${sessionId}`);
}

/** Compares a submitted form token with the session's, in constant time. */
export function csrfTokenMatches(session: AdminSession, submitted: unknown): boolean {
  return typeof submitted === 'string' && constantTimeEqual(submitted, session.csrfToken);
}

/**
 * What a session signed in with ADMIN_TOKEN keeps of it: an HMAC under the accounts key, so the
 * database (or a backup) holds nothing that can be tried against guesses of the token without
 * SECRET_KEY too, and the session can still tell that ADMIN_TOKEN has changed since.
 */
function adminTokenFingerprint(keys: Keyring, adminToken: string): Promise<string> {
  return keys.accounts.hash(`admin-token-session:${adminToken}`);
}

/** Whether ADMIN_TOKEN is still the token a session was made with (under the current root secret, or the previous one during a rotation). */
async function madeWithAdminToken(keys: Keyring | undefined, fingerprint: string, adminToken: string): Promise<boolean> {
  if (!keys) return false;
  return constantTimeEqual(fingerprint, await adminTokenFingerprint(keys, adminToken)) || madeWithAdminToken(keys.previous, fingerprint, adminToken);
}

/**
 * Opens a dashboard session for a principal that has just authenticated (with
 * its token, or a user with a password and any second factor). Returns the cookie secret (256 random bits; only its SHA-256 is
 * stored). Expired sessions of anyone are swept out on the way. `adminToken` is the ADMIN_TOKEN
 * setting: a session made with it records its fingerprint, and ends when the setting changes.
 */
export async function createAdminSession(ctx: ServiceContext, principal: Principal, adminToken: string | undefined): Promise<{ secret: string; session: AdminSession }> {
  const now = ctx.clock.now();
  const secret = randomToken(32);
  const byAdminToken = principal.kind === 'token' && principal.id === ENV_ADMIN_TOKEN_ID;
  if (byAdminToken && adminToken === undefined) throw new Error('a session for ADMIN_TOKEN needs the ADMIN_TOKEN it was made with');
  const row = {
    id: newId(now),
    secretHash: await sha256Hex(secret),
    tokenId: principal.kind === 'token' ? principal.id : null,
    userId: principal.kind === 'user' ? principal.id : null,
    adminTokenFingerprint: byAdminToken ? await adminTokenFingerprint(ctx.keys, adminToken!) : null,
    createdAt: now,
    expiresAt: now + SESSION_LIFETIME_MS,
    lastSeenAt: now,
  };
  await ctx.db.atomic([expiredSessions(ctx, now), ctx.db.db.insert(adminSessions).values(row)]);
  return { secret, session: { id: row.id, principal, expiresAt: row.expiresAt, csrfToken: await csrfTokenFor(secret, row.id) } };
}

/** Sessions past their absolute or idle expiry, anyone's: swept whenever a session is opened. */
function expiredSessions(ctx: ServiceContext, now: number): WriteStatement {
  return ctx.db.db.delete(adminSessions).where(or(lt(adminSessions.expiresAt, now), lt(adminSessions.lastSeenAt, now - SESSION_IDLE_MS))) as WriteStatement;
}

/**
 * A user's new session as statements for the caller's atomic unit, inserted
 * only if `onlyIf` (SQL) holds when it runs: e.g. the one-time link that
 * signs the user in is still unused. The caller checks `sessionExists`
 * after the unit to learn whether it won.
 */
export async function userSessionStatements(ctx: ServiceContext, userId: string, now: number, onlyIf: SQL): Promise<{ secret: string; sessionId: string; statements: WriteStatement[] }> {
  const secret = randomToken(32);
  const sessionId = newId(now);
  const insert = ctx.db.statement(
    sql`INSERT INTO "admin_sessions" ("id", "secret_hash", "token_id", "user_id", "created_at", "expires_at", "last_seen_at") SELECT ${sessionId}, ${await sha256Hex(secret)}, NULL, ${userId}, ${now}, ${now + SESSION_LIFETIME_MS}, ${now} WHERE ${onlyIf}`,
  );
  return { secret, sessionId, statements: [expiredSessions(ctx, now), insert] };
}

export async function sessionExists(ctx: ServiceContext, sessionId: string): Promise<boolean> {
  const [row] = await ctx.db.db.select({ id: adminSessions.id }).from(adminSessions).where(eq(adminSessions.id, sessionId));
  return row !== undefined;
}

/** Ends a user's sessions (password changed, user removed), all or all but one. */
export function endUserSessions(ctx: ServiceContext, userId: string, except?: string): WriteStatement {
  const mine = eq(adminSessions.userId, userId);
  return ctx.db.db.delete(adminSessions).where(except === undefined ? mine : and(mine, ne(adminSessions.id, except))) as WriteStatement;
}

/**
 * The session a cookie secret opens, or null. The token behind it is read
 * again on every request, so revoking the token (or removing or changing
 * ADMIN_TOKEN in the settings) ends its sessions at once; scopes are the
 * token's, as the API sees them. A session found dead is deleted.
 */
export async function resolveAdminSession(ctx: ServiceContext, secret: string, adminToken: string | undefined): Promise<AdminSession | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const [row] = await ctx.db.db.select().from(adminSessions).where(eq(adminSessions.secretHash, await sha256Hex(secret)));
  if (!row) return null;
  const now = ctx.clock.now();
  // A user's session reads the user again: removed, or roles changed, takes effect on the next request.
  const user = row.userId !== null ? await signedInUser(ctx, row.userId) : null;
  const principal = row.tokenId !== null ? await principalOf(ctx, { tokenId: row.tokenId, adminTokenFingerprint: row.adminTokenFingerprint }, adminToken) : (user?.principal ?? null);
  if (!principal || now >= row.expiresAt || now - row.lastSeenAt >= SESSION_IDLE_MS) {
    await deleteAdminSession(ctx, row.id);
    return null;
  }
  if (now - row.lastSeenAt >= LAST_SEEN_RESOLUTION_MS) {
    await ctx.db.atomic([
      ctx.db.db.update(adminSessions).set({ lastSeenAt: now }).where(and(eq(adminSessions.id, row.id), lt(adminSessions.lastSeenAt, now))),
    ]);
  }
  const session: AdminSession = { id: row.id, principal, expiresAt: row.expiresAt, csrfToken: await csrfTokenFor(secret, row.id) };
  if (user) {
    session.locale = user.locale;
    session.orgRole = user.orgRole;
  }
  return session;
}

async function principalOf(ctx: ServiceContext, session: { tokenId: string; adminTokenFingerprint: string | null }, adminToken: string | undefined): Promise<Principal | null> {
  if (session.tokenId === ENV_ADMIN_TOKEN_ID) {
    if (adminToken === undefined || session.adminTokenFingerprint === null) return null;
    if (!(await madeWithAdminToken(ctx.keys, session.adminTokenFingerprint, adminToken))) return null;
    return { kind: 'token', id: ENV_ADMIN_TOKEN_ID, name: 'ADMIN_TOKEN', scopes: ['admin'], access: organisationAccess };
  }
  const [token] = await ctx.db.db.select().from(apiTokens).where(eq(apiTokens.id, session.tokenId));
  if (!token || token.revokedAt !== null) return null;
  return { kind: 'token', id: token.id, name: token.name, scopes: token.scopes as Scope[], access: tokenAccess(token) };
}

/** Signs out: the session row goes, so the cookie opens nothing even if it was copied. */
export async function deleteAdminSession(ctx: ServiceContext, id: string): Promise<void> {
  await ctx.db.atomic([ctx.db.db.delete(adminSessions).where(eq(adminSessions.id, id))]);
}
