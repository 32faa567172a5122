import { and, asc, count, eq, gt, inArray, isNotNull, isNull, or, lt, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { WriteStatement } from '../db/database.js';
import { accountLinks, campaignMembers, campaigns, users } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import type { GateLane } from '../lib/fair-gate.js';
import { Pbkdf2PasswordHasher, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, type PasswordHasher } from '../lib/passwords.js';
import { constantTimeEqual, toBase64Url } from '../lib/secrets.js';
import { base32Encode, matchTotp, newTotpSecret, otpauthUri } from '../lib/totp.js';
import { assertOrganisationAccess } from './access.js';
import { accountLinkUrlOf, enqueueAccountEmail, findOpenLink, linkStillUnused, LINKS_COUNTED_MS, markLinkUsed, newAccountLink, type OpenAccountLink } from './account-links.js';
import { endUserSessions, sessionExists, userSessionStatements } from './admin-sessions.js';
import type { CampaignRole, ServiceContext } from './context.js';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../lib/service-errors.js';
import type { RateLimiter } from './rate-limiter.js';
import { oneLine } from './schemas.js';
import { chargeSignInAttempt, decodeOrigin, encodeOrigin, forgetDevices, refundSignInAttempt, type SignInOrigin, trustedDeviceOf } from './sign-in-throttle.js';
import { hasScope, type Principal } from './tokens.js';

/**
 * Organisers' accounts (PRODUCT.md §11): the owner made from the first-start
 * link, invitations, sign-in with a password (and a TOTP code when enabled)
 * or a mailed link, password reset, roles. Every write is one atomic unit;
 * everything a link does is guarded by the link still being unused.
 */

export type OrgRole = 'owner' | 'admin';
export type AccountLocale = 'en' | 'ja';

/**
 * Password sign-ins (and codes after them) per client address in a window,
 * for clients without the account's device cookie; every attempt counts, so
 * a right guess after many wrong ones is refused too. The per-account bound
 * is in src/services/sign-in-throttle.ts.
 */
export const SIGN_IN_PER_SOURCE = { limit: 10, windowMs: 15 * 60_000 };
/** Mailed links (sign-in, reset) per account and purpose per hour: a typed-in address cannot flood its owner. */
export const LINK_REQUESTS_PER_HOUR = 3;
/** How long the password step of a sign-in waits for its TOTP code. */
export const TOTP_PENDING_MS = 5 * 60_000;

const fallbackHasher = new Pbkdf2PasswordHasher();
/** Hashing for someone already proven (a link, a session): first in the hasher's line. */
const PROVEN: GateLane = { source: 'proven', trusted: true };
function hasherOf(ctx: ServiceContext): PasswordHasher {
  return ctx.passwords ?? fallbackHasher;
}

/** A hash of nothing anyone knows, checked for unknown accounts and spent budgets so they take as long as a wrong password. */
const dummyHashes = new WeakMap<PasswordHasher, Promise<string>>();
function dummyHash(hasher: PasswordHasher, lane: GateLane): Promise<string> {
  let hash = dummyHashes.get(hasher);
  if (!hash) {
    hash = hasher.hash(toBase64Url(crypto.getRandomValues(new Uint8Array(24))), lane);
    // A first attempt refused by a full hasher must not leave the refusal behind for everyone.
    hash.catch(() => {
      if (dummyHashes.get(hasher) === hash) dummyHashes.delete(hasher);
    });
    dummyHashes.set(hasher, hash);
  }
  return hash;
}

export const AccountEmail = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.maxLength(254, 'must be at most 254 characters'), v.email('must be an email address'));
/** A display name goes into emails (an invitation names who sent it), so it is one line. */
const Name = v.pipe(v.string(), v.trim(), oneLine(), v.minLength(1, 'must not be empty'), v.maxLength(100, 'must be at most 100 characters'));
const Password = v.pipe(
  v.string(),
  v.minLength(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`),
  v.maxLength(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`),
);
export const AccountLocale = v.picklist(['en', 'ja'], 'must be en or ja');

function parse<const T extends v.GenericSchema>(schema: T, input: unknown): v.InferOutput<T> {
  const result = v.safeParse(schema, input);
  if (!result.success) throw new ValidationFailed(result.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message })));
  return result.output;
}

/** The address as the password is the first thing tried against an account. */
function refuseEmailAsPassword(password: string, email: string): void {
  if (password.trim().toLowerCase() === email.toLowerCase()) throw new ValidationFailed([{ path: 'password', message: 'must not be your email address' }]);
}

export const OwnerSetupInput = v.strictObject({ name: Name, email: AccountEmail, password: Password, locale: v.optional(AccountLocale, 'en') });
export type OwnerSetupInput = v.InferOutput<typeof OwnerSetupInput>;

export const AcceptInvitationInput = v.strictObject({ name: Name, password: Password });
export const NewPasswordInput = v.strictObject({ password: Password });

