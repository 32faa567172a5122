import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { principalOf, serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { clearFraudulentRequests, ClearFraudulentRequestsInput, listFraudulentRequests } from '../services/fraudulent-requests.js';
import { PageQuery } from '../services/pagination.js';
import { BulkSignatureFilter, invalidateSignatures, revalidateSignatures, signatureSources, SourcesQuery } from '../services/signature-review.js';

/**
 * Abuse review of a campaign's signatures: where they came from and the
 * requests the block list matched (read, scope `signatures:read`), bulk
 * invalidation and revalidation, and clearing fraud marks (scope
 * `campaigns`: they change the campaign's count and letters, or its records,
 * as running the campaign does; each is recorded, and an invalidation can be
 * undone).
 */
export function signatureReviewRoutes() {
  const routes = new Hono<AppEnv>();

  routes.get(
    '/campaigns/:slug/signatures/sources',
    organiserRoute(
      'Abuse',
      'Signing requests per UTC hour by IP hash (an IPv6 client is its /64) and by email domain: unconfirmed requests, signatures by status and fraudulent requests, busiest first. ?from=&to= (ISO 8601, to exclusive; default the 24 hours up to the end of the current one; at most 31 days), ?limit= (default 100)',
      'signatures:read',
      { 200: 'OK' },
      { reach: 'campaign' },
    ),
    requireScope('signatures:read'),
    validate('query', SourcesQuery),
    async (c) => c.json(await signatureSources(serviceContextOf(c), c.req.param('slug'), c.req.valid('query'))),
  );

  routes.get(
    '/campaigns/:slug/fraudulent-requests',
    organiserRoute(
      'Abuse',
      'Signing requests the block list matched, newest first: { items: [{ id, createdAt, ipHash, domain, blockedBy: email | domain | ip | null }], nextCursor }. Never counted, mailed or confirmed, and no mark on the address: once the entry is removed, the address signs as anyone does. ?limit= (default 50, at most 500), ?cursor=',
      'signatures:read',
      { 200: 'OK', 400: 'Invalid limit or cursor (VALIDATION_FAILED)', 404: 'No such campaign' },
      { reach: 'campaign' },
    ),
    requireScope('signatures:read'),
    validate('query', PageQuery),
    async (c) => c.json(await listFraudulentRequests(serviceContextOf(c), c.req.param('slug'), c.req.valid('query'))),
  );

  routes.post(
    '/campaigns/:slug/fraudulent-requests/clear',
    organiserRoute(
      'Abuse',
      'Clear fraud marks: { ids } (1 to 500) of this campaign\'s fraudulent requests are deleted with what they held. A cleared request never becomes a signature. Answers { cleared }, the number deleted (ids of other campaigns or already cleared are passed over).',
      'campaigns',
      { 200: 'Done', 400: 'Invalid ids (VALIDATION_FAILED)', 404: 'No such campaign' },
      { reach: 'campaign' },
    ),
    requireScope('campaigns'),
    requireJson(),
    validate('json', ClearFraudulentRequestsInput),
    async (c) => c.json(await clearFraudulentRequests(serviceContextOf(c), c.req.param('slug'), c.req.valid('json'))),
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
      'Undo bulk invalidations: the signatures matching the same filters that an invalidation moved are confirmed and counted again. Answers { revalidated }.',
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
