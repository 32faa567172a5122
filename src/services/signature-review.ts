import { and, desc, eq, gte, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import * as v from 'valibot';
import { campaigns, fraudulentRequests, signatureBulkActions, signatures, signatureSubmissions } from '../db/schema.js';
import { type DomainPattern, parseDomainPattern } from '../lib/domains.js';
import { newId } from '../lib/ids.js';
import { type AccessNeed, assertCampaignAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound } from '../lib/service-errors.js';
import { IsoDateTime } from './schemas.js';
import { actorLabel, type Principal } from './tokens.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The longest span one sources query covers; IP hashes are kept 30 days anyway. */
const MAX_SOURCES_SPAN_MS = 31 * DAY_MS;
/** Groups read per query before merging: enough for any burst worth seeing, bounded for one that is not. */
const MAX_GROUPS_PER_QUERY = 5_000;

const IpHash = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.regex(/^[0-9a-f]{32}$/, 'must be an IP hash as listed by the sources (32 hex digits)'));

const DomainFilter = v.pipe(
  v.string(),
  v.maxLength(260, 'must be at most 260 characters'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const parsed = parseDomainPattern(dataset.value);
    if ('error' in parsed) {
      addIssue({ message: parsed.error });
      return NEVER;
    }
    return parsed;
  }),
);

const fromBeforeTo = (range: { from?: number | undefined; to?: number | undefined }) => range.from === undefined || range.to === undefined || range.from < range.to;

/**
 * Which signatures a bulk invalidation or revalidation moves: one source
 * (an IP hash or an email domain, `*.example.org` for its subdomains) and/or
 * a time range on when the request was made (`from` inclusive, `to`
 * exclusive). At least one is needed, so no call moves a whole campaign by
 * accident.
 */
export const BulkSignatureFilter = v.pipe(
  v.strictObject({
    ipHash: v.optional(IpHash),
    domain: v.optional(DomainFilter),
    from: v.optional(IsoDateTime),
    to: v.optional(IsoDateTime),
  }),
  v.forward(
    v.check((f) => !(f.ipHash !== undefined && f.domain !== undefined), 'give an IP hash or a domain, not both'),
    ['domain'],
  ),
  v.check((f) => f.ipHash !== undefined || f.domain !== undefined || f.from !== undefined || f.to !== undefined, 'give an ipHash, a domain, or a time range (from, to)'),
  v.forward(v.check((range) => fromBeforeTo(range), 'must be after from'), ['to']),
);
export type BulkSignatureFilter = v.InferOutput<typeof BulkSignatureFilter>;

/** `?from=&to=` (default: the 24 hours up to the end of the current one; at most 31 days) and `?limit=` (rows per list, default 100). */
export const SourcesQuery = v.pipe(
  v.object({
    from: v.optional(IsoDateTime),
    to: v.optional(IsoDateTime),
    limit: v.optional(v.pipe(v.string(), v.regex(/^\d+$/, 'must be a whole number'), v.transform(Number), v.minValue(1), v.maxValue(1000)), '100'),
  }),
  v.forward(v.check((range) => fromBeforeTo(range), 'must be after from'), ['to']),
  v.forward(
    v.check((q) => q.from === undefined || q.to === undefined || q.to - q.from <= MAX_SOURCES_SPAN_MS, 'must be at most 31 days after from'),
    ['to'],
  ),
);
export type SourcesQuery = v.InferOutput<typeof SourcesQuery>;

/** A campaign within the caller's reach for `need` (404 outside it, 403 for a viewer changing it). */
async function campaignIdOf(ctx: ServiceContext, slug: string, need: AccessNeed): Promise<string> {
  const [row] = await ctx.db.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!row) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, row.id, need);
  return row.id;
}

/** The end of the UTC hour an instant is in: the default end of a sources query, so that every hour listed is whole. */
export function endOfHour(now: number): number {
  return (Math.floor(now / HOUR_MS) + 1) * HOUR_MS;
}

