import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { errorResponse, organiserRoute, publicRoute } from '../http/openapi.js';
import { MethodNotAllowed } from '../lib/service-errors.js';
import { validate } from '../http/validate.js';
import { PageQuery } from '../services/pagination.js';
import {
  eraseAddressForOrganiser,
  exportAddressForOrganiser,
  listPrivacyRequests,
  PrivacyAddressInput,
  PrivacyRequestInput,
  requestPrivacyLink,
} from '../services/privacy.js';
import { principalOf, serviceContextOf } from '../http/principal.js';

/** Supporters' rights (PRODUCT.md §8): a mailed link for the supporter, and the same acts for organisers. */
export function privacyRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/privacy/requests',
    publicRoute(
      'Privacy',
      'Ask for a link to export, erase or manage the data held about an email address. Always 202: the link is emailed only if the address has signed, and the answer never says whether it has.',
      { 202: 'Accepted' },
      { 400: 'Invalid body (VALIDATION_FAILED)', 429: 'Too many requests from this address (RATE_LIMITED, Retry-After)' },
    ),
    requireJson(),
    validate('json', PrivacyRequestInput),
    async (c) => {
      const services = c.get('services');
      const result = await requestPrivacyLink(services.ctx, services.signLimits, c.req.valid('json'), { clientIp: services.clientIp(c) });
      services.onMailQueued();
      c.header('Cache-Control', 'no-store');
      return c.json(result, 202);
    },
  );

  routes.post(
    '/privacy/erasures',
    organiserRoute('Privacy', 'Erase everything held about an address (a request received by post); signatures stay counted', 'privacy', { 200: '{ erased: number of signatures }' }, { reach: 'organisation' }),
    requireScope('privacy'),
    requireJson(),
    validate('json', PrivacyAddressInput),
    async (c) => c.json(await eraseAddressForOrganiser(serviceContextOf(c), principalOf(c), c.req.valid('json'))),
  );

  routes.post(
    '/privacy/export',
    organiserRoute('Privacy', 'Everything held about an address, as JSON (to answer a request received by post); the address in the body, never in the URL', 'privacy', { 200: 'OK' }, { reach: 'organisation' }),
    requireScope('privacy'),
    requireJson(),
    validate('json', PrivacyAddressInput),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await exportAddressForOrganiser(serviceContextOf(c), principalOf(c), c.req.valid('json')));
    },
  );

  // The export once took ?email=: an address in a URL stays in access logs, proxies and browser
  // history. Refused before any token or address is read, saying where the address goes now.
  routes.get(
    '/privacy/export',
    describeRoute({
      tags: ['Privacy'],
      summary: 'Removed: send POST /api/v1/privacy/export { email } instead (an address does not belong in a URL)',
      deprecated: true,
      security: [],
      responses: { 405: errorResponse('METHOD_NOT_ALLOWED, with Allow: POST; nothing is read or exported') },
    }),
    () => {
      throw new MethodNotAllowed(['POST'], 'The address goes in the body, not the URL: POST /api/v1/privacy/export { "email": "…" }.', {
        use: 'POST /api/v1/privacy/export',
        body: { email: 'the address' },
      });
    },
  );

  routes.get(
    '/privacy/requests',
    organiserRoute('Privacy', 'Privacy requests, newest first: kind, origin, status, signatures covered, who handled it (never an address)', 'privacy', { 200: 'OK' }, { reach: 'organisation' }),
    requireScope('privacy'),
    validate('query', PageQuery),
    async (c) => c.json(await listPrivacyRequests(serviceContextOf(c), c.req.valid('query'))),
  );

  return routes;
}
