import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organisationNotSetResponse, organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { MailingEventsQuery, streamMailingEvents } from '../http/mailing-events.js';
import { validate } from '../http/validate.js';
import {
  cancelMailing,
  CreateMailingInput,
  getMailing,
  listMailings,
  MailingListQuery,
  pauseMailing,
  resumeMailing,
  scheduleMailing,
} from '../services/mailings/schedule.js';
import { PageQuery } from '../services/pagination.js';

const ListQuery = v.object({ ...PageQuery.entries, ...MailingListQuery.entries });

export function mailingRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/mailings',
    organiserRoute(
      'Mailings',
      'Schedule a mailing for a local date and time in a time zone (letters to the targets, or an update to supporters: a subject and body, or an update template from letters/updates/). Letters by email go out inside `sendingWindow` `{ start, end, days }` on each target\'s clock (default 09:00–17:00 Monday–Friday; null: any time). Letters take `routing` (all | jurisdiction, as for a batch: k-anonymous) and `emptyTargets` (write, the default: every target gets the petition; skip: none to a target whose letter would count no one) and `channel` (email | print | auto, the default: email where the target has an address, the print queue otherwise). 201 with the mailing and `warnings: [{ code: TARGET_UNREACHABLE | TARGET_WITHOUT_SUPPORTERS, targetId, message }]`: each target the channel cannot reach (email to a target without an address: its letter will be skipped) and each whose letter counts none of its own supporters so far (with emptyTargets skip it gets none). 422 SEND_AT_IN_PAST, LOCAL_TIME_INVALID (a time skipped by a daylight-saving change), NO_TARGETS, UPDATE_TEMPLATE_NOT_FOUND, TEMPLATE_INVALID; 409 CAMPAIGN_NOT_OPEN for a draft or archived campaign.',
      'deliveries',
      { 201: 'Scheduled', 409: organisationNotSetResponse },
      { reach: 'campaign' },
    ),
    requireScope('deliveries'),
    requireJson(),
    validate('json', CreateMailingInput),
    async (c) => {
      const services = c.get('services');
      return c.json(await scheduleMailing(serviceContextOf(c), c.req.valid('json'), services.letters), 201);
    },
  );

  routes.get(
    '/mailings',
    organiserRoute('Mailings', 'List mailings, newest first; filter by campaign slug and status', 'deliveries', { 200: 'OK' }, { reach: 'filtered' }),
    requireScope('deliveries'),
    validate('query', ListQuery),
    async (c) => c.json(await listMailings(serviceContextOf(c), c.req.valid('query'))),
  );

  routes.get(
    '/mailings/:id',
    organiserRoute('Mailings', 'A mailing with its progress { total, sent, failed, skipped } (sent + failed never exceeds total; skipped recipients are counted beside it) and, for letters, `targets: [{ targetId, name, outcome: emailed | queued_for_print | skipped, reason?: TARGET_HAS_NO_EMAIL | NO_SUPPORTERS_ROUTED, email?: { status: queued | sending | sent | failed | bounced, notBefore?: the time a queued email waits for (office hours, pace) } }]`', 'deliveries', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('deliveries'),
    async (c) => c.json(await getMailing(serviceContextOf(c), c.req.param('id'))),
  );

  routes.post(
    '/mailings/:id/pause',
    organiserRoute('Mailings', 'Pause a scheduled or running mailing (409 INVALID_TRANSITION otherwise)', 'deliveries', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('deliveries'),
    async (c) => c.json(await pauseMailing(serviceContextOf(c), c.req.param('id'))),
  );

  routes.post(
    '/mailings/:id/resume',
    organiserRoute('Mailings', 'Resume a paused mailing: back to scheduled if it had not started, else running', 'deliveries', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('deliveries'),
    async (c) => c.json(await resumeMailing(serviceContextOf(c), c.req.param('id'))),
  );

  routes.post(
    '/mailings/:id/cancel',
    organiserRoute('Mailings', 'Cancel a scheduled, running or paused mailing (final)', 'deliveries', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('deliveries'),
    async (c) => c.json(await cancelMailing(serviceContextOf(c), c.req.param('id'))),
  );

  routes.get(
    '/mailings/:id/events',
    organiserRoute(
      'Mailings',
      'Server-sent events: `progress` with the mailing (without its body) at once and on every change; the stream ends after a final status (finished, cancelled, failed). `?pollMs=` 1000–10000 (default 1000). At most 5 streams open per token: the next one is 429 RATE_LIMITED with Retry-After until one closes.',
      'deliveries',
      { 200: 'text/event-stream', 400: 'VALIDATION_FAILED (pollMs out of range)', 404: 'No such mailing (NOT_FOUND)', 429: 'The token has 5 streams open (RATE_LIMITED, with Retry-After)' },
      { reach: 'campaign' },
    ),
    requireScope('deliveries'),
    validate('query', MailingEventsQuery),
    async (c) => streamMailingEvents(c, c.req.param('id'), c.req.valid('query').pollMs),
  );

  return routes;
}
