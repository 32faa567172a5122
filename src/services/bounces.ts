import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { bounces, deliveries, emailSuppressions } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { lastSentLetterEmail, outboxIdsByMessageId } from '../outbox/outbox-lookups.js';
import { assertOrganisationAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound, ValidationFailed, type FieldIssue } from '../lib/service-errors.js';
import { decodeCursor, PageQuery, toPage, type Page } from './pagination.js';
import { normalizeEmail } from './signatures.js';

/** Soft bounces for one address within this window, at or above this count, suppress it like a hard bounce. */
export const SOFT_BOUNCE_LIMIT = 3;
export const SOFT_BOUNCE_WINDOW_MS = 30 * 24 * 3_600_000;
export const MAX_BOUNCES_PER_REQUEST = 1000;

const Email = v.pipe(v.string(), v.trim(), v.maxLength(254), v.email('must be an email address'));

export const BounceReport = v.object({
  email: Email,
  kind: v.picklist(['hard', 'soft'], 'must be "hard" or "soft"'),
  /** The Message-ID of the bounced message, with or without its angle brackets. */
  messageId: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(998), v.regex(/^[^\s<>]+$|^<[^\s<>]+>$/, 'must be a Message-ID'))),
  diagnostic: v.optional(v.pipe(v.string(), v.maxLength(1000))),
});
export type BounceReport = v.InferOutput<typeof BounceReport>;

export const BounceBatch = v.object({
  bounces: v.pipe(v.array(BounceReport), v.minLength(1, 'must hold at least one bounce'), v.maxLength(MAX_BOUNCES_PER_REQUEST, `must hold at most ${MAX_BOUNCES_PER_REQUEST} bounces`)),
});

/** One report `{ email, kind, … }` or a batch `{ bounces: [...] }`: the batch form is recognised by its `bounces` key. */
export function parseBounceInput(body: unknown): BounceReport[] {
  const batch = typeof body === 'object' && body !== null && 'bounces' in body;
  const result = batch ? v.safeParse(BounceBatch, body) : v.safeParse(BounceReport, body);
  if (!result.success) {
    throw new ValidationFailed(result.issues.map((issue): FieldIssue => ({ path: v.getDotPath(issue) ?? '', message: issue.message })));
  }
  return batch ? (result.output as v.InferOutput<typeof BounceBatch>).bounces : [result.output as BounceReport];
}

export const BounceListQuery = v.object({
  ...PageQuery.entries,
  email: v.optional(Email),
});
export type BounceListQuery = v.InferOutput<typeof BounceListQuery>;

export type BounceView = {
  id: string;
  email: string;
  kind: 'hard' | 'soft';
  messageId: string | null;
  outboxId: string | null;
  diagnostic: string | null;
  createdAt: string;
};

export type SuppressionView = { email: string; reason: 'hard_bounce' | 'complaint' | 'manual'; detail: string | null; createdAt: string };

// D1 allows 100 bound parameters per statement; IN lists are read in chunks below that.
const IN_CHUNK = 90;

function chunks<T>(values: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += IN_CHUNK) out.push(values.slice(i, i + IN_CHUNK));
  return out;
}

function bracketed(messageId: string): string {
  return messageId.startsWith('<') ? messageId : `<${messageId}>`;
}

/**
 * Marks the letter delivery a bounce is about as `bounced`, with the
 * diagnostic as its last error: the one whose email has the reported
 * Message-ID, or, without one, the last letter emailed to the reported
 * address. Updates and confirmations carry no delivery, so nothing changes for them.
 */
function bounceDeliveryStatement(ctx: ServiceContext, report: BounceReport, outboxId: string | null, now: number) {
  const lastError = report.diagnostic ?? `${report.kind} bounce`;
  const carrier = outboxId !== null ? sql`SELECT ${outboxId}` : lastSentLetterEmail(normalizeEmail(report.email));
  return ctx.db.statement(sql`UPDATE ${deliveries} SET "status" = 'bounced', "last_error" = ${lastError}, "updated_at" = ${now}
    WHERE "channel" = 'email' AND "outbox_id" = (${carrier})`);
}

/**
 * Records bounce reports (from a bounce processor or an ESP webhook). A hard
 * bounce suppresses the address at once; soft bounces are only recorded,
 * until the SOFT_BOUNCE_LIMIT-th within SOFT_BOUNCE_WINDOW_MS suppresses it
 * too (reason `hard_bounce`, the detail says why). A suppression, once made,
 * is kept as first written. A bounce of a letter emailed to a target marks
 * its delivery `bounced` (see `bounceDeliveryStatement`). All in one atomic write.
 */
