import { and, eq, lte, sql } from 'drizzle-orm';
import type { WriteStatement } from '../db/database.js';
import { signInDevices, users } from '../db/schema.js';
import { constantTimeEqual, randomBytes, toBase64Url } from '../lib/secrets.js';
import type { ServiceContext } from './context.js';

/**
 * How the dashboard's password sign-in is throttled so that nobody can keep
 * an organiser out (OWASP, "Slow Down Online Guessing Attacks with Device
 * Cookies"). There is no account lock a stranger could set:
 *
 * - A browser that has signed in to an account carries that account's
 *   **device cookie**: a random device id and a MAC (accounts key from
 *   SECRET_KEY) over the user id, the device id and the current password
 *   hash. Nothing personal is in it, it opens nothing by itself, it is bound
 *   to one user, and it ends when the password changes or is reset.
 * - Attempts that present a valid device cookie for the account draw on that
 *   device's own budget; attempts without one (every stranger) share one
 *   **untrusted budget per account**. An attempt is charged before its hash
 *   is computed (so parallel requests cannot overdraw) and refunded when it
 *   succeeds: the budgets count failures.
 * - A budget is a leaky bucket: `SIGN_IN_BURST` checks at once, then one
 *   every `SIGN_IN_INTERVAL_MS`. Past it, attempts on that budget are
 *   answered "not right" without the password being checked.
 * - The second-factor code after a password step draws on the same budget as
 *   that step; after a mailed sign-in link it draws on the link's own
 *   `LINK_CODE_ATTEMPTS`, so the link route works whatever strangers did to
 *   the password budgets (the link proves the mailbox, the code the phone).
 *
 * The bound: without a device cookie of the account, in any hour at most
 * `UNTRUSTED_CHECKS_PER_HOUR` = 10 passwords (or codes) are checked against
 * an account, 5 an hour sustained: 120 a day, about 44,000 a year, however
 * many addresses the attacker has. Device cookies are issued only after a
 * full sign-in, so a stranger cannot add budgets; a device cookie in a
 * thief's hands is held to the same bound on its own budget, and once that
 * is spent its attempts are a stranger's (limited by address too).
 */

/** Checks a budget allows at once. */
export const SIGN_IN_BURST = 5;
/** One more check per interval once the burst is spent. */
export const SIGN_IN_INTERVAL_MS = 12 * 60_000;
/** Checks in any one hour on one budget: the burst, plus one per interval. */
export const UNTRUSTED_CHECKS_PER_HOUR = SIGN_IN_BURST + 3_600_000 / SIGN_IN_INTERVAL_MS;
/** Second-factor codes that may be tried after one mailed sign-in link. */
export const LINK_CODE_ATTEMPTS = 5;
/** How long a device cookie lasts without a sign-in renewing it. */
export const DEVICE_COOKIE_MAX_AGE_MS = 365 * 24 * 3_600_000;

/** How far ahead of now a budget's "full at" may be while a check is still allowed. */
const BURST_SLACK_MS = (SIGN_IN_BURST - 1) * SIGN_IN_INTERVAL_MS;

/** Which budget a sign-in step draws on. */
export type SignInOrigin = { kind: 'untrusted' } | { kind: 'device'; deviceId: string } | { kind: 'link'; linkId: string };

const DEVICE_VALUE = /^([A-Za-z0-9_-]{22})\.([0-9a-f]{32})$/;

function deviceMac(ctx: ServiceContext, userId: string, deviceId: string, passwordHash: string): Promise<string> {
  return ctx.keys.accounts.hash(`sign-in-device:${userId}:${deviceId}:${passwordHash}`);
}

/**
 * The name of a user's device cookie: one cookie per account a browser signs
 * in to (a shared office computer keeps each), named by a keyed hash of the
 * user id so the name says nothing about whose it is. `__Secure-` where the
 * dashboard is served over https, like the session cookie.
 */
export async function deviceCookieName(ctx: ServiceContext, userId: string): Promise<string> {
  const prefix = ctx.publicUrl.startsWith('https:') ? '__Secure-' : '';
  return `${prefix}signet_device_${(await ctx.keys.accounts.hash(`sign-in-device-name:${userId}`)).slice(0, 16)}`;
}

/** The device id of a valid device cookie of this user among the request's cookies, or null. */
export async function trustedDeviceOf(ctx: ServiceContext, user: { id: string; passwordHash: string | null }, cookies: Readonly<Record<string, string>>): Promise<string | null> {
  if (user.passwordHash === null) return null;
  const match = DEVICE_VALUE.exec(cookies[await deviceCookieName(ctx, user.id)] ?? '');
  if (!match) return null;
  return constantTimeEqual(await deviceMac(ctx, user.id, match[1]!, user.passwordHash), match[2]!) ? match[1]! : null;
}

