import { parse } from 'csv-parse/sync';
import { desc, eq, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { WriteStatement } from '../db/database.js';
import { campaigns, paperImports, signatures } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { isRegionCode, isRegionOf, regionName, regionsOf } from '../lib/regions.js';
import { assertCampaignAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { Conflict, NotFound, Unprocessable, ValidationFailed } from '../lib/service-errors.js';
import { CountryCode, isoOrNull, Locale, MultiLine, SingleLine } from './schemas.js';
import { locales } from '../lib/locales.js';
import { normalizeEmail } from './signatures.js';
import { actorLabel, type Principal } from './tokens.js';

/**
 * Street signatures (PRODUCT.md §13): paper sheets typed up as CSV and imported as signatures.
 *
 * A paper row is the signer's own act, written in their hand, so it becomes a **confirmed**
 * signature at once (no confirmation email: a row may have no address, and nothing is ever sent
 * because of an import). It is counted toward the goal and named in letters only as its consent
 * box says (`name_on_letter` full / initials / none; an empty box is `none`).
 *
 * Addresses are merged, never counted twice: a row whose address already signed this campaign
 * (on the web, on paper, or higher up in the same file) adds nothing and changes nothing. The
 * existing signature stays as it is, because a web signature's address was proven by its owner
 * and a paper row's was not. A later web confirmation for a paper address applies the web
 * submission over the paper row, still counted once (confirmSignature). A row without an email
 * is stored with the empty address and `paper:<id>` as its key (as erased rows are `erased:<id>`),
 * so it matches no one and no mail can go to it; its `updates` box is recorded as no.
 */

/** The CSV columns: those of the signatures export a supporter fills in, and where the row was collected. */
export const paperCsvColumns = [
  'name',
  'email',
  'country',
  'region',
  'city',
  'postal_code',
  'comment',
  'locale',
  'name_on_letter',
  'show_publicly',
  'updates',
  'collected_at',
  'event',
  'sheet',
] as const;
type PaperColumn = (typeof paperCsvColumns)[number];

/** Rows one import takes (a whole season of street events fits; split larger files). */
export const MAX_PAPER_IMPORT_ROWS = 100_000;
/** Rows listed in a report; the count of rejected rows is always whole. */
const MAX_REPORTED_ROWS = 1000;

/**
 * What can be wrong with a cell. A closed list, so a tool can act on it; `message` says it in words.
 * - REQUIRED: the cell is empty and the column must be filled (name; country without a default).
 * - TOO_LONG / NOT_ONE_LINE: longer than the signing form allows, or holds line breaks or control characters.
 * - INVALID_EMAIL, INVALID_COUNTRY, UNKNOWN_REGION, REGION_NOT_IN_COUNTRY, INVALID_LOCALE.
 * - INVALID_CHOICE: a consent box other than full / initials / none, or yes / no.
 * - INVALID_DATE / FUTURE_DATE: collected_at is not a `YYYY-MM-DD` day, or is after today.
 * - WRONG_CELL_COUNT: the row has more or fewer cells than the header.
 */
export const paperRowErrorCodes = [
  'REQUIRED',
  'TOO_LONG',
  'NOT_ONE_LINE',
  'INVALID_EMAIL',
  'INVALID_COUNTRY',
  'UNKNOWN_REGION',
  'REGION_NOT_IN_COUNTRY',
  'INVALID_LOCALE',
  'INVALID_CHOICE',
  'INVALID_DATE',
  'FUTURE_DATE',
  'WRONG_CELL_COUNT',
] as const;
export type PaperRowErrorCode = (typeof paperRowErrorCodes)[number];

export type PaperRowError = { field: PaperColumn | null; code: PaperRowErrorCode; message: string };
/** A rejected row: its CSV line (the header is line 1) and everything wrong with it. */
export type RejectedPaperRow = { row: number; errors: PaperRowError[] };

const isDay = (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) === value;
const Day = v.pipe(v.string(), v.check(isDay, 'must be a day, YYYY-MM-DD'));

/** What goes with an import: where the sheets come from, defaults for empty cells, and how to run it. */
export const PaperImportOptions = v.object({
  sheet: v.optional(v.pipe(SingleLine(100), v.minLength(1))),
  event: v.optional(v.pipe(SingleLine(200), v.minLength(1))),
  collectedOn: v.optional(Day),
  /** The country of rows whose country cell is empty (a street event is in one country). */
  country: v.optional(CountryCode),
  /** The language of rows whose locale cell is empty; the campaign's by default. */
  locale: v.optional(Locale),
  dryRun: v.optional(v.boolean(), false),
  /** Import the good rows and report the bad ones, instead of refusing the whole file. */
  skipInvalid: v.optional(v.boolean(), false),
});
export type PaperImportOptions = v.InferOutput<typeof PaperImportOptions>;

export type PaperImportReport = {
  /** The import's record (null for a dry run, which writes nothing). */
  id: string | null;
  dryRun: boolean;
  /** Rows in the file, blank ones aside. */
  rows: number;
  /** Rows that are valid: new signatures plus merged ones. */
  accepted: number;
  /** New signatures (for a dry run: that the import would write now). */
  imported: number;
  /** Valid rows whose address had signed already, here or earlier in the file: counted once. */
  merged: number;
  rejectedCount: number;
  /** The first 1,000 rejected rows, in file order. */
  rejected: RejectedPaperRow[];
};

type PaperRow = {
  row: number;
  name: string;
  email: string | null;
  country: string;
  region: string | null;
  city: string | null;
  postalCode: string | null;
  comment: string | null;
  locale: (typeof locales)[number];
  nameOnLetter: 'full' | 'initials' | 'none';
  showPublicly: boolean;
  updates: boolean;
  collectedOn: string | null;
  event: string | null;
  sheet: string | null;
};

const failed = (message: string, details?: unknown) => new Unprocessable('IMPORT_FAILED', message, details);

const EmailCell = v.pipe(v.string(), v.maxLength(254), v.email());
const yes = new Set(['yes', 'y', 'true', '1', 'x', '✓', '✔', 'はい']);
const no = new Set(['no', 'n', 'false', '0', 'いいえ']);

// Built once: a valibot pipe costs ten times more to build than to run, and a file has 100,000 rows.
const textSchemas = new Map<string, ReturnType<typeof SingleLine> | ReturnType<typeof MultiLine>>();
function textSchema(max: number, multiLine: boolean) {
  const key = `${max}${multiLine ? 'm' : 's'}`;
  let schema = textSchemas.get(key);
  if (!schema) textSchemas.set(key, (schema = multiLine ? MultiLine(max) : SingleLine(max)));
  return schema;
}

/** A text cell checked as the signing form checks the field: empty is null. */
function textCell(value: string, max: number, multiLine = false): { value: string | null } | { code: PaperRowErrorCode; message: string } {
  if (value === '') return { value: null };
  if (value.length > max) return { code: 'TOO_LONG', message: `is longer than ${max} characters` };
  const result = v.safeParse(textSchema(max, multiLine), value);
  if (!result.success) return { code: 'NOT_ONE_LINE', message: multiLine ? 'must not contain control characters' : 'must be one line without control characters' };
  return { value: result.output === '' ? null : result.output };
}

const regionNamesByCountry = new Map<string, Map<string, string>>();

/** A region as typed from a sheet: its ISO 3166-2 code, or its name in one of the page languages (東京都, Tokyo). */
function regionCode(typed: string, country: string): string | null {
  const upper = typed.toUpperCase();
  if (isRegionCode(upper)) return upper;
  let names = regionNamesByCountry.get(country);
  if (!names) {
    names = new Map();
    for (const code of regionsOf(country)) for (const language of locales) names.set(regionName(code, language).toLowerCase(), code);
    regionNamesByCountry.set(country, names);
  }
  return names.get(typed.toLowerCase()) ?? null;
}

function validateRow(
  row: number,
  cells: Partial<Record<PaperColumn, string>>,
  defaults: { country?: string | undefined; locale: (typeof locales)[number]; today: string },
): { row: PaperRow } | { errors: PaperRowError[] } {
  const errors: PaperRowError[] = [];
  const cell = (column: PaperColumn) => (cells[column] ?? '').trim();
  const text = (column: PaperColumn, max: number, multiLine = false): string | null => {
    const checked = textCell(cell(column), max, multiLine);
    if ('code' in checked) {
      errors.push({ field: column, code: checked.code, message: checked.message });
      return null;
    }
    return checked.value;
  };
  const name = text('name', 200);
  if (cell('name') === '') errors.push({ field: 'name', code: 'REQUIRED', message: 'a name is needed' });

  let email: string | null = null;
  if (cell('email') !== '') {
    if (v.safeParse(EmailCell, cell('email')).success) email = cell('email');
    else errors.push({ field: 'email', code: 'INVALID_EMAIL', message: 'must be an email address, or left empty' });
  }

  let country: string | null = null;
  const typedCountry = cell('country') || defaults.country || '';
  if (typedCountry === '') errors.push({ field: 'country', code: 'REQUIRED', message: 'a country is needed (or give a default country with the import)' });
  else {
    const parsed = v.safeParse(CountryCode, typedCountry);
    if (parsed.success) country = parsed.output;
    else errors.push({ field: 'country', code: 'INVALID_COUNTRY', message: 'must be an ISO 3166-1 alpha-2 country code, e.g. JP' });
  }

  let region: string | null = null;
  if (cell('region') !== '' && country !== null) {
    const code = regionCode(cell('region'), country);
    if (code === null) errors.push({ field: 'region', code: 'UNKNOWN_REGION', message: 'must be a region code (JP-13) or a region name (東京都, Tokyo)' });
    else if (!isRegionOf(code, country)) errors.push({ field: 'region', code: 'REGION_NOT_IN_COUNTRY', message: `${code} is not a region of ${country}` });
    else region = code;
  }

  const city = text('city', 100);
  const postalCode = text('postal_code', 20);
  const comment = text('comment', 1000, true);
  const event = text('event', 200);
  const sheet = text('sheet', 100);

  let locale = defaults.locale;
  if (cell('locale') !== '') {
    const parsed = v.safeParse(Locale, cell('locale').toLowerCase());
    if (parsed.success) locale = parsed.output;
    else errors.push({ field: 'locale', code: 'INVALID_LOCALE', message: `must be one of ${locales.join(', ')}` });
  }

  let nameOnLetter: PaperRow['nameOnLetter'] = 'none';
  const typedName = cell('name_on_letter').toLowerCase();
  if (typedName === 'full' || typedName === 'initials' || typedName === 'none') nameOnLetter = typedName;
  else if (typedName !== '') errors.push({ field: 'name_on_letter', code: 'INVALID_CHOICE', message: 'must be full, initials or none (empty: none)' });

  const box = (column: 'show_publicly' | 'updates'): boolean => {
    const typed = cell(column).toLowerCase();
    if (typed === '' || no.has(typed)) return false;
    if (yes.has(typed)) return true;
    errors.push({ field: column, code: 'INVALID_CHOICE', message: 'must be yes or no (empty: no)' });
    return false;
  };
  const showPublicly = box('show_publicly');
  const updates = box('updates');

  let collectedOn: string | null = null;
  if (cell('collected_at') !== '') {
    const typed = cell('collected_at');
    if (!isDay(typed)) {
      errors.push({ field: 'collected_at', code: 'INVALID_DATE', message: 'must be a day, YYYY-MM-DD' });
    } else if (typed > defaults.today) errors.push({ field: 'collected_at', code: 'FUTURE_DATE', message: 'is after today' });
    else collectedOn = typed;
  }

  if (errors.length > 0 || name === null || country === null) return { errors };
  return {
    row: {
      row,
      name,
      email,
      country,
      region,
      city,
      postalCode,
      comment,
      locale,
      nameOnLetter,
      showPublicly,
      // An address-less row cannot be sent news, whatever its box says.
      updates: email !== null && updates,
      collectedOn,
      event,
      sheet,
    },
  };
}

function lineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

/** The CSV as cells by column, with each row's line number; a file that cannot be read as a whole fails here. */
function readCsv(content: string): { row: number; cells: Partial<Record<PaperColumn, string>> | null; cellCount: number; expected: number }[] {
  let records: { record: string[]; lines: number }[];
  try {
    // Only the line a record ends on is kept of csv-parse's context (its `info` object per record costs a fifth more time and memory).
    // csv-parse's types tie on_record's result to `columns`; the options are as documented.
    const parseRecords = parse as (input: string, options: Record<string, unknown>) => unknown;
    records = parseRecords(content, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (record: string[], context: { lines: number }) => ({ record, lines: context.lines }),
    }) as typeof records;
  } catch (error) {
    const where = typeof (error as { lines?: unknown }).lines === 'number' ? ` (near line ${(error as { lines: number }).lines})` : '';
    throw failed(`The CSV could not be read${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const [header, ...body] = records;
  if (!header) throw failed('The file holds no rows.');
  const names = header.record.map((name) => name.trim().toLowerCase());
  const unknown = names.filter((name) => !(paperCsvColumns as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw failed(`Unknown CSV column${unknown.length === 1 ? '' : 's'}: ${unknown.map((n) => (n === '' ? '(one without a name)' : `"${n}"`)).join(', ')}. The columns are: ${paperCsvColumns.join(', ')}.`);
  }
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (repeated.length > 0) throw failed(`Repeated CSV column${repeated.length === 1 ? '' : 's'}: ${[...new Set(repeated)].join(', ')}.`);
  if (!names.includes('name')) throw failed('Missing CSV column: name.');
  const rows = body.filter(({ record }) => record.some((cell) => cell.trim() !== ''));
  if (rows.length === 0) throw failed('The file holds no rows.');
  if (rows.length > MAX_PAPER_IMPORT_ROWS) {
    throw failed(`An import takes at most ${MAX_PAPER_IMPORT_ROWS.toLocaleString('en')} rows; this one has ${rows.length.toLocaleString('en')}. Split the file and import the parts.`);
  }
  return rows.map(({ record, lines }) => {
    const row = lines - record.reduce((sum, cell) => sum + lineBreaks(cell), 0);
    if (record.length !== names.length) return { row, cells: null, cellCount: record.length, expected: names.length };
    return { row, cells: Object.fromEntries(names.map((name, i) => [name, record[i]!])) as Partial<Record<PaperColumn, string>>, cellCount: record.length, expected: names.length };
  });
}

/** Characters of JSON per statement: well inside D1's statement and value limits (one bound value each). */
const MAX_CHUNK_CHARS = 200_000;

function jsonChunks(rows: readonly string[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const json of rows) {
    if (size + json.length > MAX_CHUNK_CHARS && current.length > 0) {
      chunks.push(`[${current.join(',')}]`);
      current = [];
      size = 0;
    }
    current.push(json);
    size += json.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(',')}]`);
  return chunks;
}

/**
 * New signatures from a JSON array (one bound value per statement; D1 binds at most 100). An
 * address that has a signature here already keeps it (DO NOTHING): merged, not counted again.
 */
const INSERT_PAPER_SIGNATURES_SQL = `INSERT INTO "signatures"
  ("id", "campaign_id", "name", "email", "email_normalized", "country", "region", "city", "postal_code", "comment", "locale",
   "name_on_letter", "show_publicly", "updates", "status", "created_at", "confirmed_at", "source")
SELECT json_extract(value, '$.id'), ?, json_extract(value, '$.name'), json_extract(value, '$.email'), json_extract(value, '$.key'),
  json_extract(value, '$.country'), json_extract(value, '$.region'), json_extract(value, '$.city'), json_extract(value, '$.postalCode'),
  json_extract(value, '$.comment'), json_extract(value, '$.locale'), json_extract(value, '$.nameOnLetter'),
  json_extract(value, '$.showPublicly'), json_extract(value, '$.updates'), 'confirmed', ?, ?, json_extract(value, '$.source')
FROM json_each(?) WHERE true
ON CONFLICT ("campaign_id", "email_normalized") DO NOTHING`;

/**
 * The import's record, with the signatures it wrote counted in the same transaction: they are
 * the ones confirmed at this instant whose source names this import (the index on campaign,
 * status and confirmation time finds them). Parameters: the record's fields, then campaign,
 * instant and import id for the count, then the valid rows for `merged`.
 */
const RECORD_IMPORT_SQL = `INSERT INTO "paper_imports"
  ("id", "campaign_id", "sheet", "event", "collected_on", "rows", "rejected", "imported_by", "created_at", "imported", "merged")
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, counted.n, ? - counted.n
FROM (SELECT count(*) AS n FROM "signatures"
  WHERE "campaign_id" = ? AND "status" = 'confirmed' AND "confirmed_at" = ? AND json_extract("source", '$.import') = ?) AS counted`;

/** The count delta of the new signatures (import id). */
const COUNT_IMPORT_SQL = `INSERT INTO "signature_count_deltas" ("campaign_id", "delta")
SELECT "campaign_id", "imported" FROM "paper_imports" WHERE "id" = ? AND "imported" > 0`;

/**
 * Imports typed-up paper sheets (CSV, the columns of `paperCsvColumns`) into a campaign as
 * confirmed signatures with `source.kind = 'paper'`. Every row is checked first; each bad row is
 * reported with its CSV line and a code per cell. A dry run writes nothing and says what the
 * import would do now. Otherwise one bad row refuses the whole file (422 IMPORT_FAILED naming
 * the rows), unless `skipInvalid` imports the good ones; the write is one transaction, so an
 * import lands whole or not at all. Nothing is emailed to anyone.
 */
export async function importPaperSignatures(
  ctx: ServiceContext,
  principal: Pick<Principal, 'id' | 'name'>,
  slug: string,
  content: string,
  options: PaperImportOptions,
): Promise<PaperImportReport> {
  const [campaign] = await ctx.db.db
    .select({ id: campaigns.id, status: campaigns.status, locale: campaigns.locale, timeZone: campaigns.timeZone })
    .from(campaigns)
    .where(eq(campaigns.slug, slug));
  if (!campaign) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, campaign.id, 'write');
  if (campaign.status === 'archived') throw new Conflict('CAMPAIGN_NOT_OPEN', 'This campaign is archived: it takes no more signatures, on paper either.');

  const now = ctx.clock.now();
  // A day is "after today" in the campaign's zone, where the sheets were signed.
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: campaign.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  if (options.collectedOn !== undefined && options.collectedOn > today) {
    throw new ValidationFailed([{ path: 'collectedOn', message: 'is after today' }]);
  }
  const defaults = { country: options.country, locale: options.locale ?? campaign.locale, today };

  const rejected: RejectedPaperRow[] = [];
  const valid: PaperRow[] = [];
  for (const candidate of readCsv(content.replace(/^\uFEFF/, ''))) {
    if (candidate.cells === null) {
      rejected.push({ row: candidate.row, errors: [{ field: null, code: 'WRONG_CELL_COUNT', message: `has ${candidate.cellCount} cells; the header has ${candidate.expected}` }] });
      continue;
    }
    const checked = validateRow(candidate.row, candidate.cells, defaults);
    if ('errors' in checked) rejected.push({ row: candidate.row, errors: checked.errors });
    else valid.push(checked.row);
  }
  const rows = valid.length + rejected.length;
  const reportOf = (id: string | null, imported: number): PaperImportReport => ({
    id,
    dryRun: options.dryRun,
    rows,
    accepted: valid.length,
    imported,
    merged: valid.length - imported,
    rejectedCount: rejected.length,
    rejected: rejected.slice(0, MAX_REPORTED_ROWS),
  });

  if (!options.dryRun && rejected.length > 0 && !options.skipInvalid) {
    const shown = rejected.length > MAX_REPORTED_ROWS ? ` The first ${MAX_REPORTED_ROWS} are listed.` : '';
    throw failed(
      `${rejected.length} row${rejected.length === 1 ? ' has' : 's have'} problems, so nothing was imported. Rows are CSV line numbers, the header being line 1. Correct them, or import with skipInvalid to take the other rows.${shown}`,
      rejected.slice(0, MAX_REPORTED_ROWS),
    );
  }

  // The first row of an address in the file stands for it; later ones merge into it.
  const seen = new Set<string>();
  const firsts = valid.filter((row) => {
    if (row.email === null) return true;
    const key = normalizeEmail(row.email);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });

  if (options.dryRun) {
    const signed = new Set<string>();
    const addresses = [...seen];
    for (let i = 0; i < addresses.length; i += 5000) {
      const found = await ctx.db.db
        .select({ key: signatures.emailNormalized })
        .from(signatures)
        .where(sql`${signatures.campaignId} = ${campaign.id} AND ${signatures.emailNormalized} IN (SELECT value FROM json_each(${JSON.stringify(addresses.slice(i, i + 5000))}))`);
      for (const { key } of found) signed.add(key);
    }
    const fresh = firsts.filter((row) => row.email === null || !signed.has(normalizeEmail(row.email))).length;
    return reportOf(null, fresh);
  }

  const importId = newId(now);
  const common = { kind: 'paper', import: importId };
  const json = firsts.map((row) => {
    const id = newId(now);
    const source: Record<string, string> = { ...common };
    const event = row.event ?? options.event;
    const sheet = row.sheet ?? options.sheet;
    const collectedOn = row.collectedOn ?? options.collectedOn;
    if (sheet) source.sheet = sheet;
    if (event) source.event = event;
    if (collectedOn) source.collectedOn = collectedOn;
    source.row = String(row.row);
    return JSON.stringify({
      id,
      name: row.name,
      email: row.email ?? '',
      key: row.email === null ? `paper:${id}` : normalizeEmail(row.email),
      country: row.country,
      region: row.region,
      city: row.city,
      postalCode: row.postalCode,
      comment: row.comment,
      locale: row.locale,
      nameOnLetter: row.nameOnLetter,
      showPublicly: row.showPublicly ? 1 : 0,
      updates: row.updates ? 1 : 0,
      source: JSON.stringify(source),
    });
  });
  const statements: WriteStatement[] = jsonChunks(json).map((chunk) => ctx.db.statement({ sql: INSERT_PAPER_SIGNATURES_SQL, params: [campaign.id, now, now, chunk] }));
  statements.push(
    ctx.db.statement({
      sql: RECORD_IMPORT_SQL,
      params: [
        importId,
        campaign.id,
        options.sheet ?? null,
        options.event ?? null,
        options.collectedOn ?? null,
        rows,
        rejected.length,
        actorLabel(principal),
        now,
        valid.length,
        campaign.id,
        now,
        importId,
      ],
    }),
    ctx.db.statement({ sql: COUNT_IMPORT_SQL, params: [importId] }),
  );
  await ctx.db.atomic(statements);
  const [record] = await ctx.db.db.select({ imported: paperImports.imported }).from(paperImports).where(eq(paperImports.id, importId));
  const report = reportOf(importId, record?.imported ?? 0);
  ctx.logger.info('paper signatures imported', { rows: report.rows, imported: report.imported, merged: report.merged, rejected: report.rejectedCount });
  return report;
}

/** A campaign's paper imports, newest first, for the dashboard and the API. */
export async function listPaperImports(ctx: ServiceContext, slug: string) {
  const [campaign] = await ctx.db.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, campaign.id, 'read');
  const rows = await ctx.db.db.select().from(paperImports).where(eq(paperImports.campaignId, campaign.id)).orderBy(desc(paperImports.createdAt)).limit(200);
  return rows.map((row) => ({
    id: row.id,
    sheet: row.sheet,
    event: row.event,
    collectedOn: row.collectedOn,
    rows: row.rows,
    imported: row.imported,
    merged: row.merged,
    rejected: row.rejected,
    importedBy: row.importedBy,
    createdAt: isoOrNull(row.createdAt),
  }));
}
