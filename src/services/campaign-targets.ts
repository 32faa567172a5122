import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import { rowsPerInsert, type WriteStatement } from '../db/database.js';
import { campaigns, campaignTargets } from '../db/schema.js';
import { assertCampaignAccess } from './access.js';
import { assertTargetsExist, linkTargets, targetIdsOf } from './campaigns.js';
import type { ServiceContext } from './context.js';
import { NotFound } from '../lib/service-errors.js';
import { Uuid } from './schemas.js';

const maxTargets = 500;

/** `PUT …/targets`: the whole list, in order (empty detaches every target). */
export const ReplaceCampaignTargetsInput = v.strictObject({
  targetIds: v.pipe(v.array(Uuid), v.maxLength(maxTargets, `must have at most ${maxTargets} ids`)),
});
export type ReplaceCampaignTargetsInput = v.InferOutput<typeof ReplaceCampaignTargetsInput>;

/** `POST …/targets`: targets to add after those already attached. */
export const AttachCampaignTargetsInput = v.strictObject({
  targetIds: v.pipe(v.array(Uuid), v.minLength(1, 'must name at least one target'), v.maxLength(maxTargets, `must have at most ${maxTargets} ids`)),
});
export type AttachCampaignTargetsInput = v.InferOutput<typeof AttachCampaignTargetsInput>;

export type CampaignTargetsChange = {
  campaign: string;
  /** The campaign's targets after the change, in order. */
  targetIds: string[];
  /** Targets the change attached, and those it detached (a replace only). */
  attached: string[];
  detached: string[];
};

/**
 * Attaches many targets to a campaign in one transaction: `add` appends those not yet attached,
 * in the order given; `replace` makes the list exactly `targetIds`. An unknown id refuses the whole
 * request (400 naming each), so nothing is written. Needs write access to the campaign.
 */
export async function changeCampaignTargets(
  ctx: ServiceContext,
  slug: string,
  mode: 'add' | 'replace',
  input: AttachCampaignTargetsInput | ReplaceCampaignTargetsInput,
): Promise<CampaignTargetsChange> {
  const [campaign] = await ctx.db.db.select({ id: campaigns.id, slug: campaigns.slug }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, campaign.id, 'write');
  await assertTargetsExist(ctx, input.targetIds);
  const before = await targetIdsOf(ctx, campaign.id);
  const wanted = [...new Set(input.targetIds)];
  const touch = ctx.db.db.update(campaigns).set({ updatedAt: ctx.clock.now() }).where(eq(campaigns.id, campaign.id));
  let statements: WriteStatement[];
  if (mode === 'replace') {
    statements = [touch, ...linkTargets(ctx, campaign.id, wanted)];
  } else {
    const attached = new Set(before);
    const rows = wanted.filter((id) => !attached.has(id)).map((targetId, index) => ({ campaignId: campaign.id, targetId, position: before.length + index }));
    statements = [touch];
    const perInsert = rowsPerInsert(campaignTargets);
    // A target attached meanwhile by someone else stays where it is.
    for (let start = 0; start < rows.length; start += perInsert) statements.push(ctx.db.db.insert(campaignTargets).values(rows.slice(start, start + perInsert)).onConflictDoNothing());
  }
  await ctx.db.atomic(statements);
  ctx.signingCampaigns?.delete(slug);
  const after = await targetIdsOf(ctx, campaign.id);
  const had = new Set(before);
  const has = new Set(after);
  return { campaign: campaign.slug, targetIds: after, attached: after.filter((id) => !had.has(id)), detached: before.filter((id) => !has.has(id)) };
}
