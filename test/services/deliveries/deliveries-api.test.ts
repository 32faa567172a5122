import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveries, outbox } from '../../../src/db/schema.js';
import { deliver, EMBASSY_NAME, scopedToken, setupLetters, SLUG, type Delivery, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => {
  await t?.cleanup();
  t = undefined as unknown as TestApp;
});

async function setup() {
  const result = await setupLetters();
  t = result.t;
  return result.letters;
}

const patch = async (id: string, body: unknown, token?: string | null) => {
  const res = await t.request('PATCH', `/api/v1/deliveries/${id}`, { body, token });
  return { res, body: (await res.json()) as Delivery & { error?: { code: string; details?: unknown } } };
};

const letterDeliveryRows = () => t.database.db.select().from(outbox).where(eq(outbox.kind, 'letter-delivery'));

describe('POST /api/v1/letters/:id/deliveries', () => {
  it('honours an Idempotency-Key: one delivery and one email, 200 on the repeat, 409 for another channel or letter', async () => {
    const letters = await setup();
    const first = await deliver(t, letters.embassy.id, 'email', { key: 'order-42' });
    expect(first.res.status).toBe(201);
    expect(first.res.headers.get('idempotent-replayed')).toBeNull();
    expect(first.body).toMatchObject({ id: expect.any(String), channel: 'email', status: 'queued', letterId: letters.embassy.id });

    const again = await deliver(t, letters.embassy.id, 'email', { key: 'order-42' });
    expect(again.res.status).toBe(200);
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await t.database.db.select().from(deliveries)).toHaveLength(1);
    expect(await letterDeliveryRows()).toHaveLength(1);

    const otherChannel = await deliver(t, letters.embassy.id, 'print', { key: 'order-42' });
    expect(otherChannel.res.status).toBe(409);
    expect(otherChannel.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    const otherLetter = await deliver(t, letters.sapporo.id, 'print', { key: 'order-42' });
    expect(otherLetter.res.status).toBe(409);
    expect(otherLetter.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    expect(await t.database.db.select().from(deliveries)).toHaveLength(1);

    // Without a key, each request is a new delivery.
    const unkeyed = await deliver(t, letters.embassy.id, 'print');
    expect(unkeyed.res.status).toBe(201);
    expect(await t.database.db.select().from(deliveries)).toHaveLength(2);
  });

  it('makes one delivery when requests with the same key race', async () => {
    const letters = await setup();
    const results = await Promise.all(Array.from({ length: 5 }, () => deliver(t, letters.embassy.id, 'email', { key: 'race-1' })));
    expect(results.map((r) => r.res.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(await t.database.db.select().from(deliveries)).toHaveLength(1);
    expect(await letterDeliveryRows()).toHaveLength(1);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    const letters = await setup();
    for (const key of ['has space', 'x'.repeat(201), 'caf\u00e9', '']) {
      const { res, body } = await deliver(t, letters.embassy.id, 'print', { key });
      expect(res.status).toBe(400);
      expect(body).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'Idempotency-Key' }] } });
    }
    expect(await t.database.db.select().from(deliveries)).toHaveLength(0);
  });

  it('answers 422 TARGET_HAS_NO_EMAIL for a target without an email address, and writes nothing', async () => {
    const letters = await setup();
    const { res, body } = await deliver(t, letters.sapporo.id, 'email');
    expect(res.status).toBe(422);
    expect(body).toMatchObject({ error: { code: 'TARGET_HAS_NO_EMAIL' } });
    expect(await t.database.db.select().from(deliveries)).toHaveLength(0);
    expect(await letterDeliveryRows()).toHaveLength(0);
  });

  it('answers 401, 403, 404, 400 and 415', async () => {
    const letters = await setup();
    const anonymous = await deliver(t, letters.embassy.id, 'print', { token: null });
    expect(anonymous.res.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });

    const lettersOnly = await scopedToken(t, ['letters']);
    const forbidden = await deliver(t, letters.embassy.id, 'print', { token: lettersOnly });
    expect(forbidden.res.status).toBe(403);
    expect(forbidden.body).toMatchObject({ error: { code: 'FORBIDDEN', details: { required: 'deliveries' } } });
    for (const [method, path] of [
      ['GET', '/api/v1/deliveries'],
      ['GET', '/api/v1/print-queue'],
      ['GET', '/api/v1/deliveries/0190f7a0-0000-7000-8000-000000000000'],
    ] as const) {
      expect((await t.request(method, path, { token: lettersOnly })).status).toBe(403);
      expect((await t.request(method, path, { token: null })).status).toBe(401);
    }
    const deliveriesToken = await scopedToken(t, ['deliveries']);
    expect((await deliver(t, letters.embassy.id, 'print', { token: deliveriesToken })).res.status).toBe(201);

    const unknown = await deliver(t, '0190f7a0-0000-7000-8000-000000000000', 'print');
    expect(unknown.res.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'NOT_FOUND', message: 'Letter was not found.' } });
    expect((await deliver(t, 'not-an-id', 'print')).res.status).toBe(404);

    const badChannel = await deliver(t, letters.embassy.id, 'fax');
    expect(badChannel.res.status).toBe(400);
    expect(badChannel.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'channel' }] } });

    const extra = await t.request('POST', `/api/v1/letters/${letters.embassy.id}/deliveries`, { body: { channel: 'print', priority: 'high' } });
    expect(extra.status).toBe(400);
    expect(await extra.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });

    const notJson = await t.request('POST', `/api/v1/letters/${letters.embassy.id}/deliveries`, { raw: 'channel=print', headers: { 'content-type': 'text/plain' } });
    expect(notJson.status).toBe(415);
  });
});

