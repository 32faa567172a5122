import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import * as v from 'valibot';
import { campaigns, campaignTargets, replies, targets } from '../db/schema.js';
import { replyFileName } from '../letters/letter-files.js';
import type { LetterFiles } from '../letters/letter-ports.js';
import { newId, uuidPattern } from '../lib/ids.js';
import { localFieldsAt } from '../lib/local-time.js';
import { assertCampaignAccess, campaignIdForSlug, visibleCampaignIds } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound, ServiceError, Unprocessable, ValidationFailed } from '../lib/service-errors.js';
import { MultiLine } from './schemas.js';
import { webhookEventWrites } from './webhooks.js';

/**
 * Replies from targets (PRODUCT.md §11): an embassy's letter, a ministry's
 * phone call, recorded by the organisers against one campaign and one of its
 * targets, with an optional scan kept in the letters' file store. A reply is
 * shown on the campaign page only when the organiser marks it public.
 */

export const replyChannels = ['post', 'email', 'fax', 'phone', 'in_person', 'other'] as const;
export type ReplyChannel = (typeof replyChannels)[number];

/** Largest scan accepted (10 MiB); larger answers 413 PAYLOAD_TOO_LARGE. */
export const REPLY_FILE_MAX_BYTES = 10 * 1024 * 1024;

/** The file types a reply may carry, by what their first bytes say (the declared type is not trusted). */
export const replyFileTypes = {
  'application/pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
} as const;
export type ReplyFileType = keyof typeof replyFileTypes;

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0) => prefix.every((byte, i) => bytes[at + i] === byte);

/** The type the file's magic bytes show, or null for anything else (HTML, SVG, executables…). */
function sniffReplyFileType(bytes: Uint8Array): ReplyFileType | null {
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp'; // RIFF….WEBP
  return null;
}

function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * When the reply arrived: a day `YYYY-MM-DD`, or an ISO instant that is
 * stored as its day in the campaign's time zone (the day the office saw it).
 */
const ReceivedAt = v.pipe(
  v.string(),
  v.check(
    (text) => isCalendarDate(text) || (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text))),
    'must be a date YYYY-MM-DD or an ISO 8601 date-time, e.g. 2027-10-03',
  ),
);

const Summary = v.pipe(MultiLine(5000), v.check((text) => text.trim().length > 0, 'must not be empty'));

export const CreateReplyInput = v.strictObject({
  campaign: v.pipe(v.string(), v.regex(/^[a-z0-9-]{3,64}$/, 'must be a campaign slug')),
  receivedAt: ReceivedAt,
  channel: v.picklist(replyChannels),
  summary: Summary,
  public: v.optional(v.boolean()),
});
export type CreateReplyInput = v.InferOutput<typeof CreateReplyInput>;

export const UpdateReplyInput = v.strictObject({
  receivedAt: v.optional(ReceivedAt),
  channel: v.optional(v.picklist(replyChannels)),
  summary: v.optional(Summary),
  public: v.optional(v.boolean()),
});
export type UpdateReplyInput = v.InferOutput<typeof UpdateReplyInput>;

export const ReplyListQuery = v.object({
  target: v.optional(v.pipe(v.string(), v.toLowerCase(), v.regex(uuidPattern, 'must be a target id (UUID)'))),
});

export const TargetReplyListQuery = v.object({
  campaign: v.optional(v.pipe(v.string(), v.maxLength(64))),
});

/** An uploaded scan: its bytes and, for the download's name, what the sender called it. */
export type ReplyUpload = { bytes: Uint8Array; name?: string | undefined };

type ReplyRow = typeof replies.$inferSelect;
type TargetSummary = { id: string; name: string; title: string | null; organisation: string | null };

/** At most this many replies in one list: a campaign gets dozens, not thousands. */
const LIST_LIMIT = 1000;

