/**
 * One reminder to a signing request still unconfirmed after
 * REMINDER_AFTER_HOURS (PRODUCT.md §13), never more, and never one that
 * could flood an inbox or lock a supporter out (§8).
 *
 * A request is reminded when all of these hold, checked by the claim itself
 * (one UPDATE per request, inside the transaction that queues the email), so
 * two runners at once, or two requests of one address, never send two:
 *   - it is unconfirmed, old enough, and its link works for at least another
 *     hour (the reminder carries the same link: the supporter's details and
 *     consent wait in that request, §8 "Consent is what the supporter
 *     confirmed", and a fresh token would need a fresh request);
 *   - it is the newest request of its address for the campaign, and no
 *     request of that address for the campaign was ever reminded: however
 *     many requests someone makes for an address, it gets one reminder per
 *     campaign;
 *   - the address was sent no reminder in the last day, for any campaign;
 *   - the campaign is open and accepting signatures, the address has no
 *     signature there (confirmed, invalidated, erased), is not suppressed
 *     (a hard bounce or a complaint) and not on the block list (a blocked
 *     request is marked never to be reminded);
 *   - the address's confirmation lane is idle: nothing of it waiting, and
 *     nothing sent to it within the CONFIRM_EMAIL_LIMIT window. The reminder
 *     goes through the lane, so that window and the global rate hold for it
 *     too; queued only into an idle window, it takes one of the window's
 *     emails, never one a supporter's own request is waiting for. Reminders
 *     take turns as one source (REMINDER_SOURCE), so a backlog of them holds
 *     a fresh link back by one turn at most.
 * A request that can never be reminded (the first two rules, or its campaign
 * closed) is settled as never (`reminded_at` 0), so runs look only at the
 * requests still waiting their turn.
 * A reminder still waiting when its request is confirmed is withdrawn in the
 * confirmation's transaction (src/services/signatures.ts); an erasure fails it
 * with every other email to the address (src/services/anonymise.ts).
 */
import { sql, type SQL } from 'drizzle-orm';
import { newId } from '../lib/ids.js';
import { type ConfirmationEmailInput, newMessageId } from '../mail/messages.js';
import type { Locale } from '../lib/locales.js';
import { outboxStore } from '../outbox/outbox-store.js';
import { REMINDER_SOURCE } from '../outbox/types.js';
import type { WriteStatement } from '../db/database.js';
import type { StoredOutboxMessage } from '../db/schema.js';
import { loadBlocklist } from './blocklist.js';
import type { ServiceContext } from './context.js';

const HOUR_MS = 3_600_000;
/** A reminder whose link would stop working sooner than this is not sent. */
const LINK_LEFT_MS = HOUR_MS;
/** Reminders to one address, over every campaign: at most one in this long. */
const PER_ADDRESS_GAP_MS = 24 * HOUR_MS;
/**
 * Reminders queued per run when the caller does not say: two statements each
 * in one transaction, a small share of the 1,000 queries a Worker's cron
 * invocation may run (D1 counts each statement of a batch).
 */
const DEFAULT_BATCH = 50;

/**
 * What makes a request ineligible besides its own columns, for the request
 * aliased `s`: a later request (in one millisecond, the one inserted later:
 * ids are random within it) or an earlier reminder for its campaign and
 * address, a reminder to the address since `dayStart`, a signature there.
 */
const stillEligible = (dayStart: number) => sql`NOT EXISTS (SELECT 1 FROM "signature_submissions" AS "n" WHERE "n"."campaign_id" = "s"."campaign_id" AND "n"."email_normalized" = "s"."email_normalized"
      AND ("n"."created_at" > "s"."created_at" OR ("n"."created_at" = "s"."created_at" AND "n"."rowid" > "s"."rowid") OR "n"."reminded_at" > 0))
  AND NOT EXISTS (SELECT 1 FROM "signature_submissions" AS "r" WHERE "r"."email_normalized" = "s"."email_normalized" AND "r"."reminded_at" > ${dayStart})
  AND NOT EXISTS (SELECT 1 FROM "signatures" AS "g" WHERE "g"."campaign_id" = "s"."campaign_id" AND "g"."email_normalized" = "s"."email_normalized" AND "g"."status" <> 'pending')`;

type DueRow = {
  id: string;
  campaign_id: string;
  email: string;
  email_normalized: string;
  locale: Locale;
  expires_at: number;
  title: string;
  translations: string | null;
  time_zone: string;
};

/** The requests due a reminder, oldest first, with what the email needs. */
function dueQuery(now: number, afterMs: number, dayStart: number, windowStart: number, batch: number): SQL {
  return sql`SELECT "s"."id", "s"."campaign_id", "s"."email", "s"."email_normalized", "s"."locale", "s"."expires_at", "c"."title", "c"."translations", "c"."time_zone"
FROM "signature_submissions" AS "s" INDEXED BY "signature_submissions_unreminded_idx"
JOIN "campaigns" AS "c" ON "c"."id" = "s"."campaign_id"
WHERE "s"."confirmed_at" IS NULL AND "s"."reminded_at" IS NULL AND "s"."created_at" <= ${now - afterMs} AND "s"."expires_at" > ${now + LINK_LEFT_MS}
  AND "c"."status" = 'open' AND ("c"."opens_at" IS NULL OR "c"."opens_at" <= ${now}) AND ("c"."closes_at" IS NULL OR "c"."closes_at" > ${now})
  AND ${stillEligible(dayStart)}
  AND NOT EXISTS (SELECT 1 FROM "email_suppressions" AS "x" WHERE "x"."email_normalized" = "s"."email_normalized")
  AND NOT EXISTS (SELECT 1 FROM "outbox" AS "o" WHERE "o"."lane_address" = "s"."email_normalized" AND ("o"."claimed_at" > ${windowStart} OR "o"."status" = 'pending'))
ORDER BY "s"."created_at"
LIMIT ${batch}`;
}