describe('print deliveries', () => {
  it('lists the print queue by campaign, country and postal code, then age, with addresses and pages', async () => {
    const letters = await setup();
    const nagoya = await deliver(t, letters.nagoya.id, 'print');
    t.clock.advance(1000);
    const embassy = await deliver(t, letters.embassy.id, 'print');
    t.clock.advance(1000);
    const sapporo = await deliver(t, letters.sapporo.id, 'print');
    t.clock.advance(1000);
    const embassyAgain = await deliver(t, letters.embassy.id, 'print');
    await deliver(t, letters.embassy.id, 'email');
    const printedOne = await deliver(t, letters.sapporo.id, 'print');
    expect((await patch(printedOne.body.id, { status: 'printed' })).res.status).toBe(200);

    const res = await t.request('GET', '/api/v1/print-queue');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { id: string; letterId: string; campaign: string; pages: number; target: { name: string; postalAddress: { postalCode: string; country: string; lines: string[] } } }[] };
    expect(items.map((item) => item.id)).toEqual([sapporo.body.id, embassy.body.id, embassyAgain.body.id, nagoya.body.id]);
    expect(items.map((item) => item.target.postalAddress.postalCode)).toEqual(['064-0913', '106-0046', '106-0046', '461-0005']);
    expect(items[1]).toEqual({
      id: embassy.body.id,
      letterId: letters.embassy.id,
      campaign: SLUG,
      campaignTitle: '北朝鮮難民を救おう',
      target: {
        id: letters.embassy.targetId,
        name: EMBASSY_NAME,
        title: null,
        organisation: expect.anything(),
        postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
      },
      pages: letters.embassy.pages,
      createdAt: expect.any(String),
    });
  });

  it('moves queued → printed → posted (with a tracking number) → delivered, stamping each step', async () => {
    const letters = await setup();
    const { body: created } = await deliver(t, letters.embassy.id, 'print');
    expect(created).toMatchObject({ channel: 'print', status: 'queued', printedAt: null, trackingNumber: null });

    t.clock.advance(1000);
    const printed = await patch(created.id, { status: 'printed' });
    expect(printed.res.status).toBe(200);
    expect(printed.body).toMatchObject({ status: 'printed', printedAt: new Date(t.clock.now()).toISOString() });
    const queue = (await (await t.request('GET', '/api/v1/print-queue')).json()) as { items: unknown[] };
    expect(queue.items).toEqual([]);

    t.clock.advance(1000);
    const tooEarly = await patch(created.id, { status: 'printed', trackingNumber: 'RR123456789JP' });
    expect(tooEarly.res.status).toBe(400);
    expect(tooEarly.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path: 'trackingNumber' }] } });
    const posted = await patch(created.id, { status: 'posted', trackingNumber: '  RR123456789JP ' });
    expect(posted.res.status).toBe(200);
    expect(posted.body).toMatchObject({ status: 'posted', trackingNumber: 'RR123456789JP', postedAt: new Date(t.clock.now()).toISOString() });

    t.clock.advance(1000);
    const delivered = await patch(created.id, { status: 'delivered' });
    expect(delivered.res.status).toBe(200);
    expect(delivered.body).toMatchObject({ status: 'delivered', deliveredAt: new Date(t.clock.now()).toISOString(), trackingNumber: 'RR123456789JP' });
    expect(await (await t.request('GET', `/api/v1/deliveries/${created.id}`)).json()).toEqual(delivered.body);

    const after = await patch(created.id, { status: 'returned' });
    expect(after.res.status).toBe(409);
    expect(after.body).toMatchObject({ error: { code: 'INVALID_TRANSITION', details: { from: 'delivered', to: 'returned', allowed: [] } } });
  });

  it('allows posted → returned and refuses skipped or repeated steps with 409 INVALID_TRANSITION', async () => {
    const letters = await setup();
    const { body: created } = await deliver(t, letters.embassy.id, 'print');
    for (const status of ['posted', 'delivered', 'returned']) {
      const skipped = await patch(created.id, { status });
      expect(skipped.res.status).toBe(409);
      expect(skipped.body).toMatchObject({ error: { code: 'INVALID_TRANSITION' } });
    }
    expect((await patch(created.id, { status: 'printed' })).res.status).toBe(200);
    expect((await patch(created.id, { status: 'printed' })).res.status).toBe(409);
    expect((await patch(created.id, { status: 'posted' })).res.status).toBe(200);
    const returned = await patch(created.id, { status: 'returned' });
    expect(returned.res.status).toBe(200);
    expect(returned.body).toMatchObject({ status: 'returned', returnedAt: expect.any(String), trackingNumber: null });
  });

  it('refuses to patch an email delivery, an unknown delivery, and bad bodies', async () => {
    const letters = await setup();
    const { body: email } = await deliver(t, letters.embassy.id, 'email');
    const refused = await patch(email.id, { status: 'printed' });
    expect(refused.res.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'NOT_A_PRINT_DELIVERY' } });

    expect((await patch('0190f7a0-0000-7000-8000-000000000000', { status: 'printed' })).res.status).toBe(404);
    const { body: print } = await deliver(t, letters.embassy.id, 'print');
    for (const body of [{ status: 'sent' }, { status: 'printed', note: 'x' }, { status: 'posted', trackingNumber: 'a\nb' }, { status: 'posted', trackingNumber: 'x'.repeat(101) }, { status: 'posted', trackingNumber: ' ' }]) {
      const res = await patch(print.id, body);
      expect(res.res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
    expect((await patch(print.id, { status: 'printed' }, null)).res.status).toBe(401);
  });
});