function toView(row: ReplyRow, campaignSlug: string, target: TargetSummary) {
  return {
    id: row.id,
    campaign: campaignSlug,
    target,
    receivedOn: row.receivedOn,
    channel: row.channel,
    summary: row.summary,
    public: row.public,
    file:
      row.filePath === null
        ? null
        : { type: row.fileType, bytes: row.fileBytes, sha256: row.fileSha256, url: `/api/v1/replies/${row.id}/file` },
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}
export type ReplyView = ReturnType<typeof toView>;

const replyColumns = {
  reply: replies,
  campaignSlug: campaigns.slug,
  timeZone: campaigns.timeZone,
  target: { id: targets.id, name: targets.name, title: targets.title, organisation: targets.organisation },
};

function selectReplies(ctx: ServiceContext, where: SQL | undefined) {
  return ctx.db.db
    .select(replyColumns)
    .from(replies)
    .innerJoin(campaigns, eq(campaigns.id, replies.campaignId))
    .innerJoin(targets, eq(targets.id, replies.targetId))
    .where(where)
    .orderBy(desc(replies.receivedOn), desc(replies.createdAt), desc(replies.id))
    .limit(LIST_LIMIT);
}

/** The reply with this id if the caller reaches its campaign for `need`; NotFound otherwise (as for an unknown id). */
async function requireReply(ctx: ServiceContext, id: string, need: 'read' | 'write') {
  const normalised = id.toLowerCase();
  if (!uuidPattern.test(normalised)) throw new NotFound('Reply');
  const [found] = await selectReplies(ctx, eq(replies.id, normalised));
  if (!found) throw new NotFound('Reply');
  assertCampaignAccess(ctx.access, found.reply.campaignId, need, 'Reply');
  return found;
}

/** The day `receivedAt` names, in the campaign's zone for an instant; not after tomorrow there (a typo, not a reply). */
function receivedOnOf(ctx: ServiceContext, receivedAt: string, timeZone: string): string {
  const day = (instant: number) => {
    const { year, month, day } = localFieldsAt(instant, timeZone);
    return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  };
  const receivedOn = isCalendarDate(receivedAt) ? receivedAt : day(Date.parse(receivedAt));
  // A day ahead is allowed: whoever records it may live east of the campaign's zone.
  const latest = day(ctx.clock.now() + 86_400_000);
  if (receivedOn > latest) throw new ValidationFailed([{ path: 'receivedAt', message: 'must not be in the future' }]);
  return receivedOn;
}

async function requireTarget(ctx: ServiceContext, id: string): Promise<TargetSummary> {
  const normalised = id.toLowerCase();
  if (!uuidPattern.test(normalised)) throw new NotFound('Target');
  const [target] = await ctx.db.db
    .select({ id: targets.id, name: targets.name, title: targets.title, organisation: targets.organisation })
    .from(targets)
    .where(eq(targets.id, normalised));
  if (!target) throw new NotFound('Target');
  return target;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Checks an upload before anything is stored: its size (413) and what its bytes are (422). */
function checkReplyUpload(upload: ReplyUpload): ReplyFileType {
  if (upload.bytes.byteLength > REPLY_FILE_MAX_BYTES) {
    throw new ServiceError('PAYLOAD_TOO_LARGE', `The file is larger than ${REPLY_FILE_MAX_BYTES / 1024 / 1024} MiB.`, { path: 'file', maxBytes: REPLY_FILE_MAX_BYTES });
  }
  if (upload.bytes.byteLength === 0) throw new ValidationFailed([{ path: 'file', message: 'is empty' }]);
  const type = sniffReplyFileType(upload.bytes);
  if (!type) {
    throw new Unprocessable('FILE_TYPE_NOT_ALLOWED', 'The file must be a PDF, PNG, JPEG or WebP (judged by its content, not its name or declared type).', {
      path: 'file',
      allowed: Object.keys(replyFileTypes),
    });
  }
  return type;
}

/**
 * Records a reply from `targetId` to a campaign it is linked to (422
 * TARGET_NOT_IN_CAMPAIGN otherwise), with an optional scan. The file is
 * stored first and the row written in one atomic step after it; if the row
 * cannot be written the file is removed again, so no row names a missing
 * file and no file outlives a failed record.
 */
export async function createReply(ctx: ServiceContext, files: LetterFiles, targetId: string, input: CreateReplyInput, upload?: ReplyUpload): Promise<ReplyView> {
  const target = await requireTarget(ctx, targetId);
  const campaignId = await campaignIdForSlug(ctx, ctx.access, input.campaign, 'write');
  const fileType = upload ? checkReplyUpload(upload) : null;
  const [campaign] = await ctx.db.db.select({ slug: campaigns.slug, timeZone: campaigns.timeZone }).from(campaigns).where(eq(campaigns.id, campaignId));
  if (!campaign) throw new NotFound('Campaign');
  const [link] = await ctx.db.db
    .select({ targetId: campaignTargets.targetId })
    .from(campaignTargets)
    .where(and(eq(campaignTargets.campaignId, campaignId), eq(campaignTargets.targetId, target.id)));
  if (!link) {
    throw new Unprocessable('TARGET_NOT_IN_CAMPAIGN', 'This target is not one of the campaign’s targets; attach it to the campaign first.', [
      { path: 'campaign', message: 'the target is not linked to this campaign' },
    ]);
  }
  const receivedOn = receivedOnOf(ctx, input.receivedAt, campaign.timeZone);

  const now = ctx.clock.now();
  const row: ReplyRow = {
    id: newId(now),
    campaignId,
    targetId: target.id,
    receivedOn,
    channel: input.channel,
    summary: input.summary.replace(/\r\n?/g, '\n').trim(),
    public: input.public ?? false,
    filePath: null,
    fileType: null,
    fileBytes: null,
    fileSha256: null,
    createdAt: now,
    updatedAt: now,
  };
  if (upload && fileType) {
    row.filePath = replyFileName(campaignId, row.id, replyFileTypes[fileType]);
    row.fileType = fileType;
    row.fileBytes = upload.bytes.byteLength;
    row.fileSha256 = await sha256Hex(upload.bytes);
    await files.writeFile(row.filePath, upload.bytes, fileType);
  }
  try {
    await ctx.db.atomic([ctx.db.db.insert(replies).values(row), ...(await webhookEventWrites(ctx, 'reply.created', [row.id]))]);
  } catch (error) {
    if (row.filePath) await files.removeFile(row.filePath).catch(() => undefined);
    throw error;
  }
  return toView(row, campaign.slug, target);
}

/** A campaign's replies, newest first (by the day received), optionally from one target. */
export async function listCampaignReplies(ctx: ServiceContext, slug: string, query: { target?: string | undefined } = {}): Promise<{ items: ReplyView[] }> {
  const campaignId = await campaignIdForSlug(ctx, ctx.access, slug, 'read');
  const rows = await selectReplies(ctx, and(eq(replies.campaignId, campaignId), query.target ? eq(replies.targetId, query.target) : undefined));
  return { items: rows.map((r) => toView(r.reply, r.campaignSlug, r.target)) };
}

/** A target's replies across the campaigns the caller reaches, or in one (`campaign`, a slug: 404 if hidden). */
export async function listTargetReplies(ctx: ServiceContext, targetId: string, query: { campaign?: string | undefined } = {}): Promise<{ items: ReplyView[] }> {
  const target = await requireTarget(ctx, targetId);
  const campaignId = query.campaign === undefined ? undefined : await campaignIdForSlug(ctx, ctx.access, query.campaign, 'read');
  const visible = visibleCampaignIds(ctx.access);
  if (visible !== null && visible.length === 0) return { items: [] };
  const rows = await selectReplies(
    ctx,
    and(
      eq(replies.targetId, target.id),
      campaignId === undefined ? undefined : eq(replies.campaignId, campaignId),
      visible === null ? undefined : inArray(replies.campaignId, visible),
    ),
  );
  return { items: rows.map((r) => toView(r.reply, r.campaignSlug, r.target)) };
}

export async function getReply(ctx: ServiceContext, id: string): Promise<ReplyView> {
  const found = await requireReply(ctx, id, 'read');
  return toView(found.reply, found.campaignSlug, found.target);
}

/** Changes a reply's day, channel, summary or whether the campaign page shows it; the file stays as uploaded. */
export async function updateReply(ctx: ServiceContext, id: string, input: UpdateReplyInput): Promise<ReplyView> {
  const found = await requireReply(ctx, id, 'write');
  const changes: Partial<ReplyRow> = { updatedAt: ctx.clock.now() };
  if (input.receivedAt !== undefined) changes.receivedOn = receivedOnOf(ctx, input.receivedAt, found.timeZone);
  if (input.channel !== undefined) changes.channel = input.channel;
  if (input.summary !== undefined) changes.summary = input.summary.replace(/\r\n?/g, '\n').trim();
  if (input.public !== undefined) changes.public = input.public;
  await ctx.db.atomic([ctx.db.db.update(replies).set(changes).where(eq(replies.id, found.reply.id))]);
  return toView({ ...found.reply, ...changes }, found.campaignSlug, found.target);
}

/**
 * Deletes a reply and its file. The row goes first: a file whose removal
 * fails is only an orphan in the store (logged), never a row naming nothing.
 */
export async function deleteReply(ctx: ServiceContext, files: LetterFiles, id: string): Promise<void> {
  const found = await requireReply(ctx, id, 'write');
  await ctx.db.atomic([ctx.db.db.delete(replies).where(eq(replies.id, found.reply.id))]);
  if (found.reply.filePath) {
    try {
      await files.removeFile(found.reply.filePath);
    } catch (error) {
      ctx.logger.warn('reply file not removed', { replyId: found.reply.id, path: found.reply.filePath, error: String(error) });
    }
  }
}

/** A reply's stored file to send back: its bytes as a stream, type, size and a download name (told apart by the reply's id). NotFound without one. */
export async function openReplyFile(ctx: ServiceContext, files: LetterFiles, id: string) {
  const found = await requireReply(ctx, id, 'read');
  const { reply, target } = found;
  if (reply.filePath === null || reply.fileType === null) throw new NotFound('File');
  const opened = await files.openRead(reply.filePath);
  if (!opened) throw new ServiceError('LETTER_FILE_MISSING', 'The reply’s file is missing from the file store.');
  const extension = replyFileTypes[reply.fileType as ReplyFileType] ?? 'bin';
  return {
    body: opened.body,
    bytes: opened.bytes,
    type: reply.fileType,
    filename: `reply-${found.campaignSlug}-${reply.receivedOn}-${target.organisation ?? target.name}.${extension}`,
    uniquePart: reply.id,
  };
}

/** What the public campaign page shows of a reply: no file, no ids. */
export type PublicReply = { receivedOn: string; channel: ReplyChannel; summary: string; target: { name: string; title: string | null; organisation: string | null } };

/** The replies the organisers marked public, newest first, for the campaign page (no access check: public data). */
export async function listPublicReplies(ctx: ServiceContext, slug: string): Promise<PublicReply[]> {
  const rows = await ctx.db.db
    .select({
      receivedOn: replies.receivedOn,
      channel: replies.channel,
      summary: replies.summary,
      target: { name: targets.name, title: targets.title, organisation: targets.organisation },
    })
    .from(replies)
    .innerJoin(campaigns, eq(campaigns.id, replies.campaignId))
    .innerJoin(targets, eq(targets.id, replies.targetId))
    .where(and(eq(campaigns.slug, slug), eq(replies.public, true)))
    .orderBy(desc(replies.receivedOn), desc(replies.createdAt))
    .limit(100);
  return rows;
}

/** What a campaign's replies page needs besides the replies: the campaign and the targets a reply can come from. */
export async function replyFormContext(ctx: ServiceContext, slug: string) {
  const campaignId = await campaignIdForSlug(ctx, ctx.access, slug, 'read');
  const [campaign] = await ctx.db.db
    .select({ slug: campaigns.slug, title: campaigns.title, locale: campaigns.locale, timeZone: campaigns.timeZone })
    .from(campaigns)
    .where(eq(campaigns.id, campaignId));
  if (!campaign) throw new NotFound('Campaign');
  const linked = await ctx.db.db
    .select({ id: targets.id, name: targets.name, title: targets.title, organisation: targets.organisation })
    .from(campaignTargets)
    .innerJoin(targets, eq(targets.id, campaignTargets.targetId))
    .where(eq(campaignTargets.campaignId, campaignId))
    .orderBy(campaignTargets.position);
  return { campaign, targets: linked };
}

/** How many replies a campaign has, and how many of them the campaign page shows. */
export async function countCampaignReplies(ctx: ServiceContext, slug: string): Promise<{ total: number; shown: number }> {
  const campaignId = await campaignIdForSlug(ctx, ctx.access, slug, 'read');
  const rows = await ctx.db.db.select({ public: replies.public }).from(replies).where(eq(replies.campaignId, campaignId));
  return { total: rows.length, shown: rows.filter((row) => row.public).length };
}
