import { and, asc, desc, eq, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import * as v from 'valibot';
import type { WriteStatement } from '../db/database.js';
import { campaigns, deliveries, letterBatches, letters, outbox, targets, type PostalAddress, type SendingWindow, type StoredOutboxMessage } from '../db/schema.js';
import type { LetterPorts } from '../letters/letter-ports.js';
import { organisationInLanguage, requireOrganisation } from './organisation.js';
import { newId, uuidPattern } from '../lib/ids.js';
import type { LetterDeliveryEmailInput } from '../mail/letter-email.js';
import { newMessageId } from '../mail/messages.js';
import { outboxStore, sendingPhase } from '../outbox/outbox-store.js';
import type { NewOutboxMessage } from '../outbox/types.js';
import { type AccessNeed, assertCampaignAccess, listableCampaignIds } from './access.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound, ServiceError, Unprocessable, ValidationFailed } from '../lib/service-errors.js';
import { afterCursor, decodeCursor, PageQuery, toPage, type Page } from './pagination.js';
import { letterWithdrawn } from './letters.js';
import { isoOrNull, SingleLine, type Locale } from './schemas.js';
import { locales } from '../lib/locales.js';
import { webhookEventWrites } from './webhooks.js';

export const deliveryChannels = ['email', 'print'] as const;
export type DeliveryChannel = (typeof deliveryChannels)[number];

export const deliveryStatuses = ['queued', 'sending', 'sent', 'failed', 'bounced', 'printed', 'posted', 'delivered', 'returned'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** The states an organiser moves a print delivery to by hand. */
export const printStatuses = ['printed', 'posted', 'delivered', 'returned'] as const;
export type PrintStatus = (typeof printStatuses)[number];

/** queued → printed → posted → delivered | returned. */
const printTransitions: Record<DeliveryStatus, readonly PrintStatus[]> = {
  queued: ['printed'],
  printed: ['posted'],
  posted: ['delivered', 'returned'],
  sending: [],
  sent: [],
  failed: [],
  bounced: [],
  delivered: [],
  returned: [],
};

const stampColumn = { printed: 'printedAt', posted: 'postedAt', delivered: 'deliveredAt', returned: 'returnedAt' } as const;

export const CreateDeliveryInput = v.strictObject({
  channel: v.picklist(deliveryChannels, 'must be email or print'),
});
export type CreateDeliveryInput = v.InferOutput<typeof CreateDeliveryInput>;

/** An `Idempotency-Key` header: 1–200 visible ASCII characters (no spaces). */
export const IdempotencyKey = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,200}$/, 'must be 1 to 200 visible ASCII characters'));

export const UpdateDeliveryInput = v.strictObject({
  status: v.picklist(printStatuses, 'must be printed, posted, delivered or returned'),
  trackingNumber: v.optional(v.pipe(SingleLine(100), v.nonEmpty('must not be empty'))),
});
export type UpdateDeliveryInput = v.InferOutput<typeof UpdateDeliveryInput>;

export const DeliveryListQuery = v.object({
  ...PageQuery.entries,
  status: v.optional(v.picklist(deliveryStatuses, `must be one of ${deliveryStatuses.join(', ')}`)),
  channel: v.optional(v.picklist(deliveryChannels, 'must be email or print')),
  /** A campaign's slug. */
  campaign: v.optional(v.pipe(v.string(), v.maxLength(64))),
});
export type DeliveryListQuery = v.InferOutput<typeof DeliveryListQuery>;

/** The print queue of one campaign (`?campaign=<slug>`), or of every campaign the caller reaches. */
export const PrintQueueQuery = v.object({
  campaign: v.optional(v.pipe(v.string(), v.maxLength(64))),
});
export type PrintQueueQuery = v.InferOutput<typeof PrintQueueQuery>;

