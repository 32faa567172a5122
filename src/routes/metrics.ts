import { Hono, type MiddlewareHandler } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/env.js';
import { requireScope } from '../http/middleware.js';
import { errorResponse } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { constantTimeEqual } from '../lib/secrets.js';
import type { MetricsPort } from '../metrics/metrics-port.js';
import { readOperationalFigures } from '../services/operational-figures.js';

/**
 * A bearer token with the `admin` scope, or METRICS_TOKEN: a secret a
 * Prometheus server can hold that opens nothing but this route. Compared in
 * constant time, so its characters cannot be found one at a time by timing.
 */
function requireMetricsAccess(metricsToken: string | undefined): MiddlewareHandler<AppEnv> {
  const admin = requireScope('admin');
  return async (c, next) => {
    const presented = /^Bearer\s+(\S{1,256})$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (metricsToken && presented && constantTimeEqual(presented, metricsToken)) return next();
    return admin(c, next);
  };
}

/** `GET /metrics` in the Prometheus text format. */
export function metricsRoutes(metrics: MetricsPort, metricsToken: string | undefined) {
  const routes = new Hono<AppEnv>();
  routes.get(
    '/metrics',
    describeRoute({
      tags: ['Operations'],
      summary: 'Prometheus metrics',
      description:
        'The Prometheus text format (0.0.4): HTTP requests by route pattern and status, a latency histogram, signatures by status, outbox messages by status, mail sent and failed, mailings by status and the progress of running ones. Needs a token with the `admin` scope, or the METRICS_TOKEN setting as a bearer token.',
      ...{ 'x-signet-reach': 'organisation' },
      security: [{ bearerAuth: [] }],
      responses: {
        200: { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
        401: errorResponse('Missing or invalid token (UNAUTHORIZED)'),
        403: errorResponse('The token lacks the admin scope (FORBIDDEN)'),
      },
    }),
    requireMetricsAccess(metricsToken),
    async (c) => {
      // METRICS_TOKEN names no principal and opens these organisation-wide figures only; an API token answers as itself.
      const ctx = c.get('principal') ? serviceContextOf(c) : c.get('services').ctx;
      const { contentType, body } = await metrics.exposition(await readOperationalFigures(ctx));
      return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
    },
  );
  return routes;
}
