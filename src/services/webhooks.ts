/**
 * Signed webhooks (PRODUCT.md §13): an organisation's own tools (a CRM, a
 * spreadsheet robot) told of events as they happen. Each event is queued in
 * the outbox, one row per hook that wants it, in the same atomic write as
 * the change it reports (src/outbox/lanes.ts: the `webhooks` lane), and
 * composed, signed and POSTed when sent (src/services/webhook-sender.ts).
 * The rows carry ids only: what a payload says about a supporter is read
 * when it is sent, so an erasure or a change of consent made meanwhile is
 * what the receiver gets.
 */
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { WriteStatement } from '../db/database.js';
import { webhookDeliveries, webhooks } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { outboxStore } from '../outbox/outbox-store.js';
import type { EnqueueGuard, NewOutboxMessage } from '../outbox/types.js';
import { assertOrganisationAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound, ValidationFailed } from '../lib/service-errors.js';
import { afterCursor, decodeCursor, type PageQuery, toPage, type Page } from './pagination.js';
import { isoOrNull, SingleLine } from './schemas.js';
import { actorLabel, type Principal } from './tokens.js';
import { newWebhookSecret, sealWebhookSecret } from './webhook-secrets.js';
import { webhookUrlProblem } from '../lib/webhook-targets.js';

export const webhookEvents = ['signature.confirmed', 'signature.erased', 'mailing.finished', 'delivery.updated', 'reply.created'] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

/** What a queued event names: the object it is about, read when the event is sent. */
export type WebhookEventInput = {
  webhookId: string;
  event: WebhookEvent;
  /** The signature, mailing, delivery or reply. */
  subjectId: string;
  occurredAt: number;
};

/** After this many failed attempts in a row a hook is disabled and the owner told (about a day of retries). */
export const WEBHOOK_DISABLE_AFTER_FAILURES = 10;

/** Days a hook's delivery log keeps an attempt (the retention job deletes older ones): enough to see what went wrong last month. */
export const WEBHOOK_LOG_RETENTION_DAYS = 30;

/** `POST /api/v1/webhooks`: where to, which events, a note for organisers. */
export const CreateWebhookInput = v.strictObject({
  url: v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(2000, 'must be at most 2000 characters')),
  events: v.pipe(
    v.array(v.picklist(webhookEvents, `must be one of ${webhookEvents.join(', ')}`)),
    v.minLength(1, 'must name at least one event'),
    v.transform((events) => webhookEvents.filter((event) => events.includes(event))),
  ),
  description: v.optional(SingleLine(200)),
});
export type CreateWebhookInput = v.InferOutput<typeof CreateWebhookInput>;

type WebhookRow = typeof webhooks.$inferSelect;

function toView(row: WebhookRow) {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    createdBy: row.createdBy,
    createdAt: new Date(row.createdAt).toISOString(),
    disabledAt: isoOrNull(row.disabledAt),
    consecutiveFailures: row.consecutiveFailures,
    lastSuccessAt: isoOrNull(row.lastSuccessAt),
  };
}
export type WebhookView = ReturnType<typeof toView>;

/** Adds a hook. The secret is in this answer only: it is kept sealed and never shown again. */
export async function createWebhook(ctx: ServiceContext, principal: Principal, input: CreateWebhookInput): Promise<WebhookView & { secret: string }> {
  assertOrganisationAccess(ctx.access);
  const problem = webhookUrlProblem(input.url, ctx.webhookAllowPrivate === true);
  if (problem) throw new ValidationFailed([{ path: 'url', message: problem }]);
  const now = ctx.clock.now();
  const id = newId(now);
  const secret = newWebhookSecret();
  const row: WebhookRow = {
    id,
    url: new URL(input.url).href,
    events: [...input.events],
    description: input.description ? input.description : null,
    secretSealed: await sealWebhookSecret(ctx.keys, id, secret),
    createdBy: actorLabel(principal),
    createdAt: now,
    disabledAt: null,
    consecutiveFailures: 0,
    lastSuccessAt: null,
  };
  await ctx.db.atomic([ctx.db.db.insert(webhooks).values(row)]);
  return { ...toView(row), secret };
}

