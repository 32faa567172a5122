import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { fraudulentRequests, outbox, signatures, signatureSubmissions } from '../../../src/db/schema.js';
import { foldSignatureCounts } from '../../../src/services/signatures.js';
import { createTestApp } from '../../helpers/app.js';
import { organisationAccess } from '../../../src/services/access.js';
import { openCampaign, queuedMail } from '../../helpers/signing.js';
import { block, ipHashOf, liveCount, signAndConfirmFrom, signatureOf, signFrom, type TestApp } from '../../helpers/abuse.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const IP = '203.0.113.7';

/** Signs, and asserts that the answer is the ordinary one. */
async function signsAsUsual(slug: string, email: string, ip = IP) {
  const res = await signFrom(t, slug, email, ip);
  expect(res.status).toBe(202);
  expect(await res.json()).toEqual({ status: 'pending' });
}

/** Kept as a fraudulent request with what was sent and the kind of entry it matched, and no signature, nothing held, queued or counted. */
async function expectFraudulent(slug: string, email: string, ip = IP, blockedBy: 'email' | 'domain' | 'ip' = 'domain') {
  const rows = await t.database.db.select().from(fraudulentRequests).where(eq(fraudulentRequests.emailNormalized, email));
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ email, name: 'Jane Doe', country: 'JP', blockedBy, ipHash: await ipHashOf(t, slug, ip) });
  expect(await signatureOf(t, email)).toBeUndefined();
  expect(await queuedMail(t, email)).toEqual([]);
  expect(await t.database.db.select().from(signatureSubmissions).where(eq(signatureSubmissions.emailNormalized, email))).toEqual([]);
}