type SourceCounts = { unconfirmed: number; confirmed: number; invalidated: number; fraudulent: number };
type SourceGroup = { hour: number; source: string } & SourceCounts;
export type SourceRow<K extends string> = { hour: string } & Record<K, string> & SourceCounts & { total: number };

/** Adds grouped counts (SQLite may return them as strings or bigints) to the groups keyed by hour and source. */
function tally(into: Map<string, SourceGroup>, rows: ({ hour: number; source: string | null } & Partial<SourceCounts>)[]) {
  for (const row of rows) {
    if (row.source === null) continue;
    const hour = Number(row.hour);
    const key = `${hour}|${row.source}`;
    let group = into.get(key);
    if (!group) into.set(key, (group = { hour, source: row.source, unconfirmed: 0, confirmed: 0, invalidated: 0, fraudulent: 0 }));
    group.unconfirmed += Number(row.unconfirmed ?? 0);
    group.confirmed += Number(row.confirmed ?? 0);
    group.invalidated += Number(row.invalidated ?? 0);
    group.fraudulent += Number(row.fraudulent ?? 0);
  }
}

function ranked<K extends string>(groups: Map<string, SourceGroup>, key: K, limit: number): SourceRow<K>[] {
  return [...groups.values()]
    .map((g) => ({ ...g, total: g.unconfirmed + g.confirmed + g.invalidated + g.fraudulent }))
    .sort((a, b) => b.total - a.total || b.hour - a.hour || a.source.localeCompare(b.source))
    .slice(0, limit)
    .map(({ hour, source, ...counts }) => ({ hour: new Date(hour * HOUR_MS).toISOString(), [key]: source, ...counts }) as SourceRow<K>);
}

/**
 * Where a campaign's signing requests came from, per UTC hour: by IP hash
 * (an IPv6 client's /64; hashes change each day) and by email domain, each
 * with the requests still unconfirmed, the signatures by status and the
 * requests kept as fraudulent, busiest first, for spotting a burst. Erased
 * signatures are left out: they have no source any more.
 */
