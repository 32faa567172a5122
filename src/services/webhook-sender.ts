/**
 * Sends one queued webhook event: composes its body from the ids it carries
 * (src/services/webhook-payloads.ts), signs it, POSTs it, and logs the
 * attempt. The outbox owns the row's fate (lease, retries with backoff, give
 * up after its attempts: src/outbox/deliver.ts); this owns the hook's: the
 * delivery log, the failures in a row, and disabling the hook, with an email
 * to the organisation's owners, once they reach the limit.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database, WriteStatement } from '../db/database.js';
import { users, webhooks } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { Keyring } from '../lib/keyring.js';
import type { Logger } from '../lib/logger.js';
import { maskAddressesIn } from '../lib/mask.js';
import { newMessageId } from '../mail/messages.js';
import { outboxStore } from '../outbox/outbox-store.js';
import type { ClaimedRow, WebhookDelivery, WebhookOutcome } from '../outbox/types.js';
import { composeWebhookDisabledEmail } from '../mail/webhook-disabled-email.js';
import { composeWebhookBody } from './webhook-payloads.js';
import { openWebhookSecret, webhookSignature } from './webhook-secrets.js';
import { webhookUrlProblem } from '../lib/webhook-targets.js';
import { type WebhookHttp, WebhookHttpError } from '../lib/webhook-http.js';
import { WEBHOOK_DISABLE_AFTER_FAILURES, type WebhookEventInput } from './webhooks.js';

export type WebhookSenderDeps = {
  database: Database;
  clock: Clock;
  logger: Logger;
  /** Opens the hooks' sealed secrets. */
  keys: Keyring;
  http: WebhookHttp;
  /** WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
  /** PUBLIC_URL, for the link in the email telling the owner a hook was disabled. */
  publicUrl: string;
  /** MAIL_FROM, for that email's Message-ID. */
  mailFrom: string;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Failed attempts in a row before the hook is disabled (default WEBHOOK_DISABLE_AFTER_FAILURES). */
  disableAfter?: number;
};

const maxErrorLength = 300;

/** One delivered attempt waiting for the write that logs it. */
type DeliveredEntry = { id: string; webhookId: string; outboxId: string; event: string; attempt: number; statusCode: number; durationMs: number };

/** Delivered attempts as one JSON parameter (D1 binds at most 100); a hook deleted meanwhile keeps no log. Parameters: now, the entries. */
const LOG_DELIVERED_SQL = `INSERT INTO "webhook_deliveries" ("id", "webhook_id", "outbox_id", "event", "attempt", "outcome", "status_code", "duration_ms", "error", "attempted_at")
  SELECT json_extract(value, '$.id'), json_extract(value, '$.webhookId'), json_extract(value, '$.outboxId'), json_extract(value, '$.event'),
    json_extract(value, '$.attempt'), 'delivered', json_extract(value, '$.statusCode'), json_extract(value, '$.durationMs'), NULL, ?
  FROM json_each(?) WHERE EXISTS (SELECT 1 FROM "webhooks" WHERE "id" = json_extract(value, '$.webhookId'))`;

/** A delivery ends a run of failures. Parameters: now, the hooks' ids as one JSON array. */
const CLEAR_FAILURES_SQL = `UPDATE "webhooks" SET "consecutive_failures" = 0, "last_success_at" = ? WHERE "id" IN (SELECT value FROM json_each(?))`;

/** A receiver's URL may carry a token in its query: the email shows where, not the token. */
function withoutQuery(url: string): string {
  const shown = new URL(url);
  shown.search = '';
  shown.hash = '';
  return shown.href;
}

const LOG_ATTEMPT_SQL = `INSERT INTO "webhook_deliveries" ("id", "webhook_id", "outbox_id", "event", "attempt", "outcome", "status_code", "duration_ms", "error", "attempted_at")
  SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM "webhooks" WHERE "id" = ?)`;

/** Whether a stored outbox message is a webhook event. */
export function webhookInputOf(row: Pick<ClaimedRow, 'message'>): WebhookEventInput | null {
  const message = row.message;
  return message !== null && 'compose' in message && message.compose === 'webhook' ? (message.input as unknown as WebhookEventInput) : null;
}

