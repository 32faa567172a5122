import { and, count, desc, eq, isNull, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { campaigns, emailSuppressions, mailings, signatures } from '../db/schema.js';
import type { LetterPorts } from '../letters/letter-ports.js';
import { formatInZone, isLocalTime, localTimeToInstant } from '../lib/local-time.js';
import { assertCampaignAccess, reachesCampaign } from './access.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound, Unprocessable, ValidationFailed } from '../lib/service-errors.js';
import { type MailingDetail, scheduleMailing } from './mailings/schedule.js';
import { type Locale, MultiLine, SingleLine, TimeZone } from './schemas.js';

/**
 * Year to year (PRODUCT.md §11): the new round of a campaign invites the
 * earlier round's supporters who consented to updates, by an ordinary update
 * mailing on the earlier campaign. The mailing machinery then picks the
 * recipients (confirmed, consented, not unsubscribed, address not suppressed),
 * adds the footer saying why the email came and the unsubscribe link, and
 * sends at its pace; nothing of the supporters is copied to the new campaign.
 *
 * The new campaign must be open (409 CAMPAIGN_NOT_OPEN otherwise): an
 * invitation to a draft would lead to a page that does not exist yet. An
 * open campaign whose `opensAt` is still ahead can be announced for that
 * moment: the send time may not be earlier than `opensAt`, and by default it
 * is the later of `opensAt` and a minute from now.
 */

const Slug = v.pipe(v.string(), v.regex(/^[a-z0-9-]{3,64}$/, 'must be a campaign slug'));

const LocalDateTime = v.pipe(
  v.string(),
  v.check(isLocalTime, 'must be a real local date and time without an offset, e.g. 2028-08-01T10:00'),
);

export const InvitePreviousInput = v.strictObject({
  /** The earlier campaign; by default the one the campaign was cloned from. */
  from: v.optional(Slug),
  subject: v.optional(v.pipe(SingleLine(200), v.minLength(1, 'must not be empty'))),
  body: v.optional(v.pipe(MultiLine(50_000), v.check((text) => text.trim().length > 0, 'must not be empty'))),
  /** Wall-clock time in `timeZone` (default: the new campaign's zone); default as soon as it may go. */
  sendAt: v.optional(LocalDateTime),
  timeZone: v.optional(TimeZone),
});
export type InvitePreviousInput = v.InferOutput<typeof InvitePreviousInput>;

type InvitationCopy = { subject: (title: string) => string; body: (title: string, url: string) => string };

/** The default invitation in the earlier campaign's language; the update email adds the greeting, why it came and the unsubscribe link. */
const invitationCopy: Record<Locale, InvitationCopy> = {
  en: {
    subject: (title) => `Please sign again: ${title}`,
    body: (title, url) =>
      `Thank you for signing last time. We are running the campaign again this year: **${title}**.\n\n` +
      `If you still support it, please add your name again. It takes a minute:\n\n${url}\n\n` +
      'Signatures are not carried over from one round to the next, so every name counts again.',
  },
  ja: {
    subject: (title) => `改めてご署名のお願い：${title}`,
    body: (title, url) =>
      `前回はご署名いただき、ありがとうございました。今年も「**${title}**」を行います。\n\n` +
      `引き続きご賛同いただける方は、改めてご署名をお願いいたします（1分ほどで済みます）。\n\n${url}\n\n` +
      '前回のご署名は引き継がれません。今回もお一人お一人のお名前が力になります。',
  },
  ko: {
    subject: (title) => `다시 한번 서명해 주세요: ${title}`,
    body: (title, url) =>
      `지난번에 서명해 주셔서 감사합니다. 올해도 “**${title}**” 캠페인을 진행합니다.\n\n` +
      `계속 지지해 주신다면 다시 한번 이름을 더해 주세요. 1분이면 됩니다.\n\n${url}\n\n` +
      '지난번 서명은 이어지지 않으므로, 이번에도 한 분 한 분의 서명이 힘이 됩니다.',
  },
  zh: {
    subject: (title) => `请再次签名：${title}`,
    body: (title, url) =>
      `感谢您上次的签名。今年我们再次发起“**${title}**”。\n\n` +
      `如果您仍然支持，请再次签名，只需一分钟：\n\n${url}\n\n` +
      '上一轮的签名不会沿用，因此这一次，每一个名字都同样重要。',
  },
};

type CampaignRow = typeof campaigns.$inferSelect;

/** Markdown's inline marks in a title would change how the invitation looks; shown as written instead. */
const escapeInline = (text: string) => text.replace(/[\\`*_[\]<>#~|]/g, (char) => `\\${char}`);

/** The public address of a campaign, as invitations link to it. */
export function campaignUrl(ctx: ServiceContext, slug: string): string {
  return `${ctx.publicUrl}/c/${slug}`;
}

async function campaignBySlug(ctx: ServiceContext, slug: string): Promise<CampaignRow | undefined> {
  const [row] = await ctx.db.db.select().from(campaigns).where(eq(campaigns.slug, slug));
  return row;
}

/**
 * The new campaign (checked for `need`) and the earlier one (`from`, else the one it was cloned
 * from), or null; the earlier one checked only for being visible. A `from` the caller cannot see
 * answers exactly as one that does not exist (404), so the body cannot be used to probe slugs.
 */
async function findRounds(ctx: ServiceContext, slug: string, from: string | undefined, need: 'read' | 'write') {
  const current = await campaignBySlug(ctx, slug);
  if (!current) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, current.id, need);
  if (from !== undefined) {
    const named = await campaignBySlug(ctx, from);
    if (!named || reachesCampaign(ctx.access, named.id, 'read') === 'hidden') throw new NotFound('Previous campaign');
    if (named.id === current.id) throw new ValidationFailed([{ path: 'from', message: 'must be another campaign than the one supporters are invited to' }]);
    return { current, previous: named };
  }
  if (current.previousCampaignId === null) return { current, previous: null };
  const [previous] = await ctx.db.db.select().from(campaigns).where(eq(campaigns.id, current.previousCampaignId));
  return { current, previous: previous ?? null };
}

/**
 * Both rounds, each checked for the caller: the new one for `need`, the
 * earlier one likewise (the invitation is a mailing on it).
 */
async function roundsOf(ctx: ServiceContext, slug: string, from: string | undefined, need: 'read' | 'write') {
  const { current, previous } = await findRounds(ctx, slug, from, need);
  if (!previous) {
    throw new Unprocessable(
      'NO_PREVIOUS_CAMPAIGN',
      'This campaign was not cloned from an earlier one, so there is no earlier round to invite; name one with `from`.',
      { path: 'from' },
    );
  }
  assertCampaignAccess(ctx.access, previous.id, need, 'Previous campaign');
  return { current, previous };
}

/** Supporters of a campaign an update would reach now: confirmed, consented, not unsubscribed, address not suppressed. */
export async function countInvitableSupporters(ctx: ServiceContext, campaignId: string): Promise<number> {
  const [row] = await ctx.db.db
    .select({ n: count() })
    .from(signatures)
    .where(
      and(
        eq(signatures.campaignId, campaignId),
        eq(signatures.status, 'confirmed'),
        eq(signatures.updates, true),
        isNull(signatures.unsubscribedAt),
        sql`not exists (select 1 from ${emailSuppressions} where ${emailSuppressions.emailNormalized} = ${signatures.emailNormalized})`,
      ),
    );
  return row?.n ?? 0;
}

/** The invitation's default subject and Markdown body, in the earlier campaign's language, naming and linking the new one. */
function defaultInvitation(ctx: ServiceContext, current: CampaignRow, previous: CampaignRow) {
  const language = previous.locale;
  const title = current.translations[language]?.title ?? current.title;
  const copy = invitationCopy[language];
  return { language, subject: copy.subject(title), body: copy.body(escapeInline(title), campaignUrl(ctx, current.slug)) };
}

/** Statuses in which an invitation may still go out: another one meanwhile would email everyone twice. */
const pendingStatuses = new Set(['scheduled', 'running', 'paused']);

/** Update mailings on the earlier campaign that invite to this one (their body holds its link), newest first. */
async function invitationsSent(ctx: ServiceContext, previousId: string, url: string) {
  return ctx.db.db
    .select({ id: mailings.id, status: mailings.status, sendAt: mailings.sendAt, timeZone: mailings.timeZone })
    .from(mailings)
    .where(and(eq(mailings.campaignId, previousId), eq(mailings.kind, 'update'), sql`instr(${mailings.body}, ${url}) > 0`))
    .orderBy(desc(mailings.createdAt));
}

export type InvitationDraft = {
  campaign: { slug: string; title: string; status: CampaignRow['status']; timeZone: string };
  previous: { slug: string; title: string; status: CampaignRow['status']; locale: Locale };
  /** Supporters the invitation would reach if sent now. */
  recipients: number;
  subject: string;
  body: string;
  /** Whether the new campaign can be announced now (it must be open). */
  ready: boolean;
  /** Invitations already made, newest first (the dashboard links to their progress). */
  invitations: { id: string; status: string; sendAt: string; timeZone: string }[];
  /** An invitation that has not gone out yet: no second one until it is sent or cancelled. */
  pending: string | null;
};

/**
 * What inviting the earlier round would do, for the dashboard's card: the
 * earlier campaign, how many it would reach, and the default texts. Null
 * when the campaign has no earlier round.
 */
export async function invitationDraft(ctx: ServiceContext, slug: string): Promise<InvitationDraft | null> {
  const { current, previous } = await findRounds(ctx, slug, undefined, 'read');
  // An earlier round the caller cannot see is as good as none here.
  if (!previous || reachesCampaign(ctx.access, previous.id, 'read') !== 'yes') return null;
  const { subject, body } = defaultInvitation(ctx, current, previous);
  const invitations = await invitationsSent(ctx, previous.id, campaignUrl(ctx, current.slug));
  return {
    campaign: { slug: current.slug, title: current.title, status: current.status, timeZone: current.timeZone },
    previous: { slug: previous.slug, title: previous.title, status: previous.status, locale: previous.locale },
    recipients: await countInvitableSupporters(ctx, previous.id),
    subject,
    body,
    ready: current.status === 'open',
    invitations: invitations.map((mailing) => ({ ...mailing, sendAt: new Date(mailing.sendAt).toISOString() })),
    pending: invitations.find((mailing) => pendingStatuses.has(mailing.status))?.id ?? null,
  };
}

const MINUTE = 60_000;

/**
 * Schedules the invitation: an update mailing on the earlier campaign to its
 * supporters who consented to updates, inviting them to the new campaign
 * (its link must stay in the body). Returns the mailing and how many
 * supporters it reaches if sent now.
 */
export async function invitePreviousSupporters(
  ctx: ServiceContext,
  slug: string,
  input: InvitePreviousInput,
  templates: Pick<LetterPorts, 'loadUpdateTemplate' | 'loadOrganisation'>,
): Promise<{ mailing: MailingDetail; from: string; recipients: number }> {
  const { current, previous } = await roundsOf(ctx, slug, input.from, 'write');
  if (current.status !== 'open') {
    throw new Conflict('CAMPAIGN_NOT_OPEN', `The campaign is ${current.status}; open it before inviting supporters to sign it.`, { status: current.status });
  }
  const defaults = defaultInvitation(ctx, current, previous);
  const body = input.body ?? defaults.body;
  const url = campaignUrl(ctx, current.slug);
  const pending = (await invitationsSent(ctx, previous.id, url)).find((mailing) => pendingStatuses.has(mailing.status));
  if (pending) {
    throw new Conflict('CONFLICT', 'An invitation to this campaign is already scheduled and has not gone out yet; cancel it first to send another.', {
      mailing: pending.id,
      status: pending.status,
    });
  }
  if (!body.includes(url)) throw new ValidationFailed([{ path: 'body', message: `must contain the link to the new campaign: ${url}` }]);

  const timeZone = input.timeZone ?? current.timeZone;
  const now = ctx.clock.now();
  const soonest = Math.max(Math.ceil((now + MINUTE) / MINUTE) * MINUTE, current.opensAt === null ? 0 : Math.ceil(current.opensAt / MINUTE) * MINUTE);
  const sendAt = input.sendAt ?? formatInZone(soonest, timeZone).slice(0, 16);
  let instant: number | null = null;
  try {
    instant = localTimeToInstant(sendAt, timeZone);
  } catch {
    // scheduleMailing answers a time in a daylight-saving gap with its own 422 LOCAL_TIME_INVALID.
  }
  if (instant !== null && current.opensAt !== null && instant < current.opensAt) {
    throw new ValidationFailed([{ path: 'sendAt', message: `must not be before the new campaign opens (${formatInZone(current.opensAt, timeZone)})` }]);
  }
  if (instant !== null && current.closesAt !== null && instant >= current.closesAt) {
    throw new ValidationFailed([{ path: 'sendAt', message: `must be before the new campaign closes (${formatInZone(current.closesAt, timeZone)})` }]);
  }

  const mailing = await scheduleMailing(ctx, { campaign: previous.slug, kind: 'update', sendAt, timeZone, subject: input.subject ?? defaults.subject, body }, templates);
  return { mailing, from: previous.slug, recipients: await countInvitableSupporters(ctx, previous.id) };
}
