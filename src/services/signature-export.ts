import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { campaigns, emailSuppressions, signatures } from '../db/schema.js';
import { csvRow } from '../lib/csv.js';
import { countryNameInEnglish, regionName } from '../lib/regions.js';
import { startsWithEastAsianLetter } from '../letters/template/signatory-names.js';
import { assertCampaignAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound } from '../lib/service-errors.js';
import { iterateSignatures, signatureStatuses, type SignatureView } from './signatures.js';

/**
 * The CSV layouts the export writes: Signet's own (every field, every signature, for the
 * organisation's records and a later paper import), and the upload files of the two tools NGOs
 * keep supporters in, Action Network and ActionKit.
 */
export const exportFormats = ['signet', 'action-network', 'actionkit'] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** `?format=` and `?status=`: `actionnetwork` is read as `action-network`; a status filters only Signet's own layout. */
export const SignatureExportQuery = v.pipe(
  v.object({
    status: v.optional(v.picklist(signatureStatuses)),
    format: v.optional(
      v.pipe(
        v.picklist([...exportFormats, 'actionnetwork']),
        v.transform((format): ExportFormat => (format === 'actionnetwork' ? 'action-network' : format)),
      ),
      'signet',
    ),
  }),
  v.forward(
    v.check((query) => query.status === undefined || query.format === 'signet', 'only with format=signet: the upload presets hold only supporters who consented to updates'),
    ['status'],
  ),
);
export type SignatureExportQuery = v.InferOutput<typeof SignatureExportQuery>;

const signetColumns: [string, (s: SignatureView) => unknown][] = [
  ['id', (s) => s.id],
  ['status', (s) => s.status],
  ['name', (s) => s.name],
  ['email', (s) => s.email],
  ['country', (s) => s.country],
  ['region', (s) => s.region],
  ['city', (s) => s.city],
  ['postal_code', (s) => s.postalCode],
  ['comment', (s) => s.comment],
  ['locale', (s) => s.locale],
  ['name_on_letter', (s) => s.consent.nameOnLetter],
  ['show_publicly', (s) => s.consent.showPublicly],
  ['updates', (s) => s.consent.updates],
  ['created_at', (s) => s.createdAt],
  ['confirmed_at', (s) => s.confirmedAt],
  ['unsubscribed_at', (s) => s.unsubscribedAt],
  ['source', (s) => s.source],
];

/** What an upload preset writes of one supporter. */
type Subscriber = {
  id: string;
  name: string;
  email: string;
  country: string;
  region: string | null;
  city: string | null;
  postalCode: string | null;
  confirmedAt: number | null;
  source: Record<string, string> | null;
};

/**
 * A name as a CRM's two fields. Names in Han, kana or Hangul are written family name first
 * ("山田 花子": last_name 山田, first_name 花子); others given name first ("Jane van Doe": Jane,
 * van Doe). A name in one piece goes whole into first_name, so a greeting by first name never
 * comes out empty.
 */
export function splitName(name: string): { first: string; last: string } {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length < 2) return { first: parts[0] ?? '', last: '' };
  if (startsWithEastAsianLetter(name.trim())) return { first: parts.slice(1).join(' '), last: parts[0]! };
  return { first: parts[0]!, last: parts.slice(1).join(' ') };
}

/** A US state as the two letters both tools expect there; elsewhere the region's English name. */
const stateOf = (s: Subscriber) => (s.region === null ? '' : s.country === 'US' ? s.region.replace(/^US-/, '') : regionName(s.region, 'en'));

/** `2027-09-01 09:30:00`, UTC (ActionKit reads upload times as UTC). */
const utcDateTime = (at: number | null) => (at === null ? '' : new Date(at).toISOString().slice(0, 19).replace('T', ' '));

/**
 * Action Network's upload matches these column names to its fields without a click (its upload
 * help: email required, ZIP/postal code recommended, names, city, state, country); the country
 * as its two-letter code.
 */
const actionNetworkColumns: [string, (s: Subscriber) => unknown][] = [
  ['email', (s) => s.email],
  ['first_name', (s) => splitName(s.name).first],
  ['last_name', (s) => splitName(s.name).last],
  ['city', (s) => s.city],
  ['state', stateOf],
  ['zip_code', (s) => s.postalCode],
  ['country', (s) => s.country],
];

/**
 * ActionKit's import headers: `zip` and `state` for the United States, `postal` and `region`
 * elsewhere (ActionKit validates `zip` as a US ZIP code), the country by its English name (it
 * defaults to the United States), `source` (the utm_source the supporter came with, else
 * `signet`), and `created_at`, the confirmation, for the action the import records.
 */
