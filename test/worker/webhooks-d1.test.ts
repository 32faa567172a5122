import { readFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudflareD1Database } from '../../src/db/d1.js';
import { campaigns, outbox, signatures, users, webhookDeliveries, webhooks } from '../../src/db/schema.js';
import { migrationsFolder } from '../../src/entry/node.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { OutboxDelivery } from '../../src/outbox/deliver.js';
import { organisationAccess } from '../../src/services/access.js';
import type { ServiceContext } from '../../src/services/context.js';
import { WebhookSender } from '../../src/services/webhook-sender.js';
import { fetchWebhookHttp } from '../../src/lib/webhook-http.js';
import { createWebhook, webhookEventWrites } from '../../src/services/webhooks.js';
import { testKeys, testLinks, testPrivacy } from '../helpers/keys.js';
import { startReceiver } from '../services/webhooks/helpers.js';

/**
 * The webhooks lane on Cloudflare D1 (Miniflare's D1, workerd's SQLite, migrated from migrations/
 * as `wrangler d1 migrations apply` does), delivered as the Worker's queue consumer delivers it:
 * OutboxDelivery with the WebhookSender over `fetch` (fetchWebhookHttp). Every statement of the
 * lane runs on D1: the hooks' json_each pick, the guards, the claim, the attempt log, the count of
 * failures in a row and the owner's email when it disables the hook.
 */

let miniflare: Miniflare;
let onD1: CloudflareD1Database;
const clock = new ManualClock(Date.UTC(2027, 8, 1));

beforeAll(async () => {
  miniflare = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null, { status: 404 }) } }', d1Databases: ['DB'] });
  const d1 = await miniflare.getD1Database('DB');
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: { tag: string }[] };
  for (const { tag } of journal.entries) {
    for (const statement of readFileSync(`${migrationsFolder}/${tag}.sql`, 'utf8').split('--> statement-breakpoint')) if (statement.trim()) await d1.prepare(statement).run();
  }
  onD1 = new CloudflareD1Database(d1 as never);
}, 60_000);

afterAll(async () => {
  await miniflare?.dispose();
});

const ctx = () =>
  ({ db: onD1, clock, logger: silentLogger, publicUrl: testLinks.publicUrl, mailFrom: 'Signet <no-reply@signet.test>', keys: testKeys, privacy: testPrivacy, access: organisationAccess, webhookAllowPrivate: true }) as unknown as ServiceContext;

describe('the webhooks lane on D1', () => {
  it('queues, signs, retries and logs on D1; a receiver failing three times then recovering gets the event once; the hook is disabled with one email to the owner', async () => {
    const now = clock.now();
    await onD1.atomic([
      onD1.db.insert(campaigns).values({ id: 'c1', slug: 'free-them', title: 'Free them', locale: 'ja', createdAt: now, updatedAt: now }),
      onD1.db.insert(signatures).values({ id: 's1', campaignId: 'c1', name: '山田 花子', email: 'hanako@example.jp', emailNormalized: 'hanako@example.jp', country: 'JP', region: 'JP-13', locale: 'ja', nameOnLetter: 'full', updates: true, status: 'confirmed', createdAt: now, confirmedAt: now }),
      onD1.db.insert(users).values({ id: 'u1', email: 'owner@ngo.example', name: 'Owner', orgRole: 'owner', locale: 'en', createdAt: now, updatedAt: now }),
    ]);
    let secret = '';
    const receiver = await startReceiver({ secret: () => secret, now: () => clock.now(), answer: (n) => (n <= 3 ? 500 : 200) });
    try {
      const hook = await createWebhook(ctx(), { kind: 'token', id: 't1', name: 'test', scopes: ['admin'] } as never, { url: receiver.url, events: ['signature.confirmed'] });
      secret = hook.secret;
      const other = await createWebhook(ctx(), { kind: 'token', id: 't1', name: 'test', scopes: ['admin'] } as never, { url: receiver.url, events: ['reply.created'] });

      // A guard that does not hold queues nothing; the hooks not subscribed get nothing.
      await onD1.atomic(await webhookEventWrites(ctx(), 'signature.confirmed', ['s1'], { kind: 'unused-submission', id: 'no-such-submission' }));
      expect(await onD1.db.select().from(outbox)).toHaveLength(0);
      await onD1.atomic(await webhookEventWrites(ctx(), 'signature.confirmed', ['s1']));
      const queued = await onD1.db.select().from(outbox);
      expect(queued.map((row) => [row.kind, row.recipient])).toEqual([['webhook', hook.id]]);

      const delivery = (disableAfter: number) =>
        new OutboxDelivery({
          database: onD1,
          transport: { send: async () => Promise.reject(new Error('no email expected')), close: async () => undefined },
          clock,
          logger: silentLogger,
          from: 'Signet <no-reply@signet.test>',
          links: testLinks,
          owner: 'consumer-1',
          leaseMs: 60_000,
          backoff: { baseMs: 1_000, maxMs: 1_000 },
          random: () => 0,
          webhooks: new WebhookSender({ database: onD1, clock, logger: silentLogger, keys: testKeys, http: fetchWebhookHttp, allowPrivate: true, publicUrl: testLinks.publicUrl, mailFrom: 'Signet <no-reply@signet.test>', disableAfter }),
        });
      for (let i = 0; i < 6; i++) {
        await delivery(10).drain({});
        clock.advance(2_000);
      }
      expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 500, 200]);
      expect(receiver.accepted()).toHaveLength(1);
      expect(JSON.parse(receiver.accepted()[0]!.body)[0]['osdi:signature'].person).toMatchObject({ family_name: '山田', given_name: '花子', email_addresses: [{ address: 'hanako@example.jp', status: 'subscribed' }] });
      const [row] = await onD1.db.select().from(outbox).where(eq(outbox.kind, 'webhook'));
      expect(row).toMatchObject({ status: 'sent', attempts: 4, message: null });
      const log = await onD1.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, hook.id));
      expect(log.map((entry) => entry.outcome).sort()).toEqual(['delivered', 'failed', 'failed', 'failed']);
      expect((await onD1.db.select().from(webhooks).where(eq(webhooks.id, hook.id)))[0]).toMatchObject({ consecutiveFailures: 0, disabledAt: null });

      // Another event, a receiver that now only fails, a limit of 2: disabled, the owner told once.
      receiver.received.length = 0;
      await onD1.atomic(await webhookEventWrites(ctx(), 'signature.confirmed', ['s1']));
      await onD1.atomic(await webhookEventWrites(ctx(), 'signature.confirmed', ['s1']));
      secret = 'not the secret any more';
      for (let i = 0; i < 4; i++) {
        await delivery(2).drain({});
        clock.advance(2_000);
      }
      const [disabled] = await onD1.db.select().from(webhooks).where(eq(webhooks.id, hook.id));
      expect(disabled!.disabledAt).not.toBeNull();
      const emails = await onD1.db.select().from(outbox).where(eq(outbox.recipient, 'owner@ngo.example'));
      expect(emails).toHaveLength(1);
      expect((await onD1.db.select().from(webhooks).where(eq(webhooks.id, other.id)))[0]).toMatchObject({ disabledAt: null, consecutiveFailures: 0 });
    } finally {
      await receiver.close();
    }
  });
});