/** Whether anyone has an account yet (the first-start link is offered until someone does). */
export async function hasUsers(ctx: ServiceContext): Promise<boolean> {
  const [row] = await ctx.db.db.select({ id: users.id }).from(users).limit(1);
  return row !== undefined;
}

/**
 * At a start with no user yet: a new owner-setup link (24 hours), the older
 * ones made unusable in the same write, so only the link printed last works.
 * Null when there are users.
 */
export async function issueOwnerSetupLink(ctx: ServiceContext): Promise<string | null> {
  if (await hasUsers(ctx)) return null;
  const now = ctx.clock.now();
  const link = await newAccountLink(ctx, 'owner_setup', null, now);
  await ctx.db.atomic([
    ctx.db.db.update(accountLinks).set({ usedAt: now }).where(and(eq(accountLinks.purpose, 'owner_setup'), isNull(accountLinks.usedAt))) as WriteStatement,
    ...link.statements,
  ]);
  return accountLinkUrlOf(ctx, 'owner_setup', link.row.id);
}

/** The owner-setup link a secret stands for, while there is still no user. */
export async function openOwnerSetup(ctx: ServiceContext, secret: string): Promise<OpenAccountLink | null> {
  const link = await findOpenLink(ctx, 'owner_setup', secret);
  return link && !(await hasUsers(ctx)) ? link : null;
}

export type NewSession = { sessionSecret: string; principalId: string; name: string };

/**
 * Creates the owner from the first-start link and signs them in. The user
 * is inserted only while there is no user and the link is unused, so two
 * people racing with the same link (or two links) make one owner.
 */
export async function createOwner(ctx: ServiceContext, secret: string, input: unknown): Promise<NewSession | null> {
  const link = await openOwnerSetup(ctx, secret);
  if (!link) return null;
  const owner = parse(OwnerSetupInput, input);
  refuseEmailAsPassword(owner.password, owner.email);
  const now = ctx.clock.now();
  const userId = newId(now);
  const passwordHash = await hasherOf(ctx).hash(owner.password, PROVEN);
  const session = await userSessionStatements(ctx, userId, now, sql`EXISTS (SELECT 1 FROM "users" WHERE "id" = ${userId})`);
  await ctx.db.atomic([
    ctx.db.statement(
      sql`INSERT INTO "users" ("id", "email", "name", "password_hash", "org_role", "locale", "created_at", "updated_at")
          SELECT ${userId}, ${owner.email}, ${owner.name}, ${passwordHash}, 'owner', ${owner.locale}, ${now}, ${now}
          WHERE NOT EXISTS (SELECT 1 FROM "users") AND ${linkStillUnused(link.id)}`,
    ),
    ...session.statements,
    markLinkUsed(ctx, link.id, now),
  ]);
  if (!(await sessionExists(ctx, session.sessionId))) return null;
  return { sessionSecret: session.secret, principalId: userId, name: owner.name };
}

// ————— Users, roles, invitations —————

export type CampaignGrant = { campaignId: string; role: CampaignRole };

export type UserView = {
  id: string;
  email: string;
  name: string;
  orgRole: OrgRole | null;
  locale: AccountLocale;
  totpEnabled: boolean;
  /** Invited and not yet accepted (no password). */
  invited: boolean;
  removed: boolean;
  createdAt: number;
  campaigns: { campaignId: string; slug: string; title: string; role: CampaignRole }[];
};

/** The organisation role a principal acts with on the users page: a token with `admin` and the whole organisation counts as an owner (it is how installations without users are run). */
async function actingRole(ctx: ServiceContext, actor: Principal): Promise<OrgRole | null> {
  assertOrganisationAccess(actor.access);
  if (actor.kind === 'token') return hasScope(actor, 'admin') ? 'owner' : null;
  const [row] = await ctx.db.db.select({ orgRole: users.orgRole, disabledAt: users.disabledAt }).from(users).where(eq(users.id, actor.id));
  return row && row.disabledAt === null ? row.orgRole : null;
}

async function requireUserManager(ctx: ServiceContext, actor: Principal): Promise<OrgRole> {
  const role = await actingRole(ctx, actor);
  if (!role) throw new Forbidden('Only organisation owners and admins can manage users.', { needs: 'organisation' });
  return role;
}

/** Every user, with their campaign roles; owners and admins only. */
export async function listUsers(ctx: ServiceContext, actor: Principal): Promise<UserView[]> {
  await requireUserManager(ctx, actor);
  const rows = await ctx.db.db.select().from(users).orderBy(asc(users.createdAt), asc(users.id));
  const grants = await ctx.db.db
    .select({ userId: campaignMembers.userId, campaignId: campaignMembers.campaignId, role: campaignMembers.role, slug: campaigns.slug, title: campaigns.title })
    .from(campaignMembers)
    .innerJoin(campaigns, eq(campaigns.id, campaignMembers.campaignId))
    .orderBy(asc(campaigns.slug));
  return rows.map((row) => ({
    id: row.id,
    email: row.email,
    name: row.name,
    orgRole: row.orgRole,
    locale: row.locale,
    totpEnabled: row.totpEnabledAt !== null,
    invited: row.passwordHash === null,
    removed: row.disabledAt !== null,
    createdAt: row.createdAt,
    campaigns: grants.filter((g) => g.userId === row.id).map(({ campaignId, slug, title, role }) => ({ campaignId, slug, title, role })),
  }));
}

