import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { WriteStatement } from '../../db/database.js';
import { campaigns, campaignTargets, deliveries, mailings, mailingTargetOutcomes, outbox, type SendingWindow } from '../../db/schema.js';
import type { LetterPorts } from '../../letters/letter-ports.js';
import { TemplateError } from '../../letters/template/template-error.js';
import { newId, uuidPattern } from '../../lib/ids.js';
import { isLocalTime, localTimeToInstant, LocalTimeInvalid } from '../../lib/local-time.js';
import { isClockTime, OFFICE_HOURS } from '../../lib/sending-window.js';
import { isHeld, outboxStore } from '../../outbox/outbox-store.js';
import { type AccessNeed, assertCampaignAccess, listableCampaignIds } from '../access.js';
import { deliveryStatusSql, type DeliveryStatus } from '../deliveries.js';
import type { ServiceContext } from '../context.js';
import { emptyTargetChoices, type EmptyTargets, letterRoutings, type LetterRouting } from '../letter-routing.js';
import { LetterLanguages, plannedLetterTargets } from '../letters.js';
import { Conflict, type FieldIssue, NotFound, Unprocessable, ValidationFailed } from '../../lib/service-errors.js';
import { requireOrganisation } from '../organisation.js';
import { afterCursor, decodeCursor, type PageQuery, toPage } from '../pagination.js';
import { IsoDateTime, isoOrNull, MultiLine, SingleLine, TemplateName, TimeZone } from '../schemas.js';
import { locales } from '../../lib/locales.js';
import { resolveSegment, SegmentInput, segmentView } from '../segments.js';

export const mailingKinds = ['letters', 'update'] as const;
/** How a letters mailing reaches its targets: `auto` emails a target with an address and queues the others' letters for print. */
export const letterChannels = ['email', 'print', 'auto'] as const;
export type LetterChannel = (typeof letterChannels)[number];
export const mailingStatuses = ['scheduled', 'running', 'paused', 'cancelled', 'finished', 'failed'] as const;
export type MailingStatus = (typeof mailingStatuses)[number];

/** Statuses after which a mailing never changes again. */
export const finalMailingStatuses: readonly MailingStatus[] = ['cancelled', 'finished', 'failed'];

const LocalDateTime = v.pipe(
  v.string(),
  v.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, 'must be a local date and time without an offset, e.g. 2027-09-22T09:00'),
  v.check(isLocalTime, 'must be a real local date and time without an offset, e.g. 2027-09-22T09:00'),
);

const ClockTime = v.pipe(v.string(), v.check(isClockTime, 'must be a time HH:mm from 00:00 to 24:00'));

/**
 * Opening hours in the target's zone for letters by email: `start` < `end`
 * (`HH:mm`, `end` may be 24:00), `days` ISO weekdays (1 = Monday … 7 = Sunday), each once.
 */
