/**
 * The confirmation lane: how signing and privacy links (outbox rows with a
 * `lane_source`) are paced, so that every request answered 202 is held and
 * its email goes out, in time, whatever else is being asked for
 * (PRODUCT.md §8, "Defer, never drop"). The limits decide WHEN a link is
 * mailed, never WHETHER its request exists; both are read from the
 * database at claim time, so they hold across processes and Workers isolates.
 *
 * The rules, applied by every claim (the Node sender's, the Workers
 * dispatcher's), in this order; the claim itself never takes an expired or
 * superseded row nor one its address's window has no room for, and a
 * clean-up (every 5 s while the lane flows, at once after a claim that left
 * due rows behind) fails the first two and defers the third:
 *   1. Expired: a row whose link expired before it could be sent fails
 *      ('expired'); the request stays held until the retention job, but a
 *      dead link is not mailed.
 *   2. Superseded: of the unsent rows from one source for one address and
 *      topic (campaign, or privacy kind), only the newest is mailed; the
 *      older fail ('superseded'). Their requests stay held: an email would
 *      only repeat, and the inbox window would be spent on repeats.
 *   3. Per-address window (CONFIRM_EMAIL_LIMIT, default 3 an hour, over every
 *      campaign and privacy links alike): a due row whose address had that
 *      many lane emails claimed within the window is deferred (pending, due
 *      when the oldest of them leaves the window, no attempt counted; out of
 *      the turn order until then, when it rejoins the current round). When
 *      the window has room, an address's rows go fewest-served source first
 *      (emails from that source to that address in the window), then oldest
 *      request first: a supporter asking from a source the attacker has not
 *      used is the next one mailed.
 *   4. Global rate (CONFIRM_EMAILS_PER_MINUTE, default 600): a claim takes at
 *      most the lane emails left in the last 60 s, and the Node sender at most
 *      what is left in the last 10 s of a sixth of the rate (paced, so a flood
 *      cannot spend a whole minute at once); rows beyond wait, due.
 *   5. Fair by source: rows go in turns (`lane_turn`, set at enqueue by two
 *      index lookups): a source's next turn after its rows still pending, or
 *      the lane's current turn (its lowest pending) if later. So sources take
 *      turns, a flood from many sources delays only itself, and a supporter
 *      who just asked is in the current round, ahead of every flood row
 *      queued for later rounds. A claim looks at the first LOOK_AHEAD free
 *      rows in turn order only, so its cost does not grow with the backlog.
 *
 * What a supporter waits, at worst:
 *   - Behind a flood (global rate): at most one email for every other source
 *     with rows in the current round, i.e. sources / CONFIRM_EMAILS_PER_MINUTE
 *     minutes (200 sources at the default: about 20 s), plus the wait for the
 *     pace to free a slot (at most 10 s) and the sender's poll (1 s) on Node;
 *     on Workers the minute's rate to free a slot (the supporter's request
 *     dispatches at once; at the latest the next minute's cron).
 *   - For an address someone else has been asking for (the window): until the
 *     window frees a slot (at most CONFIRM_EMAIL_LIMIT's window, one hour at
 *     the default, after the first of the emails that filled it), then the
 *     supporter's request goes ahead of every source already served in the
 *     window and of every request made after it. Only requests made earlier
 *     and still waiting (after superseding, at most one per source and
 *     campaign) go first: ⌈R / limit⌉ more windows for R such requests. An
 *     attacker wanting to hold a supporter back for h hours needs 3·h
 *     requests from different sources (IPv4 addresses or IPv6 /64s) or
 *     campaigns, made before the supporter's; a link not sent before it
 *     expires (CONFIRM_TOKEN_TTL_HOURS, 7 days) is not sent.
 *   - In every case an address receives at most CONFIRM_EMAIL_LIMIT lane
 *     emails per window: the inbox-flood protection is kept.
 *
 * Every statement runs on better-sqlite3 and on D1 (window functions,
 * `INDEXED BY` a partial index, no more than a handful of parameters).
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { Logger } from '../lib/logger.js';

/** CONFIRM_EMAILS_PER_MINUTE when not set. */
export const DEFAULT_CONFIRM_EMAILS_PER_MINUTE = 600;