const RoleInput = v.object({
  orgRole: v.nullable(v.picklist(['owner', 'admin'], 'must be owner, admin or none')),
  campaigns: v.pipe(
    v.array(v.object({ campaignId: v.pipe(v.string(), v.minLength(1)), role: v.picklist(['editor', 'viewer'], 'must be editor or viewer') })),
    v.maxLength(1000),
  ),
});

export const InviteInput = v.strictObject({
  email: AccountEmail,
  name: v.optional(Name),
  locale: v.optional(AccountLocale, 'en'),
  orgRole: RoleInput.entries.orgRole,
  campaigns: RoleInput.entries.campaigns,
});
export type InviteInput = v.InferInput<typeof InviteInput>;

async function checkGrants(ctx: ServiceContext, role: OrgRole | null, grants: readonly CampaignGrant[], actorRole: OrgRole): Promise<void> {
  if (role === 'owner' && actorRole !== 'owner') throw new Forbidden('Only an owner can make someone an owner.');
  if (role === null && grants.length === 0) throw new ValidationFailed([{ path: 'campaigns', message: 'give an organisation role or at least one campaign' }]);
  const ids = [...new Set(grants.map((g) => g.campaignId))];
  if (ids.length !== grants.length) throw new ValidationFailed([{ path: 'campaigns', message: 'names a campaign twice' }]);
  if (ids.length > 0) {
    const found = await ctx.db.db.select({ id: campaigns.id }).from(campaigns).where(inArray(campaigns.id, ids));
    if (found.length !== ids.length) throw new ValidationFailed([{ path: 'campaigns', message: 'names a campaign that does not exist' }]);
  }
}

/**
 * Invites someone by email: the user (no password yet), their roles, a
 * 7-day invitation link and the email, in one write. An address that
 * already has an account is a conflict (say so to the organiser: they can
 * see the users list anyway).
 */
export async function inviteUser(ctx: ServiceContext, actor: Principal, input: unknown): Promise<{ userId: string }> {
  const actorRole = await requireUserManager(ctx, actor);
  const invite = parse(InviteInput, input);
  const grants = invite.orgRole === null ? invite.campaigns : [];
  await checkGrants(ctx, invite.orgRole, grants, actorRole);
  const [existing] = await ctx.db.db.select({ id: users.id }).from(users).where(eq(users.email, invite.email));
  if (existing) throw new Conflict('CONFLICT', 'This address already has an account.', { path: 'email' });
  const now = ctx.clock.now();
  const userId = newId(now);
  const link = await newAccountLink(ctx, 'invitation', userId, now);
  await ctx.db.atomic([
    ctx.db.db.insert(users).values({
      id: userId,
      email: invite.email,
      name: invite.name ?? invite.email.split('@')[0]!,
      passwordHash: null,
      orgRole: invite.orgRole,
      locale: invite.locale,
      invitedBy: actor.id,
      createdAt: now,
      updatedAt: now,
    }) as WriteStatement,
    ...grants.map((g) => ctx.db.db.insert(campaignMembers).values({ userId, campaignId: g.campaignId, role: g.role, createdAt: now }) as WriteStatement),
    ...link.statements,
    ...enqueueAccountEmail(ctx, invite.email, { purpose: 'invitation', linkId: link.row.id, locale: invite.locale, expiresAt: link.row.expiresAt, invitedBy: actor.name }, now),
  ]);
  return { userId };
}

/**
 * Sends an invitation again (the first expired or was lost): a new 7-day
 * link, the earlier ones unusable, for a user who has not accepted yet.
 */
export async function resendInvitation(ctx: ServiceContext, actor: Principal, userId: string): Promise<void> {
  const actorRole = await requireUserManager(ctx, actor);
  const user = await userToManage(ctx, actorRole, userId);
  if (user.passwordHash !== null) throw new Conflict('CONFLICT', 'This user has already accepted the invitation.');
  const now = ctx.clock.now();
  const link = await newAccountLink(ctx, 'invitation', user.id, now);
  await ctx.db.atomic([
    ctx.db.db.update(accountLinks).set({ usedAt: now }).where(and(eq(accountLinks.userId, user.id), eq(accountLinks.purpose, 'invitation'), isNull(accountLinks.usedAt))) as WriteStatement,
    ...link.statements,
    ...enqueueAccountEmail(ctx, user.email, { purpose: 'invitation', linkId: link.row.id, locale: user.locale, expiresAt: link.row.expiresAt, invitedBy: actor.name }, now),
  ]);
}