export async function signatureSources(ctx: ServiceContext, slug: string, query: SourcesQuery) {
  const campaignId = await campaignIdOf(ctx, slug, 'read');
  const to = query.to ?? endOfHour(ctx.clock.now());
  const from = query.from ?? to - DAY_MS;
  // Inlined: a bound number is a REAL to SQLite, which would make this a division with a fraction.
  const hourOf = (column: AnySQLiteColumn) => sql<number>`${column} / ${sql.raw(String(HOUR_MS))}`;
  const domainOf = (column: AnySQLiteColumn) => sql<string | null>`substr(${column}, instr(${column}, '@') + 1)`;
  const statusCount = (status: string) => sql<number>`sum(CASE WHEN ${signatures.status} = ${status} THEN 1 ELSE 0 END)`;

  // Requests whose link is unused; a used one lives on as its signature, counted below.
  const requestsBy = (source: SQL<string | null>) =>
    ctx.db.db
      .select({ hour: hourOf(signatureSubmissions.createdAt), source, unconfirmed: sql<number>`count(*)` })
      .from(signatureSubmissions)
      .where(
        and(
          eq(signatureSubmissions.campaignId, campaignId),
          isNull(signatureSubmissions.confirmedAt),
          gte(signatureSubmissions.createdAt, from),
          lt(signatureSubmissions.createdAt, to),
          sql`${source} IS NOT NULL`,
        ),
      )
      .groupBy(sql`1`, sql`2`)
      .orderBy(desc(sql`count(*)`))
      .limit(MAX_GROUPS_PER_QUERY);
  const signaturesBy = (source: SQL<string | null>) =>
    ctx.db.db
      .select({
        hour: hourOf(signatures.createdAt),
        source,
        // Signatures left pending by versions before 0.2 wait like requests do.
        unconfirmed: statusCount('pending'),
        confirmed: statusCount('confirmed'),
        invalidated: statusCount('invalidated'),
      })
      .from(signatures)
      .where(
        and(
          eq(signatures.campaignId, campaignId),
          inArray(signatures.status, ['pending', 'confirmed', 'invalidated']),
          gte(signatures.createdAt, from),
          lt(signatures.createdAt, to),
          sql`${source} IS NOT NULL`,
        ),
      )
      .groupBy(sql`1`, sql`2`)
      .orderBy(desc(sql`count(*)`))
      .limit(MAX_GROUPS_PER_QUERY);

  const fraudulentBy = (source: SQL<string | null>) =>
    ctx.db.db
      .select({ hour: hourOf(fraudulentRequests.createdAt), source, fraudulent: sql<number>`count(*)` })
      .from(fraudulentRequests)
      .where(
        and(
          eq(fraudulentRequests.campaignId, campaignId),
          gte(fraudulentRequests.createdAt, from),
          lt(fraudulentRequests.createdAt, to),
          sql`${source} IS NOT NULL`,
        ),
      )
      .groupBy(sql`1`, sql`2`)
      .orderBy(desc(sql`count(*)`))
      .limit(MAX_GROUPS_PER_QUERY);

  const results = await Promise.all([
    requestsBy(sql`${signatureSubmissions.ipHash}`),
    signaturesBy(sql`${signatures.ipHash}`),
    fraudulentBy(sql`${fraudulentRequests.ipHash}`),
    requestsBy(domainOf(signatureSubmissions.emailNormalized)),
    signaturesBy(domainOf(signatures.emailNormalized)),
    fraudulentBy(domainOf(fraudulentRequests.emailNormalized)),
  ]);
  const [ipRequests, ipSignatures, ipFraudulent, domainRequests, domainSignatures, domainFraudulent] = results;
  const byIp = new Map<string, SourceGroup>();
  tally(byIp, ipRequests);
  tally(byIp, ipSignatures);
  tally(byIp, ipFraudulent);
  const byDomain = new Map<string, SourceGroup>();
  tally(byDomain, domainRequests);
  tally(byDomain, domainSignatures);
  tally(byDomain, domainFraudulent);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    byIpHash: ranked(byIp, 'ipHash', query.limit),
    byDomain: ranked(byDomain, 'domain', query.limit),
    /** Whether more groups matched than are listed. */
    truncated: results.some((rows) => rows.length === MAX_GROUPS_PER_QUERY) || byIp.size > query.limit || byDomain.size > query.limit,
  };
}
export type SignatureSources = Awaited<ReturnType<typeof signatureSources>>;

/** The SQL condition of a filter on "signatures" (unqualified columns, for the statements below). */
function filterCondition(filter: BulkSignatureFilter): SQL {
  const parts: SQL[] = [];
  if (filter.ipHash !== undefined) parts.push(sql`"ip_hash" = ${filter.ipHash}`);
  // Domains hold only [a-z0-9.-], so nothing in them is a LIKE wildcard; an address has one "@".
  if (filter.domain !== undefined) parts.push(sql`"email_normalized" LIKE ${domainPattern(filter.domain)}`);
  if (filter.from !== undefined) parts.push(sql`"created_at" >= ${filter.from}`);
  if (filter.to !== undefined) parts.push(sql`"created_at" < ${filter.to}`);
  return sql.join(parts, sql` AND `);
}

function domainPattern(domain: DomainPattern): string {
  return domain.subdomains ? `%@%.${domain.domain}` : `%@${domain.domain}`;
}

function storedFilter(filter: BulkSignatureFilter) {
  return {
    ...(filter.ipHash !== undefined ? { ipHash: filter.ipHash } : {}),
    ...(filter.domain !== undefined ? { domain: filter.domain.value } : {}),
    ...(filter.from !== undefined ? { from: new Date(filter.from).toISOString() } : {}),
    ...(filter.to !== undefined ? { to: new Date(filter.to).toISOString() } : {}),
  };
}