/**
 * The device cookie to set after a user signed in (or reset their password)
 * in this browser: the device it already had, if its cookie is still valid,
 * or a new one. Null for a user without a password.
 */
export async function rememberDevice(ctx: ServiceContext, userId: string, cookies: Readonly<Record<string, string>>): Promise<{ name: string; value: string; maxAgeMs: number } | null> {
  const [user] = await ctx.db.db.select({ id: users.id, passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId));
  if (!user?.passwordHash) return null;
  const deviceId = (await trustedDeviceOf(ctx, user, cookies)) ?? toBase64Url(randomBytes(16));
  return { name: await deviceCookieName(ctx, user.id), value: `${deviceId}.${await deviceMac(ctx, user.id, deviceId, user.passwordHash)}`, maxAgeMs: DEVICE_COOKIE_MAX_AGE_MS };
}

/**
 * Takes one check from the budget `origin` draws on, in one conditional
 * write (so concurrent attempts cannot overdraw it); false when the budget
 * is spent and the password or code must not be checked.
 */
export async function chargeSignInAttempt(ctx: ServiceContext, userId: string, origin: SignInOrigin, now: number): Promise<boolean> {
  const rows =
    origin.kind === 'untrusted'
      ? await ctx.db.writeReturning({
          sql: `UPDATE "users" SET "untrusted_budget_full_at" = max(coalesce("untrusted_budget_full_at", 0), ?) + ?
                WHERE "id" = ? AND coalesce("untrusted_budget_full_at", 0) <= ? RETURNING "id"`,
          params: [now, SIGN_IN_INTERVAL_MS, userId, now + BURST_SLACK_MS],
        })
      : origin.kind === 'device'
        ? await ctx.db.writeReturning({
            sql: `INSERT INTO "sign_in_devices" ("user_id", "device_id", "budget_full_at") VALUES (?, ?, ?)
                  ON CONFLICT ("user_id", "device_id") DO UPDATE SET "budget_full_at" = max("budget_full_at", ?) + ?
                  WHERE "budget_full_at" <= ? RETURNING "device_id"`,
            params: [userId, origin.deviceId, now + SIGN_IN_INTERVAL_MS, now, SIGN_IN_INTERVAL_MS, now + BURST_SLACK_MS],
          })
        : await ctx.db.writeReturning({
            sql: `UPDATE "account_links" SET "code_attempts" = "code_attempts" + 1 WHERE "id" = ? AND "user_id" = ? AND "code_attempts" < ? RETURNING "id"`,
            params: [origin.linkId, userId, LINK_CODE_ATTEMPTS],
          });
  return rows.length === 1;
}

/**
 * Gives back the check a successful attempt was charged (for the write that
 * signs the user in), so budgets count failures only; a device's budget that
 * is whole again leaves no row.
 */
export function refundSignInAttempt(ctx: ServiceContext, userId: string, origin: SignInOrigin, now: number): WriteStatement[] {
  if (origin.kind === 'untrusted') {
    return [ctx.db.db.update(users).set({ untrustedBudgetFullAt: sql`${users.untrustedBudgetFullAt} - ${SIGN_IN_INTERVAL_MS}` }).where(eq(users.id, userId)) as WriteStatement];
  }
  if (origin.kind === 'link') return [];
  return [
    ctx.db.db
      .update(signInDevices)
      .set({ budgetFullAt: sql`${signInDevices.budgetFullAt} - ${SIGN_IN_INTERVAL_MS}` })
      .where(and(eq(signInDevices.userId, userId), eq(signInDevices.deviceId, origin.deviceId))) as WriteStatement,
    ctx.db.db.delete(signInDevices).where(and(eq(signInDevices.userId, userId), lte(signInDevices.budgetFullAt, now))) as WriteStatement,
  ];
}

/** Forgets a user's device budgets (their cookies ended with the password). */
export function forgetDevices(ctx: ServiceContext, userId: string): WriteStatement {
  return ctx.db.db.delete(signInDevices).where(eq(signInDevices.userId, userId)) as WriteStatement;
}

/** The origin as the pending second-factor state carries it (covered by that state's MAC). */
export function encodeOrigin(origin: SignInOrigin): string {
  return origin.kind === 'untrusted' ? 'u' : origin.kind === 'device' ? `d${origin.deviceId}` : `l${origin.linkId}`;
}

export function decodeOrigin(text: string): SignInOrigin | null {
  if (text === 'u') return { kind: 'untrusted' };
  if (/^d[A-Za-z0-9_-]{22}$/.test(text)) return { kind: 'device', deviceId: text.slice(1) };
  if (/^l[0-9a-f-]{36}$/.test(text)) return { kind: 'link', linkId: text.slice(1) };
  return null;
}
