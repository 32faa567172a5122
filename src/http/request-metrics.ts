import type { Context, MiddlewareHandler } from 'hono';
import type { MetricsPort } from '../metrics/metrics-port.js';
import { answeringRoute } from './answering-route.js';
import type { AppEnv } from './env.js';

const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The label for requests no route matched (only `use` middleware ran, then the not-found handler). */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The route pattern (`/api/v1/campaigns/:slug/signatures`), never the path:
 * paths carry tokens (`/confirm/:token`) and slugs without end, and a label
 * per path would be both a leak and an unbounded series.
 */
function routeLabel(c: Context): string {
  return answeringRoute(c)?.path ?? UNMATCHED_ROUTE;
}

/** Counts every request by method, route pattern and status and records its latency (until the response starts). */
export function requestMetrics(metrics: MetricsPort): MiddlewareHandler<AppEnv> {
  return async function requestMetrics(c, next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      metrics.observeRequest({
        // Any token can be sent as a method; only the known ones become labels.
        method: knownMethods.has(c.req.method) ? c.req.method : 'OTHER',
        route: routeLabel(c),
        status: c.res.status,
        seconds: (performance.now() - started) / 1000,
      });
    }
  };
}
