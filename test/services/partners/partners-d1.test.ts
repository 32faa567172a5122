import { readFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { CloudflareD1Database } from '../../../src/db/d1.js';
import { campaignPartners, campaigns, signatures, signatureSubmissions } from '../../../src/db/schema.js';
import { migrationsFolder } from '../../../src/entry/node.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { organisationAccess } from '../../../src/services/access.js';
import type { ServiceContext } from '../../../src/services/context.js';
import { createPartner, deletePartner, listPartners, listPartnerSupporters } from '../../../src/services/partners.js';
import { segmentCondition } from '../../../src/services/segments.js';
import { confirmSignature, signCampaign } from '../../../src/services/signatures.js';
import { testKeys, testPrivacy } from '../../helpers/keys.js';
import { testPasswords } from '../../helpers/app.js';

/**
 * Partners on Cloudflare D1 (Miniflare's D1, migrated from migrations/ as `wrangler d1
 * migrations apply` does): signing through a partner's link, confirming, the counts, the
 * partner's list and a segment's condition run there as on better-sqlite3.
 */

let miniflare: Miniflare;
let onD1: Database;
let ctx: ServiceContext;
const clock = new ManualClock(Date.UTC(2027, 8, 1));
const slug = 'partners-d1';

beforeAll(async () => {
  miniflare = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null, { status: 404 }) } }', d1Databases: ['DB'] });
  const d1 = await miniflare.getD1Database('DB');
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: { tag: string }[] };
  for (const { tag } of journal.entries) {
    for (const statement of readFileSync(`${migrationsFolder}/${tag}.sql`, 'utf8').split('--> statement-breakpoint')) if (statement.trim()) await d1.prepare(statement).run();
  }
  onD1 = new CloudflareD1Database(d1 as never);
  ctx = { db: onD1, clock, logger: silentLogger, publicUrl: 'https://sign.example.org', mailFrom: 'Signet <no-reply@signet.test>', confirmTokenTtlMs: 86_400_000, keys: testKeys, privacy: testPrivacy, access: organisationAccess, passwords: testPasswords };
  const now = clock.now();
  await onD1.atomic([onD1.db.insert(campaigns).values({ id: 'campaign-1', slug, title: 'Partners', summary: '', locale: 'en', timeZone: 'Asia/Tokyo', status: 'open', createdAt: now, updatedAt: now })]);
}, 60_000);

afterAll(async () => {
  await miniflare?.dispose();
});

async function signAndConfirm(email: string, extra: Record<string, unknown>) {
  const limits = { rateLimiter: undefined as never, rateLimit: null };
  await signCampaign(ctx, limits, slug, { name: 'Jane Doe', email, country: 'JP', region: 'JP-13', consent: { nameOnLetter: 'none', showPublicly: false, updates: true, partner: false }, ...extra }, { clientIp: '203.0.113.7' });
  const [submission] = await onD1.db.select({ id: signatureSubmissions.id }).from(signatureSubmissions).where(eq(signatureSubmissions.emailNormalized, email));
  await confirmSignature(ctx, await testKeys.confirmTokens.token(submission!.id));
}

describe('partners on D1', () => {
  it('attributes, counts, lists the opted-in supporters and narrows a segment as on SQLite', async () => {
    await createPartner(ctx, slug, { code: 'amnesty', name: 'Amnesty', optInText: 'Amnesty may email me.' });
    await createPartner(ctx, slug, { code: 'quiet', name: 'Quiet' });
    await signAndConfirm('yes@example.org', { ref: 'amnesty', consent: { nameOnLetter: 'none', showPublicly: false, updates: true, partner: true } });
    await signAndConfirm('no@example.org', { ref: 'amnesty' });
    await signAndConfirm('quiet@example.org', { ref: 'quiet', region: 'JP-27' });
    await signAndConfirm('plain@example.org', {});
    clock.advance(60_000);
    // Again through a plain link: the partner and its box stay.
    await signAndConfirm('yes@example.org', {});

    expect((await listPartners(ctx, slug)).map((p) => [p.code, p.signatures, p.optedIn])).toEqual([['amnesty', 2, 1], ['quiet', 1, 0]]);
    const list = await listPartnerSupporters({ ...ctx, access: { kind: 'partner', campaignId: 'campaign-1', partnerId: (await partnerId('amnesty'))! } }, slug, 'amnesty', { limit: 100 });
    expect(list.items.map((item) => item.email)).toEqual(['yes@example.org']);

    const inSegment = async (segment: Parameters<typeof segmentCondition>[0]) =>
      (await onD1.db.select({ email: signatures.email }).from(signatures).where(segmentCondition(segment))).map((row) => row.email).sort();
    expect(await inSegment({ partners: [{ id: (await partnerId('amnesty'))!, code: 'amnesty' }], regions: ['JP-13'] })).toEqual(['no@example.org', 'yes@example.org']);
    expect(await inSegment({ regions: ['JP-27'], sources: ['web'] })).toEqual(['quiet@example.org']);
    expect(await inSegment({ sources: ['paper'] })).toEqual([]);

    await deletePartner(ctx, slug, 'amnesty');
    const [row] = await onD1.db.select({ partnerId: signatures.partnerId, optIn: signatures.partnerOptIn }).from(signatures).where(eq(signatures.emailNormalized, 'yes@example.org'));
    expect(row).toEqual({ partnerId: null, optIn: false });
  }, 60_000);
});

async function partnerId(code: string): Promise<string | undefined> {
  const [row] = await onD1.db.select({ id: campaignPartners.id }).from(campaignPartners).where(eq(campaignPartners.code, code));
  return row?.id;
}
