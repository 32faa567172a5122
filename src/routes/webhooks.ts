import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { principalOf, serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { PageQuery } from '../services/pagination.js';
import { createWebhook, CreateWebhookInput, deleteWebhook, enableWebhook, listWebhookDeliveries, listWebhooks } from '../services/webhooks.js';

/** Signed webhooks (scope `admin`: they carry supporters' data out of Signet). */
export function webhookRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/webhooks',
    organiserRoute(
      'Webhooks',
      'Add a webhook: events are POSTed to `url` (https; no loopback or private address unless WEBHOOK_ALLOW_PRIVATE=true) signed `Signet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The secret is in this response only.',
      'admin',
      { 201: 'Created, with its secret', 400: 'Invalid URL or events (VALIDATION_FAILED)' },
      { reach: 'organisation' },
    ),
    requireScope('admin'),
    requireJson(),
    validate('json', CreateWebhookInput),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await createWebhook(serviceContextOf(c), principalOf(c), c.req.valid('json')), 201);
    },
  );

  routes.get(
    '/webhooks',
    organiserRoute('Webhooks', 'List the webhooks (never their secrets), with whether each is disabled and its failures in a row', 'admin', { 200: 'OK' }, { reach: 'organisation' }),
    requireScope('admin'),
    async (c) => c.json({ items: await listWebhooks(serviceContextOf(c)), nextCursor: null }),
  );

  routes.get(
    '/webhooks/:id/deliveries',
    organiserRoute('Webhooks', "A webhook's delivery log, newest attempt first: event, attempt, outcome, the receiver's status and time taken (never the body)", 'admin', { 200: 'OK', 404: 'No such webhook' }, { reach: 'organisation' }),
    requireScope('admin'),
    validate('query', PageQuery),
    async (c) => c.json(await listWebhookDeliveries(serviceContextOf(c), c.req.param('id'), c.req.valid('query'))),
  );

  routes.post(
    '/webhooks/:id/enable',
    organiserRoute('Webhooks', 'Enable a webhook again (after it was disabled by repeated failures), its failure count cleared', 'admin', { 200: 'OK', 404: 'No such webhook' }, { reach: 'organisation' }),
    requireScope('admin'),
    async (c) => c.json(await enableWebhook(serviceContextOf(c), c.req.param('id'))),
  );

  routes.delete(
    '/webhooks/:id',
    organiserRoute('Webhooks', 'Remove a webhook and its delivery log; events queued for it are not sent', 'admin', { 204: 'Removed', 404: 'No such webhook' }, { reach: 'organisation' }),
    requireScope('admin'),
    async (c) => {
      await deleteWebhook(serviceContextOf(c), c.req.param('id'));
      return c.body(null, 204);
    },
  );

  return routes;
}