const MINUTE_MS = 60_000;
/**
 * A sender that polls (the Node sender, every second) is also paced within
 * the minute: at most a sixth of the rate in any 10 s (so never more than the
 * rate in any minute), or a flood arriving at the top of a minute would spend
 * it all at once and a supporter asking a few seconds later would wait for
 * the rest of the minute. The Workers dispatcher is not: it runs on requests
 * and once a minute, and paced it would send a sixth of the rate a minute
 * once the requests stop; a supporter's own request makes it dispatch.
 */
const SLICE_MS = 10_000;
const SLICES_PER_MINUTE = MINUTE_MS / SLICE_MS;

/** The lane's limits, as the services' privacy settings carry them (src/services/context.ts). */
export type ConfirmationLaneLimits = {
  /** CONFIRM_EMAIL_LIMIT: lane emails per address per sliding window. */
  emailsPerAddress: { limit: number; windowMs: number };
  /** CONFIRM_EMAILS_PER_MINUTE over every address; null: no limit; absent: the default. */
  confirmEmailsPerMinute?: number | null;
};

/** The columns a claim hands back, in the order of `claimedRow` (src/outbox/outbox-store.ts). */
type Returning = string;

/**
 * How far a claim looks: the first rows in turn order, so that its cost
 * follows what it may take, not the backlog (a flood can leave tens of
 * thousands waiting). Rows it passes over for their address's window are
 * deferred, so the next claim looks further.
 */
const LOOK_AHEAD = 1000;

/**
 * The lane's next candidates: free (pending, due, no live lease) rows in turn
 * order, walked through outbox_lane_turn_idx (named: without statistics
 * SQLite prefers outbox_due_idx and sorts every due row). Parameters: now,
 * now, how many.
 */
const CANDIDATES = `SELECT "id", "rowid" AS "seq", "lane_source", "lane_address", "lane_topic", "lane_turn", "next_attempt_at", "created_at", "expires_at"
  FROM "outbox" INDEXED BY "outbox_lane_turn_idx" WHERE "status" = 'pending' AND "lane_turn" IS NOT NULL AND "next_attempt_at" <= ? AND ("locked_until" IS NULL OR "locked_until" < ?)
  ORDER BY "lane_turn" LIMIT ?`;

/**
 * Deferred rows whose window has come rejoin the lane in the current round
 * (they waited their turn already). Deferred rows are out of the turn index,
 * so however many wait, a claim never walks them. Parameter: now.
 */
const WAKE_SQL = `UPDATE "outbox" INDEXED BY "outbox_lane_deferred_idx"
  SET "lane_turn" = (SELECT coalesce(min("lane_turn"), 0) FROM "outbox" INDEXED BY "outbox_lane_turn_idx" WHERE "status" = 'pending' AND "lane_turn" IS NOT NULL)
  WHERE "status" = 'pending' AND "lane_source" IS NOT NULL AND "lane_turn" IS NULL AND "next_attempt_at" <= ?`;

/** Rule 1. Parameters: those of CANDIDATES, now. */
const EXPIRE_SQL = `UPDATE "outbox" SET "status" = 'failed', "last_error" = 'expired'
  WHERE "id" IN (SELECT "id" FROM (${CANDIDATES}) WHERE "expires_at" < ?) RETURNING 1`;

/**
 * Rule 2, among the candidates: a newer row deferred with an older one comes
 * due with it. Requests in one millisecond are told apart by insertion order
 * (rowid; ids are random within a millisecond). Parameters: those of CANDIDATES.
 */
const SUPERSEDE_SQL = `UPDATE "outbox" SET "status" = 'failed', "last_error" = 'superseded'
  WHERE "id" IN (SELECT "id" FROM (
    SELECT "id", ROW_NUMBER() OVER (PARTITION BY "lane_address", "lane_topic", "lane_source" ORDER BY "created_at" DESC, "seq" DESC) AS "newer"
    FROM (${CANDIDATES})) WHERE "newer" > 1)
  RETURNING 1`;

/** Lane emails claimed for the row's address within the window. Parameter: window start. */
const usedByAddress = (row: string) => `(SELECT count(*) FROM "outbox" AS "c" WHERE "c"."lane_address" = ${row}."lane_address" AND "c"."claimed_at" > ?)`;

/**
 * Rule 3: due when the oldest claim still counting leaves the window (the
 * limit-th most recent claim, plus the window). Parameters: window start,
 * limit − 1, window, those of CANDIDATES, window start, limit.
 */