async function activeOwners(ctx: ServiceContext): Promise<string[]> {
  const rows = await ctx.db.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgRole, 'owner'), isNull(users.disabledAt), isNotNull(users.passwordHash)));
  return rows.map((r) => r.id);
}

async function userToManage(ctx: ServiceContext, actorRole: OrgRole, userId: string) {
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, userId));
  if (!user || user.disabledAt !== null) throw new NotFound('User');
  if (user.orgRole === 'owner' && actorRole !== 'owner') throw new Forbidden('Only an owner can change or remove an owner.');
  return user;
}

/** Replaces a user's roles (organisation role, or campaign roles). The last owner stays an owner. */
export async function setUserRoles(ctx: ServiceContext, actor: Principal, userId: string, input: unknown): Promise<void> {
  const actorRole = await requireUserManager(ctx, actor);
  const roles = parse(RoleInput, input);
  const user = await userToManage(ctx, actorRole, userId);
  const grants = roles.orgRole === null ? roles.campaigns : [];
  await checkGrants(ctx, roles.orgRole, grants, actorRole);
  if (user.orgRole === 'owner' && roles.orgRole !== 'owner') {
    const owners = await activeOwners(ctx);
    if (owners.length <= 1 && owners.includes(userId)) throw new Conflict('CONFLICT', 'The organisation needs at least one owner: make someone else an owner first.');
  }
  const now = ctx.clock.now();
  await ctx.db.atomic([
    ctx.db.db.update(users).set({ orgRole: roles.orgRole, updatedAt: now }).where(eq(users.id, userId)) as WriteStatement,
    ctx.db.db.delete(campaignMembers).where(eq(campaignMembers.userId, userId)) as WriteStatement,
    ...grants.map((g) => ctx.db.db.insert(campaignMembers).values({ userId, campaignId: g.campaignId, role: g.role, createdAt: now }) as WriteStatement),
  ]);
}

/**
 * Removes a user: kept (disabled) so the audit log's names stay meaningful,
 * sessions and open links gone at once. The last owner cannot be removed.
 */
export async function removeUser(ctx: ServiceContext, actor: Principal, userId: string): Promise<void> {
  const actorRole = await requireUserManager(ctx, actor);
  const user = await userToManage(ctx, actorRole, userId);
  if (user.orgRole === 'owner') {
    const owners = await activeOwners(ctx);
    if (owners.length <= 1 && owners.includes(userId)) throw new Conflict('CONFLICT', 'The organisation needs at least one owner: make someone else an owner first.');
  }
  const now = ctx.clock.now();
  await ctx.db.atomic([
    ctx.db.db.update(users).set({ disabledAt: now, updatedAt: now }).where(eq(users.id, userId)) as WriteStatement,
    endUserSessions(ctx, userId),
    ctx.db.db.update(accountLinks).set({ usedAt: now }).where(and(eq(accountLinks.userId, userId), isNull(accountLinks.usedAt))) as WriteStatement,
  ]);
}

/**
 * Turns off another user's TOTP (a lost phone): owners and admins only, and
 * an owner's only by an owner. The user signs in with their password again
 * and may set it up anew.
 */
export async function resetUserTotp(ctx: ServiceContext, actor: Principal, userId: string): Promise<void> {
  const actorRole = await requireUserManager(ctx, actor);
  await userToManage(ctx, actorRole, userId);
  await ctx.db.atomic([
    ctx.db.db.update(users).set({ totpEnabledAt: null, totpSecretSealed: null, totpLastStep: null, updatedAt: ctx.clock.now() }).where(eq(users.id, userId)) as WriteStatement,
  ]);
}

// ————— Links: invitation, sign-in, reset —————

export type LinkHolder = { link: OpenAccountLink; user: { id: string; email: string; name: string; locale: AccountLocale; hasPassword: boolean } };

async function openUserLink(ctx: ServiceContext, purpose: 'invitation' | 'sign_in' | 'password_reset', secret: string): Promise<LinkHolder | null> {
  const link = await findOpenLink(ctx, purpose, secret);
  if (!link?.userId) return null;
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, link.userId));
  if (!user || user.disabledAt !== null) return null;
  return { link, user: { id: user.id, email: user.email, name: user.name, locale: user.locale, hasPassword: user.passwordHash !== null } };
}

/** The invitation a secret stands for (still open, user not yet signed up). */
export async function openInvitation(ctx: ServiceContext, secret: string): Promise<LinkHolder | null> {
  const holder = await openUserLink(ctx, 'invitation', secret);
  return holder && !holder.user.hasPassword ? holder : null;
}