describe('signatures matching the block list', () => {
  it('a blocked domain, and a subdomain under *., answer 202 as usual, change no count, send nothing and are kept as fraudulent requests', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirmFrom(t, slug, 'real@example.org', '198.51.100.1');
    expect(await liveCount(t, slug)).toBe(1);
    await block(t, 'domain', 'spam.example');
    await block(t, 'domain', '*.bots.example');

    await signsAsUsual(slug, 'one@spam.example');
    await signsAsUsual(slug, 'two@mx.bots.example');
    await signsAsUsual(slug, 'three@deep.mx.bots.example');
    for (const email of ['one@spam.example', 'two@mx.bots.example', 'three@deep.mx.bots.example']) await expectFraudulent(slug, email);
    expect(await liveCount(t, slug)).toBe(1);
    await foldSignatureCounts(t.ctx);
    expect(await liveCount(t, slug)).toBe(1);
    expect(await t.database.db.select().from(outbox)).toHaveLength(1);

    // `*.bots.example` is its subdomains, not bots.example itself; a look-alike domain is not matched either.
    await signsAsUsual(slug, 'a@bots.example');
    await signsAsUsual(slug, 'b@notspam.example');
    await signsAsUsual(slug, 'c@spam.example.org');
    for (const email of ['a@bots.example', 'b@notspam.example', 'c@spam.example.org']) {
      expect(await signatureOf(t, email)).toBeUndefined();
      expect(await queuedMail(t, email)).toHaveLength(1);
    }
  });

  it('each blocked request is kept apart and none is ever held or counted; once the entry goes, the address signs as anyone does', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const entry = await block(t, 'email', 'Mallory@Example.org');
    await signsAsUsual(slug, 'mallory@example.org');
    await expectFraudulent(slug, 'mallory@example.org', IP, 'email');
    await signsAsUsual(slug, 'Mallory@example.org');
    const kept = await t.database.db.select({ email: fraudulentRequests.email }).from(fraudulentRequests);
    expect(kept.map((row) => row.email).sort()).toEqual(['Mallory@example.org', 'mallory@example.org']);
    expect(await queuedMail(t, 'mallory@example.org')).toEqual([]);
    expect(await liveCount(t, slug)).toBe(0);
    // The entry goes; the requests stay for review, and a new request for the address is held and mailed.
    expect((await t.request('DELETE', `/api/v1/blocklist/${entry.id}`)).status).toBe(204);
    await signsAsUsual(slug, 'mallory@example.org');
    expect(await queuedMail(t, 'mallory@example.org')).toHaveLength(1);
    expect(await t.database.db.select().from(fraudulentRequests)).toHaveLength(2);
  });

  it('never touches a signature the address already has', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirmFrom(t, slug, 'early@late-blocked.example', IP);
    await block(t, 'domain', 'late-blocked.example');
    await signsAsUsual(slug, 'early@late-blocked.example');
    expect(await signatureOf(t, 'early@late-blocked.example')).toMatchObject({ status: 'confirmed' });
    expect(await liveCount(t, slug)).toBe(1);
  });

  it('a blocked IPv6 address blocks its whole /64 and not the neighbouring /64', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await block(t, 'ip', '2001:db8:aa:bb::1');
    await signsAsUsual(slug, 'same-host@example.org', '2001:db8:aa:bb::1');
    await signsAsUsual(slug, 'same-64@example.org', '2001:db8:aa:bb:ffff:ffff:ffff:fffe');
    await signsAsUsual(slug, 'next-64@example.org', '2001:db8:aa:bc::1');
    await signsAsUsual(slug, 'previous-64@example.org', '2001:db8:aa:ba:ffff::1');
    await expectFraudulent(slug, 'same-host@example.org', '2001:db8:aa:bb::1', 'ip');
    await expectFraudulent(slug, 'same-64@example.org', '2001:db8:aa:bb:ffff:ffff:ffff:fffe', 'ip');
    for (const email of ['next-64@example.org', 'previous-64@example.org']) {
      expect(await signatureOf(t, email)).toBeUndefined();
      expect(await queuedMail(t, email)).toHaveLength(1);
    }
  });

  it('an IPv4 range blocks IPv4 clients, also as a dual-stack socket reports them (::ffff:a.b.c.d)', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await block(t, 'ip', '198.51.100.0/24');
    await signsAsUsual(slug, 'v4@example.org', '198.51.100.200');
    await signsAsUsual(slug, 'mapped@example.org', '::ffff:198.51.100.3');
    await signsAsUsual(slug, 'outside@example.org', '198.51.101.1');
    await expectFraudulent(slug, 'v4@example.org', '198.51.100.200', 'ip');
    // The mapped address is the IPv4 client: same hash as its plain spelling.
    await expectFraudulent(slug, 'mapped@example.org', '198.51.100.3', 'ip');
    expect(await queuedMail(t, 'outside@example.org')).toHaveLength(1);
  });

  it('applies an entry at once in this process, and stops applying it once removed', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signsAsUsual(slug, 'before@soon-blocked.example');
    const entry = await block(t, 'domain', 'soon-blocked.example');
    await signsAsUsual(slug, 'during@soon-blocked.example');
    expect((await t.request('DELETE', `/api/v1/blocklist/${entry.id}`)).status).toBe(204);
    await signsAsUsual(slug, 'after@soon-blocked.example');
    expect(await queuedMail(t, 'before@soon-blocked.example')).toHaveLength(1);
    await expectFraudulent(slug, 'during@soon-blocked.example');
    expect(await queuedMail(t, 'after@soon-blocked.example')).toHaveLength(1);
  });

  it('sees an entry another process added once the cache expires', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signsAsUsual(slug, 'first@other-process.example');
    // Written straight to the database, as a second process would.
    const { addBlocklistEntry } = await import('../../../src/services/blocklist.js');
    await addBlocklistEntry(t.ctx, { kind: 'token', id: 'cli', name: 'CLI', scopes: ['admin'], access: organisationAccess }, { kind: 'domain', value: 'other-process.example', note: null });
    await signsAsUsual(slug, 'cached@other-process.example');
    expect(await queuedMail(t, 'cached@other-process.example')).toHaveLength(1);
    t.clock.advance(5_000);
    await signsAsUsual(slug, 'fresh@other-process.example');
    await expectFraudulent(slug, 'fresh@other-process.example');
  });

  it('the signing page answers a blocked signature with the usual 303 to the thanks page', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await block(t, 'domain', 'spam.example');
    const page = await t.app.request(`/c/${slug}?lang=en`);
    const token = /name="_token" value="([^"]+)"/.exec(await page.text())![1]!;
    const fields = { _token: token, lang: 'en', website: '', name: 'Bot', email: 'bot@spam.example', country: 'JP', nameOnLetter: 'none' };
    const res = await t.app.request(`/c/${slug}/sign`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:3000', 'x-forwarded-for': IP },
      body: new URLSearchParams(fields).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/c/${slug}/thanks?lang=en`);
    expect(await t.database.db.select({ email: fraudulentRequests.email }).from(fraudulentRequests)).toEqual([{ email: 'bot@spam.example' }]);
    expect(await t.database.db.select().from(signatures)).toEqual([]);
    expect(await t.database.db.select().from(outbox)).toEqual([]);
  });
});