/**
 * The claim: this request is reminded by this runner, if nobody (another
 * runner, another request of the address in this run) got there first.
 */
const claimReminder = (now: number, reminderId: string, submissionId: string, dayStart: number) =>
  sql`UPDATE "signature_submissions" AS "s" SET "reminded_at" = ${now}, "reminder_id" = ${reminderId}
WHERE "s"."id" = ${submissionId} AND "s"."reminded_at" IS NULL AND "s"."confirmed_at" IS NULL AND ${stillEligible(dayStart)}`;

/** Requests settled per run as never to be reminded: one short write, however many there are. */
const SETTLE_SLICE = 500;

/**
 * Requests that can no longer be reminded whatever happens (a newer request or
 * an earlier reminder for the campaign and address, a signature there, the
 * campaign no longer open, the link about to expire) are marked never to be,
 * so each run walks only the requests still waiting for their turn, not every
 * request a surge left behind.
 */
const settleNever = (now: number, afterMs: number) => sql`UPDATE "signature_submissions" SET "reminded_at" = 0 WHERE "id" IN (
  SELECT "s"."id" FROM "signature_submissions" AS "s" INDEXED BY "signature_submissions_unreminded_idx"
  JOIN "campaigns" AS "c" ON "c"."id" = "s"."campaign_id"
  WHERE "s"."confirmed_at" IS NULL AND "s"."reminded_at" IS NULL AND "s"."created_at" <= ${now - afterMs}
    AND ("s"."expires_at" <= ${now + LINK_LEFT_MS} OR "c"."status" <> 'open' OR ("c"."closes_at" IS NOT NULL AND "c"."closes_at" <= ${now})
      OR EXISTS (SELECT 1 FROM "signature_submissions" AS "n" WHERE "n"."campaign_id" = "s"."campaign_id" AND "n"."email_normalized" = "s"."email_normalized"
        AND ("n"."created_at" > "s"."created_at" OR ("n"."created_at" = "s"."created_at" AND "n"."rowid" > "s"."rowid") OR "n"."reminded_at" > 0))
      OR EXISTS (SELECT 1 FROM "signatures" AS "g" WHERE "g"."campaign_id" = "s"."campaign_id" AND "g"."email_normalized" = "s"."email_normalized" AND "g"."status" <> 'pending'))
  LIMIT ${SETTLE_SLICE})`;

/** A blocked address's request is never reminded, and no longer looked at. */
const neverRemind = (submissionId: string) => sql`UPDATE "signature_submissions" SET "reminded_at" = 0 WHERE "id" = ${submissionId} AND "reminded_at" IS NULL`;

/**
 * Queues the reminders due now (at most `batch`), each with the same link
 * as the request's first email, in the supporter's language. Safe to run
 * from several processes at once: resolves how many this run queued, and
 * how many requests it found blocked.
 */
export async function sendReminders(ctx: ServiceContext, options: { afterMs: number; batch?: number }): Promise<{ queued: number; blocked: number }> {
  const now = ctx.clock.now();
  const dayStart = now - PER_ADDRESS_GAP_MS;
  await ctx.db.atomic([ctx.db.statement(settleNever(now, options.afterMs))]);
  const due = await ctx.db.db.all<DueRow>(dueQuery(now, options.afterMs, dayStart, now - ctx.privacy.emailsPerAddress.windowMs, options.batch ?? DEFAULT_BATCH));
  if (due.length === 0) return { queued: 0, blocked: 0 };
  const blocklist = await loadBlocklist(ctx);
  const store = outboxStore(ctx);
  const statements: WriteStatement[] = [];
  const reminderIds: string[] = [];
  let blocked = 0;
  for (const row of due) {
    if (blocklist.blockedBy(row.email_normalized, null) !== null) {
      blocked++;
      statements.push(ctx.db.statement(neverRemind(row.id)));
      continue;
    }
    const reminderId = newId(now);
    reminderIds.push(reminderId);
    const translations = row.translations ? (JSON.parse(row.translations) as Partial<Record<Locale, { title?: string }>>) : {};
    const input: ConfirmationEmailInput = {
      locale: row.locale,
      nonce: row.id,
      campaignTitle: translations[row.locale]?.title ?? row.title,
      expiresAt: row.expires_at,
      timeZone: row.time_zone,
      reminder: true,
    };
    const message: StoredOutboxMessage = { compose: 'confirmation', input };
    statements.push(
      ctx.db.statement(claimReminder(now, reminderId, row.id, dayStart)),
      ...store.enqueue(
        [
          {
            id: reminderId,
            kind: 'confirmation',
            recipient: row.email.trim(),
            messageId: newMessageId(ctx.mailFrom, reminderId),
            message,
            dueAt: now,
            createdAt: now,
            lane: { source: REMINDER_SOURCE, address: row.email_normalized, topic: row.campaign_id, expiresAt: row.expires_at },
          },
        ],
        { kind: 'reminder', submissionId: row.id, reminderId },
      ),
    );
  }
  await ctx.db.atomic(statements);
  if (reminderIds.length === 0) return { queued: 0, blocked };
  const [queued] = await ctx.db.db.all<{ n: number }>(sql`SELECT count(*) AS "n" FROM "outbox" WHERE "id" IN (SELECT value FROM json_each(${JSON.stringify(reminderIds)}))`);
  return { queued: Number(queued?.n ?? 0), blocked };
}
