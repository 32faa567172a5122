import { parse } from 'csv-parse/sync';
import { asc, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { WriteStatement } from '../db/database.js';
import type { LetterTemplateStore } from '../letters/letter-ports.js';
import { targets } from '../db/schema.js';
import { newId } from '../lib/ids.js';
import { assertOrganisationAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { Unprocessable } from '../lib/service-errors.js';
import { locales } from '../lib/locales.js';
import { CreateTargetInput, externalIdTaken, toTargetRow, type TargetRow } from './targets.js';

export const importFormats = ['csv', 'json'] as const;
export type ImportFormat = (typeof importFormats)[number];
export type ImportTargetsInput = { format: ImportFormat; content: string };
export type ImportTargetsResult = {
  /** Rows that matched no target and were added. */
  created: number;
  /** Rows that matched a target whose fields they changed. */
  updated: number;
  /** Rows that matched a target exactly as it is. */
  unchanged: number;
  /** Each row's target, in the file's order, whether made, changed or left as it was. */
  ids: string[];
};

/** A problem with one row; `field` is the CSV column or the JSON path, null for the row as a whole. */
export type ImportIssue = { row: number; field: string | null; message: string };

export const MAX_IMPORT_ROWS = 5000;
/** Enough to act on without turning a hopeless file into a megabyte of details. */
const MAX_REPORTED_ISSUES = 200;

/**
 * The CSV columns, in the order an export would use. Only `name`, `kind`,
 * `address_lines` and `country` are required; an empty cell means "not given".
 * - `address_lines`: the lines of the postal address, separated by `|` or by
 *   line breaks inside the quoted cell (so `|` cannot appear inside a line).
 * - `jurisdiction`: region codes separated by `;`, `,` or spaces (`JP-13;JP-14`).
 * - `time_zone`: the IANA zone of the office (`Asia/Tokyo`); `timeZone` is read as the same column.
 * - `verified_at`: an ISO 8601 date-time.
 * - `external_id`: the target's id in the file's own system, which a later import matches it by.
 * - `name_ja`, `title_ja`, `organisation_ja`, `salutation_ja` (and the same for en, ko, zh): the
 *   target's names in that language (`translations`), for letters written in it.
 */
const translatedFields = ['name', 'title', 'organisation', 'salutation'] as const;

export const csvColumns = [
  'name',
  'title',
  'organisation',
  'kind',
  'email',
  'address_lines',
  'postal_code',
  'city',
  'region',
  'country',
  'language',
  'salutation',
  'jurisdiction',
  'time_zone',
  'verified_at',
  'external_id',
  ...locales.flatMap((language) => translatedFields.map((field) => `${field}_${language}` as const)),
] as const;
type CsvColumn = (typeof csvColumns)[number];
/** Header spellings read as a column: the API's field name for the zone. */
const columnAliases: Record<string, CsvColumn> = { timezone: 'time_zone', externalid: 'external_id' };
const requiredCsvColumns: CsvColumn[] = ['name', 'kind', 'address_lines', 'country'];

/** A candidate row: its number as the user sees it, the object to validate, or why it cannot be read. */
type Candidate = { row: number; value: unknown; problem?: string };

function failed(message: string, details?: ImportIssue[]): Unprocessable {
  return new Unprocessable('IMPORT_FAILED', message, details);
}

function assertRowCount(count: number) {
  if (count > MAX_IMPORT_ROWS) {
    throw failed(`An import takes at most ${MAX_IMPORT_ROWS.toLocaleString('en')} rows; this one has ${count.toLocaleString('en')}. Split the file and import the parts.`);
  }
  if (count === 0) throw failed('The file holds no targets.');
}

function lineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

function csvCandidates(content: string): Candidate[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, each record comes as { record, info }; csv-parse's types do not model that option.
    records = parse(content, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as typeof records;
  } catch (error) {
    const where = typeof (error as { lines?: unknown }).lines === 'number' ? ` (near line ${(error as { lines: number }).lines})` : '';
    throw failed(`The CSV could not be read${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const [header, ...body] = records;
  if (!header) throw failed('The file holds no targets.');
  const names = header.record.map((name) => columnAliases[name.trim().toLowerCase()] ?? name.trim().toLowerCase());
  const unknown = names.filter((name) => !(csvColumns as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw failed(`Unknown CSV column${unknown.length === 1 ? '' : 's'}: ${unknown.map((n) => (n === '' ? '(one without a name)' : `"${n}"`)).join(', ')}. The columns are: ${csvColumns.join(', ')}.`);
  }
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (repeated.length > 0) throw failed(`Repeated CSV column${repeated.length === 1 ? '' : 's'}: ${[...new Set(repeated)].join(', ')}.`);
  const missing = requiredCsvColumns.filter((name) => !names.includes(name));
  if (missing.length > 0) throw failed(`Missing CSV column${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}.`);

  // Spreadsheets export trailing rows of empty cells; they are not targets.
  const rows = body.filter(({ record }) => record.some((cell) => cell.trim() !== ''));
  assertRowCount(rows.length);
  return rows.map(({ record, info }) => {
    // info.lines is where the record ends; quoted cells may span lines.
    const row = info.lines - record.reduce((sum, cell) => sum + lineBreaks(cell), 0);
    if (record.length !== names.length) {
      return { row, value: null, problem: `has ${record.length} cells; the header has ${names.length}` };
    }
    const cells = Object.fromEntries(names.map((name, i) => [name, record[i]!.trim()])) as Partial<Record<CsvColumn, string>>;
    return { row, value: csvRowToInput(cells) };
  });
}

function csvRowToInput(cells: Partial<Record<CsvColumn, string>>): Record<string, unknown> {
  const given = (column: CsvColumn) => (cells[column] ? cells[column] : undefined);
  return {
    name: cells.name ?? '',
    title: given('title'),
    organisation: given('organisation'),
    // Spreadsheet users type "Embassy" or "ZH"; the codes themselves are lower-case.
    kind: (cells.kind ?? '').toLowerCase(),
    email: given('email'),
    postalAddress: {
      lines: (cells.address_lines ?? '').split(/\s*\|\s*|\r\n|\r|\n/).map((line) => line.trim()).filter(Boolean),
      postalCode: given('postal_code'),
      city: given('city'),
      region: given('region'),
      country: cells.country ?? '',
    },
    language: given('language')?.toLowerCase(),
    salutation: given('salutation'),
    jurisdiction: given('jurisdiction')?.split(/[\s;,]+/).filter(Boolean),
    timeZone: given('time_zone'),
    verifiedAt: given('verified_at'),
    externalId: given('external_id'),
    translations: Object.fromEntries(
      locales.map((language) => [language, Object.fromEntries(translatedFields.map((field) => [field, given(`${field}_${language}`)]))]),
    ),
  };
}

const csvColumnOfPath: Record<string, CsvColumn> = {
  'postalAddress.postalCode': 'postal_code',
  'postalAddress.city': 'city',
  'postalAddress.region': 'region',
  'postalAddress.country': 'country',
  verifiedAt: 'verified_at',
  timeZone: 'time_zone',
  externalId: 'external_id',
  ...Object.fromEntries(locales.flatMap((language) => translatedFields.map((field) => [`translations.${language}.${field}`, `${field}_${language}`]))),
};

/** The CSV column a validation path came from, with the item number for list cells. */
function csvIssue(path: string, message: string): { field: string; message: string } {
  const item = /^(postalAddress\.lines|jurisdiction)\.(\d+)$/.exec(path);
  if (item) {
    return { field: item[1] === 'jurisdiction' ? 'jurisdiction' : 'address_lines', message: `item ${Number(item[2]) + 1}: ${message}` };
  }
  if (path === 'postalAddress.lines') return { field: 'address_lines', message };
  return { field: csvColumnOfPath[path] ?? path, message };
}

function jsonCandidates(content: string): Candidate[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw failed(`The JSON could not be parsed: ${error instanceof Error ? error.message : String(error)}`);
  }
  let rows: unknown;
  if (Array.isArray(parsed)) {
    rows = parsed;
  } else if (parsed !== null && typeof parsed === 'object') {
    const { targets: list, note, title, ...rest } = parsed as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw failed(`Unknown top-level field${unknown.length === 1 ? '' : 's'}: ${unknown.join(', ')}. Expected { "targets": [...], "note"?: "..." or { "en": "..." }, "title"?: { "en": "..." } }.`);
    if (note !== undefined && typeof note !== 'string' && !isTextsByLanguage(note)) throw failed('The top-level "note" must be a string or an object of texts by language, e.g. { "en": "...", "ja": "..." }.');
    if (title !== undefined && !isTextsByLanguage(title)) {
      throw failed('The top-level "title" must be an object of texts by language, e.g. { "en": "...", "ja": "..." }.');
    }
    rows = list;
  }
  if (!Array.isArray(rows)) throw failed('The JSON must be an array of targets or an object { "targets": [...] }.');
  assertRowCount(rows.length);
  return rows.map((value, index) => ({ row: index + 1, value }));
}

/** A row that passed validation, with its number as the user sees it. */
type ValidRow = { row: number; input: CreateTargetInput };

/** What identifies a target without an external id: its name, organisation and country. */
function naturalKey(target: { name: string; organisation?: string | null; postalAddress: { country: string } }): string {
  return JSON.stringify([target.name, target.organisation ?? null, target.postalAddress.country]);
}

/** Two rows of one file that would make or match the same target. */
function repeatedRows(rows: ValidRow[], format: ImportFormat): ImportIssue[] {
  const issues: ImportIssue[] = [];
  const byExternalId = new Map<string, number>();
  const byKey = new Map<string, number>();
  for (const { row, input } of rows) {
    if (input.externalId) {
      const first = byExternalId.get(input.externalId);
      if (first === undefined) byExternalId.set(input.externalId, row);
      else issues.push({ row, field: format === 'csv' ? 'external_id' : 'externalId', message: `repeats the external id of row ${first}` });
      continue;
    }
    const key = naturalKey(input);
    const first = byKey.get(key);
    if (first === undefined) byKey.set(key, row);
    else issues.push({ row, field: null, message: `has the name, organisation and country of row ${first}; give each an external id to tell them apart` });
  }
  return issues;
}

/** JSON with object keys sorted, so a stored value and a parsed one compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1))) : inner,
  );
}

/** Whether importing `next` over `current` would change anything a user sees (the times of the row aside). */
function differs(current: TargetRow, next: TargetRow): boolean {
  return (Object.keys(next) as (keyof TargetRow)[]).some((key) => key !== 'id' && key !== 'createdAt' && key !== 'updatedAt' && canonical(next[key]) !== canonical(current[key]));
}

type ImportPlan = { inserts: TargetRow[]; updates: TargetRow[]; unchanged: number; ids: string[] };

/**
 * What the import does to the directory as it is now. A row with an external id matches the
 * target with that id, else (adopting it) a target without one of the same name, organisation and
 * country; a row without matches by name, organisation and country. The oldest such target is
 * taken, and one target answers one row. A row without an external id keeps the target's.
 */
async function planImport(ctx: ServiceContext, rows: ValidRow[], now: number): Promise<ImportPlan> {
  const externalIds = rows.flatMap(({ input }) => (input.externalId ? [input.externalId] : []));
  const names = [...new Set(rows.map(({ input }) => input.name))];
  const candidates = await ctx.db.db
    .select()
    .from(targets)
    .where(
      sql`${targets.externalId} in (select value from json_each(${JSON.stringify(externalIds)})) or ${targets.name} in (select value from json_each(${JSON.stringify(names)}))`,
    )
    .orderBy(asc(targets.createdAt), asc(targets.id));
  const byExternalId = new Map(candidates.flatMap((target) => (target.externalId ? [[target.externalId, target] as const] : [])));
  const claimed = new Set<string>();
  const claim = (target: TargetRow | undefined) => {
    if (target) claimed.add(target.id);
    return target;
  };
  // External ids first, so a row matched by name cannot take the target another row names by its id.
  const matched = rows.map(({ input }) => claim(input.externalId ? byExternalId.get(input.externalId) : undefined));
  const byKey = new Map<string, TargetRow[]>();
  for (const target of candidates) {
    const key = naturalKey(target);
    const same = byKey.get(key);
    if (same) same.push(target);
    else byKey.set(key, [target]);
  }
  rows.forEach(({ input }, index) => {
    if (matched[index]) return;
    const adopting = Boolean(input.externalId);
    matched[index] = claim(byKey.get(naturalKey(input))?.find((target) => !claimed.has(target.id) && (!adopting || target.externalId === null)));
  });

  // Ids made in one millisecond are random after the timestamp; sorting them keeps the file's order.
  const newIds = rows.map(() => newId(now)).sort();
  const plan: ImportPlan = { inserts: [], updates: [], unchanged: 0, ids: [] };
  rows.forEach(({ input }, index) => {
    const current = matched[index];
    if (!current) {
      const row = toTargetRow(input, newIds.shift()!, now);
      plan.inserts.push(row);
      plan.ids.push(row.id);
      return;
    }
    plan.ids.push(current.id);
    const next = { ...toTargetRow(input, current.id, current.createdAt), externalId: input.externalId ?? current.externalId };
    if (differs(current, next)) plan.updates.push({ ...next, updatedAt: now });
    else plan.unchanged += 1;
  });
  return plan;
}

/**
 * Imports targets from CSV or JSON, all or nothing: every row is validated
 * first and one bad row fails the import (`422 IMPORT_FAILED` with
 * `[{ row, field, message }]`) with nothing written. Rows are numbered as the
 * user sees them: the CSV line (the header is line 1) or the JSON array
 * position from 1. Importing a file again changes nothing: each row matches
 * the target it made (by external id, else by name, organisation and
 * country, see planImport), which is updated if the row differs; the rest
 * are added, all in one atomic write.
 */
export async function importTargets(ctx: ServiceContext, input: ImportTargetsInput): Promise<ImportTargetsResult> {
  assertOrganisationAccess(ctx.access);
  const content = input.content.replace(/^\uFEFF/, '');
  const candidates = input.format === 'csv' ? csvCandidates(content) : jsonCandidates(content);

  const issues: ImportIssue[] = [];
  const valid: ValidRow[] = [];
  for (const { row, value, problem } of candidates) {
    if (problem) {
      issues.push({ row, field: null, message: problem });
      continue;
    }
    const result = v.safeParse(CreateTargetInput, value);
    if (result.success) {
      valid.push({ row, input: result.output });
      continue;
    }
    for (const issue of result.issues) {
      const path = v.getDotPath(issue) ?? '';
      if (input.format === 'csv') issues.push({ row, ...csvIssue(path, issue.message) });
      else issues.push({ row, field: path === '' ? null : path, message: issue.message });
    }
  }
  issues.push(...repeatedRows(valid, input.format));

  if (issues.length > 0) {
    issues.sort((a, b) => a.row - b.row);
    const badRows = new Set(issues.map((issue) => issue.row)).size;
    const numbering = input.format === 'csv' ? 'Rows are CSV line numbers, the header being line 1.' : 'Rows are positions in the JSON array, counting from 1.';
    const shown = issues.length > MAX_REPORTED_ISSUES ? ` The first ${MAX_REPORTED_ISSUES} of ${issues.length} problems are listed.` : '';
    throw failed(`${badRows} row${badRows === 1 ? ' has' : 's have'} problems, so nothing was imported. ${numbering}${shown}`, issues.slice(0, MAX_REPORTED_ISSUES));
  }

  const now = ctx.clock.now();
  // Two imports of one file at once: the second finds its new targets taken by the first (the
  // external id is unique) and plans again against what the first wrote.
  for (let attempt = 1; ; attempt += 1) {
    const plan = await planImport(ctx, valid, now);
    const statements = [...insertStatements(ctx, plan.inserts), ...updateStatements(ctx, plan.updates)];
    try {
      if (statements.length > 0) await ctx.db.atomic(statements);
    } catch (error) {
      if (attempt < 2 && String(error).includes('UNIQUE constraint failed: targets.external_id')) continue;
      throw externalIdTaken(error, null);
    }
    const result = { created: plan.inserts.length, updated: plan.updates.length, unchanged: plan.unchanged, ids: plan.ids };
    ctx.logger.info('targets imported', { format: input.format, created: result.created, updated: result.updated, unchanged: result.unchanged });
    return result;
  }
}

/** Characters of JSON per statement: well inside D1's statement and value limits. */
const MAX_CHUNK_CHARS = 200_000;

/** The rows as JSON arrays of at most MAX_CHUNK_CHARS each, one bound value per statement. */
function jsonChunks(rows: TargetRow[]): string[] {
  const chunks: string[][] = [[]];
  let size = 0;
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (size + json.length > MAX_CHUNK_CHARS && chunks[chunks.length - 1]!.length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks[chunks.length - 1]!.push(json);
    size += json.length + 1;
  }
  return chunks.filter((chunk) => chunk.length > 0).map((chunk) => `[${chunk.join(',')}]`);
}

/**
 * The new rows as a few `INSERT … SELECT FROM json_each(?)` statements, each
 * binding one JSON array. A plain multi-row insert binds 14 values per row,
 * and D1 allows only 100 bound parameters per statement.
 */
function insertStatements(ctx: ServiceContext, rows: TargetRow[]): WriteStatement[] {
  return jsonChunks(rows).map((chunk) =>
    ctx.db.statement(sql`
      insert into ${targets} (id, name, title, organisation, kind, email, postal_address, language, salutation, jurisdiction, time_zone, verified_at, external_id, translations, created_at, updated_at)
      select
        json_extract(value, '$.id'), json_extract(value, '$.name'), json_extract(value, '$.title'),
        json_extract(value, '$.organisation'), json_extract(value, '$.kind'), json_extract(value, '$.email'),
        json_extract(value, '$.postalAddress'), json_extract(value, '$.language'), json_extract(value, '$.salutation'),
        json_extract(value, '$.jurisdiction'), json_extract(value, '$.timeZone'), json_extract(value, '$.verifiedAt'),
        json_extract(value, '$.externalId'), json_extract(value, '$.translations'), json_extract(value, '$.createdAt'), json_extract(value, '$.updatedAt')
      from json_each(${chunk})
      order by key`),
  );
}

/** The changed rows, every field replaced from the file, as `UPDATE … FROM json_each(?)` statements (one bound array each). */
function updateStatements(ctx: ServiceContext, rows: TargetRow[]): WriteStatement[] {
  return jsonChunks(rows).map((chunk) =>
    ctx.db.statement(sql`
      update ${targets} set
        name = json_extract(file.value, '$.name'), title = json_extract(file.value, '$.title'),
        organisation = json_extract(file.value, '$.organisation'), kind = json_extract(file.value, '$.kind'),
        email = json_extract(file.value, '$.email'), postal_address = json_extract(file.value, '$.postalAddress'),
        language = json_extract(file.value, '$.language'), salutation = json_extract(file.value, '$.salutation'),
        jurisdiction = json_extract(file.value, '$.jurisdiction'), time_zone = json_extract(file.value, '$.timeZone'),
        verified_at = json_extract(file.value, '$.verifiedAt'), external_id = json_extract(file.value, '$.externalId'),
        translations = json_extract(file.value, '$.translations'),
        updated_at = json_extract(file.value, '$.updatedAt')
      from json_each(${chunk}) as file
      where ${targets.id} = json_extract(file.value, '$.id')`),
  );
}

/** `{ "en": "...", "ja": "..." }`: texts by language, as a directory's title and note are given. */
function isTextsByLanguage(value: unknown): value is Record<string, string> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((text) => typeof text === 'string');
}

/** A target directory shipped in `letters/targets/`, as the dashboard offers it. */
export type ShippedTargetDirectory = {
  name: string;
  /** How many targets it holds; null when the file does not read as a directory (importing it says why). */
  count: number | null;
  /** The file's own note (e.g. that its entries are unverified) by language, shown before importing; a plain string note is English. */
  note: Record<string, string> | null;
  /** What the file calls itself, by language (`title: { en, ja }`); the name stands in where it gives none. */
  title: Record<string, string>;
};

/** The shipped target directories, so an organiser without a terminal can import one. */
export async function listShippedTargetDirectories(ctx: ServiceContext, ports: LetterTemplateStore): Promise<ShippedTargetDirectory[]> {
  assertOrganisationAccess(ctx.access);
  const directories: ShippedTargetDirectory[] = [];
  for (const name of await ports.listTargetDirectories()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await ports.loadTargetDirectory(name));
    } catch {
      parsed = undefined;
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { targets?: unknown } | undefined)?.targets;
    const { note, title } = (parsed ?? {}) as { note?: unknown; title?: unknown };
    const titles = title && typeof title === 'object' ? Object.entries(title).filter((entry): entry is [string, string] => typeof entry[1] === 'string') : [];
    const notes = typeof note === 'string' ? { en: note } : isTextsByLanguage(note) ? note : null;
    directories.push({ name, count: Array.isArray(list) ? list.length : null, note: notes, title: Object.fromEntries(titles) });
  }
  return directories;
}

/** Imports a shipped directory exactly as `importTargets` imports its file: idempotent, all or none. */
export async function importShippedTargetDirectory(ctx: ServiceContext, ports: LetterTemplateStore, name: string): Promise<ImportTargetsResult> {
  assertOrganisationAccess(ctx.access);
  return importTargets(ctx, { format: 'json', content: await ports.loadTargetDirectory(name) });
}
