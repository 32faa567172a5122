import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { ServiceError, Unprocessable } from '../lib/service-errors.js';
import { PageQuery } from '../services/pagination.js';
import { type ImportFormat, importTargets } from '../services/target-import.js';
import {
  createTarget,
  CreateTargetInput,
  deleteTarget,
  getTarget,
  listTargets,
  TargetListQuery,
  updateTarget,
  UpdateTargetInput,
} from '../services/targets.js';

const ListQuery = v.object({ ...PageQuery.entries, ...TargetListQuery.entries });

/** The import format named by the Content-Type, or null; only UTF-8 is read. */
function importFormatOf(contentType: string): ImportFormat | null {
  const [type = '', ...parameters] = contentType.toLowerCase().split(';').map((part) => part.trim());
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return null;
  if (type === 'application/json') return 'json';
  if (type === 'text/csv' || type === 'application/csv') return 'csv';
  return null;
}

// Fatal, so a Shift_JIS export is refused with a hint instead of imported as mojibake.
// The BOM is kept for the service, which strips it for every caller alike.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function targetRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/targets',
    organiserRoute('Targets', 'Add a target (embassy, consulate, official…) to the directory. The directory is the organisation\'s: a token limited to campaigns may read its campaigns\' targets but not add, import, change or delete any (403).', 'campaigns', { 201: 'Created' }, { reach: 'organisation' }),
    requireScope('campaigns'),
    requireJson(),
    validate('json', CreateTargetInput),
    async (c) => c.json(await createTarget(serviceContextOf(c), c.req.valid('json')), 201),
  );

  routes.post(
    '/targets/import',
    organiserRoute(
      'Targets',
      'Import targets, all or none: a JSON array (or { targets: [...] }) with Content-Type application/json, or a CSV with Content-Type text/csv and the columns name, title, organisation, kind, email, address_lines (lines separated by "|" or line breaks), postal_code, city, region, country, language, salutation, jurisdiction (codes separated by ";"), time_zone, verified_at, external_id. At most 5,000 rows; any bad row fails the import with 422 IMPORT_FAILED and details [{ row, field, message }]. Idempotent: a row matches the target with its externalId (external_id), else one with the same name, organisation and country (which then takes the row\'s externalId); a matched target is updated when the row differs, so importing one file twice adds nothing the second time. Two rows of one file that would match the same target are refused. Organisation only (403 for a token limited to campaigns).',
      'campaigns',
      { 201: 'Imported: { created, updated, unchanged, ids } (ids: each row\'s target, in the file\'s order)' },
      { reach: 'organisation' },
    ),
    requireScope('campaigns'),
    async (c) => {
      const format = importFormatOf(c.req.header('content-type') ?? '');
      if (!format) {
        throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as UTF-8 with Content-Type text/csv or application/json.');
      }
      let content: string;
      try {
        content = utf8.decode(await c.req.arrayBuffer());
      } catch {
        throw new Unprocessable('IMPORT_FAILED', 'The file is not UTF-8 text. Save it as UTF-8 (in Excel: "CSV UTF-8") and import it again.');
      }
      return c.json(await importTargets(serviceContextOf(c), { format, content }), 201);
    },
  );

  routes.get(
    '/targets',
    organiserRoute('Targets', 'List targets, newest first; filter by kind, country, jurisdiction (a region served, e.g. JP-13), q (name or organisation) and campaign (a slug: the targets it writes to). A token limited to campaigns sees only its campaigns\' targets.', 'campaigns', { 200: 'OK' }, { reach: 'filtered' }),
    requireScope('campaigns'),
    validate('query', ListQuery),
    async (c) => c.json(await listTargets(serviceContextOf(c), c.req.valid('query'))),
  );

  routes.get(
    '/targets/:id',
    organiserRoute('Targets', 'Get a target (404 for an unknown or malformed id, and for a token limited to campaigns none of which writes to it)', 'campaigns', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    async (c) => c.json(await getTarget(serviceContextOf(c), c.req.param('id'))),
  );

  routes.patch(
    '/targets/:id',
    organiserRoute('Targets', 'Change a target; null clears an optional field, postalAddress and jurisdiction are replaced whole. Organisation only (403 for a token limited to campaigns).', 'campaigns', { 200: 'OK' }, { reach: 'organisation' }),
    requireScope('campaigns'),
    requireJson(),
    validate('json', UpdateTargetInput),
    async (c) => c.json(await updateTarget(serviceContextOf(c), c.req.param('id'), c.req.valid('json'))),
  );

  routes.delete(
    '/targets/:id',
    organiserRoute('Targets', 'Delete a target that no campaign uses (409 TARGET_IN_USE otherwise). Organisation only (403 for a token limited to campaigns).', 'campaigns', { 204: 'Deleted' }, { reach: 'organisation' }),
    requireScope('campaigns'),
    async (c) => {
      await deleteTarget(serviceContextOf(c), c.req.param('id'));
      return c.body(null, 204);
    },
  );

  return routes;
}
