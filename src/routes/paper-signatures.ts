import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { pdfHeaders } from '../http/content-disposition.js';
import type { AppEnv } from '../http/env.js';
import { requireScope } from '../http/middleware.js';
import { organisationNotSetResponse, organiserRoute } from '../http/openapi.js';
import { principalOf, serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { type FieldIssue, ServiceError, Unprocessable, ValidationFailed } from '../lib/service-errors.js';
import { importPaperSignatures, listPaperImports, MAX_PAPER_IMPORT_ROWS, paperCsvColumns, PaperImportOptions } from '../services/paper-signatures.js';
import { renderSignatureSheet, SignatureSheetQuery } from '../services/signature-sheet.js';
import { catalogs } from '../web/i18n/index.js';

/** The largest import body: 100,000 typed-up rows of about 100 bytes, with room to spare. */
export const PAPER_IMPORT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The one API request that may carry a large CSV of paper signatures (src/app.ts gives it its own body limit). */
export function isPaperImport(method: string, path: string): boolean {
  return method === 'POST' && /^\/api\/v1\/campaigns\/[^/]+\/signatures\/import\/?$/.test(path);
}

/** The import's fields, from the query or the form's parts. */
const importFields = ['sheet', 'event', 'collectedOn', 'country', 'locale', 'dryRun', 'skipInvalid'] as const;

// Fatal, so a Shift_JIS file is refused with a hint instead of imported as mojibake.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: ArrayBuffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new Unprocessable('IMPORT_FAILED', 'The file is not UTF-8 text. Save it as UTF-8 (in Excel: "CSV UTF-8") and import it again.');
  }
}

/** The CSV and the import's fields: the body as text/csv with the fields in the query, or multipart with `file` and the fields as parts. */
async function readImport(c: Context<AppEnv>): Promise<{ content: string; fields: Record<string, string> }> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  const fields: Record<string, string> = {};
  for (const name of importFields) {
    const value = c.req.query(name);
    if (value !== undefined) fields[name] = value;
  }
  if (/^(text|application)\/csv\b/.test(type)) {
    const charset = /charset="?([^";]+)/.exec(type)?.[1];
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as UTF-8.');
    return { content: decodeUtf8(await c.req.arrayBuffer()), fields };
  }
  if (/^multipart\/form-data\b/.test(type)) {
    let form: Record<string, string | File>;
    try {
      form = (await c.req.parseBody()) as Record<string, string | File>;
    } catch {
      throw new ServiceError('MALFORMED_BODY', 'The multipart body could not be read.');
    }
    const { file, ...rest } = form;
    for (const [name, value] of Object.entries(rest)) {
      if (typeof value !== 'string') throw new ValidationFailed([{ path: name, message: 'must be text, not a file' }]);
      fields[name] = value;
    }
    if (file === undefined) throw new ValidationFailed([{ path: 'file', message: 'is required: the CSV file' }]);
    return { content: typeof file === 'string' ? file : decodeUtf8(await file.arrayBuffer()), fields };
  }
  throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'Send the CSV as text/csv (fields in the query), or as multipart/form-data with the file in `file`.');
}

/** The import's options from text fields (query or form parts), validated as one object. */
export function paperImportOptions(fields: Record<string, string | undefined>): PaperImportOptions {
  const given = (name: string) => (fields[name] === undefined || fields[name]!.trim() === '' ? undefined : fields[name]!.trim());
  const flags: FieldIssue[] = [];
  const truthy = (name: string) => {
    const value = given(name)?.toLowerCase();
    if (value === undefined) return undefined;
    if (value === 'true' || value === '1' || value === 'on') return true;
    if (value === 'false' || value === '0') return false;
    flags.push({ path: name, message: 'must be true or false' });
    return undefined;
  };
  const parsed = v.safeParse(PaperImportOptions, {
    sheet: given('sheet'),
    event: given('event'),
    collectedOn: given('collectedOn'),
    country: given('country'),
    locale: given('locale')?.toLowerCase(),
    dryRun: truthy('dryRun'),
    skipInvalid: truthy('skipInvalid'),
  });
  const issues = [...flags, ...(parsed.success ? [] : parsed.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message })))];
  if (issues.length > 0 || !parsed.success) throw new ValidationFailed(issues);
  return parsed.output;
}