describe('GET /api/v1/deliveries', () => {
  it('filters by status, channel and campaign and pages with a cursor, newest first', async () => {
    const letters = await setup();
    const made: string[] = [];
    for (const [letter, channel] of [
      [letters.embassy, 'email'],
      [letters.embassy, 'print'],
      [letters.sapporo, 'print'],
      [letters.nagoya, 'print'],
    ] as const) {
      made.push((await deliver(t, letter.id, channel)).body.id);
      t.clock.advance(1000);
    }
    await patch(made[2]!, { status: 'printed' });

    const list = async (query: string) => {
      const res = await t.request('GET', `/api/v1/deliveries${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as { items: Delivery[]; nextCursor: string | null };
    };
    expect((await list('')).items.map((item) => item.id)).toEqual([...made].reverse());
    expect((await list('?channel=email')).items.map((item) => item.id)).toEqual([made[0]]);
    expect((await list('?status=queued')).items.map((item) => item.id)).toEqual([made[3], made[1], made[0]]);
    expect((await list('?status=printed&channel=print')).items.map((item) => item.id)).toEqual([made[2]]);
    expect((await list(`?campaign=${SLUG}&channel=print`)).items).toHaveLength(3);
    expect((await list('?campaign=no-such-campaign')).items).toEqual([]);

    const first = await list('?limit=3');
    expect(first.items.map((item) => item.id)).toEqual([made[3], made[2], made[1]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await list(`?limit=3&cursor=${first.nextCursor}`);
    expect(second).toEqual({ items: [expect.objectContaining({ id: made[0] })], nextCursor: null });

    for (const query of ['?status=lost', '?channel=fax', '?limit=0', '?cursor=nope']) {
      const res = await t.request('GET', `/api/v1/deliveries${query}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
  });

  it('answers 404 for an unknown delivery', async () => {
    await setup();
    for (const id of ['0190f7a0-0000-7000-8000-000000000000', 'nope']) {
      const res = await t.request('GET', `/api/v1/deliveries/${id}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
  });
});