/** Delivers the outbox's webhook rows (OutboxDelivery's `webhooks`), the same on Node and Workers but for its WebhookHttp. */
export class WebhookSender implements WebhookDelivery {
  private readonly timeoutMs: number;
  private readonly disableAfter: number;
  private readonly secrets = new Map<string, Promise<string | null>>();
  private delivered: { entry: DeliveredEntry; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private deliveredFlush: Promise<void> | undefined;

  constructor(private readonly deps: WebhookSenderDeps) {
    this.timeoutMs = deps.timeoutMs ?? 10_000;
    this.disableAfter = deps.disableAfter ?? WEBHOOK_DISABLE_AFTER_FAILURES;
  }

  /** One attempt at one queued event; the attempt is logged before this resolves. */
  async deliver(row: ClaimedRow): Promise<WebhookOutcome> {
    const input = webhookInputOf(row);
    if (!input) return { delivered: false, error: 'not a webhook event', permanent: true };
    const { database, clock } = this.deps;
    const attempt = row.attempts + 1;
    const [hook] = await database.db.select().from(webhooks).where(eq(webhooks.id, input.webhookId));
    if (!hook) return { delivered: false, error: 'the webhook was deleted', permanent: true };
    if (hook.disabledAt !== null) return this.drop(row, input, attempt, 'the webhook is disabled');
    const body = await composeWebhookBody(database, input, row.id);
    if (body === null) return this.drop(row, input, attempt, 'nothing to send: what the event is about is gone (erased or deleted)');
    const secret = await this.secretOf(hook);
    if (secret === null) return this.fail(hook, row, input, attempt, { error: 'the secret cannot be opened with SECRET_KEY: delete the webhook and add it again', permanent: true });
    const refused = webhookUrlProblem(hook.url, this.deps.allowPrivate);
    if (refused) return this.fail(hook, row, input, attempt, { error: `url ${refused}`, permanent: true });

    const timestamp = Math.floor(clock.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Signet-Webhooks/1',
      'signet-event': input.event,
      // The same on every attempt: a receiver that saw it already can answer 2xx and do nothing.
      'signet-delivery': row.id,
      'signet-signature': await webhookSignature(secret, timestamp, body),
    };
    // Real monotonic time: it is what the receiver took, not the injected clock's.
    const started = performance.now();
    try {
      const { status } = await this.deps.http.post({ url: hook.url, headers, body, timeoutMs: this.timeoutMs, allowPrivate: this.deps.allowPrivate });
      const durationMs = Math.round(performance.now() - started);
      if (status >= 200 && status < 300) {
        await this.recordDelivered({ id: newId(clock.now()), webhookId: hook.id, outboxId: row.id, event: input.event, attempt, statusCode: status, durationMs });
        return { delivered: true };
      }
      return this.fail(hook, row, input, attempt, { error: `the receiver answered ${status}`, permanent: false, statusCode: status, durationMs });
    } catch (error) {
      const message = error instanceof WebhookHttpError ? error.message : `unexpected ${error instanceof Error ? error.name : 'error'}`;
      return this.fail(hook, row, input, attempt, { error: message, permanent: false, durationMs: Math.round(performance.now() - started) });
    }
  }

  /** The hook's secret, opened once per sealed value (an AES-GCM open per event cost more than the HMAC). */
  private secretOf(hook: typeof webhooks.$inferSelect): Promise<string | null> {
    let secret = this.secrets.get(hook.secretSealed);
    if (!secret) {
      if (this.secrets.size >= 100) this.secrets.clear();
      secret = openWebhookSecret(this.deps.keys, hook.id, hook.secretSealed);
      this.secrets.set(hook.secretSealed, secret);
    }
    return secret;
  }

  /**
   * Logs a delivered attempt and clears its hook's failures in a row, in one
   * write with the others that finish while it commits (a commit per event
   * held the lane to about a hundred events a second: bench/webhooks.ts).
   * Resolves once committed.
   */
  private recordDelivered(entry: DeliveredEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.delivered.push({ entry, resolve, reject });
      this.deliveredFlush ??= this.flushDelivered();
    });
  }

  private async flushDelivered(): Promise<void> {
    while (this.delivered.length > 0) {
      const group = this.delivered.splice(0, 500);
      const entries = group.map(({ entry }) => entry);
      const now = this.deps.clock.now();
      try {
        await this.deps.database.atomic([
          this.deps.database.statement({ sql: LOG_DELIVERED_SQL, params: [now, JSON.stringify(entries)] }),
          this.deps.database.statement({ sql: CLEAR_FAILURES_SQL, params: [now, JSON.stringify([...new Set(entries.map((entry) => entry.webhookId))])] }),
        ]);
        for (const { resolve } of group) resolve();
      } catch (error) {
        for (const { reject } of group) reject(error);
      }
    }
    this.deliveredFlush = undefined;
  }

  /** Not sent and never will be; the hook is not to blame, so its failures in a row do not change. */
  private async drop(row: ClaimedRow, input: WebhookEventInput, attempt: number, reason: string): Promise<WebhookOutcome> {
    await this.record(row, input, attempt, { outcome: 'dropped', statusCode: null, durationMs: null, error: reason }, []);
    return { delivered: false, error: reason, permanent: true };
  }

  /** A failed attempt: logged, one more failure in a row, and at the limit the hook disabled and its owners told, in one write. */
  private async fail(
    hook: typeof webhooks.$inferSelect,
    row: ClaimedRow,
    input: WebhookEventInput,
    attempt: number,
    failure: { error: string; permanent: boolean; statusCode?: number; durationMs?: number },
  ): Promise<WebhookOutcome> {
    const { database, clock } = this.deps;
    const now = clock.now();
    const error = maskAddressesIn(failure.error).slice(0, maxErrorLength);
    const statements: WriteStatement[] = [
      database.db
        .update(webhooks)
        .set({
          consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1`,
          disabledAt: sql`CASE WHEN ${webhooks.disabledAt} IS NULL AND ${webhooks.consecutiveFailures} + 1 >= ${this.disableAfter} THEN ${now} ELSE ${webhooks.disabledAt} END`,
        })
        .where(eq(webhooks.id, hook.id)),
    ];
    // Queued with every failure, guarded: the count read above may be stale (other attempts run at
    // once), so only the write that takes the count to the limit, whichever it is, queues the emails.
    statements.push(...(await this.disabledEmails(hook, now)));
    await this.record(row, input, attempt, { outcome: 'failed', statusCode: failure.statusCode ?? null, durationMs: failure.durationMs ?? null, error }, statements);
    this.deps.logger.warn('webhook attempt failed', { webhookId: hook.id, outboxId: row.id, event: input.event, attempt, statusCode: failure.statusCode, error });
    return { delivered: false, error, permanent: failure.permanent };
  }

  /** The email to each owner that the hook was disabled, queued only if this write is the one that disabled it. */
  private async disabledEmails(hook: typeof webhooks.$inferSelect, now: number): Promise<WriteStatement[]> {
    const owners = await this.deps.database.db
      .select({ email: users.email, locale: users.locale })
      .from(users)
      .where(and(eq(users.orgRole, 'owner'), isNull(users.disabledAt)));
    const store = outboxStore({ db: this.deps.database, clock: this.deps.clock });
    return owners.flatMap((owner) => {
      const id = newId(now);
      const message = composeWebhookDisabledEmail({ locale: owner.locale, to: owner.email, hookUrl: withoutQuery(hook.url), failures: this.disableAfter, pageUrl: `${this.deps.publicUrl}/admin/webhooks/${hook.id}` });
      return store.enqueue(
        [{ id, kind: 'account', recipient: owner.email, messageId: newMessageId(this.deps.mailFrom, id), message, dueAt: now, createdAt: now }],
        { kind: 'webhook-disabled', webhookId: hook.id, failures: this.disableAfter },
      );
    });
  }

  private async record(
    row: ClaimedRow,
    input: WebhookEventInput,
    attempt: number,
    result: { outcome: 'delivered' | 'failed' | 'dropped'; statusCode: number | null; durationMs: number | null; error: string | null },
    statements: WriteStatement[],
  ): Promise<void> {
    const { database, clock } = this.deps;
    const now = clock.now();
    await database.atomic([
      ...statements,
      // A hook deleted meanwhile keeps no log.
      database.statement({
        sql: LOG_ATTEMPT_SQL,
        params: [newId(now), input.webhookId, row.id, input.event, attempt, result.outcome, result.statusCode, result.durationMs, result.error, now, input.webhookId],
      }),
    ]);
  }
}