export const SendingWindowInput = v.pipe(
  v.strictObject({
    start: v.pipe(ClockTime, v.check((time) => time !== '24:00', 'must be a time HH:mm from 00:00 to 23:59')),
    end: ClockTime,
    days: v.pipe(
      v.array(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be 1 (Monday) to 7 (Sunday)'), v.maxValue(7, 'must be 1 (Monday) to 7 (Sunday)'))),
      v.minLength(1, 'must name at least one day'),
      v.check((days) => new Set(days).size === days.length, 'must not name a day twice'),
    ),
  }),
  v.forward(
    v.check((window) => window.start < window.end, 'must be after start'),
    ['end'],
  ),
  v.transform((window): SendingWindow => ({ start: window.start, end: window.end, days: [...window.days].sort((a, b) => a - b) })),
);

export const CreateMailingInput = v.strictObject({
  campaign: v.pipe(v.string(), v.regex(/^[a-z0-9-]{3,64}$/, 'must be a campaign slug')),
  kind: v.picklist(mailingKinds),
  /** Wall-clock time in `timeZone`. */
  sendAt: LocalDateTime,
  timeZone: TimeZone,
  cutoffAt: v.optional(IsoDateTime),
  /** Letters only (default `auto`: email where the target has an address, the print queue otherwise). */
  channel: v.optional(v.picklist(letterChannels, 'must be email, print or auto')),
  ratePerMinute: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000))),
  subject: v.optional(v.pipe(SingleLine(200), v.minLength(1, 'must not be empty'))),
  body: v.optional(v.pipe(MultiLine(50_000), v.minLength(1, 'must not be empty'))),
  template: v.optional(TemplateName),
  dryRun: v.optional(v.boolean()),
  /** Letters by email only; default office hours (09:00–17:00, Monday–Friday), null: any time. */
  sendingWindow: v.optional(v.nullable(SendingWindowInput)),
  /** Letters only: `jurisdiction` writes each target only for the supporters of its regions, as for a letter batch (default `all`). */
  routing: v.optional(v.picklist(letterRoutings, 'must be all or jurisdiction')),
  /** Letters only: `skip` sends no letter to a target whose letter would count no one (default `write`: every target gets the petition). */
  emptyTargets: v.optional(v.picklist(emptyTargetChoices, 'must be write or skip')),
  /** Letters only: the languages of each letter, in order, as for a letter batch (default: each target's language). */
  languages: v.optional(LetterLanguages),
  /** Updates only: just the supporters of these regions, partners (codes) or sources (web, paper); left out, every consenting supporter. */
  segment: v.optional(SegmentInput),
});
export type CreateMailingInput = v.InferOutput<typeof CreateMailingInput>;

export const MailingListQuery = v.object({
  campaign: v.optional(v.pipe(v.string(), v.maxLength(64))),
  status: v.optional(v.picklist(mailingStatuses)),
});
export type MailingListQuery = v.InferOutput<typeof MailingListQuery>;

type MailingRow = typeof mailings.$inferSelect;

function toView(row: MailingRow, campaignSlug: string) {
  return {
    id: row.id,
    campaign: campaignSlug,
    kind: row.kind,
    status: row.status,
    sendAt: new Date(row.sendAt).toISOString(),
    sendAtLocal: row.sendAtLocal,
    timeZone: row.timeZone,
    cutoffAt: isoOrNull(row.cutoffAt),
    channel: row.channel,
    ratePerMinute: row.ratePerMinute,
    sendingWindow: row.sendingWindow,
    // Letters mailings made before routing existed wrote to everyone.
    routing: row.kind === 'letters' ? (row.routing ?? 'all') : null,
    emptyTargets: row.kind === 'letters' ? (row.emptyTargets ?? 'write') : null,
    languages: row.languages,
    segment: segmentView(row.segment),
    subject: row.subject,
    template: row.template,
    dryRun: row.dryRun,
    progress: { total: row.total, sent: row.sent, failed: row.failed, skipped: row.skipped },
    lastError: row.lastError,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
    startedAt: isoOrNull(row.startedAt),
    finishedAt: isoOrNull(row.finishedAt),
  };
}
/** A mailing in lists and progress events: everything but the (up to 50,000 characters) body. */
export type MailingView = ReturnType<typeof toView>;
/** One mailing read on its own: the view and the Markdown body of an `update`. */
export type MailingDetail = MailingWithOutcomes & { body: string | null };

export const targetOutcomes = ['emailed', 'queued_for_print', 'skipped'] as const;
/** Why a letters mailing sent a target nothing. */
export type SkipReason = NonNullable<(typeof mailingTargetOutcomes.$inferSelect)['reason']>;

/**
 * Where a target's email stands: its outbox row's state (a bounce recorded on the delivery), and
 * while it is queued for later (the target's office hours, the mailing's pace) the time it waits
 * for, so "emailed" never reads as sent before it is.
 */
export type TargetEmail = { status: Extract<DeliveryStatus, 'queued' | 'sending' | 'sent' | 'failed' | 'bounced'>; notBefore?: string };

/** What a letters mailing did for one target (PRODUCT.md §12); `reason` only when skipped, `email` only when emailed. */
export type TargetOutcome = { targetId: string; name: string; outcome: (typeof targetOutcomes)[number]; reason?: SkipReason; email?: TargetEmail };

