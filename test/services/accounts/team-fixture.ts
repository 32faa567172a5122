import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { campaigns } from '../../../src/db/schema.js';
import { issueOwnerSetupLink } from '../../../src/services/accounts.js';
import { campaignWithEverything } from '../../helpers/dashboard-fixture.js';
import { signAndConfirm, signature } from '../../helpers/signing.js';
import { accountClient, lastAccountEmail, type TestApp } from './account-client.js';

export const OWNER = { name: 'Aiko Owner', email: 'owner@example.org', password: 'owner password 1234' };
export const MEMBER_PASSWORD = 'member password 1234';

async function campaignId(t: TestApp, slug: string): Promise<string> {
  const [row] = await t.database.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  return row!.id;
}

/**
 * An organisation as the new dashboard pages show it: the owner (signed in),
 * `forced-returns` with everything (a target, signatures, letters, a
 * scheduled mailing, a reply) plus a target in the directory not attached,
 * and its clone `forced-returns-2028`, open, whose page offers inviting the
 * earlier round's consenting supporters.
 */
export async function organisationWithCampaigns(t: TestApp) {
  const setupUrl = await issueOwnerSetupLink(t.ctx);
  const owner = accountClient(t);
  const created = await owner.request('POST', new URL(setupUrl!).pathname, { ...OWNER, locale: 'en' });
  expect(created.status, await created.clone().text()).toBe(303);
  await owner.page('/admin/users');

  const ids = await campaignWithEverything(t, 'forced-returns');
  await signAndConfirm(t, 'forced-returns', signature('keep-me-posted@example.jp', { consent: { nameOnLetter: 'full', updates: true } }));
  const spare = await t.request('POST', '/api/v1/targets', {
    body: { name: 'Consulate of Example', kind: 'consulate', language: 'en', postalAddress: { lines: ['2 Example Road'], city: 'Osaka', country: 'JP' } },
  });
  expect(spare.status, await spare.clone().text()).toBe(201);
  const reply = await t.request('POST', `/api/v1/targets/${ids.targetId}/replies`, {
    body: { campaign: 'forced-returns', receivedAt: '2027-08-20', channel: 'post', summary: 'The embassy acknowledged the letter and promised an answer.', public: true },
  });
  expect(reply.status, await reply.clone().text()).toBe(201);
  const cloned = await t.request('POST', '/api/v1/campaigns/forced-returns/clone', { body: { slug: 'forced-returns-2028', title: 'Stop the forced returns 2028' } });
  expect(cloned.status, await cloned.clone().text()).toBe(201);
  expect((await t.request('PATCH', '/api/v1/campaigns/forced-returns-2028', { body: { status: 'open' } })).status).toBe(200);

  return {
    owner,
    ...ids,
    replyId: ((await reply.json()) as { id: string }).id,
    spareTargetId: ((await spare.json()) as { id: string }).id,
    campaignIds: { current: await campaignId(t, 'forced-returns'), cloned: await campaignId(t, 'forced-returns-2028') },
  };
}

/** Invites `email` with `roles` (the users form's fields) and accepts the mailed invitation; the new user's client, signed in. */
export async function invitedMember(t: TestApp, owner: ReturnType<typeof accountClient>, email: string, roles: Record<string, string>, clientIp = '192.0.2.20') {
  const res = await owner.post('/admin/users', { email, name: '', locale: 'en', orgRole: '', ...roles });
  expect(res.status, await res.clone().text()).toBe(303);
  const mail = await lastAccountEmail(t, email);
  const member = accountClient(t, clientIp);
  expect((await member.page(mail.path)).res.status).toBe(200);
  const accepted = await member.request('POST', mail.path, { name: `Member ${email}`, password: MEMBER_PASSWORD });
  expect(accepted.status, await accepted.clone().text()).toBe(303);
  return member;
}