export type DeliveryView = {
  id: string;
  letterId: string;
  campaign: string;
  campaignId: string;
  targetId: string;
  mailingId: string | null;
  channel: DeliveryChannel;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  trackingNumber: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  printedAt: string | null;
  postedAt: string | null;
  deliveredAt: string | null;
  returnedAt: string | null;
  /** A print delivery's job at PRINTER_URL: null before it is sent (see src/services/print-jobs.ts). */
  printJobState: string | null;
  /**
   * The SHA-256 of the letter this delivery carries: for one that went out before the letter was
   * rendered again after an erasure, the hash of what went out (PRODUCT.md §8: delivered letters are kept, by hash).
   */
  letterSha256: string;
};

export type PrintQueueItem = {
  id: string;
  letterId: string;
  campaign: string;
  campaignTitle: string;
  target: { id: string; name: string; title: string | null; organisation: string | null; postalAddress: PostalAddress };
  pages: number;
  createdAt: string;
};

/**
 * An email delivery has no state of its own: it is whatever its outbox row is
 * (pending → queued, pending under a live lease → sending, sent, failed), so
 * the sender never has to write to two tables. `bounced` is recorded on
 * the delivery itself, since it arrives after the outbox row is done.
 */
export const deliveryStatusSql = (now: number) =>
  sql<DeliveryStatus>`CASE WHEN ${deliveries.channel} <> 'email' OR ${deliveries.status} = 'bounced' THEN ${deliveries.status}
    ELSE ${sendingPhase(now)} END`;

const rowColumns = (now: number) => ({
  id: deliveries.id,
  letterId: deliveries.letterId,
  campaign: campaigns.slug,
  campaignId: deliveries.campaignId,
  targetId: deliveries.targetId,
  mailingId: deliveries.mailingId,
  channel: deliveries.channel,
  status: deliveryStatusSql(now),
  attempts: deliveries.attempts,
  lastError: deliveries.lastError,
  trackingNumber: deliveries.trackingNumber,
  idempotencyKey: deliveries.idempotencyKey,
  createdAt: deliveries.createdAt,
  updatedAt: deliveries.updatedAt,
  sentAt: deliveries.sentAt,
  printedAt: deliveries.printedAt,
  postedAt: deliveries.postedAt,
  deliveredAt: deliveries.deliveredAt,
  returnedAt: deliveries.returnedAt,
  printJobState: deliveries.printJobState,
  letterSha256: sql<string>`coalesce(${deliveries.letterSha256}, ${letters.sha256})`,
  outboxAttempts: outbox.attempts,
  outboxLastError: outbox.lastError,
  outboxSentAt: outbox.sentAt,
});

function selectDeliveries(ctx: ServiceContext, now: number) {
  return ctx.db.db
    .select(rowColumns(now))
    .from(deliveries)
    .innerJoin(campaigns, eq(campaigns.id, deliveries.campaignId))
    .innerJoin(letters, eq(letters.id, deliveries.letterId))
    .leftJoin(outbox, eq(outbox.id, deliveries.outboxId));
}

type DeliveryRow = Awaited<ReturnType<ReturnType<typeof selectDeliveries>['where']>>[number];

function toView(row: DeliveryRow): DeliveryView {
  const email = row.channel === 'email';
  return {
    id: row.id,
    letterId: row.letterId,
    campaign: row.campaign,
    campaignId: row.campaignId,
    targetId: row.targetId,
    mailingId: row.mailingId,
    channel: row.channel,
    status: row.status,
    attempts: email ? (row.outboxAttempts ?? 0) : row.attempts,
    lastError: email && row.status !== 'bounced' ? (row.outboxLastError ?? null) : row.lastError,
    trackingNumber: row.trackingNumber,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
    sentAt: isoOrNull(email ? (row.outboxSentAt ?? null) : row.sentAt),
    printedAt: isoOrNull(row.printedAt),
    postedAt: isoOrNull(row.postedAt),
    deliveredAt: isoOrNull(row.deliveredAt),
    returnedAt: isoOrNull(row.returnedAt),
    printJobState: row.printJobState,
    letterSha256: row.letterSha256,
  };
}