/** A letters mailing's outcome per target, as far as it got (an update's list is empty). */
async function outcomesOf(ctx: ServiceContext, mailingId: string): Promise<TargetOutcome[]> {
  const now = ctx.clock.now();
  // In the campaign's order of targets (the embassy first, as the organiser attached them), like
  // every other list of them; a target detached since goes last.
  const rows = await ctx.db.db
    .select({
      targetId: mailingTargetOutcomes.targetId,
      targetName: mailingTargetOutcomes.targetName,
      outcome: mailingTargetOutcomes.outcome,
      reason: mailingTargetOutcomes.reason,
      // The email delivery's state as GET /deliveries gives it (its outbox row's, or bounced).
      emailStatus: sql<TargetEmail['status'] | null>`CASE WHEN ${deliveries.id} IS NULL THEN NULL ELSE ${deliveryStatusSql(now)} END`,
      nextAttemptAt: outbox.nextAttemptAt,
    })
    .from(mailingTargetOutcomes)
    .innerJoin(mailings, eq(mailings.id, mailingTargetOutcomes.mailingId))
    .leftJoin(campaignTargets, and(eq(campaignTargets.campaignId, mailings.campaignId), eq(campaignTargets.targetId, mailingTargetOutcomes.targetId)))
    .leftJoin(
      deliveries,
      and(
        eq(mailingTargetOutcomes.outcome, 'emailed'),
        eq(deliveries.mailingId, mailingTargetOutcomes.mailingId),
        eq(deliveries.targetId, mailingTargetOutcomes.targetId),
        eq(deliveries.channel, 'email'),
      ),
    )
    .leftJoin(outbox, eq(outbox.id, deliveries.outboxId))
    .where(eq(mailingTargetOutcomes.mailingId, mailingId))
    .orderBy(sql`${campaignTargets.position} is null`, asc(campaignTargets.position), asc(mailingTargetOutcomes.targetName), asc(mailingTargetOutcomes.targetId));
  return rows.map((row) => {
    const waits = row.emailStatus === 'queued' && row.nextAttemptAt !== null && row.nextAttemptAt > now && !isHeld(row.nextAttemptAt);
    const email: TargetEmail | undefined = row.emailStatus ? { status: row.emailStatus, ...(waits ? { notBefore: new Date(row.nextAttemptAt!).toISOString() } : {}) } : undefined;
    return { targetId: row.targetId, name: row.targetName, outcome: row.outcome, ...(row.reason ? { reason: row.reason } : {}), ...(email ? { email } : {}) };
  });
}

/** One mailing read on its own or streamed: the view with its outcome per target. */
export type MailingWithOutcomes = MailingView & { targets: TargetOutcome[] };

const toDetail = (row: MailingRow, campaignSlug: string, targets: TargetOutcome[]): MailingDetail => ({ ...toView(row, campaignSlug), body: row.body, targets });

/** Ids are lower-case UUIDs; anything else names no mailing (404, like an unknown id). */
async function findMailing(ctx: ServiceContext, id: string) {
  const normalised = id.toLowerCase();
  if (!uuidPattern.test(normalised)) return undefined;
  const [found] = await ctx.db.db
    .select({ mailing: mailings, campaignSlug: campaigns.slug })
    .from(mailings)
    .innerJoin(campaigns, eq(campaigns.id, mailings.campaignId))
    .where(eq(mailings.id, normalised));
  return found;
}

/** A mailing of a campaign within the caller's reach for `need` (404 outside it, 403 for a viewer changing it). */
async function requireMailing(ctx: ServiceContext, id: string, need: AccessNeed) {
  const found = await findMailing(ctx, id);
  if (!found) throw new NotFound('Mailing');
  assertCampaignAccess(ctx.access, found.mailing.campaignId, need, 'Mailing');
  return found;
}

