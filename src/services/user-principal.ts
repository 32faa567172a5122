import { eq } from 'drizzle-orm';
import { campaignMembers, users } from '../db/schema.js';
import { organisationAccess } from './access.js';
import type { CampaignRole, ServiceContext } from './context.js';
import type { Principal, Scope } from './tokens.js';

/**
 * What a campaign editor or viewer may call: the campaign scopes, never
 * `admin`, `privacy` or `bounces`. Whether a call may change a campaign is
 * then decided by the campaign role (src/services/access.ts), so a viewer
 * holding these scopes still cannot write.
 */
export const CAMPAIGN_MEMBER_SCOPES: Scope[] = ['campaigns', 'signatures:read', 'letters', 'deliveries'];

export type SignedInUser = { principal: Principal; locale: 'en' | 'ja'; orgRole: 'owner' | 'admin' | null; passwordHash: string };

/**
 * The principal of a user, read afresh (every request of a session does
 * this, so a role change or a removal takes effect at once), or null when
 * the user is removed or has no password yet.
 */
export async function signedInUser(ctx: ServiceContext, userId: string): Promise<SignedInUser | null> {
  const [user] = await ctx.db.db.select().from(users).where(eq(users.id, userId));
  if (!user || user.disabledAt !== null || user.passwordHash === null) return null;
  if (user.orgRole !== null) {
    return { principal: { kind: 'user', id: user.id, name: user.name, scopes: ['admin'], access: organisationAccess }, locale: user.locale, orgRole: user.orgRole, passwordHash: user.passwordHash };
  }
  const memberships = await ctx.db.db.select({ campaignId: campaignMembers.campaignId, role: campaignMembers.role }).from(campaignMembers).where(eq(campaignMembers.userId, userId));
  const campaigns = new Map<string, CampaignRole>(memberships.map((m) => [m.campaignId, m.role]));
  return {
    principal: { kind: 'user', id: user.id, name: user.name, scopes: [...CAMPAIGN_MEMBER_SCOPES], access: { kind: 'campaigns', campaigns } },
    locale: user.locale,
    orgRole: null,
    passwordHash: user.passwordHash,
  };
}
