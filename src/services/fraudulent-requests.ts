import { and, desc, eq } from 'drizzle-orm';
import * as v from 'valibot';
import { fraudulentRequests } from '../db/schema.js';
import { emailDomain } from '../lib/domains.js';
import { uuidPattern } from '../lib/ids.js';
import { campaignIdForSlug } from './access.js';
import type { ServiceContext } from './context.js';
import { afterCursor, decodeCursor, type PageQuery, toPage } from './pagination.js';

/** Ids one clear may name: the longest page of the list. */
const MAX_CLEARED_PER_CALL = 500;

/** `{ ids }`: the fraudulent requests of the campaign to clear (1 to 500; ids of other campaigns, or already cleared, are passed over). */
export const ClearFraudulentRequestsInput = v.strictObject({
  ids: v.pipe(
    v.array(v.pipe(v.string(), v.regex(uuidPattern, 'must be the id of a fraudulent request'))),
    v.minLength(1, 'must name at least one request'),
    v.maxLength(MAX_CLEARED_PER_CALL, `must name at most ${MAX_CLEARED_PER_CALL} requests`),
  ),
});
export type ClearFraudulentRequestsInput = v.InferOutput<typeof ClearFraudulentRequestsInput>;

/**
 * A fraudulent request as reviewed: what the sources show (IP hash, email
 * domain, time) and the kind of entry it matched, never the address or
 * anything else the sender typed.
 */
function toReviewView(row: Pick<typeof fraudulentRequests.$inferSelect, 'id' | 'createdAt' | 'ipHash' | 'emailNormalized' | 'blockedBy'>) {
  return { id: row.id, createdAt: new Date(row.createdAt).toISOString(), ipHash: row.ipHash, domain: emailDomain(row.emailNormalized), blockedBy: row.blockedBy };
}
export type FraudulentRequestView = ReturnType<typeof toReviewView>;

/**
 * A campaign's fraudulent requests (the block list matched them: never
 * counted, mailed or confirmed), newest first, for review.
 */
export async function listFraudulentRequests(ctx: ServiceContext, slug: string, query: PageQuery) {
  const campaignId = await campaignIdForSlug(ctx, ctx.access, slug, 'read');
  const rows = await ctx.db.db
    .select({
      id: fraudulentRequests.id,
      createdAt: fraudulentRequests.createdAt,
      ipHash: fraudulentRequests.ipHash,
      emailNormalized: fraudulentRequests.emailNormalized,
      blockedBy: fraudulentRequests.blockedBy,
    })
    .from(fraudulentRequests)
    .where(and(eq(fraudulentRequests.campaignId, campaignId), afterCursor(fraudulentRequests.createdAt, fraudulentRequests.id, decodeCursor(query.cursor))))
    .orderBy(desc(fraudulentRequests.createdAt), desc(fraudulentRequests.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toReviewView);
}

/**
 * Clears fraud marks: the campaign's fraudulent requests named are deleted
 * with what they held. A cleared request never becomes a signature: the
 * address signs again by its own request, as it always could.
 */
export async function clearFraudulentRequests(ctx: ServiceContext, slug: string, input: ClearFraudulentRequestsInput): Promise<{ cleared: number }> {
  const campaignId = await campaignIdForSlug(ctx, ctx.access, slug, 'write');
  // The ids go as one JSON text: a list of any length binds two parameters (D1 binds at most 100).
  const deleted = await ctx.db.writeReturning({
    sql: `DELETE FROM "fraudulent_requests" WHERE "campaign_id" = ? AND "id" IN (SELECT "value" FROM json_each(?)) RETURNING "id"`,
    params: [campaignId, JSON.stringify(input.ids)],
  });
  return { cleared: deleted.length };
}