const DEFER_SQL = `UPDATE "outbox" SET "lane_turn" = NULL, "next_attempt_at" = (
    SELECT "c"."claimed_at" FROM "outbox" AS "c" WHERE "c"."lane_address" = "outbox"."lane_address" AND "c"."claimed_at" > ?
    ORDER BY "c"."claimed_at" DESC LIMIT 1 OFFSET ?) + ?
  WHERE "id" IN (SELECT "id" FROM (${CANDIDATES}) AS "o" WHERE ${usedByAddress('"o"')} >= ?)
  RETURNING 1`;

/**
 * Rules 1 to 5 in one UPDATE, so two claimers can never both spend the same
 * budget or window, and the claim is right whenever the clean-up above last
 * ran: of the candidates, neither expired nor superseded by a newer one, those
 * their address's window has room for (its fewest-served sources first, then
 * its oldest requests), in turn order. Parameters: owner, lease end, now
 * (claimed_at), window start ×2, those of CANDIDATES, now (expiry), limit,
 * the claim's size, then (with a rate) the rate and a minute ago, the rate's
 * share of a slice and a slice ago.
 */
function claimSql(returning: Returning, withRate: boolean): string {
  const size = withRate
    ? `max(0, min(?, ? - (SELECT count(*) FROM "outbox" WHERE "claimed_at" > ?), ? - (SELECT count(*) FROM "outbox" WHERE "claimed_at" > ?)))`
    : `?`;
  return `UPDATE "outbox" SET "locked_by" = ?, "locked_until" = ?, "claimed_at" = ?
  WHERE "id" IN (
    SELECT "id" FROM (
      SELECT "id", "seq", "lane_turn", "next_attempt_at", "used",
        ROW_NUMBER() OVER (PARTITION BY "lane_address" ORDER BY "served", "created_at", "seq") AS "nth"
      FROM (
        SELECT "o".*, ${usedByAddress('"o"')} AS "used",
          (SELECT count(*) FROM "outbox" AS "c" WHERE "c"."lane_address" = "o"."lane_address" AND "c"."claimed_at" > ? AND "c"."lane_source" = "o"."lane_source") AS "served",
          ROW_NUMBER() OVER (PARTITION BY "lane_address", "lane_topic", "lane_source" ORDER BY "created_at" DESC, "seq" DESC) AS "newer"
        FROM (${CANDIDATES}) AS "o")
      WHERE "newer" = 1 AND ("expires_at" IS NULL OR "expires_at" >= ?))
    WHERE "nth" <= ? - "used"
    ORDER BY "lane_turn", "next_attempt_at", "seq"
    LIMIT ${size})
  RETURNING ${returning}`;
}

/**
 * How often the clean-up (wake, expire, supersede, defer) runs while the
 * lane flows freely; at once after a claim that left due rows behind.
 */
const CLEAN_UP_EVERY_MS = 5_000;

/** Per database (a process or an isolate): when the lane was last cleaned up, and whether the last claim left due rows behind. */
const cleanUps = new WeakMap<Database, { at: number; leftBehind: boolean }>();

/** What the lane put off since the last warning, per database (a process or an isolate). */
const putOff = new WeakMap<Database, { since: number; deferred: number; expired: number; superseded: number }>();

/**
 * Claims confirmation-lane rows under the lane's rules (see the header) for
 * `owner`, up to `limit`. Resolves the claimed rows' `returning` columns.
 */
