import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { bounces, emailSuppressions } from '../../src/db/schema.js';
import { createTestApp } from '../helpers/app.js';
import { insertOutboxRows, sampleMessage } from '../mail/helpers/outbox.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

async function tokenWith(scopes: string[]) {
  const response = await t.request('POST', '/api/v1/tokens', { body: { name: scopes.join('+'), scopes } });
  return ((await response.json()) as { token: string }).token;
}

async function suppression(email: string) {
  const [row] = await t.database.db.select().from(emailSuppressions).where(eq(emailSuppressions.emailNormalized, email));
  return row;
}

const day = 24 * 3_600_000;

describe('POST /api/v1/bounces: happy path', () => {
  it('a hard bounce is recorded against its outbox message and suppresses the normalised address', async () => {
    t = createTestApp();
    const [outboxId] = await insertOutboxRows(t.database, t.clock.now(), [sampleMessage(1)]);
    const messageId = `<${outboxId}@signet.example>`;

    const token = await tokenWith(['bounces']);
    const response = await t.request('POST', '/api/v1/bounces', {
      token,
      body: { email: '  Supporter1@Example.COM ', kind: 'hard', messageId, diagnostic: '550 5.1.1 user unknown' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ recorded: 1, suppressed: ['supporter1@example.com'] });

    const [recorded] = await t.database.db.select().from(bounces);
    expect(recorded).toMatchObject({ emailNormalized: 'supporter1@example.com', kind: 'hard', messageId, outboxId, diagnostic: '550 5.1.1 user unknown', createdAt: t.clock.now() });
    expect(await suppression('supporter1@example.com')).toMatchObject({ reason: 'hard_bounce', createdAt: t.clock.now() });
  });

  it('matches a Message-ID given without angle brackets, and leaves outboxId null for one that is not ours', async () => {
    t = createTestApp();
    const [outboxId] = await insertOutboxRows(t.database, t.clock.now(), [sampleMessage(1)]);
    const response = await t.request('POST', '/api/v1/bounces', {
      body: {
        bounces: [
          { email: 'a@example.com', kind: 'soft', messageId: `${outboxId}@signet.example` },
          { email: 'b@example.com', kind: 'soft', messageId: '<0199aaaa-0000-7000-8000-000000000000@elsewhere.example>' },
          { email: 'c@example.com', kind: 'soft', messageId: `<${outboxId}@other.example>` },
        ],
      },
    });
    expect(response.status).toBe(200);
    const listed = await (await t.request('GET', '/api/v1/bounces?limit=10')).json();
    const byEmail = Object.fromEntries(listed.items.map((item: { email: string; outboxId: string | null }) => [item.email, item.outboxId]));
    expect(byEmail).toEqual({ 'a@example.com': outboxId, 'b@example.com': null, 'c@example.com': null });
  });

  it('soft bounces are only recorded until the third within 30 days, which suppresses the address', async () => {
    t = createTestApp();
    const soft = { email: 'full@example.com', kind: 'soft', diagnostic: '452 mailbox full' };
    const old = await t.request('POST', '/api/v1/bounces', { body: soft });
    expect(await old.json()).toEqual({ recorded: 1, suppressed: [] });
    t.clock.advance(31 * day); // the first one falls out of the window
    for (let i = 0; i < 2; i++) {
      const response = await t.request('POST', '/api/v1/bounces', { body: soft });
      expect(await response.json()).toEqual({ recorded: 1, suppressed: [] });
      t.clock.advance(10 * day);
    }
    expect(await suppression('full@example.com')).toBeUndefined();
    const third = await t.request('POST', '/api/v1/bounces', { body: soft });
    expect(await third.json()).toEqual({ recorded: 1, suppressed: ['full@example.com'] });
    expect(await suppression('full@example.com')).toMatchObject({ reason: 'hard_bounce', detail: '3 soft bounces within 30 days' });
  });

  it('takes a batch in one request: three soft bounces for one address suppress it, a hard one suppresses its own', async () => {
    t = createTestApp();
    const response = await t.request('POST', '/api/v1/bounces', {
      body: {
        bounces: [
          { email: 'x@example.com', kind: 'soft' },
          { email: 'X@example.com', kind: 'soft' },
          { email: 'x@example.com ', kind: 'soft' },
          { email: 'y@example.com', kind: 'soft' },
          { email: 'z@example.com', kind: 'hard' },
          { email: 'z@example.com', kind: 'hard' },
        ],
      },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ recorded: 6, suppressed: ['x@example.com', 'z@example.com'] });
    expect(await t.database.db.select().from(bounces)).toHaveLength(6);
  });

  it('accepts 1,000 bounces in one batch', async () => {
    t = createTestApp();
    const batch = Array.from({ length: 1000 }, (_, i) => ({ email: `user${i}@example.com`, kind: i % 2 === 0 ? 'hard' : 'soft' }));
    const response = await t.request('POST', '/api/v1/bounces', { body: { bounces: batch } });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.recorded).toBe(1000);
    expect(body.suppressed).toHaveLength(500);
    expect(await t.database.db.select().from(emailSuppressions)).toHaveLength(500);
  });
});

