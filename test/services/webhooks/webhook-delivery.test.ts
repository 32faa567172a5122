import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox, users, webhookDeliveries, webhooks } from '../../../src/db/schema.js';
import { renderStoredMessage } from '../../../src/mail/messages.js';
import { nodeWebhookHttp } from '../../../src/lib/node/webhook-http.js';
import { WebhookHttpError } from '../../../src/lib/webhook-http.js';
import { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';
import { openCampaign, signature } from '../../helpers/signing.js';
import { addHook, deliveryFor, drainAll, signAndConfirm, startReceiver, type TestApp, TOLERANCE_SECONDS, verifySignature } from './helpers.js';

let t: TestApp;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
  await t?.cleanup();
});

describe('webhook delivery', () => {
  it('signs each event so a receiver on 127.0.0.1 verifies it; a replay outside the window or a changed body does not verify', async () => {
    t = createTestApp({ webhookAllowPrivate: true });
    let secret = '';
    const receiver = await startReceiver({ secret: () => secret, now: () => t.clock.now() });
    closers.push(receiver.close);
    const slug = await openCampaign(t);
    secret = (await addHook(t, receiver.url, ['signature.confirmed'])).secret;

    await signAndConfirm(
      t,
      slug,
      signature('jane@example.org', { name: 'Jane Doe', consent: { nameOnLetter: 'full', showPublicly: false, updates: true }, source: { utm_source: 'newsletter' } }),
      signature('ken@example.org', { name: 'Ken Sato', city: 'Osaka', comment: 'For my family', consent: { nameOnLetter: 'none', showPublicly: false, updates: false } }),
    );
    await drainAll(t, deliveryFor(t));

    expect(receiver.received).toHaveLength(2);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const [jane, ken] = receiver.received.map((r) => ({ headers: r.headers, body: JSON.parse(r.body) }));
    expect(jane!.headers['content-type']).toBe('application/json');
    expect(jane!.headers['signet-event']).toBe('signature.confirmed');
    expect(jane!.headers['signet-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    // Action Network's shape: an array of one osdi:signature.
    expect(jane!.body).toEqual([
      {
        'osdi:signature': {
          identifiers: [expect.stringMatching(/^signet:/)],
          created_date: expect.any(String),
          modified_date: expect.any(String),
          petition: { identifiers: [`signet:campaign:${slug}`], title: 'Save North Korean refugees' },
          person: {
            given_name: 'Jane',
            family_name: 'Doe',
            email_addresses: [{ address: 'jane@example.org', primary: true, status: 'subscribed' }],
            postal_addresses: [{ region: 'JP-13', country: 'JP' }],
            languages_spoken: ['en'],
          },
          add_tags: [slug],
          referrer_data: { source: 'newsletter' },
        },
      },
    ]);
    // Consent: counted only and no updates → no name, not subscribed; never the city or comment.
    const kenPerson = ken!.body[0]['osdi:signature'].person;
    expect(kenPerson).toEqual({ email_addresses: [{ address: 'ken@example.org', primary: true, status: 'unsubscribed' }], postal_addresses: [{ region: 'JP-13', country: 'JP' }], languages_spoken: ['en'] });
    expect(JSON.stringify(ken!.body)).not.toMatch(/Ken|Sato|Osaka|family/);

    // The receiver's checks: the same request an hour later, or with its body changed, is refused.
    const captured = receiver.received[0]!;
    const header = captured.headers['signet-signature'] as string;
    const now = Math.floor(t.clock.now() / 1000);
    expect(verifySignature(secret, header, captured.body, now)).toEqual({ ok: true });
    expect(verifySignature(secret, header, captured.body, now + TOLERANCE_SECONDS + 1)).toEqual({ ok: false, why: 'stale' });
    expect(verifySignature(secret, header, captured.body.replace('subscribed', 'SUBSCRIBED'), now)).toEqual({ ok: false, why: 'bad signature' });
    expect(verifySignature('whsec_another', header, captured.body, now)).toEqual({ ok: false, why: 'bad signature' });

    // Each attempt is logged without the body.
    const log = await (await t.request('GET', `/api/v1/webhooks/${(await t.database.db.select().from(webhooks))[0]!.id}/deliveries`)).json();
    expect(log.items).toHaveLength(2);
    expect(log.items[0]).toMatchObject({ event: 'signature.confirmed', attempt: 1, outcome: 'delivered', statusCode: 200, error: null });
    expect(JSON.stringify(await t.database.db.select().from(webhookDeliveries))).not.toContain('example.org');
  });

  it('a receiver that fails three times then recovers gets each event exactly once', async () => {
    t = createTestApp({ webhookAllowPrivate: true });
    let secret = '';
    const receiver = await startReceiver({ secret: () => secret, now: () => t.clock.now(), answer: (n) => (n <= 3 ? 503 : 200) });
    closers.push(receiver.close);
    const slug = await openCampaign(t);
    const hook = await addHook(t, receiver.url, ['signature.confirmed', 'signature.erased']);
    secret = hook.secret;
    await signAndConfirm(t, slug, signature('a@example.org'), signature('b@example.org'));
    expect((await t.request('POST', '/api/v1/privacy/erasures', { body: { email: 'b@example.org' } })).status).toBe(200);

    await drainAll(t, deliveryFor(t));

    expect(receiver.received.filter((r) => r.status === 503)).toHaveLength(3);
    const accepted = receiver.accepted();
    const deliveries = accepted.map((r) => r.headers['signet-delivery']);
    expect(new Set(deliveries).size).toBe(deliveries.length);
    // a's confirmation, and b's erasure; b's confirmation, still queued when b was erased, is dropped: nothing about b goes out but that it was erased.
    expect(accepted.map((r) => r.headers['signet-event']).sort()).toEqual(['signature.confirmed', 'signature.erased']);
    expect(accepted.map((r) => r.body).join('\n')).not.toContain('b@example.org');
    const erased = JSON.parse(accepted.find((r) => r.headers['signet-event'] === 'signature.erased')!.body);
    expect(erased).toEqual([{ 'osdi:signature': { identifiers: [expect.stringMatching(/^signet:/)], modified_date: expect.any(String), 'signet:status': 'erased' } }]);

    const [stored] = await t.database.db.select().from(webhooks);
    expect(stored).toMatchObject({ consecutiveFailures: 0, disabledAt: null });
    const log = await t.database.db.select().from(webhookDeliveries);
    expect(log.filter((row) => row.outcome === 'failed').map((row) => row.statusCode)).toEqual([503, 503, 503]);
    expect(log.filter((row) => row.outcome === 'delivered')).toHaveLength(2);
    expect(log.filter((row) => row.outcome === 'dropped')).toHaveLength(1);
  });

  it('disables a hook after repeated failures, tells the owner once, and sends nothing more until enabled', async () => {
    t = createTestApp({ webhookAllowPrivate: true });
    const now = t.clock.now();
    await t.database.db.insert(users).values({ id: 'owner-1', email: 'owner@ngo.example', name: 'Owner', orgRole: 'owner', locale: 'ja', createdAt: now, updatedAt: now });
    const receiver = await startReceiver({ secret: () => '', now: () => t.clock.now(), answer: () => 500 });
    closers.push(receiver.close);
    const slug = await openCampaign(t);
    const hook = await addHook(t, `${receiver.url}?token=abc123`, ['signature.confirmed']);
    await signAndConfirm(t, slug, signature('a@example.org'), signature('b@example.org'));

    // One at a time, so the count is exact: with several in flight, those already posting when it is disabled finish.
    const delivery = deliveryFor(t, { disableAfter: 3, concurrency: 1 });
    for (let i = 0; i < 6; i++) {
      await delivery.drain({});
      t.clock.advance(2_000);
    }
    const [stored] = await t.database.db.select().from(webhooks);
    expect(stored!.disabledAt).not.toBeNull();
    expect(stored!.consecutiveFailures).toBe(3);
    // The receiver saw exactly the three attempts; the rest was dropped once the hook was off.
    expect(receiver.received).toHaveLength(3);
    const webhookRows = await t.database.db.select().from(outbox).where(eq(outbox.kind, 'webhook'));
    expect(webhookRows.map((row) => row.status)).toEqual(['failed', 'failed']);

    const emails = await t.database.db.select().from(outbox).where(eq(outbox.recipient, 'owner@ngo.example'));
    expect(emails).toHaveLength(1);
    const email = await renderStoredMessage(emails[0]!.message!, emails[0]!.recipient, testLinks);
    expect(email.subject).toBe('Webhook が無効になりました');
    expect(email.text).toContain(receiver.url);
    expect(email.text).toContain(`/admin/webhooks/${hook.id}`);
    expect(email.text).not.toContain('abc123');

    // Disabled: a new event is not even queued for it.
    await signAndConfirm(t, slug, signature('c@example.org'));
    expect(await t.database.db.select().from(outbox).where(eq(outbox.kind, 'webhook'))).toHaveLength(2);
    const enabled = await t.request('POST', `/api/v1/webhooks/${hook.id}/enable`);
    expect(await enabled.json()).toMatchObject({ disabledAt: null, consecutiveFailures: 0 });
  });

  it('refuses a loopback receiver at delivery time without WEBHOOK_ALLOW_PRIVATE, also when a name resolves to it', async () => {
    t = createTestApp({ webhookAllowPrivate: true });
    const receiver = await startReceiver({ secret: () => '', now: () => t.clock.now() });
    closers.push(receiver.close);
    const slug = await openCampaign(t);
    const hook = await addHook(t, receiver.url, ['signature.confirmed']);
    await signAndConfirm(t, slug, signature('a@example.org'));

    await drainAll(t, deliveryFor(t, { allowPrivate: false }));
    expect(receiver.received).toHaveLength(0);
    const [logged] = await t.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, hook.id));
    expect(logged).toMatchObject({ outcome: 'failed', statusCode: null });
    expect(logged!.error).toBe('url must be an https URL');

    // A name that resolves to the loopback is refused by the address the socket would use.
    const attempt = nodeWebhookHttp.post({ url: `http://localhost:${receiver.port}/hook`, headers: {}, body: '{}', timeoutMs: 5_000, allowPrivate: false });
    await expect(attempt).rejects.toBeInstanceOf(WebhookHttpError);
    await expect(attempt).rejects.toThrow(/resolves to a loopback/);
    expect(receiver.received).toHaveLength(0);
  });
});