function parseId(id: string): string | null {
  const lower = id.toLowerCase();
  return uuidPattern.test(lower) ? lower : null;
}

async function findRow(ctx: ServiceContext, where: SQL): Promise<DeliveryRow | undefined> {
  const [row] = await selectDeliveries(ctx, ctx.clock.now()).where(where);
  return row;
}

/** A letter of a campaign within the caller's reach (404 outside it; delivering is a change, so 403 for a viewer). */
async function findLetterForDelivery(ctx: ServiceContext, id: string) {
  const letterId = parseId(id);
  const [found] = letterId
    ? await ctx.db.db
        .select({ letter: letters, mode: letterBatches.mode, campaign: campaigns, target: targets })
        .from(letters)
        .innerJoin(letterBatches, eq(letterBatches.id, letters.batchId))
        .innerJoin(campaigns, eq(campaigns.id, letters.campaignId))
        .innerJoin(targets, eq(targets.id, letters.targetId))
        .where(eq(letters.id, letterId))
    : [];
  if (!found) throw new NotFound('Letter');
  assertCampaignAccess(ctx.access, found.letter.campaignId, 'write', 'Letter');
  return found;
}

const isLocale = (value: string): value is Locale => (locales as readonly string[]).includes(value);

/** The same name the letter downloads as (`GET /letters/:id.pdf`). */
function letterFilename(slug: string, targetName: string, letterId: string, mode: 'per_target' | 'per_signer'): string {
  return `${slug}-${targetName}${mode === 'per_signer' ? `-${letterId.slice(-8)}` : ''}.pdf`;
}

function checkReplay(existing: DeliveryRow, letterId: string, channel: DeliveryChannel): DeliveryView {
  if (existing.letterId !== letterId || existing.channel !== channel) {
    throw new Conflict(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used for another delivery (a different letter or channel); use a new key.',
    );
  }
  return toView(existing);
}

/** A letter with what its delivery needs: batch mode, campaign and target rows. */
export type LetterForDelivery = Awaited<ReturnType<typeof findLetterForDelivery>>;

/** Reads a letter for `deliveryWrites`; `NotFound` for an unknown id. */
export function loadLetterForDelivery(ctx: ServiceContext, letterId: string): Promise<LetterForDelivery> {
  return findLetterForDelivery(ctx, letterId);
}

/**
 * The writes that create one delivery, for one `atomic` step: the delivery row
 * and, for `email`, its outbox message (a covering note in the target's
 * language with the PDF attached). The delivery is inserted with ON CONFLICT
 * DO NOTHING (its idempotency key, or the mailing's UNIQUE (mailing_id,
 * letter_id, channel)), and the outbox row only if the delivery went in, so a
 * repeat queues no second email. A mailing's outbox row carries its
 * `mailing_id` and `recipient_key` = the delivery id, and may be paced by
 * `nextAttemptAt`. Throws 422 TARGET_HAS_NO_EMAIL for email to a target without an address, and
 * 409 ORGANISATION_NOT_SET for email while the organisation profile is the shipped example.
 */
