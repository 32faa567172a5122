import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox } from '../../../src/db/schema.js';
import { composeWebhookBody } from '../../../src/services/webhook-payloads.js';
import type { WebhookEventInput } from '../../../src/services/webhooks.js';
import { deliver, setupLetters, SLUG, type TestApp } from '../deliveries/helpers.js';
import { createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, sendDue, signature } from '../../helpers/signing.js';
import { createRunner, scheduleUpdate, seedSupporters, SEND_AT, SLUG as UPDATE_SLUG } from '../mailings/runner-helpers.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

/** The webhook rows queued so far, each with the body it would be sent with now. */
async function queuedEvents(t: TestApp) {
  const rows = await t.database.db.select().from(outbox).where(eq(outbox.kind, 'webhook'));
  return Promise.all(
    rows.map(async (row) => {
      const input = (row.message as unknown as { input: WebhookEventInput }).input;
      return { event: input.event, webhookId: row.recipient, body: JSON.parse((await composeWebhookBody(t.database, input, row.id))!) };
    }),
  );
}

describe('webhook events besides signatures', () => {
  it('queues delivery.updated with a print delivery moved by hand and reply.created with a reply, each only to hooks that asked', async () => {
    const setup = await setupLetters();
    t = setup.t;
    const { letters } = setup;
    const hook = await (await t.request('POST', '/api/v1/webhooks', { body: { url: 'https://crm.example.org/hook', events: ['delivery.updated', 'reply.created'] } })).json();
    const other = await (await t.request('POST', '/api/v1/webhooks', { body: { url: 'https://other.example.org/hook', events: ['mailing.finished'] } })).json();
    expect(other.id).toBeDefined();

    const { body: delivery } = await deliver(t, letters.sapporo.id, 'print');
    expect((await t.request('PATCH', `/api/v1/deliveries/${delivery.id}`, { body: { status: 'printed' } })).status).toBe(200);
    const reply = await t.request('POST', `/api/v1/targets/${letters.sapporo.targetId}/replies`, {
      body: { campaign: SLUG, receivedAt: '2027-08-31', channel: 'post', summary: 'The consulate acknowledged the letter.' },
    });
    expect(reply.status).toBe(201);
    const replyId = (await reply.json()).id;

    const events = await queuedEvents(t);
    expect(events.map((e) => [e.event, e.webhookId])).toEqual([
      ['delivery.updated', hook.id],
      ['reply.created', hook.id],
    ]);
    expect(events[0]!.body).toMatchObject({
      event: 'delivery.updated',
      data: { delivery: { id: delivery.id, channel: 'print', status: 'printed', campaign: SLUG, target: { id: letters.sapporo.targetId } } },
    });
    expect(events[1]!.body).toMatchObject({
      event: 'reply.created',
      data: { reply: { id: replyId, receivedOn: '2027-08-31', channel: 'post', summary: 'The consulate acknowledged the letter.', campaign: SLUG } },
    });

    // A change refused (an impossible transition) queues nothing.
    expect((await t.request('PATCH', `/api/v1/deliveries/${delivery.id}`, { body: { status: 'delivered' } })).status).toBe(409);
    expect(await queuedEvents(t)).toHaveLength(2);
  });

  it('queues mailing.finished once, by the runner write that finished the mailing', async () => {
    t = createTestApp();
    await seedSupporters(t, 3);
    const { id } = await scheduleUpdate(t);
    const hook = await (await t.request('POST', '/api/v1/webhooks', { body: { url: 'https://crm.example.org/hook', events: ['mailing.finished'] } })).json();
    const runner = createRunner(t);
    t.clock.set(SEND_AT);
    expect(await runner.tick()).toMatchObject({ queued: 3, finished: 0 });
    expect(await queuedEvents(t)).toHaveLength(0);
    await sendDue(t);
    expect(await runner.tick()).toMatchObject({ finished: 1 });
    expect(await runner.tick()).toMatchObject({ finished: 0 });

    const events = await queuedEvents(t);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event: 'mailing.finished',
      webhookId: hook.id,
      body: { event: 'mailing.finished', data: { mailing: { id, kind: 'update', status: 'finished', campaign: UPDATE_SLUG, total: 3, sent: 3, failed: 0 } } },
    });
  });

  it('queues signature.confirmed once per confirmation: the same link used twice, or a write that fails, queues nothing more', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    await (await t.request('POST', '/api/v1/webhooks', { body: { url: 'https://crm.example.org/hook', events: ['signature.confirmed'] } })).json();
    expect((await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature('jane@example.org') })).status).toBe(202);
    const token = await latestConfirmToken(t, 'jane@example.org');

    // The confirmation's write fails (the event is one of its statements): nothing is queued, and the link still works after.
    const atomic = t.database.atomic.bind(t.database);
    t.database.atomic = async () => {
      throw new Error('disk full');
    };
    expect((await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } })).status).toBe(500);
    t.database.atomic = atomic;
    expect(await queuedEvents(t)).toHaveLength(0);

    for (let i = 0; i < 2; i++) expect((await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } })).status).toBe(200);
    const events = await queuedEvents(t);
    expect(events.map((e) => e.event)).toEqual(['signature.confirmed']);
    expect(events[0]!.body[0]['osdi:signature'].person.email_addresses).toEqual([{ address: 'jane@example.org', primary: true, status: 'unsubscribed' }]);
  });
});