/** Every hook, newest first. */
export async function listWebhooks(ctx: ServiceContext): Promise<WebhookView[]> {
  assertOrganisationAccess(ctx.access);
  const rows = await ctx.db.db.select().from(webhooks).orderBy(desc(webhooks.createdAt), desc(webhooks.id));
  return rows.map(toView);
}

/** One hook (404 when unknown). */
export async function getWebhook(ctx: ServiceContext, id: string): Promise<WebhookView> {
  assertOrganisationAccess(ctx.access);
  return toView(await findWebhook(ctx, id));
}

async function findWebhook(ctx: ServiceContext, id: string): Promise<WebhookRow> {
  const [row] = await ctx.db.db.select().from(webhooks).where(eq(webhooks.id, id));
  if (!row) throw new NotFound('Webhook');
  return row;
}

/** Removes a hook and its delivery log; events still queued for it are given up when their turn comes. */
export async function deleteWebhook(ctx: ServiceContext, id: string): Promise<void> {
  assertOrganisationAccess(ctx.access);
  await findWebhook(ctx, id);
  await ctx.db.atomic([ctx.db.db.delete(webhooks).where(eq(webhooks.id, id))]);
}

/** Turns a disabled hook on again with a clean count of failures; events that happened while it was off are not sent. */
export async function enableWebhook(ctx: ServiceContext, id: string): Promise<WebhookView> {
  assertOrganisationAccess(ctx.access);
  await findWebhook(ctx, id);
  await ctx.db.atomic([ctx.db.db.update(webhooks).set({ disabledAt: null, consecutiveFailures: 0 }).where(eq(webhooks.id, id))]);
  return toView(await findWebhook(ctx, id));
}

type DeliveryRow = typeof webhookDeliveries.$inferSelect;
function toDeliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    deliveryId: row.outboxId,
    event: row.event,
    attempt: row.attempt,
    outcome: row.outcome,
    statusCode: row.statusCode,
    durationMs: row.durationMs,
    error: row.error,
    attemptedAt: new Date(row.attemptedAt).toISOString(),
  };
}
export type WebhookDeliveryView = ReturnType<typeof toDeliveryView>;

/** A hook's delivery log, newest attempt first. */
export async function listWebhookDeliveries(ctx: ServiceContext, id: string, query: PageQuery): Promise<Page<WebhookDeliveryView>> {
  assertOrganisationAccess(ctx.access);
  await findWebhook(ctx, id);
  const after = decodeCursor(query.cursor);
  const rows = await ctx.db.db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, id), afterCursor(webhookDeliveries.attemptedAt, webhookDeliveries.id, after)))
    .orderBy(desc(webhookDeliveries.attemptedAt), desc(webhookDeliveries.id))
    .limit(query.limit + 1);
  return toPage(
    rows.map((row) => ({ ...row, createdAt: row.attemptedAt })),
    query.limit,
    toDeliveryView,
  );
}

/**
 * The outbox rows that tell every enabled hook subscribed to `event` about
 * `subjectIds`, for the caller's atomic write (applied only if `onlyIf`
 * holds when it runs). The hooks are read first: a hook added while the
 * write runs starts with the next event.
 */
export async function webhookEventWrites(
  ctx: ServiceContext,
  event: WebhookEvent,
  subjectIds: readonly string[],
  onlyIf?: EnqueueGuard,
): Promise<WriteStatement[]> {
  if (subjectIds.length === 0) return [];
  const hooks = await ctx.db.db
    .select({ id: webhooks.id })
    .from(webhooks)
    .where(and(isNull(webhooks.disabledAt), sql`exists (select 1 from json_each(${webhooks.events}) where value = ${event})`));
  if (hooks.length === 0) return [];
  const now = ctx.clock.now();
  const messages: NewOutboxMessage[] = hooks.flatMap((hook) =>
    subjectIds.map((subjectId) => {
      const id = newId(now);
      const input: WebhookEventInput = { webhookId: hook.id, event, subjectId, occurredAt: now };
      return { id, kind: 'webhook', recipient: hook.id, messageId: `<${id}@webhook.signet>`, message: { compose: 'webhook', input }, dueAt: now, createdAt: now };
    }),
  );
  return outboxStore(ctx).enqueue(messages, onlyIf);
}
