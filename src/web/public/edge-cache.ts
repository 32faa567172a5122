/**
 * The public pages through a shared cache in front of the app: on Workers, the Cache API of the
 * data centre (`caches.default`), so a surge is answered there without running the app or
 * reading D1 but once for the version.
 *
 * Only what the app itself declares shareable is kept: a 200 to a GET without Authorization whose
 * Cache-Control is `public` and which sets no cookie (page-cache.ts gives that to the campaign
 * page, the embed, the thanks pages and the public JSON when the URL names the language, and to
 * the OG image). A page negotiated from the visitor's Accept-Language or cookie is `private`
 * and never kept. Its lifetime is the app's `s-maxage`, which never runs past the moment the
 * campaign opens or closes, nor past the hour of its form token.
 *
 * The key is the URL and the version of the public pages (src/services/public-pages.ts), which
 * every organiser write renews: a change made through any isolate, in any data centre, is seen
 * at once, and a closed campaign is never served from the cache as open. The Cache API of one
 * data centre cannot be purged from another; a key that changes needs no purge.
 */

/** The part of the Cache API used here (the Workers `Cache`, Miniflare's locally). */
export type EdgeCache = {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
};

/** Names a response served from the edge cache (for operators and tests; a CDN may add its own). */
export const EDGE_CACHE_HEADER = 'X-Signet-Cache';

/** The requests whose answers may be public: a GET, without Authorization, for the supporter pages of a campaign or its public JSON. */
export function mayBeShared(method: string, path: string, hasAuthorization: boolean): boolean {
  if (method !== 'GET' || hasAuthorization) return false;
  return path.startsWith('/c/') || path.startsWith('/api/v1/campaigns/');
}

/** What the app declared shareable: a 200 whose Cache-Control is `public`, setting no cookie. */
export function shareable(status: number, cacheControl: string | null | undefined, setsCookie: boolean): boolean {
  return status === 200 && /^public\b/.test(cacheControl ?? '') && !setsCookie;
}

/** The visitor holds this representation already (If-None-Match names its tag, or `*`). */
export function holds(ifNoneMatch: string | null | undefined, etag: string | null | undefined): boolean {
  if (!ifNoneMatch || !etag) return false;
  return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * `request` answered from `cache` when it holds the page under the current `version`, else by
 * `app`, whose shareable answer is then stored (`waitUntil`: after the response). The visitor's
 * If-None-Match is answered here (304) as the app would.
 */
export async function serveThroughEdgeCache(
  request: Request,
  options: { cache: EdgeCache; version: () => Promise<string>; app: (request: Request) => Promise<Response>; waitUntil: (work: Promise<unknown>) => void },
): Promise<Response> {
  const keyUrl = new URL(request.url);
  if (!mayBeShared(request.method, keyUrl.pathname, request.headers.has('authorization'))) return options.app(request);
  keyUrl.searchParams.set('signet-pages', await options.version());
  // A bare GET: the visitor's headers (cookies, conditions) are no part of the key.
  const key = new Request(keyUrl.toString());
  const cached = await options.cache.match(key);
  if (cached) {
    const headers = new Headers(cached.headers);
    headers.set(EDGE_CACHE_HEADER, 'HIT');
    if (holds(request.headers.get('if-none-match'), cached.headers.get('etag'))) {
      headers.delete('content-type');
      headers.delete('content-length');
      return new Response(null, { status: 304, headers });
    }
    return new Response(cached.body, { status: cached.status, headers });
  }
  const response = await options.app(request);
  if (!shareable(response.status, response.headers.get('cache-control'), response.headers.has('set-cookie'))) return response;
  const stored = response.clone();
  const storedHeaders = new Headers(stored.headers);
  // The id of the request that built it is no other visitor's (and may be one they chose).
  storedHeaders.delete('x-request-id');
  options.waitUntil(options.cache.put(key, new Response(stored.body, { status: stored.status, headers: storedHeaders })));
  const headers = new Headers(response.headers);
  headers.set(EDGE_CACHE_HEADER, 'MISS');
  return new Response(response.body, { status: response.status, headers });
}
