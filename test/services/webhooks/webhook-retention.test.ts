import { afterEach, describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../../../src/db/schema.js';
import { runRetention } from '../../../src/services/retention.js';
import { WEBHOOK_LOG_RETENTION_DAYS } from '../../../src/services/webhooks.js';
import { createTestApp } from '../../helpers/app.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

describe('webhook delivery log retention', () => {
  it('the retention job deletes attempts older than WEBHOOK_LOG_RETENTION_DAYS and keeps the others', async () => {
    t = createTestApp();
    const hook = await (await t.request('POST', '/api/v1/webhooks', { body: { url: 'https://crm.example.org/hook', events: ['reply.created'] } })).json();
    const now = t.clock.now();
    const day = 86_400_000;
    const attempt = (id: string, attemptedAt: number) => ({ id, webhookId: hook.id, outboxId: `o-${id}`, event: 'reply.created', attempt: 1, outcome: 'delivered' as const, statusCode: 200, durationMs: 12, error: null, attemptedAt });
    await t.database.db.insert(webhookDeliveries).values([attempt('old', now - (WEBHOOK_LOG_RETENTION_DAYS + 1) * day), attempt('recent', now - (WEBHOOK_LOG_RETENTION_DAYS - 1) * day)]);

    const report = await runRetention(t.ctx);
    expect(report.webhookAttemptsDeleted).toBe(1);
    expect((await t.database.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries)).map((row) => row.id)).toEqual(['recent']);
  });
});
