import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { resendPrintDelivery } from '../services/print-jobs.js';

export function printJobRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/deliveries/:id/print',
    organiserRoute(
      'Deliveries',
      'Send a queued print delivery to the printer (PRINTER_URL) again, e.g. after its job was aborted or canceled: the print dispatcher picks it up on its next round. 409 NOT_A_PRINT_DELIVERY for email; 409 INVALID_TRANSITION when already printed (no longer queued) or while the printer still has its job.',
      'deliveries',
      { 202: 'Accepted: the delivery, printJobState null until the dispatcher sends it' },
      { reach: 'campaign' },
    ),
    requireScope('deliveries'),
    async (c) => c.json(await resendPrintDelivery(serviceContextOf(c), c.req.param('id')), 202),
  );

  return routes;
}
