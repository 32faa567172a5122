import { and, desc, eq } from 'drizzle-orm';
import * as v from 'valibot';
import { blocklist } from '../db/schema.js';
import { emailDomain, parseBlockedEmail, parseDomainPattern } from '../lib/domains.js';
import { newId } from '../lib/ids.js';
import { type IpRange, parseBlockedRange, parseIpAddress } from '../lib/ip.js';
import { assertOrganisationAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound } from '../lib/service-errors.js';
import { SingleLine } from './schemas.js';
import { actorLabel, type Principal } from './tokens.js';

export const blocklistKinds = ['email', 'domain', 'ip'] as const;
export type BlocklistKind = (typeof blocklistKinds)[number];

/** How long the sign path trusts its copy of the list; changes made in this process apply at once. */
export const BLOCKLIST_CACHE_TTL_MS = 5_000;

/** The canonical value of an entry (what is stored and compared), or why it is refused. */
export function canonicalBlocklistValue(kind: BlocklistKind, value: string): { value: string } | { error: string } {
  if (kind === 'email') return parseBlockedEmail(value);
  if (kind === 'domain') return parseDomainPattern(value);
  const range = parseBlockedRange(value);
  return 'error' in range ? range : { value: range.value };
}

/**
 * A new entry: `email` an address, `domain` a domain (`*.example.org` for
 * its subdomains; internationalised domains are stored as punycode), `ip`
 * an address or CIDR network (a bare IPv6 address blocks its /64).
 */
export const BlocklistEntryInput = v.pipe(
  v.strictObject({
    kind: v.picklist(blocklistKinds, 'must be email, domain or ip'),
    value: v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(300, 'must be at most 300 characters')),
    note: v.optional(SingleLine(500)),
  }),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const entry = dataset.value;
    const canonical = canonicalBlocklistValue(entry.kind, entry.value);
    if ('error' in canonical) {
      addIssue({ message: canonical.error, path: [{ type: 'object', origin: 'value', input: entry, key: 'value', value: entry.value }] });
      return NEVER;
    }
    return { kind: entry.kind, value: canonical.value, note: entry.note ? entry.note : null };
  }),
);
export type BlocklistEntryInput = v.InferOutput<typeof BlocklistEntryInput>;

type BlocklistRow = typeof blocklist.$inferSelect;

function toView(row: BlocklistRow) {
  return { id: row.id, kind: row.kind, value: row.value, note: row.note, createdBy: row.createdBy, createdAt: new Date(row.createdAt).toISOString() };
}
export type BlocklistEntryView = ReturnType<typeof toView>;

/** Networks as sorted intervals, overlaps merged, searched by bisection: a long list costs a few comparisons per request. */
class Intervals<T extends number | bigint> {
  private readonly starts: T[] = [];
  private readonly ends: T[] = [];

  constructor(ranges: { first: T; last: T }[]) {
    const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    for (const { first, last } of sorted) {
      const end = this.ends.length - 1;
      // Overlapping the previous one (a network inside another, or the same twice): extend it.
      if (end >= 0 && first <= this.ends[end]!) {
        if (last > this.ends[end]!) this.ends[end] = last;
      } else {
        this.starts.push(first);
        this.ends.push(last);
      }
    }
  }

  get size(): number {
    return this.starts.length;
  }

  contains(value: T): boolean {
    let low = 0;
    let high = this.starts.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (this.starts[middle]! <= value) low = middle + 1;
      else high = middle - 1;
    }
    return high >= 0 && value <= this.ends[high]!;
  }
}

/**
 * The block list compiled for the sign path: set lookups for addresses and
 * domains (a `*.` entry is found by walking up the signer's domain), a
 * bisection of the IP ranges only when there are any.
 */
export class Blocklist {
  private readonly emails = new Set<string>();
  private readonly domains = new Set<string>();
  /** Domains whose subdomains are blocked (`*.example.org` → `example.org`). */
  private readonly parents = new Set<string>();
  private readonly v4: Intervals<number>;
  private readonly v6: Intervals<bigint>;

