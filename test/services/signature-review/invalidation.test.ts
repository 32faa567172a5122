import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { fraudulentRequests, signatureBulkActions, signatures } from '../../../src/db/schema.js';
import { foldSignatureCounts } from '../../../src/services/signatures.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { block, ipHashOf, liveCount, signAndConfirmFrom, signatureOf, signFrom, type TestApp, tokenWith } from '../../helpers/abuse.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const HOUR = 3_600_000;
const BOT = '203.0.113.66';

const invalidate = (slug: string, body: unknown, token?: string | null) => t.request('POST', `/api/v1/campaigns/${slug}/signatures/invalidate`, { body, token });
const revalidate = (slug: string, body: unknown, token?: string | null) => t.request('POST', `/api/v1/campaigns/${slug}/signatures/revalidate`, { body, token });

async function statusOf(email: string) {
  return (await signatureOf(t, email))?.status;
}

describe('bulk invalidation and revalidation', () => {
  it('by IP hash: the count drops by exactly the signatures moved and comes back on revalidation, folded or not', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const other = await openCampaign(t, 'other-campaign');
    for (let i = 0; i < 3; i++) await signAndConfirmFrom(t, slug, `real${i}@example.org`, `198.51.100.${i + 1}`);
    for (let i = 0; i < 5; i++) await signAndConfirmFrom(t, slug, `bot${i}@example.net`, BOT);
    // The same client on another campaign has another hash, and is left alone.
    await signAndConfirmFrom(t, other, 'bot-elsewhere@example.net', BOT);
    // A request from the bot never confirmed stays a request.
    expect((await signFrom(t, slug, 'bot-pending@example.net', BOT)).status).toBe(202);
    await foldSignatureCounts(t.ctx);
    expect(await liveCount(t, slug)).toBe(8);
    const ipHash = await ipHashOf(t, slug, BOT);

    t.clock.advance(1000);
    const res = await invalidate(slug, { ipHash });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ invalidated: 5 });
    expect(await liveCount(t, slug)).toBe(3);
    await foldSignatureCounts(t.ctx);
    expect(await liveCount(t, slug)).toBe(3);
    expect(await liveCount(t, other)).toBe(1);
    for (let i = 0; i < 5; i++) expect(await statusOf(`bot${i}@example.net`)).toBe('invalidated');
    for (let i = 0; i < 3; i++) expect(await statusOf(`real${i}@example.org`)).toBe('confirmed');

    // Invalidating again moves nothing and changes no count.
    t.clock.advance(1000);
    expect(await (await invalidate(slug, { ipHash })).json()).toEqual({ invalidated: 0 });
    expect(await liveCount(t, slug)).toBe(3);

    t.clock.advance(1000);
    const back = await revalidate(slug, { ipHash });
    expect(back.status).toBe(200);
    expect(await back.json()).toEqual({ revalidated: 5 });
    expect(await liveCount(t, slug)).toBe(8);
    await foldSignatureCounts(t.ctx);
    expect(await liveCount(t, slug)).toBe(8);
    t.clock.advance(1000);
    expect(await (await revalidate(slug, { ipHash })).json()).toEqual({ revalidated: 0 });
    expect(await liveCount(t, slug)).toBe(8);
    const bot0 = await signatureOf(t, 'bot0@example.net');
    expect(bot0).toMatchObject({ status: 'confirmed', invalidatedBy: null });
    expect(bot0!.confirmedAt).not.toBeNull();

    const actions = await t.database.db.select().from(signatureBulkActions).orderBy(signatureBulkActions.id);
    expect(actions.map((a) => [a.action, a.signatureCount, a.filter, a.actor])).toEqual([
      ['invalidate', 5, { ipHash }, 'ADMIN_TOKEN (env-admin-token)'],
      ['invalidate', 0, { ipHash }, 'ADMIN_TOKEN (env-admin-token)'],
      ['revalidate', 5, { ipHash }, 'ADMIN_TOKEN (env-admin-token)'],
      ['revalidate', 0, { ipHash }, 'ADMIN_TOKEN (env-admin-token)'],
    ]);
  });

  it('by domain (exact or *.) and by time range, alone or together', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const start = t.clock.now();
    await signAndConfirmFrom(t, slug, 'a@mailinator.example', '198.51.100.1');
    await signAndConfirmFrom(t, slug, 'b@eu.mailinator.example', '198.51.100.2');
    t.clock.advance(2 * HOUR);
    await signAndConfirmFrom(t, slug, 'c@mailinator.example', '198.51.100.3');
    await signAndConfirmFrom(t, slug, 'd@x.eu.mailinator.example', '198.51.100.4');
    await signAndConfirmFrom(t, slug, 'e@example.org', '198.51.100.5');
    await signAndConfirmFrom(t, slug, 'f@notmailinator.example', '198.51.100.6');
    expect(await liveCount(t, slug)).toBe(6);

    // Subdomains only, first in the first two hours: b.
    const twoHoursLater = new Date(start + 2 * HOUR).toISOString();
    expect(await (await invalidate(slug, { domain: '*.mailinator.example', to: twoHoursLater })).json()).toEqual({ invalidated: 1 });
    expect(await statusOf('b@eu.mailinator.example')).toBe('invalidated');
    expect(await statusOf('d@x.eu.mailinator.example')).toBe('confirmed');
    // Then the exact domain at any time: a and c (not the subdomains, not the look-alike).
    expect(await (await invalidate(slug, { domain: 'MAILINATOR.example' })).json()).toEqual({ invalidated: 2 });
    expect(await liveCount(t, slug)).toBe(3);
    // A time range alone: everything from the third hour on still confirmed (d, e, f).
    expect(await (await invalidate(slug, { from: new Date(start + 2 * HOUR).toISOString() })).json()).toEqual({ invalidated: 3 });
    expect(await liveCount(t, slug)).toBe(0);

    // Revalidation takes the same filters: the third hour brings back c, d, e and f, not a or b from the first.
    expect(await (await revalidate(slug, { from: new Date(start + 2 * HOUR).toISOString(), to: new Date(start + 3 * HOUR).toISOString() })).json()).toEqual({ revalidated: 4 });
    expect(await liveCount(t, slug)).toBe(4);
    expect(await statusOf('a@mailinator.example')).toBe('invalidated');
    expect(await statusOf('b@eu.mailinator.example')).toBe('invalidated');
    expect(await (await revalidate(slug, { domain: '*.mailinator.example' })).json()).toEqual({ revalidated: 1 });
    expect(await (await revalidate(slug, { domain: 'mailinator.example' })).json()).toEqual({ revalidated: 1 });
    expect(await liveCount(t, slug)).toBe(6);
    await foldSignatureCounts(t.ctx);
    expect(await liveCount(t, slug)).toBe(6);
  });

  it('revalidation undoes invalidations only: rows invalidated otherwise stay, and fraudulent requests are neither moved nor counted', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirmFrom(t, slug, 'real@example.org', BOT);
    await block(t, 'domain', 'spam.example');
    expect((await signFrom(t, slug, 'bot@spam.example', BOT)).status).toBe(202);
    // An invalidation from before bulk actions existed, with no action named.
    await signAndConfirmFrom(t, slug, 'old@example.org', BOT);
    await t.database.db.update(signatures).set({ status: 'invalidated' }).where(eq(signatures.emailNormalized, 'old@example.org'));
    expect(await liveCount(t, slug)).toBe(2);

    const ipHash = await ipHashOf(t, slug, BOT);
    expect(await (await invalidate(slug, { ipHash })).json()).toEqual({ invalidated: 1 });
    expect(await liveCount(t, slug)).toBe(1);
    expect(await (await revalidate(slug, { ipHash })).json()).toEqual({ revalidated: 1 });
    expect(await liveCount(t, slug)).toBe(2);
    expect(await statusOf('real@example.org')).toBe('confirmed');
    expect(await statusOf('bot@spam.example')).toBeUndefined();
    expect(await t.database.db.select({ email: fraudulentRequests.email }).from(fraudulentRequests)).toEqual([{ email: 'bot@spam.example' }]);
    expect(await statusOf('old@example.org')).toBe('invalidated');
  });

  it('an invalidated signature stays out of the count when its link is used again', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirmFrom(t, slug, 'bot@example.net', BOT);
    expect((await signFrom(t, slug, 'bot@example.net', BOT)).status).toBe(202);
    await invalidate(slug, { domain: 'example.net' });
    expect(await liveCount(t, slug)).toBe(0);
    const { latestConfirmToken } = await import('../../helpers/signing.js');
    const confirm = await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: await latestConfirmToken(t, 'bot@example.net') } });
    expect(confirm.status).toBe(404);
    expect(await liveCount(t, slug)).toBe(0);
  });

  it('keeps the count exact while confirmations, invalidations and revalidations race', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const { latestConfirmToken } = await import('../../helpers/signing.js');
    const tokens: string[] = [];
    for (let i = 0; i < 30; i++) {
      expect((await signFrom(t, slug, `racer${i}@example.net`, BOT)).status).toBe(202);
      tokens.push(await latestConfirmToken(t, `racer${i}@example.net`));
    }
    const ipHash = await ipHashOf(t, slug, BOT);
    const confirm = (token: string) => t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } });
    const answers = await Promise.all([
      ...tokens.slice(0, 10).map(confirm),
      invalidate(slug, { ipHash }),
      ...tokens.slice(10, 20).map(confirm),
      revalidate(slug, { ipHash }),
      foldSignatureCounts(t.ctx).then(() => new Response(null, { status: 200 })),
      ...tokens.slice(20).map(confirm),
      invalidate(slug, { domain: 'example.net' }),
    ]);
    const statuses = await t.database.db.select({ status: signatures.status }).from(signatures);
    const confirmed = statuses.filter((row) => row.status === 'confirmed').length;
    // A link used after its signature was invalidated is refused, so some confirmations may lose the race.
    for (const answer of answers) expect([200, 404]).toContain(answer.status);
    expect(await liveCount(t, slug)).toBe(confirmed);
    await foldSignatureCounts(t.ctx);
    expect(await liveCount(t, slug)).toBe(confirmed);
    expect(await (await revalidate(slug, { domain: 'example.net' })).json()).toEqual({ revalidated: statuses.filter((row) => row.status === 'invalidated').length });
    expect(await liveCount(t, slug)).toBe(statuses.length);
  });

  it('refuses filters that are missing, ambiguous or malformed with 400 VALIDATION_FAILED', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirmFrom(t, slug, 'real@example.org', BOT);
    const cases: [unknown, string, RegExp][] = [
      [{}, '', /ipHash, a domain, or a time range/],
      [{ ipHash: 'a'.repeat(32), domain: 'example.org' }, 'domain', /not both/],
      [{ ipHash: 'not-a-hash' }, 'ipHash', /IP hash/],
      [{ domain: 'example' }, 'domain', /must be a domain/],
      [{ domain: '%' }, 'domain', /must be a domain/],
      [{ from: 'yesterday' }, 'from', /ISO 8601/],
      [{ from: '2027-09-02T00:00:00Z', to: '2027-09-01T00:00:00Z' }, 'to', /after from/],
      [{ domain: 'example.org', status: 'confirmed' }, 'status', /.+/],
    ];
    for (const [body, path, message] of cases) {
      for (const call of [invalidate, revalidate]) {
        const res = await call(slug, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        const { error } = await res.json();
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.details, JSON.stringify(body)).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(message) }]));
      }
    }
    expect((await invalidate('no-such-campaign', { domain: 'example.org' })).status).toBe(404);
    expect(await liveCount(t, slug)).toBe(1);
  });

  it('needs a write scope: campaigns (or admin); signatures:read is not enough', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirmFrom(t, slug, 'real@example.org', BOT);
    const reader = await tokenWith(t, ['signatures:read', 'letters', 'deliveries', 'privacy']);
    const writer = await tokenWith(t, ['campaigns']);
    const body = { domain: 'example.org' };
    for (const call of [invalidate, revalidate]) {
      expect((await call(slug, body, null)).status).toBe(401);
      const refused = await call(slug, body, reader);
      expect(refused.status).toBe(403);
      expect((await refused.json()).error).toMatchObject({ code: 'FORBIDDEN', details: { required: 'campaigns' } });
    }
    expect(await liveCount(t, slug)).toBe(1);
    expect(await (await invalidate(slug, body, writer)).json()).toEqual({ invalidated: 1 });
    expect(await (await revalidate(slug, body, writer)).json()).toEqual({ revalidated: 1 });
    const [action] = await t.database.db.select().from(signatureBulkActions).orderBy(signatureBulkActions.id).limit(1);
    expect(action!.actor).toMatch(/^only campaigns \(.+\)$/);
  });
});
