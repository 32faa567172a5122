import type { MiddlewareHandler } from 'hono';
import { Forbidden, ServiceError, Unauthorized, ValidationFailed } from '../lib/service-errors.js';
import { authenticateToken, hasScope, type Scope } from '../services/tokens.js';
import { withFields } from '../lib/logger.js';
import type { AppEnv } from './env.js';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Gives every request an id (a sane incoming X-Request-Id is kept, so a
 * proxy's id follows the request) and logs one line per request: method,
 * route pattern, status and time. Never the query string, body or client
 * address, which can hold personal data or tokens.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
    const services = c.get('services');
    c.set('requestId', requestId);
    // What the handlers log carries the request's id too.
    c.set('logger', withFields(services.ctx.logger, { requestId }));
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    // The token's id names who called, as in the audit log; its secret never appears.
    const principal = c.get('principal');
    services.ctx.logger.info('request', {
      requestId,
      method: c.req.method,
      route: c.req.routePath,
      ...(principal === undefined ? {} : principal.kind === 'token' ? { tokenId: principal.id } : { userId: principal.id }),
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  };
}

/**
 * Organiser routes: a bearer token holding every one of `scopes` (or `admin`).
 * A route that hands out what two scopes guard separately needs both: the
 * print queue's PDF is deliveries and letters at once. A refusal names the
 * first scope missing, in the same shape whatever the route needs.
 */
export function requireScope(...scopes: [Scope, ...Scope[]]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S{1,256})$/i.exec(header);
    if (!match) throw new Unauthorized();
    const services = c.get('services');
    const principal = await authenticateToken(services.ctx, match[1]!, services.adminToken);
    if (!principal) throw new Unauthorized('The API token is not valid or has been revoked.');
    // Known before the scope check, so a refused attempt is logged and audited as this token's.
    c.set('principal', principal);
    const missing = scopes.find((scope) => !hasScope(principal, scope));
    if (missing !== undefined) {
      throw new Forbidden(`This token lacks the "${missing}" scope.`, { required: missing, granted: principal.scopes });
    }
    await next();
  };
}

/**
 * JSON routes: refuses other media types (415), unparseable JSON (400
 * MALFORMED_BODY) and JSON that is not an object (400 VALIDATION_FAILED).
 * Hono caches the parsed body, so the validator after this reads it again for free.
 */
export function requireJson(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/(.+\+)?json\b/i.test(type)) {
      throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON (Content-Type: application/json).');
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ServiceError('MALFORMED_BODY', 'The request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationFailed([{ path: '', message: 'The body must be a JSON object.' }]);
    }
    await next();
  };
}
