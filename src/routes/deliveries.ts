import { Hono } from 'hono';
import { pdfHeaders } from '../http/content-disposition.js';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organisationNotSetResponse, organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import {
  buildPrintQueuePdf,
  createDelivery,
  CreateDeliveryInput,
  DeliveryListQuery,
  getDelivery,
  listDeliveries,
  listPrintQueue,
  PrintQueueQuery,
  updateDelivery,
  UpdateDeliveryInput,
} from '../services/deliveries.js';

export function deliveryRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/letters/:id/deliveries',
    organiserRoute(
      'Deliveries',
      'Deliver a letter to its target by email (covering note in the target\'s language, PDF attached; 422 TARGET_HAS_NO_EMAIL) or by print (joins the print queue); a withdrawn letter is 410 LETTER_WITHDRAWN. With an Idempotency-Key header (1–200 visible ASCII characters), a repeat answers 200 with the delivery the key first made and the header Idempotent-Replayed: true; the same key for another letter or channel is 409 IDEMPOTENCY_KEY_REUSED.',
      'deliveries',
      { 201: 'Created: { id, channel, status, … }', 200: 'Replayed: the delivery this Idempotency-Key already made', 409: organisationNotSetResponse },
      { reach: 'campaign' },
    ),
    requireScope('deliveries'),
    requireJson(),
    validate('json', CreateDeliveryInput),
    async (c) => {
      const services = c.get('services');
      const key = c.req.header('idempotency-key');
      const input = c.req.valid('json');
      const { delivery, replayed } = await createDelivery(serviceContextOf(c), services.letters, c.req.param('id'), input, key);
      if (replayed) {
        c.header('Idempotent-Replayed', 'true');
        return c.json(delivery, 200);
      }
      if (input.channel === 'email') services.onMailQueued();
      return c.json(delivery, 201);
    },
  );

  routes.get(
    '/deliveries',
    organiserRoute('Deliveries', 'List deliveries, newest first; filter by ?status=, ?channel=, ?campaign=<slug>. letterSha256 is the hash of the letter the delivery carries: for one that went out before the letter was rendered again after an erasure, the hash of what went out', 'deliveries', { 200: 'OK' }, { reach: 'filtered' }),
    requireScope('deliveries'),
    validate('query', DeliveryListQuery),
    async (c) => c.json(await listDeliveries(serviceContextOf(c), c.req.valid('query'))),
  );

  routes.get(
    '/deliveries/:id',
    organiserRoute('Deliveries', 'A delivery; an email delivery\'s status is read from its email (queued, sending, sent, failed)', 'deliveries', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('deliveries'),
    async (c) => c.json(await getDelivery(serviceContextOf(c), c.req.param('id'))),
  );

  routes.patch(
    '/deliveries/:id',
    organiserRoute(
      'Deliveries',
      'Move a print delivery along queued → printed → posted → delivered | returned (trackingNumber only with posted); anything else is 409 INVALID_TRANSITION, an email delivery 409 NOT_A_PRINT_DELIVERY',
      'deliveries',
      { 200: 'OK' },
      { reach: 'campaign' },
    ),
    requireScope('deliveries'),
    requireJson(),
    validate('json', UpdateDeliveryInput),
    async (c) => c.json(await updateDelivery(serviceContextOf(c), c.req.param('id'), c.req.valid('json'))),
  );

  routes.get(
    '/print-queue',
    organiserRoute('Deliveries', 'Every print delivery still queued, by campaign, target country and postal code, then age, with the postal address and page count; ?campaign=<slug> for one campaign\'s', 'deliveries', { 200: 'OK' }, { reach: 'filtered' }),
    requireScope('deliveries'),
    validate('query', PrintQueueQuery),
    async (c) => c.json(await listPrintQueue(serviceContextOf(c), c.req.valid('query'))),
  );

  routes.get(
    '/print-queue.pdf',
    organiserRoute(
      'Deliveries',
      'The whole print queue as one PDF, in the order of /print-queue: a cover sheet (date, number of letters and pages, one row per letter), then every letter as stored, signatories included, so it needs the letters scope as well as deliveries. An empty queue is a cover saying there is nothing to print; a letter whose file is gone is 410 LETTER_FILE_MISSING. Nothing is marked printed.',
      ['deliveries', 'letters'],
      { 200: 'application/pdf (attachment print-queue-YYYY-MM-DD.pdf)' },
      { reach: 'filtered' },
    ),
    requireScope('deliveries', 'letters'),
    validate('query', PrintQueueQuery),
    async (c) => {
      const services = c.get('services');
      const queue = await buildPrintQueuePdf(serviceContextOf(c), services.letters, c.req.valid('query'));
      return c.body(queue.pdf, 200, pdfHeaders(queue.filename, { bytes: queue.pdf.byteLength }));
    },
  );

  return routes;
}
