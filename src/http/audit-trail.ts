import type { Context, MiddlewareHandler } from 'hono';
import type { AuditEventInput } from '../services/context.js';
import { type AuditRoute, auditedRoutes } from './audit-actions.js';
import { answeringRoute } from './answering-route.js';
import type { AppEnv } from './env.js';

/** An id or slug as routes take them; anything else (an address typed into a URL…) is not copied into the log. */
const OBJECT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

/** The route that answered (answering-route.ts) as the audit map's key, with its parameters. */
function answeringRouteOf(c: Context<AppEnv>): { key: string; params: Record<string, string> } | null {
  const route = answeringRoute(c);
  if (!route) return null;
  // Parameters are read through the route index; point it at the answering route for a moment.
  const ran = c.req.routeIndex;
  c.req.routeIndex = route.index;
  try {
    return { key: `${route.method} ${route.path}`, params: c.req.param() as Record<string, string> };
  } finally {
    c.req.routeIndex = ran;
  }
}

function objectOf(entry: AuditRoute, params: Record<string, string>): AuditEventInput['object'] {
  if (!entry.object) return null;
  const raw = entry.object.param === undefined ? undefined : params[entry.object.param];
  const id = raw?.replace(/\.pdf$/, '');
  return { type: entry.object.type, id: id !== undefined && OBJECT_ID.test(id) ? id : null };
}

/** The variant of the action named by the route's `queryDetail`, when its value is one of the list's. */
function detailsOf(entry: AuditRoute, c: Context<AppEnv>): Record<string, string> | undefined {
  if (!entry.queryDetail) return undefined;
  const { param, values, absent } = entry.queryDetail;
  const given = c.req.query(param);
  const recorded = given === undefined ? absent : Object.hasOwn(values, given) ? values[given] : undefined;
  return recorded === undefined ? undefined : { [param]: recorded };
}

/** The id of what a successful call created, from its JSON body or its redirect. */
async function createdId(created: NonNullable<AuditRoute['created']>, res: Response): Promise<string | null> {
  let id: unknown;
  if (created.field && res.status === 201 && /\bjson\b/.test(res.headers.get('content-type') ?? '')) {
    const body: unknown = await res.json();
    id = body && typeof body === 'object' ? (body as Record<string, unknown>)[created.field] : undefined;
  } else if (created.location && res.status === 303) {
    id = created.location.exec(decodeURIComponent(res.headers.get('location') ?? ''))?.[1];
  }
  return typeof id === 'string' && OBJECT_ID.test(id) ? id : null;
}

/**
 * Records one audit event for every organiser request (PRODUCT.md §9): the
 * principal the API token or dashboard session resolved to, the action named
 * by the answering route (src/http/audit-actions.ts), the object, the request
 * id and the status, refusals included. Requests nobody authenticated are not
 * recorded (a wrong token is no one's action), except a failed sign-in.
 *
 * The event is handed to the audit sink after the response is made and
 * written in a batch later, so the log never slows or breaks a request;
 * on Workers the write is passed to `waitUntil`.
 */
export function auditTrail(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { ctx } = c.get('services');
    const at = ctx.clock.now();
    await next();
    if (!ctx.audit) return;
    const answered = answeringRouteOf(c);
    const entry = answered ? auditedRoutes[answered.key] : undefined;
    if (!answered || !entry) return;
    const principal = c.get('principal') ?? null;
    const status = c.res.status;
    // Only a sign-in that was checked and failed, not one refused by the rate limit or the Origin check: those cost an attacker nothing to repeat.
    if (!principal && !(entry.anonymous && status === 401)) return;

    const details = detailsOf(entry, c);
    const pdf = entry.pdfAction !== undefined && entry.object?.param !== undefined && answered.params[entry.object.param]?.endsWith('.pdf');
    const event: AuditEventInput = {
      at,
      principal: principal && { kind: principal.kind, id: principal.id, name: principal.name },
      action: pdf ? entry.pdfAction! : entry.action,
      object: objectOf(entry, answered.params),
      via: answered.key.split(' ')[1]!.startsWith('/admin') ? 'dashboard' : 'api',
      route: answered.key,
      requestId: c.get('requestId'),
      status,
      ...(details ? { details } : {}),
    };
    const created = entry.created;
    const written = ctx.audit.record(
      created && status < 400
        ? createdId(created, c.res.clone())
            .catch(() => null)
            .then((id) => (id === null ? event : { ...event, object: { type: created.type, id } }))
        : event,
    );
    waitUntil(c, written);
  };
}

function waitUntil(c: Context<AppEnv>, work: Promise<void>) {
  let executionCtx: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    executionCtx = c.executionCtx;
  } catch {
    // Node and tests have no execution context; the sink's timer writes the batch.
    return;
  }
  executionCtx.waitUntil(work);
}
