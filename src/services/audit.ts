import { and, desc, eq, gte, lt, or } from 'drizzle-orm';
import * as v from 'valibot';
import type { Database, WriteStatement } from '../db/database.js';
import { auditEvents } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import { assertOrganisationAccess } from './access.js';
import type { AuditEventInput, AuditSink, ServiceContext } from './context.js';
import { ValidationFailed } from '../lib/service-errors.js';
import { afterCursor, decodeCursor, PageQuery, toPage } from './pagination.js';
import { IsoDateTime } from './schemas.js';

const MAX_BATCH = 100;

/**
 * Collects events for a few milliseconds and writes them through the
 * Database port in one `atomic` call per batch (one insert per event, as D1
 * allows at most 100 bound values in a statement). A failed write is logged
 * with the actions and request ids it held, and dropped: an audit write must
 * never fail or slow the organiser's request. Uses only timers, so it runs on
 * Node and Workers alike.
 */
export class BatchingAuditSink implements AuditSink {
  #pending: Promise<AuditEventInput | null>[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #scheduled: Promise<void> | null = null;
  #writing: Promise<void> = Promise.resolve();
  #lastAt = 0;
  #sequence = 0;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly delayMs = 20,
  ) {}

  record(event: AuditEventInput | Promise<AuditEventInput | null>): Promise<void> {
    this.#pending.push(
      Promise.resolve(event).catch((error: unknown) => {
        this.logger.error('audit event lost', { error: error instanceof Error ? error.message : String(error) });
        return null;
      }),
    );
    if (this.#pending.length >= MAX_BATCH) return this.flush();
    this.#scheduled ??= new Promise<void>((done) => {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#scheduled = null;
        void this.flush().then(done);
      }, this.delayMs);
    });
    return this.#scheduled;
  }

  flush(): Promise<void> {
    const taken = this.#pending;
    this.#pending = [];
    // Writes follow one another, so a reader that flushes sees every earlier batch committed.
    this.#writing = this.#writing.then(() => this.#write(taken));
    return this.#writing;
  }

  /**
   * A UUIDv7 whose 12 bits after the version count up within a millisecond
   * (RFC 9562 §6.2, method 1), so events of the same millisecond list in the
   * order they were recorded rather than at random.
   */
  #idFor(at: number): string {
    this.#sequence = at === this.#lastAt ? Math.min(this.#sequence + 1, 0xfff) : 0;
    this.#lastAt = at;
    const id = newId(at);
    return `${id.slice(0, 15)}${this.#sequence.toString(16).padStart(3, '0')}${id.slice(18)}`;
  }

  async #write(taken: Promise<AuditEventInput | null>[]): Promise<void> {
    const events = (await Promise.all(taken)).filter((event): event is AuditEventInput => event !== null);
    for (let i = 0; i < events.length; i += MAX_BATCH) {
      const batch = events.slice(i, i + MAX_BATCH);
      try {
        await this.db.atomic(batch.map((event) => this.db.db.insert(auditEvents).values(toRow(event, this.#idFor(event.at)))));
      } catch (error) {
        this.logger.error('audit events not written', {
          error: error instanceof Error ? error.message : String(error),
          count: batch.length,
          events: batch.map((event) => ({ action: event.action, actorId: event.principal?.id ?? null, requestId: event.requestId })),
        });
      }
    }
  }
}

function toRow(event: AuditEventInput, id: string): typeof auditEvents.$inferInsert {
  return {
    id,
    createdAt: event.at,
    actorType: event.principal ? event.principal.kind : 'anonymous',
    actorId: event.principal?.id ?? null,
    actorName: event.principal?.name ?? null,
    action: event.action,
    objectType: event.object?.type ?? null,
    objectId: event.object?.id ?? null,
    via: event.via,
    route: event.route,
    requestId: event.requestId,
    status: event.status,
    ...(event.details ? { details: event.details } : {}),
  };
}

/**
 * An action of one of Signet's own jobs that changes what is held (the audit
 * purge, letters rendered again after an erasure, erasures applied again by a
 * restore), with its figures: counts and cut-offs, never personal data.
 */
export type SystemAuditEvent = {
  /** A dotted name, as for organiser actions (e.g. `audit.purge`). */
  action: string;
  /** The job that acted (`retention`, `letter-redaction`, `restore`): the actor's name and the route. */
  job: string;
  object?: { type: string; id: string | null };
  details: Record<string, string | number>;
};

/** The insert recording a job's action, to go in the job's own atomic write (so the record and the change commit together). */
export function systemAuditStatement(db: Database, at: number, event: SystemAuditEvent, id = newId(at)): WriteStatement {
  return db.db.insert(auditEvents).values({
    id,
    createdAt: at,
    actorType: 'system',
    actorId: null,
    actorName: event.job,
    action: event.action,
    objectType: event.object?.type ?? null,
    objectId: event.object?.id ?? null,
    via: 'job',
    route: event.job,
    requestId: id,
    status: 200,
    details: event.details,
  });
}

/** Audit events deleted per write, so the purge never holds the write lock long enough to keep anyone waiting. */
const PURGE_SLICE = 500;

/**
 * Deletes the audit events older than `before` (AUDIT_RETENTION_DAYS, run by
 * the retention job) and records the purge as an event of its own: `audit.purge`
 * with the number deleted and the cut-off. Each slice's delete and the count on
 * that record are one atomic write, so the record always says how many went,
 * even when a run is cut short. Nothing to delete: nothing written.
 */
export async function purgeAuditEvents(ctx: Pick<ServiceContext, 'db' | 'clock'>, before: number): Promise<number> {
  const [oldest] = await ctx.db.db.select({ id: auditEvents.id }).from(auditEvents).where(lt(auditEvents.createdAt, before)).limit(1);
  if (!oldest) return 0;
  const now = ctx.clock.now();
  const recordId = newId(now);
  const insertRecord = systemAuditStatement(ctx.db, now, { action: 'audit.purge', job: 'retention', details: { deleted: 0, before: new Date(before).toISOString() } }, recordId);
  const slice = `SELECT "id" FROM "audit_events" WHERE "created_at" < ? AND "id" <> ? ORDER BY "created_at", "id" LIMIT ${PURGE_SLICE}`;
  let deleted = 0;
  for (let first = true; ; first = false) {
    await ctx.db.atomic([
      ...(first ? [insertRecord] : []),
      ctx.db.statement({
        sql: `UPDATE "audit_events" SET "details" = json_set("details", '$.deleted', json_extract("details", '$.deleted') + (SELECT count(*) FROM (${slice}))) WHERE "id" = ?`,
        params: [before, recordId, recordId],
      }),
      ctx.db.statement({ sql: `DELETE FROM "audit_events" WHERE "id" IN (${slice})`, params: [before, recordId] }),
    ]);
    const [record] = await ctx.db.db.select({ details: auditEvents.details }).from(auditEvents).where(eq(auditEvents.id, recordId));
    const total = Number(record?.details?.deleted ?? 0);
    const inSlice = total - deleted;
    deleted = total;
    if (inSlice < PURGE_SLICE) return deleted;
  }
}

/** `signatures.export`, or a family: `letters.*`. */
const ActionFilter = v.pipe(v.string(), v.regex(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/, 'must be an action name like signatures.export, or a prefix like letters.*'));

export const AuditQuery = v.object({
  ...PageQuery.entries,
  action: v.optional(ActionFilter),
  /** A token id (`env-admin-token` for ADMIN_TOKEN). */
  actor: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a token id'))),
  /** Events at or after this time. */
  from: v.optional(IsoDateTime),
  /** Events before this time. */
  to: v.optional(IsoDateTime),
});
export type AuditQuery = v.InferOutput<typeof AuditQuery>;

export type AuditEventView = {
  id: string;
  at: string;
  actor: { type: 'token' | 'user' | 'anonymous' | 'system'; id: string | null; name: string | null };
  action: string;
  object: { type: string; id: string | null } | null;
  via: 'api' | 'dashboard' | 'job';
  route: string;
  requestId: string;
  status: number;
  /** A job's figures (counts, cut-off), or the variant of an organiser's action (an export's format). */
  details?: Record<string, string | number>;
};

function toView(row: typeof auditEvents.$inferSelect): AuditEventView {
  return {
    id: row.id,
    at: new Date(row.createdAt).toISOString(),
    actor: { type: row.actorType, id: row.actorId, name: row.actorName },
    action: row.action,
    object: row.objectType === null ? null : { type: row.objectType, id: row.objectId },
    via: row.via,
    route: row.route,
    requestId: row.requestId,
    status: row.status,
    ...(row.details ? { details: row.details } : {}),
  };
}

/**
 * Audit events, newest first, filtered by action (or `family.*`), actor
 * token id and time. Events this process has queued are written first, so
 * an action is listed as soon as its response has been sent.
 */
export async function listAuditEvents(ctx: ServiceContext, query: AuditQuery) {
  assertOrganisationAccess(ctx.access);
  if (query.from !== undefined && query.to !== undefined && query.from >= query.to) {
    throw new ValidationFailed([{ path: 'to', message: 'must be later than from' }]);
  }
  await ctx.audit?.flush();
  const after = decodeCursor(query.cursor);
  // A family `letters.*` is the range [`letters.`, `letters/`): '/' follows '.' in every collation SQLite uses, and the index serves it.
  const family = query.action?.endsWith('.*') ? query.action.slice(0, -1) : undefined;
  const action = family
    ? and(gte(auditEvents.action, family), lt(auditEvents.action, `${family.slice(0, -1)}/`))
    : query.action !== undefined
      ? eq(auditEvents.action, query.action)
      : undefined;
  const rows = await ctx.db.db
    .select()
    .from(auditEvents)
    .where(
      and(
        action,
        query.actor !== undefined ? eq(auditEvents.actorId, query.actor) : undefined,
        query.from !== undefined ? gte(auditEvents.createdAt, query.from) : undefined,
        query.to !== undefined ? lt(auditEvents.createdAt, query.to) : undefined,
        afterCursor(auditEvents.createdAt, auditEvents.id, after),
      ),
    )
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toView);
}
