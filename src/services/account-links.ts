import { and, eq, gt, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { WriteStatement } from '../db/database.js';
import { accountLinks, users, type StoredOutboxMessage } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { sha256Hex } from '../lib/secrets.js';
import { accountLinkSecret, accountLinkUrl, type AccountEmailInput, type AccountLinkPurpose } from '../mail/account-email.js';
import { newMessageId } from '../mail/messages.js';
import { outboxStore } from '../outbox/outbox-store.js';
import type { ServiceContext } from './context.js';

/**
 * One-time account links (PRODUCT.md §11): owner setup, invitation, sign-in
 * and password reset. The secret in a link is 256 bits derived from the
 * link's id with the accounts key (src/mail/account-email.ts), only its
 * SHA-256 is stored, and a link is used at most once: the write it causes
 * is guarded by the link still being unused and marks it used in the same
 * atomic unit. Opening a link (GET) only shows a form; mail scanners that
 * fetch links cannot use them up.
 */
export const ACCOUNT_LINK_TTL_MS: Record<AccountLinkPurpose, number> = {
  owner_setup: 24 * 3_600_000,
  invitation: 7 * 24 * 3_600_000,
  sign_in: 15 * 60_000,
  password_reset: 3_600_000,
};

export type OpenAccountLink = { id: string; purpose: AccountLinkPurpose; userId: string | null; expiresAt: number };

/** A new link row and its secret (to print or to derive again when mailing). */
export async function newAccountLink(ctx: ServiceContext, purpose: AccountLinkPurpose, userId: string | null, now: number) {
  const id = newId(now);
  const secret = await accountLinkSecret(ctx.keys, id);
  const row = { id, purpose, tokenHash: await sha256Hex(secret), userId, createdAt: now, expiresAt: now + ACCOUNT_LINK_TTL_MS[purpose], usedAt: null };
  // Links past their expiry are swept whenever one is made; kept an hour at least, as the hourly limit on mailed links counts them.
  const sweep = ctx.db.db.delete(accountLinks).where(and(lt(accountLinks.expiresAt, now), lt(accountLinks.createdAt, now - LINKS_COUNTED_MS))) as WriteStatement;
  return { row, secret, statements: [sweep, ctx.db.db.insert(accountLinks).values(row) as WriteStatement] };
}

/** How far back the hourly limit on mailed links looks. */
export const LINKS_COUNTED_MS = 3_600_000;

/** The full URL of a link (printed at first start, or put in tests' hands). */
export function accountLinkUrlOf(ctx: ServiceContext, purpose: AccountLinkPurpose, linkId: string): Promise<string> {
  return accountLinkUrl({ publicUrl: ctx.publicUrl, keys: ctx.keys }, purpose, linkId);
}

/**
 * The open link a secret stands for, or null: wrong form, unknown, another
 * purpose, used, expired, or its user removed.
 */
export async function findOpenLink(ctx: ServiceContext, purpose: AccountLinkPurpose, secret: string): Promise<OpenAccountLink | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const now = ctx.clock.now();
  const [row] = await ctx.db.db
    .select({ id: accountLinks.id, purpose: accountLinks.purpose, userId: accountLinks.userId, expiresAt: accountLinks.expiresAt, disabledAt: users.disabledAt })
    .from(accountLinks)
    .leftJoin(users, eq(users.id, accountLinks.userId))
    .where(and(eq(accountLinks.tokenHash, await sha256Hex(secret)), eq(accountLinks.purpose, purpose), isNull(accountLinks.usedAt), gt(accountLinks.expiresAt, now)));
  if (!row || row.disabledAt !== null) return null;
  if (purpose !== 'owner_setup' && row.userId === null) return null;
  return { id: row.id, purpose: row.purpose, userId: row.userId, expiresAt: row.expiresAt };
}

/** SQL true while the link is unused: the guard of every write a link causes. */
export function linkStillUnused(linkId: string): SQL {
  return sql`EXISTS (SELECT 1 FROM "account_links" WHERE "id" = ${linkId} AND "used_at" IS NULL)`;
}

/** Marks the link used; last in its unit, after the writes it guards. */
export function markLinkUsed(ctx: ServiceContext, linkId: string, now: number): WriteStatement {
  return ctx.db.db.update(accountLinks).set({ usedAt: now }).where(and(eq(accountLinks.id, linkId), isNull(accountLinks.usedAt))) as WriteStatement;
}

/** Queues the email carrying a link (the outbox stores the link's id, never its secret). */
export function enqueueAccountEmail(ctx: ServiceContext, recipient: string, input: AccountEmailInput, now: number): WriteStatement[] {
  const outboxId = newId(now);
  const message: StoredOutboxMessage = { compose: 'account', input };
  return outboxStore(ctx).enqueue([{ id: outboxId, kind: 'account', recipient, messageId: newMessageId(ctx.mailFrom, outboxId), message, dueAt: now, createdAt: now }]);
}
