import { and, desc, eq } from 'drizzle-orm';
import * as v from 'valibot';
import { blocklist } from '../db/schema.js';
import { parseBlockedEmail, parseDomainPattern } from '../lib/domains.js';
import { newId } from '../lib/ids.js';
import { parseBlockedRange } from '../lib/ip.js';
import { assertOrganisationAccess } from './access.js';
import { Blocklist, type BlocklistKind, blocklistKinds } from './blocklist-rules.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound } from '../lib/service-errors.js';
import { SingleLine } from './schemas.js';
import { actorLabel, type Principal } from './tokens.js';

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