/** Accepts an invitation: the name and password set, the link used, and the new user signed in, in one write. */
export async function acceptInvitation(ctx: ServiceContext, secret: string, input: unknown): Promise<NewSession | null> {
  const holder = await openInvitation(ctx, secret);
  if (!holder) return null;
  const accepted = parse(AcceptInvitationInput, input);
  refuseEmailAsPassword(accepted.password, holder.user.email);
  const now = ctx.clock.now();
  const passwordHash = await hasherOf(ctx).hash(accepted.password, PROVEN);
  const unused = linkStillUnused(holder.link.id);
  const session = await userSessionStatements(ctx, holder.user.id, now, unused);
  await ctx.db.atomic([
    ctx.db.db
      .update(users)
      .set({ name: accepted.name, passwordHash, updatedAt: now })
      .where(and(eq(users.id, holder.user.id), isNull(users.passwordHash), unused)) as WriteStatement,
    ...session.statements,
    markLinkUsed(ctx, holder.link.id, now),
  ]);
  if (!(await sessionExists(ctx, session.sessionId))) return null;
  return { sessionSecret: session.secret, principalId: holder.user.id, name: accepted.name };
}

/**
 * Mails a sign-in or password-reset link to an address if it has an
 * account that can sign in, and within the hourly limit per account; the
 * caller answers the same whatever happened (no account enumeration).
 */
export async function requestAccountLink(ctx: ServiceContext, purpose: 'sign_in' | 'password_reset', email: unknown): Promise<void> {
  const parsed = v.safeParse(AccountEmail, email);
  if (!parsed.success) throw new ValidationFailed([{ path: 'email', message: 'must be an email address' }]);
  const [user] = await ctx.db.db.select().from(users).where(eq(users.email, parsed.output));
  if (!user || user.disabledAt !== null || user.passwordHash === null) return;
  const now = ctx.clock.now();
  const [recent] = await ctx.db.db
    .select({ n: count() })
    .from(accountLinks)
    .where(and(eq(accountLinks.userId, user.id), eq(accountLinks.purpose, purpose), gt(accountLinks.createdAt, now - LINKS_COUNTED_MS)));
  if ((recent?.n ?? 0) >= LINK_REQUESTS_PER_HOUR) return;
  const link = await newAccountLink(ctx, purpose, user.id, now);
  await ctx.db.atomic([...link.statements, ...enqueueAccountEmail(ctx, user.email, { purpose, linkId: link.row.id, locale: user.locale, expiresAt: link.row.expiresAt }, now)]);
}

/** The sign-in link a secret stands for. */
export function openSignInLink(ctx: ServiceContext, secret: string): Promise<LinkHolder | null> {
  return openUserLink(ctx, 'sign_in', secret).then((holder) => (holder?.user.hasPassword ? holder : null));
}

/** The reset link a secret stands for. */
export function openPasswordReset(ctx: ServiceContext, secret: string): Promise<LinkHolder | null> {
  return openUserLink(ctx, 'password_reset', secret).then((holder) => (holder?.user.hasPassword ? holder : null));
}

/** `limited`: the client's address is over its limit (answer 429 with the wait). */
export type SignInOutcome = { kind: 'signed-in'; session: NewSession } | { kind: 'totp'; pending: string } | { kind: 'refused' } | { kind: 'limited'; retryAfterMs: number };

/**
 * Signs in with a mailed link: the link is used up, then the user is signed
 * in, or (with TOTP enabled) asked for a code: the link stands in for the
 * password, never for the second factor.
 */
export async function signInWithLink(ctx: ServiceContext, secret: string): Promise<Exclude<SignInOutcome, { kind: 'limited' }>> {
  const holder = await openSignInLink(ctx, secret);
  if (!holder) return { kind: 'refused' };
  const now = ctx.clock.now();
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, holder.user.id));
  if (!user) return { kind: 'refused' };
  if (user.totpEnabledAt !== null) {
    const used = await ctx.db.writeReturning({ sql: `UPDATE "account_links" SET "used_at" = ? WHERE "id" = ? AND "used_at" IS NULL RETURNING "id"`, params: [now, holder.link.id] });
    return used.length === 1 ? { kind: 'totp', pending: await pendingTotpToken(ctx, user.id, { kind: 'link', linkId: holder.link.id }, now) } : { kind: 'refused' };
  }
  const session = await userSessionStatements(ctx, user.id, now, linkStillUnused(holder.link.id));
  await ctx.db.atomic([...session.statements, markLinkUsed(ctx, holder.link.id, now)]);
  if (!(await sessionExists(ctx, session.sessionId))) return { kind: 'refused' };
  return { kind: 'signed-in', session: { sessionSecret: session.secret, principalId: user.id, name: user.name } };
}

/** Sets a new password from a reset link; every session and device cookie of the account ends. */
export async function resetPassword(ctx: ServiceContext, secret: string, input: unknown): Promise<boolean> {
  const holder = await openPasswordReset(ctx, secret);
  if (!holder) return false;
  const { password } = parse(NewPasswordInput, input);
  refuseEmailAsPassword(password, holder.user.email);
  const now = ctx.clock.now();
  const passwordHash = await hasherOf(ctx).hash(password, PROVEN);
  const unused = linkStillUnused(holder.link.id);
  await ctx.db.atomic([
    ctx.db.db.update(users).set({ passwordHash, updatedAt: now }).where(and(eq(users.id, holder.user.id), unused)) as WriteStatement,
    endUserSessions(ctx, holder.user.id),
    forgetDevices(ctx, holder.user.id),
    markLinkUsed(ctx, holder.link.id, now),
  ]);
  const [after] = await ctx.db.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, holder.user.id));
  return after?.passwordHash === passwordHash;
}