/** What the kind allows and needs, reported together so one answer names every field to fix. */
function checkContent(input: CreateMailingInput): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (input.kind === 'update') {
    if (input.template === undefined) {
      if (input.subject === undefined) issues.push({ path: 'subject', message: 'an update needs a subject (or a template)' });
      if (input.body === undefined) issues.push({ path: 'body', message: 'an update needs a Markdown body (or a template)' });
    } else {
      if (input.subject !== undefined) issues.push({ path: 'subject', message: 'an update from a template takes its subject from the template' });
      if (input.body !== undefined) issues.push({ path: 'body', message: 'an update from a template takes its text from the template' });
    }
    if (input.channel !== undefined) issues.push({ path: 'channel', message: 'only letters have a channel; updates go by email' });
    if (input.sendingWindow !== undefined) issues.push({ path: 'sendingWindow', message: 'only letters to targets have a sending window' });
    if (input.routing !== undefined) issues.push({ path: 'routing', message: 'only letters to targets are routed; an update goes to every consenting supporter' });
    if (input.emptyTargets !== undefined) issues.push({ path: 'emptyTargets', message: 'only letters go to targets; an update goes to every consenting supporter' });
    if (input.languages !== undefined) issues.push({ path: 'languages', message: 'only letters have languages; an update goes in each supporter\'s language' });
  } else {
    if (input.segment !== undefined) issues.push({ path: 'segment', message: 'only updates go to a segment of the supporters; letters go to the targets' });
    if (input.channel === 'print' && input.sendingWindow != null) {
      issues.push({ path: 'sendingWindow', message: 'only letters by email have a sending window' });
    }
    if (input.subject !== undefined) issues.push({ path: 'subject', message: 'letters take their subject from the letter template' });
    if (input.body !== undefined) issues.push({ path: 'body', message: 'letters take their text from the letter template' });
  }
  return issues;
}

/** Letters by email go out in office hours unless the organiser says otherwise (null: any time). */
function sendingWindowOf(input: CreateMailingInput): SendingWindow | null {
  if (input.kind !== 'letters' || input.channel === 'print') return null;
  return input.sendingWindow === undefined ? OFFICE_HOURS : input.sendingWindow;
}

/** The zone as ICU names it (`asia/tokyo` → `Asia/Tokyo`), so stored zones compare equal. */
function canonicalZone(timeZone: string): string {
  return new Intl.DateTimeFormat('en', { timeZone }).resolvedOptions().timeZone;
}

function sendInstant(input: CreateMailingInput): number {
  try {
    return localTimeToInstant(input.sendAt, input.timeZone);
  } catch (error) {
    if (error instanceof LocalTimeInvalid) {
      throw new Unprocessable('LOCAL_TIME_INVALID', error.message, {
        path: 'sendAt',
        sendAt: input.sendAt,
        timeZone: input.timeZone,
        ...(error.gap ? { gap: error.gap } : {}),
      });
    }
    throw error;
  }
}

/**
 * Checks an update template before it is scheduled: its English variant (the
 * fallback for every supporter) must exist, and every variant that exists
 * must parse and name only update variables (422 TEMPLATE_INVALID).
 */
async function checkUpdateTemplate(templates: Pick<LetterPorts, 'loadUpdateTemplate'>, name: string): Promise<void> {
  for (const locale of locales) {
    try {
      await templates.loadUpdateTemplate(name, locale);
    } catch (error) {
      if (!(error instanceof TemplateError && error.code === 'TEMPLATE_NOT_FOUND')) throw error;
      if (locale === 'en') {
        throw new Unprocessable('UPDATE_TEMPLATE_NOT_FOUND', `There is no update template "${name}": letters/updates/${name}/en.md was not found.`, {
          path: 'template',
          template: name,
        });
      }
    }
  }
}

/** Something the organiser should know before a letters mailing goes: a target it will not reach, or whose letter carries none of its own supporters. */
export type MailingWarning = { code: 'TARGET_UNREACHABLE' | 'TARGET_WITHOUT_SUPPORTERS'; targetId: string; message: string };

/**
 * The warnings of a letters mailing as the campaign stands now (supporters may still sign
 * before the cut-off): each target the channel cannot reach (`email` to a target without an
 * address), and, once someone has signed, each whose letter would count no supporter of its own, decided as the
 * letters decide (src/services/letter-routing.ts): with `emptyTargets: 'skip'` it gets none.
 * Read access to the campaign is enough; an update has none.
 */
