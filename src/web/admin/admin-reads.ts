import { and, desc, eq, inArray } from 'drizzle-orm';
import { letterBatches, letters, targets } from '../../db/schema.js';
import type { ServiceContext } from '../../services/context.js';

/**
 * The letter batches of a campaign, newest first, with their letters and the
 * targets' names: a read the dashboard needs and the API does not offer yet.
 * (A `listLetterBatches` verb in src/services/letters.ts would be its home once
 * the API lists batches too.)
 */
export async function listLetterBatches(ctx: ServiceContext, campaignId: string, limit = 20) {
  const batches = await ctx.db.db
    .select()
    .from(letterBatches)
    .where(eq(letterBatches.campaignId, campaignId))
    .orderBy(desc(letterBatches.createdAt), desc(letterBatches.id))
    .limit(limit);
  if (batches.length === 0) return [];
  const rows = await ctx.db.db
    .select({
      id: letters.id,
      batchId: letters.batchId,
      targetId: letters.targetId,
      targetName: targets.name,
      signatureId: letters.signatureId,
      language: letters.language,
      signatureCount: letters.signatureCount,
      sha256: letters.sha256,
      pages: letters.pages,
      bytes: letters.bytes,
    })
    .from(letters)
    .innerJoin(targets, eq(targets.id, letters.targetId))
    .where(and(eq(letters.campaignId, campaignId), inArray(letters.batchId, batches.map((b) => b.id))))
    .orderBy(letters.id);
  return batches.map((batch) => ({
    id: batch.id,
    mode: batch.mode,
    template: batch.template,
    cutoffAt: new Date(batch.cutoffAt).toISOString(),
    createdAt: new Date(batch.createdAt).toISOString(),
    letters: rows.filter((r) => r.batchId === batch.id),
  }));
}
