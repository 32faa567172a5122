import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute, publicRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { PageQuery } from '../services/pagination.js';
import { builtPage, serveBuiltPage } from '../web/public/page-cache.js';
import { exportSignaturesCsv, SignatureExportQuery } from '../services/signature-export.js';
import {
  campaignStats,
  confirmSignature,
  ConfirmInput,
  listPublicSignatures,
  listSignatures,
  SignatureListQuery,
  signCampaign,
  SignInput,
} from '../services/signatures.js';

const ListQuery = v.object({ ...PageQuery.entries, ...SignatureListQuery.entries });
const PublicListQuery = v.object({
  limit: v.optional(v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number), v.minValue(1), v.maxValue(100)), '20'),
});

export function signatureRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/campaigns/:slug/signatures',
    publicRoute(
      'Signatures',
      'Sign a campaign. Always answers 202 pending: the request is held and a confirmation link is emailed, whether or not this email signed before. The link confirms exactly this submission. At busy times the email waits its turn: an address gets at most CONFIRM_EMAIL_LIMIT links (default 3 an hour) and everyone together CONFIRM_EMAILS_PER_MINUTE, served fairly by source; past them links are deferred, never dropped.',
      { 202: 'Accepted, pending confirmation by email' },
      { 400: 'Invalid body (VALIDATION_FAILED)', 404: 'No such campaign (or a draft)', 409: 'Campaign not open (CAMPAIGN_NOT_OPEN)', 429: 'Too many signatures from this address (RATE_LIMITED, Retry-After)' },
    ),
    requireJson(),
    validate('json', SignInput),
    async (c) => {
      const services = c.get('services');
      const result = await signCampaign(services.ctx, services.signLimits, c.req.param('slug'), c.req.valid('json'), { clientIp: services.clientIp(c) });
      services.onMailQueued();
      return c.json(result, 202);
    },
  );

  routes.post(
    '/signatures/confirm',
    publicRoute('Signatures', 'Confirm a signature with the token from the email', { 200: 'Confirmed (repeating is harmless)' }, { 404: 'Unknown token', 410: 'Expired token (TOKEN_EXPIRED)' }),
    requireJson(),
    validate('json', ConfirmInput),
    async (c) => c.json(await confirmSignature(c.get('services').ctx, c.req.valid('json').token)),
  );

  routes.get(
    '/campaigns/:slug/signatures/public',
    publicRoute('Signatures', 'Recent confirmed signatures whose signers chose to be shown: display name, country and the day signed (YYYY-MM-DD in the campaign\'s time zone), nothing finer'),
    validate('query', PublicListQuery),
    async (c) => {
      const services = c.get('services');
      const slug = c.req.param('slug');
      const limit = c.req.valid('query').limit;
      const now = services.ctx.clock.now();
      const page = await services.publicPages.get(`json-public-signatures:${slug}:${limit}`, now, async () =>
        builtPage(JSON.stringify(await listPublicSignatures(services.ctx, slug, limit)), 'application/json', now),
      );
      return serveBuiltPage(c, page!, { shared: true });
    },
  );

  routes.get(
    '/campaigns/:slug/signatures',
    organiserRoute(
      'Signatures',
      'List signatures with every field, newest first. ?status=pending lists the signing requests awaiting confirmation, ?status=fraudulent those the block list matched (requests, never signatures)',
      'signatures:read',
      { 200: 'OK' },
      { reach: 'campaign' },
    ),
    requireScope('signatures:read'),
    validate('query', ListQuery),
    async (c) => c.json(await listSignatures(serviceContextOf(c), c.req.param('slug'), c.req.valid('query'))),
  );

  routes.get(
    '/campaigns/:slug/signatures.csv',
    organiserRoute(
      'Signatures',
      'Export signatures as CSV (spreadsheet-safe: no cell runs as a formula). ?format=signet (default): every field of every signature, ?status= to filter. ?format=action-network or actionkit: an upload file for that tool (Action Network: email, first_name, last_name, city, state, zip_code, country; ActionKit: email, first_name, last_name, city, state, zip, region, postal, country, source, created_at) holding only the supporters an update mailing would reach: confirmed, consented to updates, not unsubscribed, address not suppressed. The format is recorded in the audit log.',
      'signatures:read',
      { 200: 'OK' },
      { reach: 'campaign' },
    ),
    requireScope('signatures:read'),
    validate('query', SignatureExportQuery),
    async (c) => {
      const slug = c.req.param('slug');
      const query = c.req.valid('query');
      const stream = await exportSignaturesCsv(serviceContextOf(c), slug, query);
      const name = query.format === 'signet' ? `${slug}-signatures.csv` : `${slug}-${query.format}.csv`;
      return c.body(stream, 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="${name}"`,
        'Cache-Control': 'no-store',
      });
    },
  );

  routes.get(
    '/campaigns/:slug/stats',
    organiserRoute('Signatures', 'Counts by day (campaign time zone), country, region and status, and the confirmation rate (requests made and confirmed per day)', 'signatures:read', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('signatures:read'),
    async (c) => c.json(await campaignStats(serviceContextOf(c), c.req.param('slug'))),
  );

  return routes;
}