export async function mailingWarnings(
  ctx: ServiceContext,
  input: { campaign: string; kind: string; channel?: LetterChannel; routing?: LetterRouting; emptyTargets?: EmptyTargets },
): Promise<MailingWarning[]> {
  if (input.kind !== 'letters') return [];
  const channel = input.channel ?? 'auto';
  const emptyTargets = input.emptyTargets ?? 'write';
  const planned = await plannedLetterTargets(ctx, input.campaign, { routing: input.routing ?? 'all', emptyTargets, cutoffAt: ctx.clock.now() });
  const warnings: MailingWarning[] = [];
  // Before anyone has signed every letter would count no one: that is no news about a target.
  for (const target of planned.supporters > 0 ? planned.withoutSupporters : []) {
    warnings.push({
      code: 'TARGET_WITHOUT_SUPPORTERS',
      targetId: target.id,
      message:
        emptyTargets === 'skip'
          ? `${target.name} gets no letter: so far no supporter is routed to it, and empty targets are skipped.`
          : `${target.name}'s letter counts none of its own supporters so far; it states the petition's total only.`,
    });
  }
  if (channel === 'email') {
    for (const target of planned.written) {
      if ((target.email ?? '').trim() !== '') continue;
      warnings.push({
        code: 'TARGET_UNREACHABLE',
        targetId: target.id,
        message: `${target.name} has no email address, so by email its letter is skipped; choose channel auto or print to queue it for print.`,
      });
    }
  }
  return warnings;
}

/**
 * Schedules a mailing on a campaign for a wall-clock time in a time zone.
 * The instant is stored in UTC beside the local time as given; a local time
 * in a daylight-saving gap is refused (422 LOCAL_TIME_INVALID), one that
 * happens twice means the earlier instant (see src/lib/local-time.ts).
 * `letters` go to the campaign's targets (by email unless `channel` is
 * `print`, then in the sending window); an `update` goes to supporters who
 * consented to updates, written by the organiser or from an update template
 * (`letters/updates/<name>/`, 422 UPDATE_TEMPLATE_NOT_FOUND without its `en.md`).
 * Letters go out in the organisation's name: 409 ORGANISATION_NOT_SET while
 * its profile is the shipped example.
 */
export async function scheduleMailing(
  ctx: ServiceContext,
  input: CreateMailingInput,
  templates: Pick<LetterPorts, 'loadUpdateTemplate' | 'loadOrganisation'>,
): Promise<MailingDetail & { warnings: MailingWarning[] }> {
  const issues = checkContent(input);
  if (issues.length > 0) throw new ValidationFailed(issues);
  if (input.kind === 'update' && input.template !== undefined) await checkUpdateTemplate(templates, input.template);
  const sendAt = sendInstant(input);
  if (input.cutoffAt !== undefined && input.cutoffAt > sendAt) {
    throw new ValidationFailed([{ path: 'cutoffAt', message: 'must not be after the send time' }]);
  }
  const now = ctx.clock.now();
  if (sendAt <= now) {
    throw new Unprocessable('SEND_AT_IN_PAST', `${input.sendAt} in ${input.timeZone} (${new Date(sendAt).toISOString()}) has already passed.`, {
      path: 'sendAt',
      sendAt: new Date(sendAt).toISOString(),
      now: new Date(now).toISOString(),
    });
  }

  const [campaign] = await ctx.db.db
    .select({ id: campaigns.id, slug: campaigns.slug, status: campaigns.status })
    .from(campaigns)
    .where(eq(campaigns.slug, input.campaign));
  if (!campaign) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, campaign.id, 'write');
  if (campaign.status === 'draft' || campaign.status === 'archived') {
    throw new Conflict('CAMPAIGN_NOT_OPEN', `The campaign is ${campaign.status}; mailings need an open or closed campaign.`, {
      status: campaign.status,
    });
  }
  if (input.kind === 'letters') {
    const [linked] = await ctx.db.db.select({ n: count() }).from(campaignTargets).where(eq(campaignTargets.campaignId, campaign.id));
    if (!linked || linked.n === 0) {
      throw new Unprocessable('NO_TARGETS', 'The campaign has no targets to deliver letters to; add targetIds to it first.');
    }
    await requireOrganisation(ctx, templates, 'scheduling letters');
  }

  const row: MailingRow = {
    id: newId(now),
    campaignId: campaign.id,
    kind: input.kind,
    routing: input.kind === 'letters' ? (input.routing ?? 'all') : null,
    emptyTargets: input.kind === 'letters' ? (input.emptyTargets ?? 'write') : null,
    languages: input.kind === 'letters' ? (input.languages ?? null) : null,
    segment: input.kind === 'update' && input.segment !== undefined ? await resolveSegment(ctx, campaign.id, input.segment) : null,
    sendAtLocal: input.sendAt,
    timeZone: canonicalZone(input.timeZone),
    sendAt,
    cutoffAt: input.cutoffAt ?? null,
    channel: input.kind === 'letters' ? (input.channel ?? 'auto') : null,
    ratePerMinute: input.ratePerMinute ?? null,
    sendingWindow: sendingWindowOf(input),
    subject: input.subject ?? null,
    body: input.body ?? null,
    template: input.template ?? null,
    dryRun: input.dryRun ?? false,
    status: 'scheduled',
    total: 0,
    sent: 0,
    failed: 0,
    skipped: 0,
    lockedBy: null,
    lockedUntil: null,
    lastError: null,
    startedAt: null,
    finishedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const warnings = await mailingWarnings(ctx, input);
  await ctx.db.atomic([ctx.db.db.insert(mailings).values(row)]);
  return { ...toDetail(row, campaign.slug, []), warnings };
}

