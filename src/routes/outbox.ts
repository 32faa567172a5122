import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { listOutbox, OutboxListQuery, retryOutboxMessage } from '../services/outbox.js';

/** The outbox as organisers see it: messages given up on, and another try for one. */
export function outboxRoutes() {
  const routes = new Hono<AppEnv>();

  routes.get(
    '/outbox',
    organiserRoute(
      'Deliveries',
      'List outbox messages, newest first, without their bodies; `?status=failed` for those given up on (`pending`, `sent` too). A target\'s address is shown in full, a supporter\'s masked; letter deliveries name their delivery and target.',
      'deliveries',
      { 200: 'OK' },
      { reach: 'organisation' },
    ),
    requireScope('deliveries'),
    validate('query', OutboxListQuery),
    async (c) => c.json(await listOutbox(serviceContextOf(c), c.req.valid('query'))),
  );

  routes.post(
    '/outbox/:id/retry',
    organiserRoute(
      'Deliveries',
      'Try a failed message again: pending, due now, attempts from 0; its letter delivery goes back to queued and a finished mailing it belongs to runs again until it is settled. 409 INVALID_TRANSITION for a message that is not failed or belongs to a cancelled mailing, 409 ADDRESS_SUPPRESSED for a suppressed address.',
      'deliveries',
      { 200: 'OK' },
      { reach: 'organisation' },
    ),
    requireScope('deliveries'),
    async (c) => {
      const services = c.get('services');
      const item = await retryOutboxMessage(serviceContextOf(c), c.req.param('id'));
      services.onMailQueued();
      return c.json(item);
    },
  );

  return routes;
}
