import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import * as v from 'valibot';
import { finalMailingStatuses, getMailingView } from '../services/mailings/schedule.js';
import { Unauthorized } from '../lib/service-errors.js';
import type { AppEnv } from './env.js';
import { serviceContextOf } from './principal.js';

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

/**
 * The progress stream of a mailing as server-sent events: a `progress` event
 * with the mailing (without its body) at once and on every change, a comment
 * every 15 s while nothing changes, and the end after a final status. Shared by
 * the API (bearer token) and the dashboard (session cookie: EventSource cannot
 * send an Authorization header).
 */
export async function streamMailingEvents<E extends AppEnv>(c: Context<E>, id: string, pollMs: number): Promise<Response> {
  const { eventStreams } = c.get('services');
  const holder = c.get('principal')?.id;
  if (!holder) throw new Unauthorized();
  // The caller's access, so a mailing of a campaign outside it is a 404 here and on every later read.
  const ctx = serviceContextOf(c);
  // Read once before the stream starts, so an unknown id (or another campaign's) is a plain 404 (and takes no slot).
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