const actionKitColumns: [string, (s: Subscriber) => unknown][] = [
  ['email', (s) => s.email],
  ['first_name', (s) => splitName(s.name).first],
  ['last_name', (s) => splitName(s.name).last],
  ['city', (s) => s.city],
  ['state', (s) => (s.country === 'US' ? stateOf(s) : '')],
  ['zip', (s) => (s.country === 'US' ? s.postalCode : '')],
  ['region', (s) => (s.country === 'US' ? '' : stateOf(s))],
  ['postal', (s) => (s.country === 'US' ? '' : s.postalCode)],
  ['country', (s) => countryNameInEnglish(s.country)],
  ['source', (s) => s.source?.utm_source ?? 'signet'],
  ['created_at', (s) => utcDateTime(s.confirmedAt)],
];

const PAGE = 500;

/**
 * The supporters an upload to another tool may carry: exactly those an update mailing would
 * reach now (confirmed, consented to updates, not unsubscribed, address not suppressed after a
 * bounce or complaint). Both tools mail whoever is uploaded, and Action Network requires that
 * every uploaded person opted in; a supporter who only signed gave no such consent.
 */
async function* subscribers(ctx: ServiceContext, campaignId: string): AsyncGenerator<Subscriber> {
  let after: string | null = null;
  for (;;) {
    const rows: Subscriber[] = await ctx.db.db
      .select({
        id: signatures.id,
        name: signatures.name,
        email: signatures.email,
        country: signatures.country,
        region: signatures.region,
        city: signatures.city,
        postalCode: signatures.postalCode,
        confirmedAt: signatures.confirmedAt,
        source: signatures.source,
      })
      .from(signatures)
      .where(
        and(
          eq(signatures.campaignId, campaignId),
          eq(signatures.status, 'confirmed'),
          eq(signatures.updates, true),
          isNull(signatures.unsubscribedAt),
          after === null ? undefined : gt(signatures.id, after),
          sql`not exists (select 1 from ${emailSuppressions} where ${emailSuppressions.emailNormalized} = ${signatures.emailNormalized})`,
        ),
      )
      .orderBy(asc(signatures.id))
      .limit(PAGE);
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

async function campaignIdFor(ctx: ServiceContext, slug: string): Promise<string> {
  const [campaign] = await ctx.db.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, campaign.id, 'read');
  return campaign.id;
}

/**
 * One layout's header and rows. Signet's own keeps every signature (filtered by `status`); the
 * upload presets only the supporters who consented to updates (`subscribers`).
 */
async function layout(ctx: ServiceContext, slug: string, query: SignatureExportQuery): Promise<{ header: string[]; rows: AsyncIterator<unknown[]> }> {
  if (query.format === 'signet') {
    const rows = iterateSignatures(ctx, slug, query.status);
    return { header: signetColumns.map(([name]) => name), rows: mapRows(rows, (s) => signetColumns.map(([, get]) => get(s))) };
  }
  const columns = query.format === 'action-network' ? actionNetworkColumns : actionKitColumns;
  const rows = subscribers(ctx, await campaignIdFor(ctx, slug));
  return { header: columns.map(([name]) => name), rows: mapRows(rows, (s) => columns.map(([, get]) => get(s))) };
}

async function* mapRows<T>(rows: AsyncIterator<T>, toCells: (row: T) => unknown[]): AsyncGenerator<unknown[]> {
  for (let next = await rows.next(); !next.done; next = await rows.next()) yield toCells(next.value);
}

/**
 * The signatures of a campaign as CSV in one of `exportFormats`, streamed page by page so a
 * campaign of any size exports in flat memory. A BOM lets Excel read UTF-8 names; every cell is
 * spreadsheet-safe (csvCell: no formula runs when the file is opened).
 */
export async function exportSignaturesCsv(ctx: ServiceContext, slug: string, query: SignatureExportQuery = { format: 'signet' }): Promise<ReadableStream<Uint8Array>> {
  const { header, rows } = await layout(ctx, slug, query);
  // Fails here with NotFound for an unknown campaign, before any byte is sent.
  const first = await rows.next();
  const encoder = new TextEncoder();
  let headerSent = false;
  let pending: IteratorResult<unknown[]> | null = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(`\uFEFF${csvRow(header)}`));
        return;
      }
      let chunk = '';
      for (let i = 0; i < 200; i++) {
        const next: IteratorResult<unknown[]> = pending ?? (await rows.next());
        pending = null;
        if (next.done) {
          if (chunk) controller.enqueue(encoder.encode(chunk));
          controller.close();
          return;
        }
        chunk += csvRow(next.value);
      }
      controller.enqueue(encoder.encode(chunk));
    },
  });
}
