import { constantTimeEqual, KeyedHasher } from '../lib/secrets.js';
import type { ServiceContext } from './context.js';
import { legacySecret } from './installation.js';

/**
 * Unsubscribe tokens are `<signature id>.<HMAC of it>`: nothing to store, the
 * same link in every update email to that supporter, and unforgeable without
 * the unsubscribe key derived from the root secret (never in the database).
 */
async function mac(hasher: KeyedHasher, signatureId: string): Promise<string> {
  return hasher.hash(`unsubscribe:${signatureId}`);
}

export function unsubscribeToken(ctx: ServiceContext, signatureId: string): Promise<string> {
  return ctx.keys.unsubscribeToken(signatureId);
}

/** The link put in update emails and their List-Unsubscribe header. */
export async function unsubscribeUrl(ctx: ServiceContext, signatureId: string): Promise<string> {
  return `${ctx.publicUrl}/unsubscribe/${await unsubscribeToken(ctx, signatureId)}`;
}

/**
 * The signature id a token stands for, or null when the token is not one of
 * ours. Links mailed by versions before 0.2 carry a MAC under the key they
 * kept in the database; those work until that key is retired (installation.ts).
 */
export async function verifyUnsubscribeToken(ctx: ServiceContext, token: string): Promise<string | null> {
  const match = /^([0-9a-f-]{36})\.([0-9a-f]{32})$/.exec(token);
  if (!match) return null;
  const [, signatureId, given] = match as unknown as [string, string, string];
  if (constantTimeEqual(await mac(ctx.keys.unsubscribe, signatureId), given)) return signatureId;
  // During a rotation of SECRET_KEY, links mailed under the previous key.
  if (ctx.keys.previous && constantTimeEqual(await mac(ctx.keys.previous.unsubscribe, signatureId), given)) return signatureId;
  const legacy = await legacySecret(ctx, 'unsubscribe-key');
  if (legacy && constantTimeEqual(await mac(new KeyedHasher(legacy), signatureId), given)) return signatureId;
  return null;
}
