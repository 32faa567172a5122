import { and, eq, isNull } from 'drizzle-orm';
import * as v from 'valibot';
import { signatures } from '../db/schema.js';
import type { ServiceContext } from './context.js';
import { NotFound } from '../lib/service-errors.js';
import { verifyUnsubscribeToken } from './unsubscribe-links.js';

/** The shape of an unsubscribe token (`<signature id>.<HMAC>`, src/services/unsubscribe-links.ts). */
export const UnsubscribeTokenPattern = /^[0-9a-f-]{36}\.[0-9a-f]{32}$/;

export const UnsubscribeInput = v.object({
  token: v.pipe(v.string(), v.regex(UnsubscribeTokenPattern, 'Not an unsubscribe token.')),
});
export type UnsubscribeInput = v.InferOutput<typeof UnsubscribeInput>;

/**
 * Stops update emails to the supporter behind an unsubscribe token: sets
 * `signatures.unsubscribed_at` once (a repeat keeps the first time and
 * answers the same), and the mailing runner skips that signature from then
 * on. A token that is not ours, or whose signature is gone, is NotFound.
 */
export async function unsubscribe(ctx: ServiceContext, token: string): Promise<{ status: 'unsubscribed' }> {
  const signatureId = await verifyUnsubscribeToken(ctx, token);
  if (!signatureId) throw new NotFound('The unsubscribe link');
  const [found] = await ctx.db.db.select({ id: signatures.id }).from(signatures).where(eq(signatures.id, signatureId)).limit(1);
  if (!found) throw new NotFound('The unsubscribe link');
  await ctx.db.atomic([
    ctx.db.db
      .update(signatures)
      .set({ unsubscribedAt: ctx.clock.now() })
      .where(and(eq(signatures.id, signatureId), isNull(signatures.unsubscribedAt))),
  ]);
  ctx.logger.info('supporter unsubscribed', { signatureId });
  return { status: 'unsubscribed' };
}