  constructor(entries: readonly { kind: BlocklistKind; value: string }[]) {
    const ranges: IpRange[] = [];
    for (const entry of entries) {
      if (entry.kind === 'email') this.emails.add(entry.value);
      else if (entry.kind === 'domain') {
        if (entry.value.startsWith('*.')) this.parents.add(entry.value.slice(2));
        else this.domains.add(entry.value);
      } else {
        const parsed = parseBlockedRange(entry.value);
        if (!('error' in parsed)) ranges.push(parsed.range);
      }
    }
    this.v4 = new Intervals(ranges.flatMap((r) => (r.version === 4 ? [{ first: r.first, last: r.last }] : [])));
    this.v6 = new Intervals(ranges.flatMap((r) => (r.version === 6 ? [{ first: r.first, last: r.last }] : [])));
  }

  /** Which kind of entry blocks a signing request from this address (as email_normalized) and client address, or null when none does. */
  blockedBy(emailNormalized: string, clientIp: string | null | undefined): BlocklistKind | null {
    if (this.emails.has(emailNormalized)) return 'email';
    if (this.domains.size > 0 || this.parents.size > 0) {
      const domain = emailDomain(emailNormalized);
      if (this.domains.has(domain)) return 'domain';
      for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
        if (this.parents.has(domain.slice(dot + 1))) return 'domain';
      }
    }
    if ((this.v4.size > 0 || this.v6.size > 0) && clientIp) {
      const address = parseIpAddress(clientIp);
      if (address && (address.version === 4 ? this.v4.contains(address.value) : this.v6.contains(address.value))) return 'ip';
    }
    return null;
  }
}

const CACHE_KEY = 'blocklist';

/** The block list for the sign path: from the context's cache while fresh, else read once (concurrent callers share the read). */
export function loadBlocklist(ctx: ServiceContext): Promise<Blocklist> {
  const now = ctx.clock.now();
  const cached = ctx.blocklist?.get(CACHE_KEY, now);
  if (cached) return cached;
  const loading = ctx.db.db
    .select({ kind: blocklist.kind, value: blocklist.value })
    .from(blocklist)
    .then((rows) => new Blocklist(rows));
  ctx.blocklist?.set(CACHE_KEY, loading, now);
  loading.catch(() => ctx.blocklist?.delete(CACHE_KEY));
  return loading;
}

/** Every entry, newest first (the list is short: it is kept by hand). */
export async function listBlocklist(ctx: ServiceContext): Promise<BlocklistEntryView[]> {
  assertOrganisationAccess(ctx.access);
  const rows = await ctx.db.db.select().from(blocklist).orderBy(desc(blocklist.createdAt), desc(blocklist.id));
  return rows.map(toView);
}

/** Adds an entry; signing requests it matches are kept as fraudulent requests from now on. */
export async function addBlocklistEntry(ctx: ServiceContext, principal: Principal, input: BlocklistEntryInput): Promise<BlocklistEntryView> {
  assertOrganisationAccess(ctx.access);
  const now = ctx.clock.now();
  const row: BlocklistRow = { id: newId(now), kind: input.kind, value: input.value, note: input.note, createdBy: actorLabel(principal), createdAt: now };
  await ctx.db.atomic([ctx.db.db.insert(blocklist).values(row).onConflictDoNothing()]);
  const [stored] = await ctx.db.db.select().from(blocklist).where(and(eq(blocklist.kind, input.kind), eq(blocklist.value, input.value)));
  if (stored && stored.id !== row.id) {
    throw new Conflict('ALREADY_BLOCKED', `${input.value} is already on the block list.`, { id: stored.id, path: 'value' });
  }
  ctx.blocklist?.delete(CACHE_KEY);
  return toView(stored ?? row);
}

/** Removes an entry: requests it matched stay fraudulent requests (until cleared), and the addresses they named sign as anyone does. */
export async function removeBlocklistEntry(ctx: ServiceContext, id: string): Promise<void> {
  assertOrganisationAccess(ctx.access);
  const [row] = await ctx.db.db.select({ id: blocklist.id }).from(blocklist).where(eq(blocklist.id, id));
  if (!row) throw new NotFound('Block list entry');
  await ctx.db.atomic([ctx.db.db.delete(blocklist).where(eq(blocklist.id, id))]);
  ctx.blocklist?.delete(CACHE_KEY);
}