/** Street signatures (PRODUCT.md §13): the printable sheet, and the import of typed-up sheets. */
export function paperSignatureRoutes() {
  const routes = new Hono<AppEnv>();

  // Scope `campaigns`: the sheet is the campaign's own material (its text and consent form, no
  // supporter's data), printed by whoever runs the stall, as a campaign viewer may.
  routes.get(
    '/campaigns/:slug/signature-sheet.pdf',
    organiserRoute(
      'Signatures',
      'A printable A4 signature sheet: per language (?languages=ja,en; by default the campaign\'s own, then its translations) the petition\'s title and summary, the privacy notice and the consent choices worded as on the signing form, numbered rows, and a QR code to the signing page (PUBLIC_URL/c/:slug?lang=…&ref=paper).',
      'campaigns',
      { 200: 'The PDF', 400: 'A language the campaign has no text in (VALIDATION_FAILED)', 409: organisationNotSetResponse },
      { reach: 'campaign' },
    ),
    requireScope('campaigns'),
    validate('query', SignatureSheetQuery),
    async (c) => {
      const sheet = await renderSignatureSheet(serviceContextOf(c), c.get('services').letters, c.req.param('slug'), c.req.valid('query'), catalogs);
      return c.body(sheet.pdf, 200, pdfHeaders(sheet.filename, { bytes: sheet.pdf.byteLength }));
    },
  );

  routes.post(
    '/campaigns/:slug/signatures/import',
    organiserRoute(
      'Signatures',
      `Import typed-up paper signature sheets as confirmed signatures (source.kind "paper"). The CSV (UTF-8, text/csv with the fields below in the query, or multipart/form-data with the file in \`file\` and the fields as parts) has the columns ${paperCsvColumns.join(', ')}; only name is required (country too unless \`country\` gives a default). name_on_letter is full, initials or none (empty: none); show_publicly and updates are yes or no (empty: no). Fields: sheet, event, collectedOn (YYYY-MM-DD), country and locale (defaults for empty cells), dryRun, skipInvalid. At most ${MAX_PAPER_IMPORT_ROWS} rows. An address that signed this campaign already (on the web, on paper, or higher in the file) is merged: counted once, the existing signature unchanged. A row without an email is accepted and never emailed; nothing is emailed to anyone. dryRun=true writes nothing and answers 200 { accepted, imported, merged, rejectedCount, rejected: [{ row, errors: [{ field, code, message }] }] } (rows are CSV lines, the header being line 1). Otherwise all or nothing: any bad row answers 422 IMPORT_FAILED naming the rows, unless skipInvalid=true imports the good ones and reports the others.`,
      'campaigns',
      { 200: 'Dry run: what the import would do', 201: '{ id, rows, accepted, imported, merged, rejectedCount, rejected }', 409: 'The campaign is archived (CAMPAIGN_NOT_OPEN)', 413: 'Over 16 MB (PAYLOAD_TOO_LARGE)', 422: 'Bad rows, nothing written (IMPORT_FAILED, details: the rows)' },
      { reach: 'campaign' },
    ),
    requireScope('campaigns'),
    async (c) => {
      const { content, fields } = await readImport(c);
      const options = paperImportOptions(fields);
      const report = await importPaperSignatures(serviceContextOf(c), principalOf(c), c.req.param('slug'), content, options);
      return c.json(report, options.dryRun ? 200 : 201);
    },
  );

  routes.get(
    '/campaigns/:slug/signatures/imports',
    organiserRoute('Signatures', 'The paper imports of a campaign, newest first: sheet, event, day collected, rows, imported, merged, rejected, who and when', 'signatures:read', { 200: '{ items: [...] }' }, { reach: 'campaign' }),
    requireScope('signatures:read'),
    async (c) => c.json({ items: await listPaperImports(serviceContextOf(c), c.req.param('slug')) }),
  );

  return routes;
}