// ————— Password sign-in, throttling, the second factor —————

type UserRow = typeof users.$inferSelect;

/** A password sign-in as the form gives it: `source` is a keyed hash of the client's address (its /64 for IPv6), `cookies` the request's cookies (where a device cookie may be). */
export type PasswordSignIn = { email: string; password: string; source: string; cookies: Readonly<Record<string, string>> };

/**
 * The password step of a sign-in, throttled as src/services/sign-in-throttle.ts
 * says: with the account's device cookie only by that device's failures,
 * without one by the client's address and by the account's budget for
 * untrusted clients. Unknown addresses, removed users, spent budgets and
 * wrong passwords all answer `refused` after the same work (a dummy hash is
 * checked where the real one is not), so neither the answer nor its time
 * says whether an address has an account. The hasher may refuse with
 * `RateLimited` when its line is full for this source.
 */
export async function signInWithPassword(ctx: ServiceContext, limiter: RateLimiter, input: PasswordSignIn): Promise<SignInOutcome> {
  const hasher = hasherOf(ctx);
  const email = v.safeParse(AccountEmail, input.email);
  const password = input.password.length <= PASSWORD_MAX_LENGTH ? input.password : '';
  const [user] = email.success ? await ctx.db.db.select().from(users).where(eq(users.email, email.output)) : [];
  const now = ctx.clock.now();
  const usable = user && user.disabledAt === null && user.passwordHash !== null ? user : null;
  const deviceId = usable ? await trustedDeviceOf(ctx, usable, input.cookies) : null;
  const bySource = async (): Promise<SignInOutcome | null> => {
    const verdict = await limiter.hit(`admin-sign-in:${input.source}`, SIGN_IN_PER_SOURCE.limit, SIGN_IN_PER_SOURCE.windowMs, now);
    return verdict.allowed ? null : { kind: 'limited', retryAfterMs: verdict.retryAfterMs };
  };
  if (deviceId === null) {
    const limited = await bySource();
    if (limited) return limited;
  }
  const origin: SignInOrigin = deviceId === null ? { kind: 'untrusted' } : { kind: 'device', deviceId };
  if (!usable || password === '' || !(await chargeSignInAttempt(ctx, usable.id, origin, now))) {
    // A device whose own budget is spent (a stolen cookie, say) is a stranger again: limited by address, last in line.
    const limited = deviceId === null ? null : await bySource();
    if (limited) return limited;
    const lane: GateLane = { source: input.source, trusted: false };
    await hasher.verify(password, await dummyHash(hasher, lane), lane);
    return { kind: 'refused' };
  }
  const lane: GateLane = { source: input.source, trusted: deviceId !== null };
  const matches = await hasher.verify(password, usable.passwordHash!, lane).catch(async (error: unknown) => {
    // Refused by a full hasher, the password was not checked: the budget keeps its check.
    await ctx.db.atomic(refundSignInAttempt(ctx, usable.id, origin, now));
    throw error;
  });
  if (!matches) return { kind: 'refused' };
  if (usable.totpEnabledAt !== null) {
    // The code that follows draws on the same budget, charged again when it is tried.
    await ctx.db.atomic(refundSignInAttempt(ctx, usable.id, origin, now));
    return { kind: 'totp', pending: await pendingTotpToken(ctx, usable.id, origin, now) };
  }
  return { kind: 'signed-in', session: await openUserSession(ctx, usable, origin, now) };
}

async function openUserSession(ctx: ServiceContext, user: UserRow, origin: SignInOrigin, now: number): Promise<NewSession> {
  const session = await userSessionStatements(ctx, user.id, now, sql`EXISTS (SELECT 1 FROM "users" WHERE "id" = ${user.id} AND "disabled_at" IS NULL)`);
  await ctx.db.atomic([...refundSignInAttempt(ctx, user.id, origin, now), ...session.statements]);
  return { sessionSecret: session.secret, principalId: user.id, name: user.name };
}

/**
 * The state between the password (or link) and the TOTP code: not a
 * session, only `<user id>.<expiry>.<origin>.<MAC>` in a short-lived cookie.
 * The origin says which budget the code draws on; the MAC (accounts key)
 * covers it and the user's current password hash, so the state dies with a
 * password change.
 */
async function pendingTotpToken(ctx: ServiceContext, userId: string, origin: SignInOrigin, now: number): Promise<string> {
  const expires = now + TOTP_PENDING_MS;
  const encoded = encodeOrigin(origin);
  return `${userId}.${expires}.${encoded}.${await pendingMac(ctx, userId, expires, encoded)}`;
}

