import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * Refuses a body larger than `maxSize` with `onTooLarge` (which answers or throws).
 *
 * Hono's bodyLimit asks for `c.req.raw.body` first, which makes the Node adapter build a full
 * Request with a web stream for every call, and then the body can no longer be read by the
 * adapter's fast path (the costliest steps of a signature, by the form or the API). A
 * Content-Length is enforced by the HTTP parser, so it is enough to compare it; only chunked
 * bodies need counting.
 */
export function limitBody<E extends { Variables: object }>(maxSize: number, onTooLarge: (c: Context<E>) => Response | Promise<Response>): MiddlewareHandler<E> {
  const counting = bodyLimit({ maxSize, onError: (c) => onTooLarge(c as Context<E>) });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxSize) return onTooLarge(c);
      return next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return counting(c, next);
  };
}
