import { PUBLIC_PAGE_FRESH_MS } from '../../../src/web/public/page-cache.js';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { signatureSubmissions, signatures } from '../../../src/db/schema.js';
import { foldSignatureCounts } from '../../../src/services/signatures.js';
import { createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, queuedMail, sendDue, signature } from '../../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const sign = (slug: string, body: unknown, headers: Record<string, string> = {}) =>
  t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body, token: null, headers });
const confirm = (token: string) => t.request('POST', '/api/v1/signatures/confirm', { body: { token }, token: null });
const count = async (slug: string) => (await (await t.request('GET', `/api/v1/campaigns/${slug}`, { token: null })).json()).signatureCount;

describe('signing and confirming', () => {
  it('records a pending signature with least consent, mails a link, and counts it once confirmed', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const res = await sign(slug, signature('Jane@Example.org '));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'pending' });

    // A request waits for its link; no signature is written until then.
    const [row] = await t.database.db.select().from(signatureSubmissions);
    expect(row).toMatchObject({ email: 'Jane@Example.org', emailNormalized: 'jane@example.org', nameOnLetter: 'none', showPublicly: false, updates: false, confirmedAt: null });
    expect(row!.ipHash).toBeNull(); // app.request has no peer address and sent no X-Forwarded-For
    expect(await t.database.db.select().from(signatures)).toEqual([]);
    expect(await count(slug)).toBe(0);

    const token = await latestConfirmToken(t, 'Jane@Example.org');
    expect(token).toMatch(/^[A-Za-z0-9_-]{44}$/); // a 16-byte nonce and a 16-byte MAC, base64url
    // Neither the token nor its hash is stored anywhere: only the nonce, which is useless without the key.
    const stored = JSON.stringify([await t.database.sqlite.prepare('select * from signatures').all(), await t.database.sqlite.prepare('select * from signature_submissions').all(), await t.database.sqlite.prepare('select * from outbox').all()]);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(token.slice(22));

    const confirmed = await confirm(token);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toEqual({ status: 'confirmed', campaign: slug });
    // The public campaign is built once and served for a few seconds (#22): the count follows once that has passed.
    t.clock.advance(PUBLIC_PAGE_FRESH_MS);
    expect(await count(slug)).toBe(1);
    const [signed] = await t.database.db.select().from(signatures);
    expect(signed).toMatchObject({ status: 'confirmed', email: 'Jane@Example.org', emailNormalized: 'jane@example.org', nameOnLetter: 'none' });
    // The used request keeps none of the details, only the address for the email window.
    const [used] = await t.database.db.select().from(signatureSubmissions);
    expect(used).toMatchObject({ name: '', email: '', city: null, emailNormalized: 'jane@example.org', signatureId: signed!.id });

    // Repeating is harmless and does not count twice, before and after folding.
    expect((await confirm(token)).status).toBe(200);
    expect(await count(slug)).toBe(1);
    await foldSignatureCounts(t.ctx);
    expect(await count(slug)).toBe(1);
    expect((await confirm(token)).status).toBe(200);
    await foldSignatureCounts(t.ctx);
    expect(await count(slug)).toBe(1);
  });

  it('answers a repeat signature exactly like a first one and holds every one; emails go while the hourly window of the address allows, then wait', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const first = await sign(slug, signature('repeat@example.org'));
    const firstBody = await first.text();
    const mailed: string[] = await sendDue(t);
    for (let i = 0; i < 6; i++) {
      t.clock.advance(1000);
      const again = await sign(slug, signature('REPEAT@example.org', { name: `Jane ${i}` }));
      expect(again.status).toBe(first.status);
      expect(await again.text()).toBe(firstBody);
      mailed.push(...(await sendDue(t)));
    }
    expect(mailed).toHaveLength(3);
    // Every request is held, mailed or not.
    const held = await t.database.db.select({ name: signatureSubmissions.name }).from(signatureSubmissions);
    expect(held.map((r) => r.name).sort()).toEqual(['Jane 0', 'Jane 1', 'Jane 2', 'Jane 3', 'Jane 4', 'Jane 5', 'Jane Doe']);
    // The window slides: an hour after the first emails the address gets a link again, for the newest
    // request only (the older ones waiting, from the same source, would only repeat).
    t.clock.advance(3_600_000);
    expect(await sendDue(t)).toEqual(['REPEAT@example.org']);
    const [newest] = await queuedMail(t, 'REPEAT@example.org');
    expect(newest!.status).toBe('sent');
    expect(await sendDue(t)).toEqual([]);
  });

  it('does not let a repeat signature change a confirmed one', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await sign(slug, signature('kept@example.org', { consent: { nameOnLetter: 'full' } }));
    await confirm(await latestConfirmToken(t, 'kept@example.org'));
    await sign(slug, signature('kept@example.org', { name: 'Mallory', consent: { nameOnLetter: 'none', showPublicly: true } }));
    const [row] = await t.database.db.select().from(signatures);
    expect(row).toMatchObject({ name: 'Jane Doe', nameOnLetter: 'full', showPublicly: false, status: 'confirmed' });
    expect(await count(slug)).toBe(1);
  });

  it('refuses unknown, expired and malformed tokens', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const unknown = await confirm('A'.repeat(32));
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('NOT_FOUND');

    await sign(slug, signature('late@example.org'));
    const token = await latestConfirmToken(t, 'late@example.org');
    t.clock.advance(7 * 24 * 3_600_000 + 1);
    const expired = await confirm(token);
    expect(expired.status).toBe(410);
    expect((await expired.json()).error).toMatchObject({ code: 'TOKEN_EXPIRED', details: { campaign: slug } });
    expect(await count(slug)).toBe(0);

    const malformed = await confirm('../../etc/passwd');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('VALIDATION_FAILED');
  });

  it('counts correctly when many confirmations race', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const emails = Array.from({ length: 60 }, (_, i) => `racer${i}@example.org`);
    await Promise.all(emails.map((email) => sign(slug, signature(email))));
    const tokens = await Promise.all(emails.map((email) => latestConfirmToken(t, email)));
    // Each token confirmed twice at once: the count must rise by exactly one per signature.
    const results = await Promise.all([...tokens, ...tokens].map((token) => confirm(token)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await count(slug)).toBe(60);
    await foldSignatureCounts(t.ctx);
    expect(await count(slug)).toBe(60);
    const [campaignRow] = await t.database.sqlite.prepare('select signature_count from campaigns').all() as { signature_count: number }[];
    expect(campaignRow!.signature_count).toBe(60);
  });

  it('refuses closed campaigns with 409 CAMPAIGN_NOT_OPEN, and drafts like unknown ones with 404', async () => {
    t = createTestApp();
    await t.request('POST', '/api/v1/campaigns', { body: { slug: 'still-draft', title: 'Draft', locale: 'en' } });
    const draft = await sign('still-draft', signature('a@example.org'));
    const unknownSlug = await sign('no-such-campaign', signature('a@example.org'));
    expect(draft.status).toBe(404);
    // Nothing tells a draft from a slug that does not exist.
    expect({ ...(await draft.json()).error, requestId: '' }).toEqual({ ...(await unknownSlug.json()).error, requestId: '' });

    const slug = await openCampaign(t);
    await t.request('PATCH', `/api/v1/campaigns/${slug}`, { body: { status: 'closed' } });
    const closed = await sign(slug, signature('b@example.org'));
    expect(closed.status).toBe(409);
    expect((await closed.json()).error.code).toBe('CAMPAIGN_NOT_OPEN');

    const missing = await sign('no-such-campaign', signature('c@example.org'));
    expect(missing.status).toBe(404);
    expect(await t.database.db.select().from(signatures)).toHaveLength(0);
  });

  it('respects opensAt and closesAt', async () => {
    t = createTestApp();
    const now = t.clock.now();
    const slug = await openCampaign(t, 'windowed', { opensAt: new Date(now + 3_600_000).toISOString(), closesAt: new Date(now + 7_200_000).toISOString() });
    expect((await sign(slug, signature('early@example.org'))).status).toBe(409);
    t.clock.advance(3_600_000);
    expect((await sign(slug, signature('ontime@example.org'))).status).toBe(202);
    t.clock.advance(3_600_000);
    expect((await sign(slug, signature('late@example.org'))).status).toBe(409);
  });
});

