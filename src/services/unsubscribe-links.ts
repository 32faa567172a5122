import { constantTimeEqual, KeyedHasher } from '../lib/secrets.js';
import type { ServiceContext } from './context.js';
import { installationSecret } from './installation.js';

/**
 * Unsubscribe tokens are `<signature id>.<HMAC of it>`: nothing to store, the
 * same link in every update email to that supporter, and unforgeable without
 * the installation's key (kept in the database, made once).
 */
async function hasher(ctx: ServiceContext): Promise<KeyedHasher> {
  return new KeyedHasher(await installationSecret(ctx, 'unsubscribe-key'));
}

export async function unsubscribeToken(ctx: ServiceContext, signatureId: string): Promise<string> {
  return `${signatureId}.${await (await hasher(ctx)).hash(`unsubscribe:${signatureId}`)}`;
}

/** The link put in update emails and their List-Unsubscribe header. */
export async function unsubscribeUrl(ctx: ServiceContext, signatureId: string): Promise<string> {
  return `${ctx.publicUrl}/unsubscribe/${await unsubscribeToken(ctx, signatureId)}`;
}

/** The signature id a token stands for, or null when the token is not one of ours. */
export async function verifyUnsubscribeToken(ctx: ServiceContext, token: string): Promise<string | null> {
  const match = /^([0-9a-f-]{36})\.([0-9a-f]{32})$/.exec(token);
  if (!match) return null;
  const expected = await unsubscribeToken(ctx, match[1]!);
  return constantTimeEqual(expected, token) ? match[1]! : null;
}