describe('GET /api/v1/bounces and DELETE /api/v1/suppressions/:email', () => {
  it('lists an address’s bounces newest first with its suppression, page by page', async () => {
    t = createTestApp();
    for (const kind of ['soft', 'soft', 'hard']) {
      await t.request('POST', '/api/v1/bounces', { body: { email: 'k@example.com', kind, diagnostic: kind } });
      t.clock.advance(1000);
    }
    await t.request('POST', '/api/v1/bounces', { body: { email: 'other@example.com', kind: 'soft' } });

    const token = await tokenWith(['deliveries']);
    const first = await (await t.request('GET', '/api/v1/bounces?email=K%40Example.com&limit=2', { token })).json();
    expect(first.items.map((item: { diagnostic: string }) => item.diagnostic)).toEqual(['hard', 'soft']);
    expect(first.items[0]).toMatchObject({ email: 'k@example.com', kind: 'hard', messageId: null, outboxId: null });
    expect(first.suppression).toMatchObject({ email: 'k@example.com', reason: 'hard_bounce' });
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await (await t.request('GET', `/api/v1/bounces?email=k%40example.com&limit=2&cursor=${first.nextCursor}`, { token })).json();
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();

    const all = await (await t.request('GET', '/api/v1/bounces')).json();
    expect(all.items).toHaveLength(4);
    expect(all).not.toHaveProperty('suppression');
  });

  it('lifts a suppression with the admin scope only; an unknown address is 404', async () => {
    t = createTestApp();
    await t.request('POST', '/api/v1/bounces', { body: { email: 'lift@example.com', kind: 'hard' } });
    const deliveries = await tokenWith(['deliveries']);
    expect((await t.request('DELETE', '/api/v1/suppressions/lift%40example.com', { token: deliveries })).status).toBe(403);

    const lifted = await t.request('DELETE', '/api/v1/suppressions/LIFT%40example.com');
    expect(lifted.status).toBe(204);
    expect(await suppression('lift@example.com')).toBeUndefined();
    const listed = await (await t.request('GET', '/api/v1/bounces?email=lift%40example.com')).json();
    expect(listed.suppression).toBeNull();
    expect(listed.items).toHaveLength(1); // the history stays

    const again = await t.request('DELETE', '/api/v1/suppressions/lift%40example.com');
    expect(again.status).toBe(404);
    expect((await again.json()).error.code).toBe('NOT_FOUND');
  });
});

describe('bounces: errors and security', () => {
  it('answers 401 without a token and 403 without the scope: reporting needs bounces, reading needs deliveries', async () => {
    t = createTestApp();
    const body = { email: 'a@example.com', kind: 'hard' };
    const anonymous = await t.request('POST', '/api/v1/bounces', { token: null, body });
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe('UNAUTHORIZED');
    expect((await t.request('GET', '/api/v1/bounces', { token: null })).status).toBe(401);
    expect((await t.request('DELETE', '/api/v1/suppressions/a%40example.com', { token: null })).status).toBe(401);

    const campaigns = await tokenWith(['campaigns']);
    const forbidden = await t.request('POST', '/api/v1/bounces', { token: campaigns, body });
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error.code).toBe('FORBIDDEN');
    expect((await t.request('GET', '/api/v1/bounces', { token: campaigns })).status).toBe(403);

    // `deliveries` no longer implies reporting, and the webhook's own scope reads nothing.
    const deliveries = await tokenWith(['deliveries']);
    const notTheWebhook = await t.request('POST', '/api/v1/bounces', { token: deliveries, body });
    expect(notTheWebhook.status).toBe(403);
    expect((await notTheWebhook.json()).error).toMatchObject({ code: 'FORBIDDEN', details: { required: 'bounces', granted: ['deliveries'] } });
    expect((await t.request('GET', '/api/v1/bounces', { token: deliveries })).status).toBe(200);
    const webhook = await tokenWith(['bounces']);
    expect((await t.request('GET', '/api/v1/bounces', { token: webhook })).status).toBe(403);
    expect((await t.request('GET', '/api/v1/deliveries', { token: webhook })).status).toBe(403);
    expect((await t.request('DELETE', '/api/v1/suppressions/a%40example.com', { token: webhook })).status).toBe(403);
    expect(await t.database.db.select().from(bounces)).toHaveLength(0);
  });

  it('answers 400 VALIDATION_FAILED with the field path, and records nothing from an invalid batch', async () => {
    t = createTestApp();
    const cases: [unknown, string][] = [
      [{ email: 'not-an-email', kind: 'hard' }, 'email'],
      [{ email: 'a@example.com', kind: 'bouncy' }, 'kind'],
      [{ email: 'a@example.com' }, 'kind'],
      [{ email: 'a@example.com', kind: 'soft', messageId: 'two words' }, 'messageId'],
      [{ email: 'a@example.com', kind: 'soft', diagnostic: 'x'.repeat(1001) }, 'diagnostic'],
      [{ bounces: [] }, 'bounces'],
      [{ bounces: 'nope' }, 'bounces'],
      [{ bounces: [{ email: 'a@example.com', kind: 'hard' }, { email: 'b@example.com', kind: 'medium' }] }, 'bounces.1.kind'],
      [{ bounces: Array.from({ length: 1001 }, () => ({ email: 'a@example.com', kind: 'soft' })) }, 'bounces'],
    ];
    for (const [body, path] of cases) {
      const response = await t.request('POST', '/api/v1/bounces', { body });
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const json = await response.json();
      expect(json.error.code).toBe('VALIDATION_FAILED');
      expect(json.error.details.map((detail: { path: string }) => detail.path)).toContain(path);
    }
    expect((await t.request('POST', '/api/v1/bounces', { raw: '{"email":' })).status).toBe(400);
    expect((await t.request('POST', '/api/v1/bounces', { raw: '[]' })).status).toBe(400);
    expect((await t.request('GET', '/api/v1/bounces?email=nope')).status).toBe(400);
    expect((await t.request('GET', '/api/v1/bounces?cursor=zzz')).status).toBe(400);
    expect(await t.database.db.select().from(bounces)).toHaveLength(0);
  });
});