/**
 * One bulk move, in one transaction: the action is recorded with the number
 * of rows it matches, the count delta is that number, and the same rows
 * change status. Nothing can slip in between, so the count follows exactly.
 */
async function moveSignatures(
  ctx: ServiceContext,
  principal: Principal,
  slug: string,
  filter: BulkSignatureFilter,
  move: { action: 'invalidate' | 'revalidate'; matching: SQL; set: (actionId: string) => SQL; sign: 1 | -1 },
): Promise<number> {
  const campaignId = await campaignIdOf(ctx, slug, 'write');
  const now = ctx.clock.now();
  const id = newId(now);
  const where = sql`"campaign_id" = ${campaignId} AND ${move.matching} AND ${filterCondition(filter)}`;
  await ctx.db.atomic([
    ctx.db.statement(sql`INSERT INTO ${signatureBulkActions} ("id", "campaign_id", "action", "filter", "signature_count", "actor", "created_at")
      SELECT ${id}, ${campaignId}, ${move.action}, ${JSON.stringify(storedFilter(filter))}, count(*), ${actorLabel(principal)}, ${now}
      FROM ${signatures} WHERE ${where}`),
    ctx.db.statement(sql`INSERT INTO "signature_count_deltas" ("campaign_id", "delta")
      SELECT ${campaignId}, ${move.sign} * "signature_count" FROM ${signatureBulkActions} WHERE "id" = ${id} AND "signature_count" > 0`),
    ctx.db.statement(sql`UPDATE ${signatures} SET ${move.set(id)} WHERE ${where}`),
  ]);
  const [recorded] = await ctx.db.db.select({ count: signatureBulkActions.signatureCount }).from(signatureBulkActions).where(eq(signatureBulkActions.id, id));
  return recorded?.count ?? 0;
}

/**
 * Moves a campaign's confirmed signatures that match the filter to
 * `invalidated` (no longer counted, in no letter or mailing), marking each
 * with this action so that revalidation can tell them from signatures
 * invalidated any other way. Fraudulent requests are not signatures: they
 * are neither matched nor moved.
 */
export async function invalidateSignatures(ctx: ServiceContext, principal: Principal, slug: string, filter: BulkSignatureFilter): Promise<{ invalidated: number }> {
  const invalidated = await moveSignatures(ctx, principal, slug, filter, {
    action: 'invalidate',
    matching: sql`"status" = 'confirmed'`,
    set: (actionId) => sql`"status" = 'invalidated', "invalidated_by" = ${actionId}`,
    sign: -1,
  });
  return { invalidated };
}

/**
 * Moves back to `confirmed` the signatures matching the filter that a bulk
 * invalidation moved (never those invalidated any other way), counting them
 * again.
 */
export async function revalidateSignatures(ctx: ServiceContext, principal: Principal, slug: string, filter: BulkSignatureFilter): Promise<{ revalidated: number }> {
  const revalidated = await moveSignatures(ctx, principal, slug, filter, {
    action: 'revalidate',
    matching: sql`"status" = 'invalidated' AND "invalidated_by" IS NOT NULL`,
    set: () => sql`"status" = 'confirmed', "invalidated_by" = NULL`,
    sign: 1,
  });
  return { revalidated };
}

/** A campaign's recent bulk actions, newest first, for the dashboard. */
export async function listBulkActions(ctx: ServiceContext, slug: string, limit = 20) {
  const campaignId = await campaignIdOf(ctx, slug, 'read');
  const rows = await ctx.db.db
    .select()
    .from(signatureBulkActions)
    .where(eq(signatureBulkActions.campaignId, campaignId))
    .orderBy(desc(signatureBulkActions.createdAt), desc(signatureBulkActions.id))
    .limit(limit);
  return rows.map((row) => ({ id: row.id, action: row.action, filter: row.filter, signatureCount: row.signatureCount, actor: row.actor, createdAt: new Date(row.createdAt).toISOString() }));
}