/** One mailing with its progress; `NotFound` for an unknown or malformed id. */
export async function getMailing(ctx: ServiceContext, id: string): Promise<MailingDetail> {
  const found = await requireMailing(ctx, id, 'read');
  return toDetail(found.mailing, found.campaignSlug, await outcomesOf(ctx, found.mailing.id));
}

/** One mailing without its body but with its outcome per target, as progress events carry it. */
export async function getMailingView(ctx: ServiceContext, id: string): Promise<MailingWithOutcomes> {
  const found = await requireMailing(ctx, id, 'read');
  return { ...toView(found.mailing, found.campaignSlug), targets: await outcomesOf(ctx, found.mailing.id) };
}

/** Mailings newest first, optionally of one campaign (by slug) and in one status. */
export async function listMailings(ctx: ServiceContext, query: PageQuery & MailingListQuery) {
  const after = decodeCursor(query.cursor);
  const visible = await listableCampaignIds(ctx, query.campaign);
  const rows = await ctx.db.db
    .select({ mailing: mailings, campaignSlug: campaigns.slug })
    .from(mailings)
    .innerJoin(campaigns, eq(campaigns.id, mailings.campaignId))
    .where(
      and(
        query.campaign !== undefined ? eq(campaigns.slug, query.campaign) : undefined,
        visible === null ? undefined : inArray(mailings.campaignId, visible),
        query.status !== undefined ? eq(mailings.status, query.status) : undefined,
        afterCursor(mailings.createdAt, mailings.id, after),
      ),
    )
    .orderBy(desc(mailings.createdAt), desc(mailings.id))
    .limit(query.limit + 1);
  const reasons = await skipReasonsOf(
    ctx,
    rows.filter((r) => r.mailing.skipped > 0 && r.mailing.kind === 'letters').map((r) => r.mailing.id),
  );
  return toPage(
    rows.map((r) => ({ ...r, createdAt: r.mailing.createdAt, id: r.mailing.id })),
    query.limit,
    (r) => ({ ...toView(r.mailing, r.campaignSlug), skipReasons: reasons.get(r.mailing.id) ?? [] }),
  );
}

/** Why each listed letters mailing skipped targets, so a list never reads a skip as simply finished. Ids go in as one JSON array (D1 binds at most 100). */
async function skipReasonsOf(ctx: ServiceContext, mailingIds: readonly string[]): Promise<Map<string, SkipReason[]>> {
  const byMailing = new Map<string, SkipReason[]>();
  if (mailingIds.length === 0) return byMailing;
  const rows = await ctx.db.db
    .selectDistinct({ mailingId: mailingTargetOutcomes.mailingId, reason: mailingTargetOutcomes.reason })
    .from(mailingTargetOutcomes)
    .where(
      and(
        sql`${mailingTargetOutcomes.mailingId} in (select value from json_each(${JSON.stringify(mailingIds)}))`,
        eq(mailingTargetOutcomes.outcome, 'skipped'),
      ),
    )
    .orderBy(asc(mailingTargetOutcomes.reason));
  for (const row of rows) {
    if (row.reason === null) continue;
    byMailing.set(row.mailingId, [...(byMailing.get(row.mailingId) ?? []), row.reason]);
  }
  return byMailing;
}

