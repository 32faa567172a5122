import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { AuditQuery, listAuditEvents } from '../services/audit.js';

/** The audit log (PRODUCT.md §9), read-only: events are written by src/http/audit-trail.ts. */
export function auditRoutes() {
  const routes = new Hono<AppEnv>();

  routes.get(
    '/audit',
    organiserRoute(
      'Audit',
      'Organiser actions, newest first: actor (token id and name), action, object, time, request id and status; also what Signet\'s own jobs did that changes what is held (actor type `system`, via `job`, with their figures in `details`: the audit purge `audit.purge`, letters rendered again after an erasure `letters.redact`, erasures applied again by a restore `privacy.erasures_reapplied`). Events are kept AUDIT_RETENTION_DAYS. Filter by `action` (exact, or a family such as `letters.*`), `actor` (a token id), `from` (inclusive) and `to` (exclusive), ISO 8601 date-times.',
      'admin',
      { 200: '{ items: [{ id, at, actor, action, object, via, route, requestId, status, details? }], nextCursor }' },
      { reach: 'organisation' },
    ),
    requireScope('admin'),
    validate('query', AuditQuery),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await listAuditEvents(serviceContextOf(c), c.req.valid('query')));
    },
  );

  return routes;
}
