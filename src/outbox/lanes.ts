/**
 * The outbox's lanes: every claim (the Node sender's, the Workers
 * dispatcher's) is shared out among the kinds of mail waiting, so a backlog
 * in one lane never starves another (the policy: src/outbox/outbox-store.ts,
 * "Lanes").
 *
 * Lanes outside the confirmation lane are sets of kinds (a row with a
 * `lane_source` is the confirmation lane's, whatever its kind). Each lane's
 * due rows are picked through outbox_kind_due_idx, one index range per kind,
 * so a claim walks at most the rows it may take in each lane (and the rows
 * still leased at the head of it), never another lane's backlog.
 *
 * Every statement runs on better-sqlite3 and on D1: the kinds are constants
 * written into the SQL (SQLite uses a partial index only when the query's
 * WHERE implies the index's), a handful of parameters per lane.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { OutboxKind } from './types.js';

/** A lane's name; `confirmations` is the confirmation lane (src/outbox/confirmation-lane.ts). */
export type LaneName = 'confirmations' | 'mailings' | 'letters' | 'account' | 'webhooks';

/**
 * The lanes outside the confirmation lane and the kinds each serves, in the
 * order they are claimed. `account` also takes a signing or privacy email
 * queued without lane terms (rows queued before the confirmation lane existed).
 */
export const KIND_LANES = [
  { name: 'mailings', kinds: ['update'] },
  { name: 'letters', kinds: ['letter-delivery'] },
  { name: 'account', kinds: ['account', 'confirmation', 'privacy'] },
  { name: 'webhooks', kinds: ['webhook'] },
] as const satisfies readonly { name: Exclude<LaneName, 'confirmations'>; kinds: readonly OutboxKind[] }[];

// Every kind has a lane: a new kind fails the type check until it is given one.
type KindsServed = (typeof KIND_LANES)[number]['kinds'][number];
const everyKindServed: [OutboxKind] extends [KindsServed] ? true : never = true;
void everyKindServed;

/**
 * Each lane's weight: its share of a claim among the lanes with work
 * waiting is weight / (sum of those lanes' weights). Equal: no kind of
 * mail may hold another back.
 */
export const LANE_WEIGHTS: Readonly<Record<LaneName, number>> = { confirmations: 1, mailings: 1, letters: 1, account: 1, webhooks: 1 };

/**
 * Shares `limit` rows among lanes, each at most what it has `waiting`, in
 * proportion to their weights; a lane's unused share passes to the others
 * (water-filling). Rounding leftovers go one each in the lanes' order.
 */
export function shareClaim(limit: number, lanes: readonly { weight: number; waiting: number }[]): number[] {
  const quotas = lanes.map(() => 0);
  let remaining = limit;
  let open = lanes.map((_, i) => i).filter((i) => lanes[i]!.waiting > 0 && lanes[i]!.weight > 0);
  while (remaining > 0 && open.length > 0) {
    const totalWeight = open.reduce((sum, i) => sum + lanes[i]!.weight, 0);
    let given = 0;
    for (const i of open) {
      const share = Math.min(lanes[i]!.waiting - quotas[i]!, Math.floor((remaining * lanes[i]!.weight) / totalWeight));
      quotas[i]! += share;
      given += share;
    }
    if (given === 0) {
      for (const i of open) {
        if (given === remaining) break;
        quotas[i]! += 1;
        given += 1;
      }
    }
    remaining -= given;
    open = open.filter((i) => quotas[i]! < lanes[i]!.waiting);
  }
  return quotas;
}

const inKinds = (kinds: readonly string[]) => kinds.map((kind) => `'${kind}'`).join(', ');

/**
 * One kind's free due rows, oldest due first: parameters now, now, how many.
 * The index is walked in due order and stops at the limit.
 */
const kindPick = (kind: string) => `SELECT "id", "next_attempt_at" FROM "outbox" INDEXED BY "outbox_kind_due_idx"
    WHERE "status" = 'pending' AND "lane_source" IS NULL AND "kind" = '${kind}' AND "next_attempt_at" <= ?
      AND ("locked_until" IS NULL OR "locked_until" < ?) ORDER BY "next_attempt_at" LIMIT ?`;

/**
 * A lane's free due rows, oldest due first: parameters (now, now, how many)
 * per kind, then how many again for a lane of several kinds. Each kind is
 * picked on its own and the picks merged: one pick of `kind IN (…)` would
 * sort every due row of the lane's kinds for each claim (with 20,000
 * signing emails queued without lane terms, the sender's claims took most
 * of the writer thread).
 */
const lanePick = (kinds: readonly string[]) =>
  kinds.length === 1
    ? `SELECT "id" FROM (${kindPick(kinds[0]!)})`
    : `SELECT "id" FROM (${kinds.map((kind) => `SELECT * FROM (${kindPick(kind)})`).join(' UNION ALL ')} ORDER BY "next_attempt_at" LIMIT ?)`;

/** The parameters of one lane's pick (see lanePick) for `quota` rows. */
const lanePickParams = (kinds: readonly string[], now: number, quota: number): number[] => [
  ...kinds.flatMap(() => [now, now, quota]),
  ...(kinds.length === 1 ? [] : [quota]),
];

/**
 * How many free due rows each kind lane has, counted up to a claim's size
 * (so the count costs what the claim would): one row, one column per lane
 * in KIND_LANES order.
 */
export function waitingQuery(now: number, limit: number): SQL {
  const counts = KIND_LANES.map(
    ({ kinds }) => sql`(SELECT count(*) FROM (SELECT 1 FROM "outbox" INDEXED BY "outbox_kind_due_idx"
      WHERE "status" = 'pending' AND "lane_source" IS NULL AND "kind" IN (${sql.raw(inKinds(kinds))}) AND "next_attempt_at" <= ${now}
        AND ("locked_until" IS NULL OR "locked_until" < ${now}) LIMIT ${limit}))`,
  );
  return sql`SELECT ${sql.join(counts, sql`, `)}`;
}

/**
 * Leases every kind lane's share in one statement (one commit), its
 * parameters from kindLanesClaimParams. A lane whose quota is 0 costs an
 * index probe per kind.
 */
export const kindLanesClaimSql = (returning: string) => `UPDATE "outbox" SET "locked_by" = ?, "locked_until" = ?
  WHERE "id" IN (${KIND_LANES.map(({ kinds }) => lanePick(kinds)).join('\n    UNION ALL ')})
  RETURNING "kind", ${returning}`;

/** The parameters of kindLanesClaimSql: the owner, the lease end, then each lane's pick of its quota (in KIND_LANES order). */
export function kindLanesClaimParams(owner: string, leaseEnd: number, now: number, quotas: readonly number[]): (string | number)[] {
  return [owner, leaseEnd, ...KIND_LANES.flatMap(({ kinds }, i) => lanePickParams(kinds, now, quotas[i] ?? 0))];
}

/** The lane of a row outside the confirmation lane, from its kind. */
export function laneOfKind(kind: string): Exclude<LaneName, 'confirmations'> {
  return KIND_LANES.find((lane) => (lane.kinds as readonly string[]).includes(kind))?.name ?? 'account';
}

/**
 * One list from the lanes' claimed rows, taking one from each lane in turn,
 * so the sends of one claim alternate between lanes instead of serving one
 * lane's share before the next one's.
 */
export function interleave<T>(lanes: readonly T[][]): T[] {
  const out: T[] = [];
  const total = lanes.reduce((sum, lane) => sum + lane.length, 0);
  for (let i = 0; out.length < total; i++) {
    for (const lane of lanes) if (i < lane.length) out.push(lane[i]!);
  }
  return out;
}
