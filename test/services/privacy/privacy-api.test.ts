import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { bounces, campaigns, emailSuppressions, outbox, privacyRequests, signatureCountDeltas, signatureSubmissions, signatures } from '../../../src/db/schema.js';
import { foldSignatureCounts } from '../../../src/services/signatures.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign, sendDue, signature } from '../../helpers/signing.js';
import { insertLegacyPending, latestPrivacyToken, privacyMail, requestLink, signAndConfirm } from './helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

async function tokenWithScopes(scopes: string[]) {
  const res = await t.request('POST', '/api/v1/tokens', { body: { name: `with ${scopes.join(' ')}`, scopes } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

describe('POST /api/v1/privacy/requests', () => {
  it('answers 202 accepted for known and unknown addresses alike, and mails a link only to a known one', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'Known@Example.org');

    const known = await requestLink(t, 'known@example.org', 'export');
    const unknown = await requestLink(t, 'nobody@example.org', 'export');
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(await known.json()).toEqual({ status: 'accepted' });
    expect(await unknown.json()).toEqual({ status: 'accepted' });

    expect(await privacyMail(t, 'known@example.org')).toHaveLength(1);
    expect(await privacyMail(t, 'nobody@example.org')).toHaveLength(0);
    // Nothing at all is kept about an address that never signed.
    const requests = await t.database.db.select().from(privacyRequests);
    expect(requests.map((r) => r.emailNormalized)).toEqual(['known@example.org']);
  });

  it('stores the nonce, never the token, and the email carries a working link in the request language', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'hanako@example.jp');
    await requestLink(t, 'hanako@example.jp', 'erase', { locale: 'ja' });

    const [row] = await privacyMail(t, 'hanako@example.jp');
    expect(row!.message).toMatchObject({ compose: 'privacy', input: { locale: 'ja', kind: 'erase' } });
    const token = await latestPrivacyToken(t, 'hanako@example.jp');
    // Neither the outbox row nor the request row holds the token; the outbox input holds no address.
    expect(JSON.stringify(row)).not.toContain(token);
    expect(JSON.stringify(row!.message)).not.toContain('hanako');
    const [request] = await t.database.db.select().from(privacyRequests);
    expect(token.startsWith(request!.id)).toBe(true);
    expect(JSON.stringify(request)).not.toContain(token);
  });

  it('mails no link for an address whose signatures were erased', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'gone@example.org');
    expect((await t.request('POST', '/api/v1/privacy/erasures', { body: { email: 'gone@example.org' } })).status).toBe(200);
    expect((await requestLink(t, 'gone@example.org', 'export')).status).toBe(202);
    expect(await privacyMail(t, 'gone@example.org')).toHaveLength(0);
  });

  it('holds every request; mails an address at most the window limit of links (signing links included), the others once the window allows', async () => {
    t = createTestApp({ privacy: { retentionDays: 365, pendingTtlDays: 30, publicRegionMin: 5, emailsPerAddress: { limit: 2, windowMs: 3_600_000 }, auditRetentionDays: 730 } });
    const slug = await openCampaign(t);
    await signAndConfirm(t, slug, 'target@example.org');
    expect(await sendDue(t)).toEqual(['target@example.org']);
    for (let i = 0; i < 4; i++) expect((await requestLink(t, 'target@example.org', 'erase', { ip: `198.51.100.${i}` })).status).toBe(202);
    expect(await privacyMail(t, 'target@example.org')).toHaveLength(4);
    expect(await t.database.db.select().from(privacyRequests)).toHaveLength(4);
    expect(await sendDue(t)).toEqual(['target@example.org']);

    t.clock.advance(3_600_001);
    expect(await sendDue(t)).toEqual(['target@example.org', 'target@example.org']);
    t.clock.advance(3_600_001);
    expect(await sendDue(t)).toEqual(['target@example.org']);
    expect((await privacyMail(t, 'target@example.org')).map((row) => row.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });

  it('limits requests per client address with the signing limit (429 and Retry-After), whatever the address asked about', async () => {
    t = createTestApp({ signRateLimit: { limit: 2, windowMs: 300_000 } });
    expect((await requestLink(t, 'a@example.org', 'export', { ip: '192.0.2.1' })).status).toBe(202);
    expect((await requestLink(t, 'b@example.org', 'export', { ip: '192.0.2.1' })).status).toBe(202);
    const limited = await requestLink(t, 'c@example.org', 'export', { ip: '192.0.2.1' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('300');
    expect((await limited.json()).error.code).toBe('RATE_LIMITED');
    expect((await requestLink(t, 'c@example.org', 'export', { ip: '192.0.2.2' })).status).toBe(202);
  });

  it('refuses a malformed body with VALIDATION_FAILED', async () => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/privacy/requests', { body: { email: 'not-an-address', kind: 'delete-everything' }, token: null });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['email', 'kind']);
  });
});

describe('the API description', () => {
  it('documents the privacy routes', async () => {
    t = createTestApp();
    const spec = await (await t.app.request('/api/v1/openapi.json')).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/v1/privacy/requests', '/api/v1/privacy/erasures', '/api/v1/privacy/export']));
    expect(spec.paths['/api/v1/privacy/erasures'].post.security).toEqual([{ bearerAuth: ['privacy'] }]);
    expect(spec.paths['/api/v1/privacy/requests'].post.responses['202']).toBeDefined();
  });
});

describe('organiser privacy routes', () => {
  it('need a token (401) with the privacy scope (403); admin holds it', async () => {
    t = createTestApp();
    const reader = await tokenWithScopes(['signatures:read', 'campaigns']);
    const privacy = await tokenWithScopes(['privacy']);
    const calls: [string, string, unknown?][] = [
      ['POST', '/api/v1/privacy/erasures', { email: 'x@example.org' }],
      ['POST', '/api/v1/privacy/export', { email: 'x@example.org' }],
      ['GET', '/api/v1/privacy/requests'],
    ];
    for (const [method, path, body] of calls) {
      const anonymous = await t.request(method, path, { body, token: null });
      expect(anonymous.status, path).toBe(401);
      expect((await anonymous.json()).error.code).toBe('UNAUTHORIZED');
      const forbidden = await t.request(method, path, { body, token: reader.token });
      expect(forbidden.status, path).toBe(403);
      expect((await forbidden.json()).error).toMatchObject({ code: 'FORBIDDEN', details: { required: 'privacy' } });
      expect((await t.request(method, path, { body, token: privacy.token })).status, path).toBe(200);
      expect((await t.request(method, path, { body })).status, path).toBe(200);
    }
  });

  it('erases every signature of an address, keeps it counted, and records who did it without the address', async () => {
    t = createTestApp();
    const first = await openCampaign(t, 'first');
    const second = await openCampaign(t, 'second');
    await signAndConfirm(t, first, 'Jane.Doe@Example.org', { name: 'Jane Doe', city: 'Osaka', postalCode: '530-0001', comment: 'For my brother', source: { utm_source: 'newsletter' } });
    await signAndConfirm(t, second, 'jane.doe@example.org');
    await signAndConfirm(t, first, 'other@example.org', { name: 'Other Person' });
    // On a third campaign, a signature 0.1 left pending (deleted, as it was never counted) and a request
    // waiting for its link (deleted; it is not a signature, so the erasure does not count it).
    const third = await openCampaign(t, 'third');
    await insertLegacyPending(t, third, 'Jane.Doe@Example.org', { name: 'Jane Doe', comment: 'Old words' });
    expect((await t.request('POST', `/api/v1/campaigns/${third}/signatures`, { body: signature('jane.doe@example.org', { name: 'Jane D.' }), token: null })).status).toBe(202);
    const janesRequests = await t.database.db.select().from(signatureSubmissions).where(eq(signatureSubmissions.emailNormalized, 'jane.doe@example.org'));
    expect(janesRequests.map((r) => r.name).sort()).toEqual(['', '', 'Jane D.']);
    await t.database.atomic([
      t.database.db.insert(bounces).values({ id: '0190a000-0000-7000-8000-000000000001', emailNormalized: 'jane.doe@example.org', kind: 'hard', diagnostic: '550 <jane.doe@example.org> unknown', createdAt: t.clock.now() }),
      t.database.db.insert(emailSuppressions).values({ emailNormalized: 'jane.doe@example.org', reason: 'hard_bounce', createdAt: t.clock.now() }),
    ]);
    await foldSignatureCounts(t.ctx);
    const countBefore = (await (await t.request('GET', `/api/v1/campaigns/${first}`)).json()).signatureCount;
    expect(countBefore).toBe(2);
    const privacy = await tokenWithScopes(['privacy']);

    const res = await t.request('POST', '/api/v1/privacy/erasures', { body: { email: ' JANE.DOE@example.org ' }, token: privacy.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ erased: 3 });

    const rows = await t.database.db.select().from(signatures);
    const erased = rows.filter((row) => row.status === 'erased');
    expect(erased).toHaveLength(2);
    for (const row of erased) {
      expect(row).toMatchObject({ name: '', email: '', emailNormalized: `erased:${row.id}`, city: null, postalCode: null, comment: null, ipHash: null, source: null, nameOnLetter: 'none', showPublicly: false, updates: false });
      expect(row.confirmedAt).not.toBeNull();
      expect(row.country).toBe('JP');
      expect(row.region).toBe('JP-13');
    }
    expect(rows.filter((row) => row.status === 'pending')).toHaveLength(0);
    expect(rows.find((row) => row.emailNormalized === 'other@example.org')).toMatchObject({ name: 'Other Person', status: 'confirmed' });
    expect(JSON.stringify(rows)).not.toMatch(/jane/i);
    expect(await t.database.db.select().from(signatureSubmissions).where(eq(signatureSubmissions.emailNormalized, 'jane.doe@example.org'))).toEqual([]);
    expect(await t.database.db.select().from(bounces)).toEqual([]);
    expect(await t.database.db.select().from(emailSuppressions)).toEqual([]);
    const mail = await t.database.db.select().from(outbox);
    expect(JSON.stringify(mail)).not.toMatch(/jane/i);
    expect(mail.filter((row) => row.recipient.startsWith('erased:')).every((row) => row.message === null && row.status !== 'pending')).toBe(true);

    // The count is unchanged: no delta written, the folded count stays.
    expect(await t.database.db.select().from(signatureCountDeltas)).toEqual([]);
    const [campaign] = await t.database.db.select().from(campaigns).where(eq(campaigns.slug, first));
    expect(campaign!.signatureCount).toBe(2);
    expect((await (await t.request('GET', `/api/v1/campaigns/${first}`)).json()).signatureCount).toBe(2);

    const listed = await t.request('GET', '/api/v1/privacy/requests', { token: privacy.token });
    const list = await listed.json();
    expect(list).toEqual({
      items: [
        {
          kind: 'erase',
          origin: 'organiser',
          status: 'completed',
          signatureCount: 3,
          handledBy: `with privacy (${privacy.id})`,
          createdAt: expect.any(String),
          expiresAt: expect.any(String),
          completedAt: expect.any(String),
        },
      ],
      nextCursor: null,
    });
    expect(JSON.stringify(await t.database.db.select().from(privacyRequests))).not.toMatch(/jane/i);
  });

  it('a pending email to the address is not sent after the erasure, and the mailing guard still holds', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body: signature('late@example.org'), token: null });
    const [queued] = await t.database.db.select().from(outbox).where(eq(outbox.recipient, 'late@example.org'));
    expect(queued!.status).toBe('pending');
    await t.request('POST', '/api/v1/privacy/erasures', { body: { email: 'late@example.org' } });
    const [after] = await t.database.db.select().from(outbox).where(eq(outbox.id, queued!.id));
    expect(after).toMatchObject({ status: 'failed', lastError: 'erased', message: null, recipient: `erased:${queued!.id}`, mailingId: queued!.mailingId, recipientKey: queued!.recipientKey });
  });

  it('exports every field of every signature of the address, its pending requests and mail, without message bodies or nonces', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'export-me', { title: 'Free them' });
    await signAndConfirm(t, slug, 'Ko@Example.org', { name: 'Ko Minji', city: 'Seoul', postalCode: '04524', comment: 'Solidarity', locale: 'ko', consent: { nameOnLetter: 'initials', showPublicly: true, updates: true }, source: { utm_source: 'sns' } });
    // A second request still waiting for its link.
    await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body: signature('ko@example.org', { name: 'Ko M.' }), token: null });

    const res = await t.request('POST', '/api/v1/privacy/export', { body: { email: 'KO@example.org' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const data = await res.json();
    expect(data).toMatchObject({ format: 'signet-personal-data/1', email: 'ko@example.org' });
    expect(data.signatures).toHaveLength(1);
    expect(data.signatures[0]).toMatchObject({
      campaign: { slug: 'export-me', title: 'Free them' },
      status: 'confirmed',
      name: 'Ko Minji',
      email: 'Ko@Example.org',
      country: 'JP',
      region: 'JP-13',
      city: 'Seoul',
      postalCode: '04524',
      comment: 'Solidarity',
      locale: 'ko',
      consent: { nameOnLetter: 'initials', showPublicly: true, updates: true },
      source: { utm_source: 'sns' },
      ipHash: expect.stringMatching(/^[0-9a-f]+$/),
    });
    expect(data.signingRequests.map((r: { name: string }) => r.name)).toContain('Ko M.');
    expect(data.emails.length).toBeGreaterThanOrEqual(2);
    expect(data.emails.every((e: Record<string, unknown>) => e.kind === 'confirmation' && !('message' in e) && !('recipient' in e))).toBe(true);
    const submissions = await t.database.db.select({ id: signatureSubmissions.id }).from(signatureSubmissions);
    for (const { id } of submissions) expect(JSON.stringify(data)).not.toContain(id);

    const [record] = await t.database.db.select().from(privacyRequests);
    expect(record).toMatchObject({ kind: 'export', origin: 'organiser', status: 'completed', emailNormalized: null, signatureCount: 1, handledBy: 'ADMIN_TOKEN (env-admin-token)' });
  });

  it('takes the address in a POST body, never in the URL: the GET with ?email= is refused before anything is read (#17)', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'export-me');
    await signAndConfirm(t, slug, 'ko@example.org', { name: 'Ko Minji' });

    // An address in a query string lands in access logs, proxies and browser history.
    const byUrl = await t.request('GET', '/api/v1/privacy/export?email=ko%40example.org');
    expect(byUrl.status).toBe(405);
    expect(byUrl.headers.get('allow')).toBe('POST');
    const refused = await byUrl.json();
    expect(refused.error).toMatchObject({ code: 'METHOD_NOT_ALLOWED', details: { use: 'POST /api/v1/privacy/export', body: { email: 'the address' } } });
    expect(refused.error.message).toContain('POST /api/v1/privacy/export');
    expect(JSON.stringify(refused)).not.toContain('Ko Minji');
    // Nothing was exported, so nothing is recorded as handled.
    expect(await t.database.db.select().from(privacyRequests)).toEqual([]);

    const byBody = await t.request('POST', '/api/v1/privacy/export', { body: { email: 'ko@example.org' } });
    expect(byBody.status).toBe(200);
    expect((await byBody.json()).signatures[0]).toMatchObject({ name: 'Ko Minji' });
    const invalid = await t.request('POST', '/api/v1/privacy/export', { body: { email: 'not an address' } });
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'email' }] });

    // The document says so: the POST with its body and the privacy scope, the GET deprecated and answering 405.
    const spec = await (await t.app.request('/api/v1/openapi.json')).json();
    const operations = spec.paths['/api/v1/privacy/export'];
    expect(operations.post.security).toEqual([{ bearerAuth: ['privacy'] }]);
    expect(operations.post.requestBody.content['application/json'].schema.required).toEqual(['email']);
    expect(operations.get).toMatchObject({ deprecated: true, security: [] });
    expect(Object.keys(operations.get.responses)).toEqual(['405']);
  });

  it('pages through the requests with a cursor', async () => {
    t = createTestApp();
    for (let i = 0; i < 3; i++) {
      await t.request('POST', '/api/v1/privacy/erasures', { body: { email: `p${i}@example.org` } });
      t.clock.advance(1000);
    }
    const first = await (await t.request('GET', '/api/v1/privacy/requests?limit=2')).json();
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await (await t.request('GET', `/api/v1/privacy/requests?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)).json();
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(Date.parse(second.items[0].createdAt)).toBeLessThan(Date.parse(first.items[1].createdAt));
    const bad = await t.request('GET', '/api/v1/privacy/requests?cursor=nonsense');
    expect(bad.status).toBe(400);
  });
});
