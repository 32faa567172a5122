import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import * as v from 'valibot';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { validate } from '../http/validate.js';
import {
  cancelMailing,
  CreateMailingInput,
  finalMailingStatuses,
  getMailing,
  getMailingView,
  listMailings,
  MailingListQuery,
  pauseMailing,
  resumeMailing,
  scheduleMailing,
} from '../services/mailings.js';
import { Unauthorized } from '../services/errors.js';
import { PageQuery } from '../services/pagination.js';

const ListQuery = v.object({ ...PageQuery.entries, ...MailingListQuery.entries });

/**
 * How often the events stream reads the mailing: `?pollMs=` from 1 s to 10 s, 1 s by default.
 * Progress is written per batch, so reading more often shows nothing sooner and only loads the database.
 */
export const MailingEventsQuery = v.object({
  pollMs: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, 'must be a whole number'),
      v.transform(Number),
      v.minValue(1000, 'must be at least 1000 (1 s)'),
      v.maxValue(10_000, 'must be at most 10000 (10 s)'),
    ),
    '1000',
  ),
});

/** A comment line every so often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

export function mailingRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/mailings',
    organiserRoute(
      'Mailings',
      'Schedule a mailing for a local date and time in a time zone (letters to the targets, or an update to supporters: a subject and body, or an update template from letters/updates/). Letters by email go out inside `sendingWindow` `{ start, end, days }` on each target\'s clock (default 09:00–17:00 Monday–Friday; null: any time). 422 SEND_AT_IN_PAST, LOCAL_TIME_INVALID (a time skipped by a daylight-saving change), NO_TARGETS, UPDATE_TEMPLATE_NOT_FOUND, TEMPLATE_INVALID; 409 CAMPAIGN_NOT_OPEN for a draft or archived campaign.',
      'deliveries',
      { 201: 'Scheduled' },
    ),
    requireScope('deliveries'),
    requireJson(),
    validate('json', CreateMailingInput),
    async (c) => {
      const services = c.get('services');
      return c.json(await scheduleMailing(services.ctx, c.req.valid('json'), services.letters), 201);
    },
  );

  routes.get(
    '/mailings',
    organiserRoute('Mailings', 'List mailings, newest first; filter by campaign slug and status', 'deliveries'),
    requireScope('deliveries'),
    validate('query', ListQuery),
    async (c) => c.json(await listMailings(c.get('services').ctx, c.req.valid('query'))),
  );

  routes.get(
    '/mailings/:id',
    organiserRoute('Mailings', 'A mailing with its progress { total, sent, failed, skipped }', 'deliveries'),
    requireScope('deliveries'),
    async (c) => c.json(await getMailing(c.get('services').ctx, c.req.param('id'))),
  );

  routes.post(
    '/mailings/:id/pause',
    organiserRoute('Mailings', 'Pause a scheduled or running mailing (409 INVALID_TRANSITION otherwise)', 'deliveries'),
    requireScope('deliveries'),
    async (c) => c.json(await pauseMailing(c.get('services').ctx, c.req.param('id'))),
  );

  routes.post(
    '/mailings/:id/resume',
    organiserRoute('Mailings', 'Resume a paused mailing: back to scheduled if it had not started, else running', 'deliveries'),
    requireScope('deliveries'),
    async (c) => c.json(await resumeMailing(c.get('services').ctx, c.req.param('id'))),
  );

  routes.post(
    '/mailings/:id/cancel',
    organiserRoute('Mailings', 'Cancel a scheduled, running or paused mailing (final)', 'deliveries'),
    requireScope('deliveries'),
    async (c) => c.json(await cancelMailing(c.get('services').ctx, c.req.param('id'))),
  );

  routes.get(
    '/mailings/:id/events',
    organiserRoute(
      'Mailings',
      'Server-sent events: `progress` with the mailing (without its body) at once and on every change; the stream ends after a final status (finished, cancelled, failed). `?pollMs=` 1000–10000 (default 1000). At most 5 streams open per token: the next one is 429 RATE_LIMITED with Retry-After until one closes.',
      'deliveries',
      { 200: 'text/event-stream', 400: 'VALIDATION_FAILED (pollMs out of range)', 404: 'No such mailing (NOT_FOUND)', 429: 'The token has 5 streams open (RATE_LIMITED, with Retry-After)' },
    ),
    requireScope('deliveries'),
    validate('query', MailingEventsQuery),
    async (c) => streamMailingEvents(c, c.req.param('id'), c.req.valid('query').pollMs),
  );

  return routes;
}

/**
 * The progress stream of a mailing as server-sent events: a `progress` event
 * with the mailing (without its body) at once and on every change, a comment
 * every 15 s while nothing changes, and the end after a final status. Shared by
 * the API (bearer token) and the dashboard (session cookie: EventSource cannot
 * send an Authorization header).
 */
export async function streamMailingEvents<E extends AppEnv>(c: Context<E>, id: string, pollMs: number): Promise<Response> {
  const { ctx, eventStreams } = c.get('services');
  const holder = c.get('principal')?.tokenId;
  if (!holder) throw new Unauthorized();
  // Read once before the stream starts, so an unknown id is a plain 404 (and takes no slot).
  let view = await getMailingView(ctx, id);
  // A slot per open stream, given back when the stream ends or the client leaves, whichever comes first.
  const release = eventStreams.acquire(holder);
  return streamSSE(c, async (stream) => {
    stream.onAbort(release);
    try {
      let sent = '';
      let quietMs = 0;
      while (!stream.aborted) {
        const data = JSON.stringify(view);
        if (data !== sent) {
          await stream.writeSSE({ event: 'progress', data, id: view.updatedAt });
          sent = data;
          quietMs = 0;
        } else if (quietMs >= HEARTBEAT_MS) {
          await stream.write(': keep-alive\n\n');
          quietMs = 0;
        }
        if (finalMailingStatuses.includes(view.status)) return;
        await stream.sleep(pollMs);
        quietMs += pollMs;
        if (stream.aborted) return;
        view = await getMailingView(ctx, view.id);
      }
    } catch (error) {
      // The response has started, so the client learns of it as an event; the details stay in the log.
      c.get('logger')?.error('mailing events stream failed', { requestId: c.get('requestId'), error: String(error) });
      await stream.writeSSE({
        event: 'error',
        data: JSON.stringify({ code: 'STREAM_FAILED', message: 'The progress stream stopped; reconnect to carry on.', requestId: c.get('requestId') }),
      });
    } finally {
      release();
    }
  });
}
