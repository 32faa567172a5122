import { afterEach, describe, expect, it } from 'vitest';
import { fraudulentRequests } from '../../../src/db/schema.js';
import { exportAddressData } from '../../../src/services/privacy.js';
import { runRetention } from '../../../src/services/retention.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign, queuedMail } from '../../helpers/signing.js';
import { block, ipHashOf, signFrom, type TestApp } from '../../helpers/abuse.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const DAY = 86_400_000;
const BOT = '203.0.113.66';
const VICTIM = 'victim@example.org';
const privacy = (overrides: { retentionDays?: number; pendingTtlDays?: number }) => ({
  privacy: { retentionDays: 365, pendingTtlDays: 30, publicRegionMin: 5, emailsPerAddress: { limit: 3, windowMs: 3_600_000 }, auditRetentionDays: 730, ...overrides },
});

async function blockedRequestFor(email: string) {
  const slug = await openCampaign(t);
  await block(t, 'ip', BOT);
  expect((await signFrom(t, slug, email, BOT)).status).toBe(202);
  expect(await t.database.db.select().from(fraudulentRequests)).toHaveLength(1);
  return slug;
}

describe('fraudulent requests under the privacy rules (PRODUCT.md §8)', () => {
  it('lose their IP hash after 30 days and are deleted after PENDING_TTL_DAYS', async () => {
    t = createTestApp(privacy({ pendingTtlDays: 45 }));
    const slug = await blockedRequestFor(VICTIM);
    expect(await t.database.db.select({ ipHash: fraudulentRequests.ipHash }).from(fraudulentRequests)).toEqual([{ ipHash: await ipHashOf(t, slug, BOT) }]);
    t.clock.advance(29 * DAY);
    expect(await runRetention(t.ctx)).toMatchObject({ ipHashesCleared: 0, fraudulentRequestsDeleted: 0 });
    t.clock.advance(2 * DAY);
    expect(await runRetention(t.ctx)).toMatchObject({ ipHashesCleared: 1, fraudulentRequestsDeleted: 0 });
    expect(await t.database.db.select({ ipHash: fraudulentRequests.ipHash }).from(fraudulentRequests)).toEqual([{ ipHash: null }]);
    t.clock.advance(15 * DAY);
    expect(await runRetention(t.ctx)).toMatchObject({ fraudulentRequestsDeleted: 1 });
    expect(await t.database.db.select().from(fraudulentRequests)).toEqual([]);
  });

  it('go with the campaign’s anonymisation after RETENTION_DAYS', async () => {
    t = createTestApp(privacy({ retentionDays: 10, pendingTtlDays: 60 }));
    const slug = await blockedRequestFor(VICTIM);
    expect((await t.request('PATCH', `/api/v1/campaigns/${slug}`, { body: { status: 'closed' } })).status).toBe(200);
    t.clock.advance(11 * DAY);
    expect(await runRetention(t.ctx)).toMatchObject({ campaignsAnonymised: 1 });
    expect(await t.database.db.select().from(fraudulentRequests)).toEqual([]);
  });

  it('are part of what is held about the address: a privacy link is mailed for it, the export shows them, an erasure deletes them', async () => {
    t = createTestApp();
    const slug = await blockedRequestFor('Victim@Example.org');
    const asked = await t.request('POST', '/api/v1/privacy/requests', { token: null, body: { email: VICTIM, kind: 'export' } });
    expect(asked.status).toBe(202);
    expect((await queuedMail(t, VICTIM)).map((row) => row.kind)).toEqual(['privacy']);

    const data = await exportAddressData(t.ctx, VICTIM);
    expect(data.signatures).toEqual([]);
    expect(data.fraudulentRequests).toEqual([expect.objectContaining({ campaign: { slug, title: 'Save North Korean refugees' }, email: 'Victim@Example.org', name: 'Jane Doe', createdAt: new Date(t.clock.now()).toISOString() })]);

    const erased = await t.request('POST', '/api/v1/privacy/erasures', { body: { email: VICTIM } });
    expect(erased.status).toBe(200);
    expect(await t.database.db.select().from(fraudulentRequests)).toEqual([]);
  });
});