type StatusChange = 'pause' | 'resume' | 'cancel';

/** Where each change may start from. */
const changeFrom: Record<StatusChange, MailingStatus[]> = {
  pause: ['scheduled', 'running'],
  resume: ['paused'],
  cancel: ['scheduled', 'running', 'paused'],
};

const changeDone: Record<StatusChange, string> = { pause: 'paused', resume: 'resumed', cancel: 'cancelled' };

function changeTo(change: StatusChange, row: MailingRow): MailingStatus {
  if (change === 'pause') return 'paused';
  if (change === 'cancel') return 'cancelled';
  // A mailing paused before the runner picked it up waits for its time again
  // (at once if that has passed); one paused mid-way carries on where it stopped.
  return row.startedAt === null ? 'scheduled' : 'running';
}

async function changeStatus(ctx: ServiceContext, id: string, change: StatusChange): Promise<MailingDetail> {
  const { mailing: current } = await requireMailing(ctx, id, 'write');
  const allowed = changeFrom[change];
  if (!allowed.includes(current.status)) {
    throw new Conflict('INVALID_TRANSITION', `A ${current.status} mailing cannot be ${changeDone[change]}.`, {
      from: current.status,
      allowedFrom: allowed,
    });
  }
  const to = changeTo(change, current);
  const now = ctx.clock.now();
  // Guarded by the status read above, so a racing change (another request,
  // or the runner finishing the mailing) and this one cannot both apply. The
  // outbox statements check the new status, so they only act if it applied.
  // Pausing or cancelling drops the runner's lease: its writes are conditional
  // on holding it, and a resumed mailing is free for any runner to claim.
  const statements: WriteStatement[] = [
    ctx.db.db
      .update(mailings)
      .set({
        status: to,
        updatedAt: now,
        ...(to === 'cancelled' ? { finishedAt: now } : {}),
        ...(change === 'resume' ? {} : { lockedBy: null, lockedUntil: null }),
      })
      .where(and(eq(mailings.id, current.id), eq(mailings.status, current.status))),
  ];
  const outbox = outboxStore(ctx);
  if (change === 'pause') statements.push(outbox.holdMailing(current.id, now));
  if (change === 'resume') statements.push(outbox.releaseMailing(current.id, now));
  if (change === 'cancel') statements.push(outbox.cancelMailing(current.id, now), outbox.syncMailingProgress(current.id, now));
  await ctx.db.atomic(statements);
  const updated = await requireMailing(ctx, current.id, 'read');
  if (updated.mailing.status !== to) {
    throw new Conflict('INVALID_TRANSITION', 'The mailing changed status meanwhile; read it again and retry.', {
      status: updated.mailing.status,
    });
  }
  return toDetail(updated.mailing, updated.campaignSlug, await outcomesOf(ctx, updated.mailing.id));
}

/** scheduled | running → paused; a running mailing's pending emails are held (src/outbox/outbox-store.ts), so no sender picks them. */
export function pauseMailing(ctx: ServiceContext, id: string): Promise<MailingDetail> {
  return changeStatus(ctx, id, 'pause');
}

/** paused → scheduled when it never started, else → running, its held emails released at their pace (each due after the delay it had left). */
export function resumeMailing(ctx: ServiceContext, id: string): Promise<MailingDetail> {
  return changeStatus(ctx, id, 'resume');
}

/** scheduled | running | paused → cancelled (final); pending emails fail with 'cancelled', sent ones stay sent. */
export function cancelMailing(ctx: ServiceContext, id: string): Promise<MailingDetail> {
  return changeStatus(ctx, id, 'cancel');
}
