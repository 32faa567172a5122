import { constantTimeEqual } from '../../lib/secrets.js';
import type { ServiceContext } from '../../services/context.js';

/**
 * Stateless CSRF tokens for the supporter forms: `<hour>.<HMAC of "form:<name>:h<hour>">` under
 * the form-token key derived from the root secret (src/lib/keyring.ts), where `<hour>` counts
 * whole hours since 1970 (UTC). The signing form's name holds the campaign (`sign:<slug>`).
 *
 * Every visitor of a campaign page gets the same token within an hour, so the page can be built
 * once and kept by a shared cache (a CDN, the Workers Cache API) without handing anyone a token
 * meant for somebody else: there is nobody else, nothing in it is personal. A token is accepted
 * in its own hour and the next one (so at least an hour to fill the form, at most two), for its
 * own form only: another campaign's token, or one older than the previous hour, is refused.
 *
 * What it protects against, beside the Origin / Sec-Fetch-Site check every form post passes
 * first (page-guards.ts): a post that never loaded this campaign's form in the last two hours
 * (a replayed or made-up request, a post aimed at another campaign), and a cross-site form in a
 * browser that sends no Origin. What it never did, per visitor or per hour: stop a script that
 * fetches the page itself (the page is public) and posts; that is what the rate limits, the
 * block list, the honeypot and the confirmation email are for.
 */
export const FORM_TOKEN_HOUR_MS = 3_600_000;

/** A token of the next hour still passes this close to it (clocks of several servers drift). */
const CLOCK_SKEW_MS = 60_000;

const hourOf = (at: number) => Math.floor(at / FORM_TOKEN_HOUR_MS);

async function mac(ctx: ServiceContext, form: string, hour: number): Promise<string> {
  return ctx.keys.formTokens.hash(`form:${form}:h${hour}`);
}

/** The token of `form` for the current hour: the same for every visitor, so a page carrying it may be cached. */
export async function issueFormToken(ctx: ServiceContext, form: string): Promise<string> {
  const hour = hourOf(ctx.clock.now());
  return `${hour}.${await mac(ctx, form, hour)}`;
}

/** When the token issued now stops being the one issued: a page holding it is rebuilt from then on. */
export function formTokenRenewsAt(now: number): number {
  return (hourOf(now) + 1) * FORM_TOKEN_HOUR_MS;
}

export async function verifyFormToken(ctx: ServiceContext, form: string, token: unknown): Promise<boolean> {
  if (typeof token !== 'string') return false;
  const match = /^(\d{1,9})\.([0-9a-f]{32})$/.exec(token);
  if (!match) return false;
  const hour = Number(match[1]);
  const now = ctx.clock.now();
  const current = hourOf(now);
  if (hour !== current && hour !== current - 1 && hour !== hourOf(now + CLOCK_SKEW_MS)) return false;
  if (constantTimeEqual(await mac(ctx, form, hour), match[2]!)) return true;
  // During a rotation of SECRET_KEY, forms served under the previous key still post.
  const previous = ctx.keys.previous;
  return previous !== undefined && constantTimeEqual(await previous.formTokens.hash(`form:${form}:h${hour}`), match[2]!);
}