export async function deliveryWrites(
  ctx: ServiceContext,
  ports: LetterPorts,
  { letter, mode, campaign, target }: LetterForDelivery,
  channel: DeliveryChannel,
  options: {
    id: string;
    now: number;
    idempotencyKey?: string | null;
    mailingId?: string;
    nextAttemptAt?: number;
    /** The mailing's sending window on the target's clock, kept with the email so retries wait for an opening too. */
    window?: SendingWindow & { timeZone: string };
  },
): Promise<WriteStatement[]> {
  const { id, now } = options;
  const row: typeof deliveries.$inferInsert = {
    id,
    letterId: letter.id,
    campaignId: letter.campaignId,
    targetId: target.id,
    mailingId: options.mailingId ?? null,
    channel,
    status: 'queued',
    idempotencyKey: options.idempotencyKey ?? null,
    createdAt: now,
    updatedAt: now,
  };
  if (channel !== 'email') return [ctx.db.db.insert(deliveries).values(row).onConflictDoNothing()];

  const address = target.email?.trim();
  if (!address) throw new Unprocessable('TARGET_HAS_NO_EMAIL', 'The target has no email address; add one to the target or deliver the letter by print.');
  const locale: Locale = isLocale(target.language) ? target.language : letter.language;
  const organisation = organisationInLanguage(await requireOrganisation(ctx, ports, 'sending letters by email'), locale);
  const email: LetterDeliveryEmailInput = {
    locale,
    recipient: { name: target.name, address },
    campaignTitle: campaign.translations[locale]?.title ?? campaign.title,
    // The covering note speaks for the whole petition, as the letter's text does; never for a routed letter's share.
    signatureCount: letter.petitionCount ?? letter.signatureCount,
    organisation: {
      name: organisation.name,
      addressLines: organisation.addressLines,
      ...(organisation.email ? { email: organisation.email } : {}),
      ...(organisation.website ? { website: organisation.website } : {}),
      ...(organisation.representative ? { representative: organisation.representative } : {}),
    },
    attachment: { storedPath: letter.path, filename: letterFilename(campaign.slug, target.name, letter.id, mode) },
  };
  const message: StoredOutboxMessage = { compose: 'letter-delivery', input: email, ...(options.window ? { window: options.window } : {}) };
  const outboxId = newId(now);
  row.outboxId = outboxId;
  const queued: NewOutboxMessage = {
    id: outboxId,
    kind: 'letter-delivery',
    recipient: address,
    messageId: newMessageId(ctx.mailFrom, outboxId),
    message,
    dueAt: options.nextAttemptAt ?? now,
    createdAt: now,
    ...(options.mailingId === undefined ? {} : { mailingId: options.mailingId, recipientKey: id }),
  };
  // A racing request with the same key (or a mailing run again) inserts no delivery, so no email either.
  return [ctx.db.db.insert(deliveries).values(row).onConflictDoNothing(), ...outboxStore(ctx).enqueue([queued], { kind: 'delivery', id })];
}

/**
 * Creates a delivery of a letter to its target. `email`: the delivery and its
 * outbox message (a covering note in the target's language with the PDF
 * attached) are written in one atomic step; the target needs an email address
 * (422 TARGET_HAS_NO_EMAIL). `print`: the delivery joins the print queue.
 * With an idempotency key, a repeat returns the delivery the key first made
 * (`replayed: true`), even when the two requests race; the same key for another
 * letter or channel is 409 IDEMPOTENCY_KEY_REUSED.
 */
export async function createDelivery(
  ctx: ServiceContext,
  ports: LetterPorts,
  letterIdParam: string,
  input: CreateDeliveryInput,
  idempotencyKey?: string,
): Promise<{ delivery: DeliveryView; replayed: boolean }> {
  if (idempotencyKey !== undefined && !v.is(IdempotencyKey, idempotencyKey)) {
    throw new ValidationFailed([{ path: 'Idempotency-Key', message: 'must be 1 to 200 visible ASCII characters' }]);
  }
  const { letter, mode, campaign, target } = await findLetterForDelivery(ctx, letterIdParam);
  if (letter.withdrawnAt !== null) throw letterWithdrawn();
  if (idempotencyKey !== undefined) {
    const existing = await findRow(ctx, eq(deliveries.idempotencyKey, idempotencyKey));
    if (existing) return { delivery: checkReplay(existing, letter.id, input.channel), replayed: true };
  }

  const now = ctx.clock.now();
  const id = newId(now);
  await ctx.db.atomic(await deliveryWrites(ctx, ports, { letter, mode, campaign, target }, input.channel, { id, now, idempotencyKey: idempotencyKey ?? null }));

  const stored = await findRow(ctx, idempotencyKey === undefined ? eq(deliveries.id, id) : eq(deliveries.idempotencyKey, idempotencyKey));
  if (!stored) throw new Error('delivery not stored');
  if (stored.id !== id) return { delivery: checkReplay(stored, letter.id, input.channel), replayed: true };
  return { delivery: toView(stored), replayed: false };
}

