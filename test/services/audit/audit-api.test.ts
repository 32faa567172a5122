import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { createJsonLogger } from '../../../src/lib/logger.js';
import { BatchingAuditSink } from '../../../src/services/audit.js';
import { ENV_ADMIN_TOKEN_ID } from '../../../src/services/tokens.js';
import { createTestApp } from '../../helpers/app.js';
import { auditLog, auditTableText, campaignWithSupporters, makeToken, SLUG, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

type Letter = { id: string };

async function generateLetter(app: TestApp, token?: string): Promise<{ batchId: string; letters: Letter[] }> {
  const res = await app.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' }, ...(token ? { token } : {}) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { batchId: string; letters: Letter[] };
}

describe('what an organiser does appears in the audit log', () => {
  it('records a CSV export and a letter PDF download with actor, action, object, request id and status', async () => {
    t = createTestApp();
    await campaignWithSupporters(t);
    const organiser = await makeToken(t, 'Field organiser', ['signatures:read', 'letters']);
    const { batchId, letters } = await generateLetter(t, organiser.token);
    t.clock.advance(1_000);

    const csv = await t.request('GET', `/api/v1/campaigns/${SLUG}/signatures.csv`, { token: organiser.token, headers: { 'x-request-id': 'export-request-0001' } });
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain('aiko.tanaka@example.org');
    t.clock.advance(1_000);
    const pdf = await t.request('GET', `/api/v1/letters/${letters[0]!.id}.pdf`, { token: organiser.token });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    t.clock.advance(1_000);
    const metadata = await t.request('GET', `/api/v1/letters/${letters[0]!.id}`, { token: organiser.token });
    expect(metadata.status).toBe(200);

    const { items } = await auditLog(t, `actor=${organiser.id}`);
    const actor = { type: 'token', id: organiser.id, name: 'Field organiser' };
    expect(items.map((e) => e.action)).toEqual(['letter.read', 'letter.download', 'signatures.export', 'letters.generate']);
    expect(items[3]).toMatchObject({ actor, action: 'letters.generate', object: { type: 'letter_batch', id: batchId }, via: 'api', status: 201 });
    expect(items[2]).toEqual({
      id: expect.any(String),
      at: expect.stringMatching(/^2027-09-01T00:00:0\d\.000Z$/),
      actor,
      action: 'signatures.export',
      object: { type: 'campaign', id: SLUG },
      via: 'api',
      route: 'GET /api/v1/campaigns/:slug/signatures.csv',
      requestId: 'export-request-0001',
      status: 200,
      details: { format: 'signet' },
    });
    expect(items[1]).toMatchObject({ actor, action: 'letter.download', object: { type: 'letter', id: letters[0]!.id }, route: 'GET /api/v1/letters/:id', status: 200 });
    expect(items[0]).toMatchObject({ actor, action: 'letter.read', object: { type: 'letter', id: letters[0]!.id } });
  });

  it('records token creation and revocation, campaign changes, deliveries, mailings and erasures, never the erased address', async () => {
    t = createTestApp();
    const { emails } = await campaignWithSupporters(t);
    const { letters } = await generateLetter(t);
    const delivery = await t.request('POST', `/api/v1/letters/${letters[0]!.id}/deliveries`, { body: { channel: 'print' } });
    expect(delivery.status, await delivery.clone().text()).toBe(201);
    const { id: deliveryId } = (await delivery.json()) as { id: string };
    const mailing = await t.request('POST', '/api/v1/mailings', { body: { campaign: SLUG, kind: 'update', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', subject: 'News', body: 'Thank you.' } });
    expect(mailing.status, await mailing.clone().text()).toBe(201);
    const { id: mailingId } = (await mailing.json()) as { id: string };
    const reader = await makeToken(t, 'Temporary reader', ['signatures:read']);
    expect((await t.request('DELETE', `/api/v1/tokens/${reader.id}`)).status).toBe(204);
    expect((await t.request('PATCH', `/api/v1/campaigns/${SLUG}`, { body: { status: 'closed' } })).status).toBe(200);
    const erased = await t.request('POST', '/api/v1/privacy/erasures', { body: { email: emails[0] } });
    expect(erased.status, await erased.clone().text()).toBe(200);
    const exported = await t.request('POST', '/api/v1/privacy/export', { body: { email: emails[1] } });
    expect(exported.status).toBe(200);
    // An address in a URL where an id belongs is not copied into the log either.
    expect((await t.request('DELETE', `/api/v1/suppressions/${encodeURIComponent(emails[1]!)}`)).status).toBeLessThan(500);
    expect((await t.request('GET', `/api/v1/campaigns/${encodeURIComponent(emails[1]!)}/signatures`)).status).toBe(404);

    const { items } = await auditLog(t, 'limit=100');
    const byAction = (action: string) => items.filter((e) => e.action === action);
    expect(byAction('token.create').at(-1)).toMatchObject({ object: { type: 'token', id: reader.id }, status: 201, actor: { id: ENV_ADMIN_TOKEN_ID, name: 'ADMIN_TOKEN' } });
    expect(byAction('token.revoke')).toMatchObject([{ object: { type: 'token', id: reader.id }, status: 204 }]);
    expect(byAction('campaign.create')).toMatchObject([{ object: { type: 'campaign', id: SLUG }, status: 201 }]);
    expect(byAction('campaign.update').map((e) => e.object)).toEqual([
      { type: 'campaign', id: SLUG },
      { type: 'campaign', id: SLUG },
    ]);
    expect(byAction('target.create')).toHaveLength(1);
    expect(byAction('delivery.create')).toMatchObject([{ object: { type: 'delivery', id: deliveryId }, status: 201 }]);
    expect(byAction('mailing.create')).toMatchObject([{ object: { type: 'mailing', id: mailingId }, status: 201 }]);
    expect(byAction('privacy.erase')).toMatchObject([{ object: { type: 'address', id: null }, status: 200 }]);
    expect(byAction('privacy.export')).toMatchObject([{ object: { type: 'address', id: null }, status: 200 }]);
    expect(byAction('suppression.lift')).toMatchObject([{ object: { type: 'suppression', id: null } }]);
    expect(byAction('signatures.list')).toMatchObject([{ object: { type: 'campaign', id: null }, status: 404 }]);

    const stored = await auditTableText(t);
    for (const email of emails) {
      expect(stored).not.toContain(email);
      expect(stored).not.toContain(encodeURIComponent(email));
    }
    expect(stored).not.toContain('@');
  });
});

describe('a request nobody authenticated is nobody’s event', () => {
  it('records nothing for a wrong, forged or revoked token, and nothing in the name of the token it imitates', async () => {
    t = createTestApp();
    await campaignWithSupporters(t);
    const victim = await makeToken(t, 'Director', ['signatures:read']);
    const revoked = await makeToken(t, 'Old laptop', ['signatures:read']);
    expect((await t.request('DELETE', `/api/v1/tokens/${revoked.id}`)).status).toBe(204);
    const before = await auditLog(t, 'limit=500');

    // The victim's token with its last character changed, its id as the bearer, a revoked token, no token.
    const forged = victim.token.slice(0, -1) + (victim.token.endsWith('A') ? 'B' : 'A');
    for (const token of [forged, victim.id, revoked.token, `Bearer ${victim.token}`, null]) {
      const res = await t.request('GET', `/api/v1/campaigns/${SLUG}/signatures.csv`, { token });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain('aiko.tanaka@example.org');
    }

    const after = await auditLog(t, 'limit=500');
    const added = after.items.filter((e) => !before.items.some((b) => b.id === e.id));
    expect(added.map((e) => e.action)).toEqual(['audit.list']); // the first listing itself, nothing else
    expect((await auditLog(t, `actor=${victim.id}`)).items).toEqual([]);
    expect((await auditLog(t, `actor=${revoked.id}`)).items).toEqual([]);
  });
});

describe('GET /api/v1/audit', () => {
  it('needs the admin scope: a campaigns token gets 403, and its attempt is recorded as its own', async () => {
    t = createTestApp();
    const organiser = await makeToken(t, 'Campaigner', ['campaigns', 'signatures:read']);
    const refused = await t.request('GET', '/api/v1/audit', { token: organiser.token });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      error: { code: 'FORBIDDEN', message: 'This token lacks the "admin" scope.', details: { required: 'admin', granted: ['campaigns', 'signatures:read'] }, requestId: expect.any(String) },
    });
    const anonymous = await t.request('GET', '/api/v1/audit', { token: null });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');

    const { items } = await auditLog(t, `actor=${organiser.id}`);
    expect(items).toMatchObject([{ action: 'audit.list', status: 403, actor: { id: organiser.id, name: 'Campaigner' } }]);
    expect(refused.headers.get('x-request-id')).toBe(items[0]!.requestId);
  });

  it('filters by action, action family, actor and time', async () => {
    t = createTestApp();
    await campaignWithSupporters(t);
    const reader = await makeToken(t, 'Reader', ['signatures:read']);
    const start = t.clock.now();
    t.clock.advance(3_600_000);
    expect((await t.request('GET', `/api/v1/campaigns/${SLUG}/signatures`, { token: reader.token })).status).toBe(200);
    t.clock.advance(3_600_000);
    expect((await t.request('GET', `/api/v1/campaigns/${SLUG}/stats`, { token: reader.token })).status).toBe(200);
    t.clock.advance(1_000);
    expect((await t.request('GET', `/api/v1/campaigns/${SLUG}/signatures.csv`)).status).toBe(200);
    t.clock.advance(3_600_000);

    expect((await auditLog(t, 'action=signatures.export')).items).toMatchObject([{ action: 'signatures.export', actor: { id: ENV_ADMIN_TOKEN_ID } }]);
    expect((await auditLog(t, 'action=signatures.*')).items.map((e) => e.action)).toEqual(['signatures.export', 'signatures.stats', 'signatures.list']);
    // A family is a prefix of whole segments: `signature.*` does not match `signatures.list`.
    expect((await auditLog(t, 'action=signature.*')).items).toEqual([]);
    expect((await auditLog(t, `actor=${reader.id}`)).items.map((e) => e.action)).toEqual(['signatures.stats', 'signatures.list']);
    const hour = (n: number) => new Date(start + n * 3_600_000).toISOString();
    expect((await auditLog(t, `from=${hour(1)}&to=${hour(2)}`)).items.map((e) => e.action)).toEqual(['signatures.list']);
    expect((await auditLog(t, `actor=${reader.id}&from=${encodeURIComponent(hour(2))}`)).items.map((e) => e.action)).toEqual(['signatures.stats']);
    expect((await auditLog(t, `to=${hour(0)}`)).items).toEqual([]);
    expect((await auditLog(t, `from=${hour(0)}&action=campaign.create`)).items).toHaveLength(1);
  });

  it('refuses filters it cannot use, with the fields named', async () => {
    t = createTestApp();
    for (const [query, path] of [
      ["action=x' OR '1'='1", 'action'],
      ['actor=../../etc', 'actor'],
      ['from=yesterday', 'from'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['from=2027-09-02T00:00:00Z&to=2027-09-01T00:00:00Z', 'to'],
    ] as const) {
      const res = await t.request('GET', `/api/v1/audit?${query}`);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: { code: string; details: { path: string }[] } };
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.details.map((d) => d.path)).toContain(path);
    }
  });

  it('pages through every event once, newest first, also when many share a millisecond', async () => {
    t = createTestApp();
    const reader = await makeToken(t, 'Reader', ['campaigns']);
    for (let i = 0; i < 11; i++) {
      expect((await t.request('GET', '/api/v1/campaigns', { token: reader.token })).status).toBe(200);
      if (i % 4 === 0) t.clock.advance(1);
    }
    const all = await auditLog(t, `actor=${reader.id}&limit=500`);
    expect(all.items).toHaveLength(11);
    expect(all.nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await auditLog(t, `actor=${reader.id}&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(4);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(all.items.map((e) => e.id));
    const times = all.items.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});

describe('recording never gets in the way of the request', () => {
  /** The app's database for everything, but audit writes through a port that fails or never answers. */
  function appWithAuditStore(atomic: Database['atomic']) {
    const lines: string[] = [];
    const logger = createJsonLogger('debug', (line) => lines.push(line));
    const port: { database?: Database } = {};
    const broken = {
      get db() {
        return port.database!.db;
      },
      atomic,
    } as unknown as Database;
    const app = createTestApp({ logger, audit: new BatchingAuditSink(broken, logger, 1) });
    port.database = app.database;
    return { app, lines };
  }

  it('answers in full when the audit write fails, and logs the lost event by action and request id', async () => {
    const { app, lines } = appWithAuditStore(() => Promise.reject(new Error('SQLITE_FULL: database or disk is full')));
    t = app;
    await campaignWithSupporters(t);
    const res = await t.request('GET', `/api/v1/campaigns/${SLUG}/signatures.csv`, { headers: { 'x-request-id': 'lost-event-000001' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('min-jun.kim@example.net');
    await new Promise((done) => setTimeout(done, 20));
    const failures = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.event === 'audit events not written');
    expect(failures.length).toBeGreaterThan(0);
    expect(JSON.stringify(failures)).toContain('"action":"signatures.export","actorId":"env-admin-token","requestId":"lost-event-000001"');
  });

  it('answers while the audit store has not answered at all', async () => {
    const { app } = appWithAuditStore(() => new Promise<void>(() => {}));
    t = app;
    await campaignWithSupporters(t);
    const res = await Promise.race([
      t.request('GET', `/api/v1/campaigns/${SLUG}/signatures.csv`),
      new Promise<'stalled'>((done) => setTimeout(() => done('stalled'), 2_000)),
    ]);
    expect(res).not.toBe('stalled');
    expect((res as Response).status).toBe(200);
  });
});
