import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { principalOf, serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { BulkSignatureFilter, invalidateSignatures, revalidateSignatures, signatureSources, SourcesQuery } from '../services/signature-review.js';

/**
 * Abuse review of a campaign's signatures: where they came from (read, scope
 * `signatures:read`) and bulk invalidation and revalidation (scope
 * `campaigns`: they change the campaign's count and letters, as running the
 * campaign does, and each is recorded and can be undone).
 */
export function signatureReviewRoutes() {
  const routes = new Hono<AppEnv>();

  routes.get(
    '/campaigns/:slug/signatures/sources',
    organiserRoute(
      'Abuse',
      'Signing requests per UTC hour by IP hash (an IPv6 client is its /64) and by email domain: unconfirmed requests and signatures by status, busiest first. ?from=&to= (ISO 8601, to exclusive; default the 24 hours up to the end of the current one; at most 31 days), ?limit= (default 100)',
      'signatures:read',
      { 200: 'OK' },
      { reach: 'campaign' },
    ),
    requireScope('signatures:read'),
    validate('query', SourcesQuery),
    async (c) => c.json(await signatureSources(serviceContextOf(c), c.req.param('slug'), c.req.valid('query'))),
  );

  routes.post(
    '/campaigns/:slug/signatures/invalidate',
    organiserRoute(
      'Abuse',
      'Invalidate the confirmed signatures matching { ipHash? | domain?, from?, to? } (at least one; from inclusive, to exclusive, on when the request was made): no longer counted, in no letter or mailing. Answers { invalidated }.',
      'campaigns',
      { 200: 'Done', 400: 'Invalid filter (VALIDATION_FAILED)', 404: 'No such campaign' },
      { reach: 'campaign' },
    ),
    requireScope('campaigns'),
    requireJson(),
    validate('json', BulkSignatureFilter),
    async (c) => c.json(await invalidateSignatures(serviceContextOf(c), principalOf(c), c.req.param('slug'), c.req.valid('json'))),
  );

  routes.post(
    '/campaigns/:slug/signatures/revalidate',
    organiserRoute(
      'Abuse',
      'Undo bulk invalidations: the signatures matching the same filters that an invalidation moved are confirmed and counted again (fraud marks are not touched). Answers { revalidated }.',
      'campaigns',
      { 200: 'Done', 400: 'Invalid filter (VALIDATION_FAILED)', 404: 'No such campaign' },
      { reach: 'campaign' },
    ),
    requireScope('campaigns'),
    requireJson(),
    validate('json', BulkSignatureFilter),
    async (c) => c.json(await revalidateSignatures(serviceContextOf(c), principalOf(c), c.req.param('slug'), c.req.valid('json'))),
  );

  return routes;
}
