import { constantTimeEqual } from '../../lib/secrets.js';
import type { ServiceContext } from '../../services/context.js';

/**
 * Stateless CSRF tokens for the supporter forms: `<issued at, ms>.<HMAC of
 * "form:<name>:<issued at>">` under the form-token key derived from the root
 * secret (src/lib/keyring.ts). Nothing is stored per
 * visitor and no cookie is needed; a token only works for the form it was
 * issued for and for FORM_TOKEN_TTL_MS.
 */
export const FORM_TOKEN_TTL_MS = 4 * 3_600_000;

/** A token issued this far in the future still passes (clocks of several servers drift). */
const CLOCK_SKEW_MS = 60_000;

async function mac(ctx: ServiceContext, form: string, issuedAt: number): Promise<string> {
  return ctx.keys.formTokens.hash(`form:${form}:${issuedAt}`);
}

export async function issueFormToken(ctx: ServiceContext, form: string): Promise<string> {
  const issuedAt = ctx.clock.now();
  return `${issuedAt}.${await mac(ctx, form, issuedAt)}`;
}

export async function verifyFormToken(ctx: ServiceContext, form: string, token: unknown): Promise<boolean> {
  if (typeof token !== 'string') return false;
  const match = /^(\d{13})\.([0-9a-f]{32})$/.exec(token);
  if (!match) return false;
  const issuedAt = Number(match[1]);
  const now = ctx.clock.now();
  if (issuedAt > now + CLOCK_SKEW_MS || now - issuedAt > FORM_TOKEN_TTL_MS) return false;
  if (constantTimeEqual(await mac(ctx, form, issuedAt), match[2]!)) return true;
  // During a rotation of SECRET_KEY, forms served under the previous key still post.
  const previous = ctx.keys.previous;
  return previous !== undefined && constantTimeEqual(await previous.formTokens.hash(`form:${form}:${issuedAt}`), match[2]!);
}