/** One delivery, its status read live (for email, from its outbox message). */
export async function getDelivery(ctx: ServiceContext, idParam: string): Promise<DeliveryView> {
  return toView(await getDeliveryRow(ctx, idParam, 'read'));
}

/** Deliveries, newest first, filtered by status, channel and campaign (slug). */
export async function listDeliveries(ctx: ServiceContext, query: DeliveryListQuery): Promise<Page<DeliveryView>> {
  const after = decodeCursor(query.cursor);
  const visible = await listableCampaignIds(ctx, query.campaign);
  const now = ctx.clock.now();
  const rows = await selectDeliveries(ctx, now)
    .where(
      and(
        query.status ? sql`${deliveryStatusSql(now)} = ${query.status}` : undefined,
        query.channel ? eq(deliveries.channel, query.channel) : undefined,
        query.campaign !== undefined ? eq(campaigns.slug, query.campaign) : undefined,
        visible === null ? undefined : inArray(deliveries.campaignId, visible),
        afterCursor(deliveries.createdAt, deliveries.id, after),
      ),
    )
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toView);
}

/**
 * Moves a print delivery along queued → printed → posted → delivered | returned,
 * stamping the time of each step; a tracking number may come with `posted`.
 * Email deliveries follow their email and are not changed by hand.
 */
export async function updateDelivery(ctx: ServiceContext, idParam: string, input: UpdateDeliveryInput): Promise<DeliveryView> {
  const current = await getDeliveryRow(ctx, idParam, 'write');
  if (current.channel !== 'print') {
    throw new Conflict('NOT_A_PRINT_DELIVERY', 'Email deliveries follow their email; only print deliveries change status by hand.');
  }
  if (input.trackingNumber !== undefined && input.status !== 'posted') {
    throw new ValidationFailed([{ path: 'trackingNumber', message: 'can only be given with status posted' }]);
  }
  if (!printTransitions[current.status].includes(input.status)) {
    throw new Conflict('INVALID_TRANSITION', `A print delivery cannot go from ${current.status} to ${input.status}.`, {
      from: current.status,
      to: input.status,
      allowed: printTransitions[current.status],
    });
  }
  const now = ctx.clock.now();
  const events = await webhookEventWrites(ctx, 'delivery.updated', [current.id], { kind: 'delivery', id: current.id });
  await ctx.db.atomic([
    ...events,
    ctx.db.db
      .update(deliveries)
      .set({
        status: input.status,
        updatedAt: now,
        [stampColumn[input.status]]: now,
        ...(input.trackingNumber !== undefined ? { trackingNumber: input.trackingNumber } : {}),
      })
      // Only from the state read above: a concurrent change makes this a no-op, reported below.
      .where(and(eq(deliveries.id, current.id), eq(deliveries.status, current.status))),
  ]);
  const updated = await getDeliveryRow(ctx, current.id, 'read');
  if (updated.status !== input.status || updated.updatedAt !== now) {
    throw new Conflict('INVALID_TRANSITION', `The delivery changed meanwhile; it is now ${updated.status}.`, { from: updated.status, to: input.status });
  }
  return toView(updated);
}

/** A delivery of a campaign within the caller's reach for `need` (404 outside it, 403 for a viewer changing it). */
async function getDeliveryRow(ctx: ServiceContext, idParam: string, need: AccessNeed): Promise<DeliveryRow> {
  const id = parseId(idParam);
  const row = id ? await findRow(ctx, eq(deliveries.id, id)) : undefined;
  if (!row) throw new NotFound('Delivery');
  assertCampaignAccess(ctx.access, row.campaignId, need, 'Delivery');
  return row;
}