export async function claimConfirmationLane(
  database: Database,
  limits: ConfirmationLaneLimits | undefined,
  logger: Logger | undefined,
  request: { owner: string; limit: number; leaseEnd: number; now: number; returning: Returning; paced: boolean },
): Promise<unknown[][]> {
  const { owner, limit, leaseEnd, now, returning, paced } = request;
  const perMinute = limits?.confirmEmailsPerMinute === undefined ? DEFAULT_CONFIRM_EMAILS_PER_MINUTE : limits.confirmEmailsPerMinute;
  const { limit: perAddress, windowMs } = limits?.emailsPerAddress ?? { limit: 3, windowMs: 3_600_000 };
  const windowStart = now - windowMs;
  const minuteAgo = now - MINUTE_MS;
  const sliceAgo = now - SLICE_MS;
  const perSlice = perMinute === null ? null : paced ? Math.ceil(perMinute / SLICES_PER_MINUTE) : perMinute;

  // A read first, so an idle lane, or one whose minute is spent, costs no write.
  const [state] = await database.db.all<{ due: number; used: number; usedInSlice: number }>(sql`SELECT
    (EXISTS (SELECT 1 FROM "outbox" INDEXED BY "outbox_lane_turn_idx" WHERE "status" = 'pending' AND "lane_turn" IS NOT NULL AND "next_attempt_at" <= ${now}
      AND ("locked_until" IS NULL OR "locked_until" < ${now}))
    OR EXISTS (SELECT 1 FROM "outbox" INDEXED BY "outbox_lane_deferred_idx" WHERE "status" = 'pending' AND "lane_source" IS NOT NULL AND "lane_turn" IS NULL
      AND "next_attempt_at" <= ${now})) AS "due",
    ${perMinute === null ? sql`0` : sql`(SELECT count(*) FROM "outbox" WHERE "claimed_at" > ${minuteAgo})`} AS "used",
    ${perMinute === null ? sql`0` : sql`(SELECT count(*) FROM "outbox" WHERE "claimed_at" > ${sliceAgo})`} AS "usedInSlice"`);
  if (!state || !Number(state.due)) return [];
  const room =
    perMinute === null || perSlice === null ? limit : Math.min(limit, perMinute - Number(state.used), perSlice - Number(state.usedInSlice));
  if (room <= 0) {
    await report(database, logger, now, { deferred: 0, expired: 0, superseded: 0 });
    return [];
  }

  const candidates = [now, now, LOOK_AHEAD];
  // The clean-up keeps the look-ahead clear of rows no claim may take; while every due row is taken it need not run each time.
  const last = cleanUps.get(database);
  if (!last || last.leftBehind || now - last.at >= CLEAN_UP_EVERY_MS || now < last.at) {
    await database.atomic([database.statement({ sql: WAKE_SQL, params: [now] })]);
    const expired = (await database.writeReturning({ sql: EXPIRE_SQL, params: [...candidates, now] })).length;
    const superseded = (await database.writeReturning({ sql: SUPERSEDE_SQL, params: candidates })).length;
    const deferred = (await database.writeReturning({ sql: DEFER_SQL, params: [windowStart, perAddress - 1, windowMs, ...candidates, windowStart, perAddress] })).length;
    await report(database, logger, now, { deferred, expired, superseded });
    cleanUps.set(database, { at: now, leftBehind: false });
  }

  const params: (string | number)[] = [owner, leaseEnd, now, windowStart, windowStart, ...candidates, now, perAddress, limit];
  if (perMinute !== null && perSlice !== null) params.push(perMinute, minuteAgo, perSlice, sliceAgo);
  const claimed = await database.writeReturning({ sql: claimSql(returning, perMinute !== null), params });
  if (claimed.length < room) cleanUps.set(database, { at: cleanUps.get(database)?.at ?? now, leftBehind: true });
  return claimed;
}

/**
 * At most one warning a minute per database, with counts only (no address,
 * no source, no campaign): what the lane deferred to a later window, gave up
 * as expired or superseded, and how many due rows wait for the global rate.
 */
async function report(database: Database, logger: Logger | undefined, now: number, counts: { deferred: number; expired: number; superseded: number }) {
  if (!logger) return;
  let tally = putOff.get(database);
  if (!tally) putOff.set(database, (tally = { since: now, deferred: 0, expired: 0, superseded: 0 }));
  tally.deferred += counts.deferred;
  tally.expired += counts.expired;
  tally.superseded += counts.superseded;
  if (now - tally.since < MINUTE_MS) return;
  const [waiting] = await database.db.all<{ n: number }>(sql`SELECT count(*) AS "n" FROM "outbox"
    INDEXED BY "outbox_lane_turn_idx" WHERE "status" = 'pending' AND "lane_turn" IS NOT NULL AND "next_attempt_at" <= ${now} AND ("locked_until" IS NULL OR "locked_until" < ${now})`);
  const waitingForRate = Number(waiting?.n ?? 0);
  if (tally.deferred + tally.expired + tally.superseded + waitingForRate > 0) {
    logger.warn('confirmation emails deferred', {
      deferredToAddressWindow: tally.deferred,
      waitingForRate,
      expiredUnsent: tally.expired,
      superseded: tally.superseded,
      since: new Date(tally.since).toISOString(),
    });
  }
  putOff.set(database, { since: now, deferred: 0, expired: 0, superseded: 0 });
}