async function pendingMac(ctx: ServiceContext, userId: string, expires: number, origin: string): Promise<string> {
  const [user] = await ctx.db.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId));
  return ctx.keys.accounts.hash(`totp-pending:${userId}:${expires}:${origin}:${user?.passwordHash ?? ''}`);
}

/** A sign-in waiting for its TOTP code: whose, and which budget the code draws on. */
export type PendingTotp = { userId: string; origin: SignInOrigin };

/** The pending second-factor state a cookie holds, or null (forged, expired). */
export async function readPendingTotp(ctx: ServiceContext, token: string | undefined): Promise<PendingTotp | null> {
  const match = token ? /^([0-9a-f-]{36})\.(\d{13})\.([A-Za-z0-9_-]{1,40})\.([0-9a-f]{32})$/.exec(token) : null;
  if (!match) return null;
  const [, userId, expires, encoded, mac] = match;
  const origin = decodeOrigin(encoded!);
  if (!origin || Number(expires) <= ctx.clock.now()) return null;
  return constantTimeEqual(await pendingMac(ctx, userId!, Number(expires), encoded!), mac!) ? { userId: userId!, origin } : null;
}

/**
 * The second step: a TOTP code for the pending user. Each code tried draws
 * on the budget of the step before it (the device's, the untrusted
 * clients', or the mailed link's own), so the 10^6 codes cannot be tried at
 * leisure and no stranger's failures stand in the way of a link and its
 * right code. A code's time step is used at most once: it is recorded in
 * the same write that opens the session, guarded by being newer than the
 * last. Untrusted clients are also limited by address, as at the password.
 */
export async function completeTotpSignIn(ctx: ServiceContext, limiter: RateLimiter, pending: PendingTotp, code: string, source: string): Promise<SignInOutcome> {
  const now = ctx.clock.now();
  if (pending.origin.kind === 'untrusted') {
    const verdict = await limiter.hit(`admin-sign-in:${source}`, SIGN_IN_PER_SOURCE.limit, SIGN_IN_PER_SOURCE.windowMs, now);
    if (!verdict.allowed) return { kind: 'limited', retryAfterMs: verdict.retryAfterMs };
  }
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, pending.userId));
  if (!user || user.disabledAt !== null || user.totpEnabledAt === null || user.totpSecretSealed === null) return { kind: 'refused' };
  if (!(await chargeSignInAttempt(ctx, user.id, pending.origin, now))) return { kind: 'refused' };
  const secret = await openTotpSecret(ctx, user.id, user.totpSecretSealed);
  const step = secret ? await matchTotp(secret, code, now, user.totpLastStep) : null;
  if (step === null) return { kind: 'refused' };
  const session = await userSessionStatements(ctx, user.id, now, sql`EXISTS (SELECT 1 FROM "users" WHERE "id" = ${user.id} AND "totp_last_step" = ${step})`);
  await ctx.db.atomic([
    ctx.db.db
      .update(users)
      .set({ totpLastStep: step })
      .where(and(eq(users.id, user.id), or(isNull(users.totpLastStep), lt(users.totpLastStep, step)))) as WriteStatement,
    ...refundSignInAttempt(ctx, user.id, pending.origin, now),
    ...session.statements,
  ]);
  if (!(await sessionExists(ctx, session.sessionId))) return { kind: 'refused' };
  return { kind: 'signed-in', session: { sessionSecret: session.secret, principalId: user.id, name: user.name } };
}

// ————— TOTP secrets, sealed with a key derived from SECRET_KEY —————

const sealKeys = new WeakMap<object, ReturnType<typeof crypto.subtle.importKey>>();
function sealKey(hasher: ServiceContext['keys']['accounts']): ReturnType<typeof crypto.subtle.importKey> {
  let key = sealKeys.get(hasher);
  if (!key) {
    key = hasher.digest('totp-seal-key').then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
    sealKeys.set(hasher, key);
  }
  return key;
}

/** AES-GCM under the accounts key, bound to the user (a sealed secret moved to another row does not open). */
async function sealTotpSecret(ctx: ServiceContext, userId: string, secret: Uint8Array): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(userId) }, await sealKey(ctx.keys.accounts), secret);
  return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

function fromBase64Url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

/** Opens a sealed secret with the current key, or the previous one while SECRET_KEY is being rotated. */
async function openTotpSecret(ctx: ServiceContext, userId: string, sealed: string): Promise<Uint8Array | null> {
  const match = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)$/.exec(sealed);
  if (!match) return null;
  for (let keys: ServiceContext['keys'] | undefined = ctx.keys; keys; keys = keys.previous) {
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64Url(match[1]!), additionalData: new TextEncoder().encode(userId) },
        await sealKey(keys.accounts),
        fromBase64Url(match[2]!),
      );
      return new Uint8Array(plain);
    } catch {
      // Not sealed under this key: try the previous one.
    }
  }
  return null;
}

export type TotpSetup = { secret: string; uri: string };

