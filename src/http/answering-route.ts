import type { Context, Env, Hono } from 'hono';
import { matchedRoutes } from 'hono/route';

/**
 * The route that answered a request, as its index among the matched routes
 * and its method and pattern: the handler that ran last, or, when a `use`
 * middleware answered for it (a missing scope, a bad form token, a 413), the
 * first endpoint it stood in front of. Not simply the last match:
 * `/admin/campaigns/new` also matches `/admin/campaigns/:slug`. Null when
 * no endpoint matched (only middleware ran, then the not-found handler).
 */
export function answeringRoute(c: Context): { index: number; method: string; path: string } | null {
  const routes = matchedRoutes(c);
  for (let index = c.req.routeIndex; index < routes.length; index++) {
    const route = routes[index]!;
    if (route.method !== 'ALL') return { index, method: route.method, path: route.path };
  }
  return null;
}

/**
 * The pattern of the endpoint that would answer `method path` in `app`, as answeringRoute names it
 * for a request that ran (the first endpoint matched, middleware skipped); null when none does.
 * For what answers without running the app (Node's front cache), so its answers are counted
 * under the same route.
 */
export function routePatternFor<E extends Env>(app: Hono<E>, method: string, path: string): string | null {
  const [matches] = app.router.match(method, path);
  for (const [[, route]] of matches) if (route.method !== 'ALL') return route.path;
  return null;
}