// The JSON queue and its PDF share this query (and the letter's stored path), so they always agree on the order.
async function selectPrintQueue(ctx: ServiceContext, query: PrintQueueQuery) {
  const visible = await listableCampaignIds(ctx, query.campaign);
  return ctx.db.db
    .select({
      id: deliveries.id,
      letterId: deliveries.letterId,
      campaign: campaigns.slug,
      campaignTitle: campaigns.title,
      target: { id: targets.id, name: targets.name, title: targets.title, organisation: targets.organisation, postalAddress: targets.postalAddress },
      pages: letters.pages,
      path: letters.path,
      createdAt: deliveries.createdAt,
    })
    .from(deliveries)
    .innerJoin(letters, eq(letters.id, deliveries.letterId))
    .innerJoin(campaigns, eq(campaigns.id, deliveries.campaignId))
    .innerJoin(targets, eq(targets.id, deliveries.targetId))
    .where(
      and(
        eq(deliveries.channel, 'print'),
        eq(deliveries.status, 'queued'),
        // A withdrawn letter has no file to print; its waiting deliveries were failed when it was withdrawn.
        isNull(letters.withdrawnAt),
        query.campaign !== undefined ? eq(campaigns.slug, query.campaign) : undefined,
        visible === null ? undefined : inArray(deliveries.campaignId, visible),
      ),
    )
    .orderBy(
      asc(campaigns.slug),
      sql`json_extract(${targets.postalAddress}, '$.country')`,
      sql`coalesce(json_extract(${targets.postalAddress}, '$.postalCode'), '')`,
      asc(deliveries.createdAt),
      asc(deliveries.id),
    );
}

/**
 * Every print delivery still to be printed, in the order the envelopes are
 * stuffed: by campaign (slug), then the target's country and postal code, then
 * when it was queued. Only the caller's campaigns, or the one `campaign` names.
 */
export async function listPrintQueue(ctx: ServiceContext, query: PrintQueueQuery = {}): Promise<{ items: PrintQueueItem[] }> {
  const rows = await selectPrintQueue(ctx, query);
  return { items: rows.map(({ path: _path, ...row }) => ({ ...row, createdAt: new Date(row.createdAt).toISOString() })) };
}

export type PrintQueuePdf = {
  pdf: Uint8Array<ArrayBuffer>;
  /** `print-queue-YYYY-MM-DD-HHMMSS.pdf`, when (UTC) the queue was read: two reads of one day are two files. */
  filename: string;
  letters: number;
  coverPages: number;
  letterPages: number;
};

/**
 * The print queue as one PDF, in the order of `listPrintQueue`: a cover sheet
 * (date, totals, one row per letter with its recipient and page count), then
 * every stored letter as rendered. An empty queue gives just a cover saying
 * there is nothing to print. A letter whose file is gone is 410
 * LETTER_FILE_MISSING (naming the delivery), rather than a PDF missing a letter.
 * Nothing changes state: the organiser marks deliveries `printed` afterwards.
 */
export async function buildPrintQueuePdf(ctx: ServiceContext, ports: LetterPorts, query: PrintQueueQuery = {}): Promise<PrintQueuePdf> {
  const now = ctx.clock.now();
  const rows = await selectPrintQueue(ctx, query);
  const entries = [];
  for (const row of rows) {
    const pdf = await ports.files.readBytes(row.path);
    if (!pdf) {
      throw new ServiceError('LETTER_FILE_MISSING', 'A queued letter\'s PDF is no longer stored, so the queue cannot be printed whole; details name the delivery and letter.', {
        deliveryId: row.id,
        letterId: row.letterId,
      });
    }
    entries.push({
      deliveryId: row.id,
      recipient: row.target.name,
      organisation: row.target.organisation,
      city: row.target.postalAddress.city ?? row.target.postalAddress.region ?? null,
      country: row.target.postalAddress.country,
      pdf,
    });
  }
  const composed = await ports.composePrintQueue({ generatedAt: now, entries });
  return {
    pdf: composed.pdf,
    filename: `print-queue-${new Date(now).toISOString().slice(0, 19).replace('T', '-').replace(/:/g, '')}.pdf`,
    letters: entries.length,
    coverPages: composed.coverPages,
    letterPages: composed.letterPages,
  };
}