describe('signature validation', () => {
  it('reports field-level details', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const res = await sign(slug, {
      name: '',
      email: 'not-an-email',
      country: 'Japan',
      comment: 'x'.repeat(1001),
      consent: { nameOnLetter: 'everything', showPublicly: 'yes' },
      admin: true,
    });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    const paths = error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'email', 'country', 'comment', 'consent.nameOnLetter', 'consent.showPublicly', 'admin']));
    expect(await t.database.db.select().from(signatures)).toHaveLength(0);
  });

  it('refuses header-breaking names and emails', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const res = await sign(slug, signature('x@example.org\r\nBcc: victim@example.org', { name: 'Eve\r\nBcc: victim@example.org' }));
    expect(res.status).toBe(400);
    const paths = (await res.json()).error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'email']));
  });

  it('keeps Unicode names and comments intact', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const names = ['山田 太郎', '김민준', '王小明', 'José Ñúñez', 'Zoë 🌸'];
    for (const [i, name] of names.entries()) {
      expect((await sign(slug, signature(`u${i}@example.org`, { name, comment: `${name}を支持します` }))).status).toBe(202);
    }
    const rows = await t.database.db.select({ name: signatureSubmissions.name, comment: signatureSubmissions.comment }).from(signatureSubmissions);
    expect(rows.map((r) => r.name).sort()).toEqual([...names].sort());
    expect(rows.every((r) => r.comment === `${r.name}を支持します`)).toBe(true);
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the limit per IP and campaign', async () => {
    t = createTestApp({ signRateLimit: { limit: 3, windowMs: 300_000 } });
    const slug = await openCampaign(t);
    const fromIp = (ip: string, i: number) => sign(slug, signature(`r${ip}-${i}@example.org`), { 'x-forwarded-for': `203.0.113.9, ${ip}` });
    for (let i = 0; i < 3; i++) expect((await fromIp('198.51.100.1', i)).status).toBe(202);
    const limited = await fromIp('198.51.100.1', 3);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('300');
    expect((await limited.json()).error.code).toBe('RATE_LIMITED');
    // Another address is not affected, and the window ends.
    expect((await fromIp('198.51.100.2', 0)).status).toBe(202);
    t.clock.advance(300_000);
    expect((await fromIp('198.51.100.1', 4)).status).toBe(202);
    // Over-limit requests wrote nothing.
    expect(await t.database.db.select().from(signatures).where(eq(signatures.email, 'r198.51.100.1-3@example.org'))).toHaveLength(0);
  });

  it('stores only a keyed hash of the client address', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await sign(slug, signature('ip@example.org'), { 'x-forwarded-for': '192.0.2.77' });
    const [row] = await t.database.db.select().from(signatureSubmissions);
    expect(row!.ipHash).toMatch(/^[0-9a-f]{32}$/);
    await confirm(await latestConfirmToken(t, 'ip@example.org'));
    const [signed] = await t.database.db.select().from(signatures);
    expect(signed!.ipHash).toBe(row!.ipHash);
    const dump = JSON.stringify([await t.database.sqlite.prepare('select * from signatures').all(), await t.database.sqlite.prepare('select * from signature_submissions').all()]);
    expect(dump).not.toContain('192.0.2.77');
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY is on', async () => {
    t = createTestApp({ trustProxy: false, signRateLimit: { limit: 1, windowMs: 60_000 }, clientAddress: () => '127.0.0.1' });
    const slug = await openCampaign(t);
    expect((await sign(slug, signature('p1@example.org'), { 'x-forwarded-for': '198.51.100.1' })).status).toBe(202);
    // A forged header does not escape the limit of the real peer address.
    expect((await sign(slug, signature('p2@example.org'), { 'x-forwarded-for': '198.51.100.2' })).status).toBe(429);
  });
});

describe('waiting requests for organisers', () => {
  it('pages through ?status=pending with the cursor it hands out', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) {
      await sign(slug, signature(email));
      t.clock.advance(1000);
    }
    const first = await t.request('GET', `/api/v1/campaigns/${slug}/signatures?status=pending&limit=2`);
    const firstPage = await first.json();
    expect(firstPage.items.map((item: { email: string }) => item.email)).toEqual(['c@example.org', 'b@example.org']);
    const second = await t.request('GET', `/api/v1/campaigns/${slug}/signatures?status=pending&limit=2&cursor=${firstPage.nextCursor}`);
    expect(second.status).toBe(200);
    const secondPage = await second.json();
    expect(secondPage.items.map((item: { email: string }) => item.email)).toEqual(['a@example.org']);
    expect(secondPage.nextCursor).toBeNull();
  });
});