/** The TOTP state of the signed-in user as their account page shows it. */
export async function totpStatus(ctx: ServiceContext, userId: string): Promise<{ enabled: boolean; pending: TotpSetup | null }> {
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, userId));
  if (!user) throw new NotFound('User');
  if (user.totpEnabledAt !== null) return { enabled: true, pending: null };
  const secret = user.totpSecretSealed ? await openTotpSecret(ctx, user.id, user.totpSecretSealed) : null;
  return { enabled: false, pending: secret ? { secret: base32Encode(secret), uri: otpauthUri(secret, user.email, 'Signet') } : null };
}

/** Starts setting up TOTP: a new secret, sealed, not yet in force until a code from it is confirmed. */
export async function startTotpSetup(ctx: ServiceContext, userId: string): Promise<void> {
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, userId));
  if (!user) throw new NotFound('User');
  if (user.totpEnabledAt !== null) throw new Conflict('CONFLICT', 'Two-step sign-in is already on.');
  const sealed = await sealTotpSecret(ctx, user.id, newTotpSecret());
  await ctx.db.atomic([ctx.db.db.update(users).set({ totpSecretSealed: sealed, totpLastStep: null, updatedAt: ctx.clock.now() }).where(and(eq(users.id, userId), isNull(users.totpEnabledAt))) as WriteStatement]);
}

/** Turns TOTP on once a code from the new secret is right (so nobody locks themselves out with a mistyped secret). */
export async function confirmTotpSetup(ctx: ServiceContext, userId: string, code: string): Promise<boolean> {
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, userId));
  if (!user || user.totpEnabledAt !== null || user.totpSecretSealed === null) return false;
  const secret = await openTotpSecret(ctx, user.id, user.totpSecretSealed);
  const now = ctx.clock.now();
  const step = secret ? await matchTotp(secret, code, now, null) : null;
  if (step === null) return false;
  await ctx.db.atomic([
    ctx.db.db.update(users).set({ totpEnabledAt: now, totpLastStep: step, updatedAt: now }).where(and(eq(users.id, userId), isNull(users.totpEnabledAt))) as WriteStatement,
  ]);
  return true;
}

/** Turns TOTP off; asks for the password, so an unattended session cannot remove the second factor. */
export async function disableTotp(ctx: ServiceContext, userId: string, password: string): Promise<boolean> {
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, userId));
  if (!user?.passwordHash || !(await hasherOf(ctx).verify(password.slice(0, PASSWORD_MAX_LENGTH), user.passwordHash, PROVEN))) return false;
  await ctx.db.atomic([
    ctx.db.db.update(users).set({ totpEnabledAt: null, totpSecretSealed: null, totpLastStep: null, updatedAt: ctx.clock.now() }).where(eq(users.id, userId)) as WriteStatement,
  ]);
  return true;
}

// ————— The signed-in user's own account —————

export const OwnAccountInput = v.strictObject({ name: Name, locale: AccountLocale });

/** The account page's view of the signed-in user. */
export async function ownAccount(ctx: ServiceContext, userId: string) {
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, userId));
  if (!user) throw new NotFound('User');
  return { id: user.id, email: user.email, name: user.name, locale: user.locale, orgRole: user.orgRole, totpEnabled: user.totpEnabledAt !== null };
}

export async function updateOwnAccount(ctx: ServiceContext, userId: string, input: unknown): Promise<void> {
  const account = parse(OwnAccountInput, input);
  await ctx.db.atomic([ctx.db.db.update(users).set({ name: account.name, locale: account.locale, updatedAt: ctx.clock.now() }).where(eq(users.id, userId)) as WriteStatement]);
}

/** Changes the password (the current one is asked for); every other session and every device cookie of the account ends. */
export async function changePassword(ctx: ServiceContext, userId: string, currentSessionId: string, input: { current: string; password: string }): Promise<boolean> {
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, userId));
  if (!user?.passwordHash) throw new NotFound('User');
  const { password } = parse(NewPasswordInput, { password: input.password });
  if (!(await hasherOf(ctx).verify(input.current.slice(0, PASSWORD_MAX_LENGTH), user.passwordHash, PROVEN))) return false;
  refuseEmailAsPassword(password, user.email);
  const passwordHash = await hasherOf(ctx).hash(password, PROVEN);
  await ctx.db.atomic([
    ctx.db.db.update(users).set({ passwordHash, updatedAt: ctx.clock.now() }).where(eq(users.id, userId)) as WriteStatement,
    endUserSessions(ctx, userId, currentSessionId),
    forgetDevices(ctx, userId),
  ]);
  return true;
}

/** The campaigns a users page offers roles on (owners and admins only). */
export async function campaignChoices(ctx: ServiceContext, actor: Principal): Promise<{ id: string; slug: string; title: string }[]> {
  await requireUserManager(ctx, actor);
  return ctx.db.db.select({ id: campaigns.id, slug: campaigns.slug, title: campaigns.title }).from(campaigns).orderBy(asc(campaigns.slug));
}