export async function recordBounces(ctx: ServiceContext, reports: BounceReport[]): Promise<{ recorded: number; suppressed: string[] }> {
  assertOrganisationAccess(ctx.access);
  const now = ctx.clock.now();
  const messageIds = reports.map((report) => (report.messageId === undefined ? null : bracketed(report.messageId)));
  const outboxIds = await outboxIdsByMessageId(ctx.db, messageIds.filter((id): id is string => id !== null));

  const statements = reports.map((report, index) => {
    const messageId = messageIds[index] ?? null;
    return ctx.db.statement({
      sql: 'INSERT INTO "bounces" ("id", "email_normalized", "kind", "message_id", "outbox_id", "diagnostic", "created_at") VALUES (?, ?, ?, ?, ?, ?, ?)',
      params: [newId(now), normalizeEmail(report.email), report.kind, messageId, (messageId && outboxIds.get(messageId)) ?? null, report.diagnostic ?? null, now],
    });
  });

  statements.push(...reports.map((report, index) => bounceDeliveryStatement(ctx, report, (messageIds[index] && outboxIds.get(messageIds[index])) ?? null, now)));

  const hard = new Set(reports.filter((report) => report.kind === 'hard').map((report) => normalizeEmail(report.email)));
  const soft = new Set(reports.filter((report) => report.kind === 'soft').map((report) => normalizeEmail(report.email)).filter((email) => !hard.has(email)));
  for (const email of hard) {
    statements.push(
      ctx.db.statement({
        sql: 'INSERT INTO "email_suppressions" ("email_normalized", "reason", "detail", "created_at") VALUES (?, \'hard_bounce\', ?, ?) ON CONFLICT DO NOTHING',
        params: [email, 'hard bounce', now],
      }),
    );
  }
  // Runs after the inserts above in the same transaction, so the count includes this request's reports.
  for (const email of soft) {
    statements.push(
      ctx.db.statement({
        sql: `INSERT INTO "email_suppressions" ("email_normalized", "reason", "detail", "created_at")
SELECT ?, 'hard_bounce', ?, ? WHERE (SELECT count(*) FROM "bounces" WHERE "email_normalized" = ? AND "kind" = 'soft' AND "created_at" >= ?) >= ?
ON CONFLICT DO NOTHING`,
        params: [email, `${SOFT_BOUNCE_LIMIT} soft bounces within 30 days`, now, email, now - SOFT_BOUNCE_WINDOW_MS, SOFT_BOUNCE_LIMIT],
      }),
    );
  }
  await ctx.db.atomic(statements);

  const suppressed: string[] = [];
  for (const part of chunks([...hard, ...soft])) {
    const rows = await ctx.db.db.select({ email: emailSuppressions.emailNormalized }).from(emailSuppressions).where(inArray(emailSuppressions.emailNormalized, part));
    suppressed.push(...rows.map((row) => row.email));
  }
  return { recorded: reports.length, suppressed: suppressed.sort() };
}

/** Bounce reports, newest first; for one address when `email` is given, with its suppression if any. */
export async function listBounces(ctx: ServiceContext, query: BounceListQuery): Promise<Page<BounceView> & { suppression?: SuppressionView | null }> {
  assertOrganisationAccess(ctx.access);
  const cursor = decodeCursor(query.cursor);
  const email = query.email === undefined ? undefined : normalizeEmail(query.email);
  const conditions = [
    ...(email === undefined ? [] : [eq(bounces.emailNormalized, email)]),
    ...(cursor ? [or(lt(bounces.createdAt, cursor.createdAt), and(eq(bounces.createdAt, cursor.createdAt), lt(bounces.id, cursor.id)))] : []),
  ];
  const rows = await ctx.db.db
    .select()
    .from(bounces)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(bounces.createdAt), desc(bounces.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, (row): BounceView => ({
    id: row.id,
    email: row.emailNormalized,
    kind: row.kind,
    messageId: row.messageId,
    outboxId: row.outboxId,
    diagnostic: row.diagnostic,
    createdAt: new Date(row.createdAt).toISOString(),
  }));
  if (email === undefined) return page;
  const [suppression] = await ctx.db.db.select().from(emailSuppressions).where(eq(emailSuppressions.emailNormalized, email)).limit(1);
  return {
    ...page,
    suppression: suppression
      ? { email: suppression.emailNormalized, reason: suppression.reason, detail: suppression.detail, createdAt: new Date(suppression.createdAt).toISOString() }
      : null,
  };
}

/**
 * Lets mail go to an address again (e.g. the mailbox was fixed). Its bounce
 * history stays; soft bounces from before the lift still count toward a new
 * suppression within their window.
 */
export async function liftSuppression(ctx: ServiceContext, email: string): Promise<void> {
  assertOrganisationAccess(ctx.access);
  const normalized = normalizeEmail(email);
  const [found] = await ctx.db.db.select({ email: emailSuppressions.emailNormalized }).from(emailSuppressions).where(eq(emailSuppressions.emailNormalized, normalized)).limit(1);
  if (!found) throw new NotFound('The suppression');
  await ctx.db.atomic([ctx.db.db.delete(emailSuppressions).where(eq(emailSuppressions.emailNormalized, normalized))]);
}
