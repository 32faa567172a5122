import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { BounceListQuery, liftSuppression, listBounces, parseBounceInput, recordBounces } from '../services/bounces.js';

/** Bounce reports (a webhook for a bounce processor or an ESP) and the suppression list they feed. */
export function bounceRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/bounces',
    organiserRoute(
      'Deliveries',
      'Report bounces: `{ email, kind: "hard" | "soft", messageId?, diagnostic? }` or `{ bounces: [...] }` (up to 1,000). A hard bounce suppresses the address; so do 3 soft bounces within 30 days. The webhook of a bounce processor or an ESP: give it a token with only the `bounces` scope (`deliveries` does not include it).',
      'bounces',
      { 200: '`{ recorded, suppressed: [addresses now suppressed among those reported] }`' },
      { reach: 'organisation' },
    ),
    requireScope('bounces'),
    requireJson(),
    async (c) => {
      const reports = parseBounceInput(await c.req.json());
      return c.json(await recordBounces(serviceContextOf(c), reports));
    },
  );

  routes.get(
    '/bounces',
    organiserRoute('Deliveries', 'List bounce reports, newest first; with `?email=`, that address’s reports and its suppression', 'deliveries', { 200: 'OK' }, { reach: 'organisation' }),
    requireScope('deliveries'),
    validate('query', BounceListQuery),
    async (c) => c.json(await listBounces(serviceContextOf(c), c.req.valid('query'))),
  );

  routes.delete(
    '/suppressions/:email',
    organiserRoute('Deliveries', 'Lift the suppression of an address so mail goes to it again', 'admin', { 204: 'Lifted' }, { reach: 'organisation' }),
    requireScope('admin'),
    async (c) => {
      await liftSuppression(serviceContextOf(c), c.req.param('email'));
      return c.body(null, 204);
    },
  );

  return routes;
}
