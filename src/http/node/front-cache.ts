/**
 * Node's shared cache in front of the app, as Cloudflare's cache is in front of the Worker
 * (src/web/public/edge-cache.ts): a surge of visitors reading the campaign page, its embed, its thanks pages
 * or its public JSON is answered from memory by the HTTP listener, before a `Request` is built
 * or a middleware runs. What a view still costs is Node's HTTP parsing and one write.
 *
 * Only what the app itself declares shareable is kept, by the same rules as on the edge
 * (`mayBeShared`, `shareable`): a 200 to a GET without Authorization, `Cache-Control: public`,
 * no cookie set, nothing in `Vary` but Accept-Encoding. The key is the URL and whether the
 * visitor takes gzip (the app keeps a gzipped copy of each page and answers by Accept-Encoding).
 *
 * An answer is kept for at most FRONT_CACHE_MS, never past its own `max-age` (which the app
 * never lets run past the moment the campaign opens or closes, nor the hour of its form token),
 * and is dropped at once whenever the app's public pages are (`clear()`, called from the
 * PublicPageCache's onInvalidate: every organiser write, every consent change). An answer that
 * was being built while a change happened is not kept. So a view is never staler than the app's
 * own built page plus FRONT_CACHE_MS, and the count may lag by a second more, no more.
 *
 * Each answer from the cache still gets its own X-Request-Id (a sane incoming one is kept, as
 * the app does), is counted in the request metrics under its route and logged like any other
 * request, and says `X-Signet-Cache: HIT`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger.js';
import type { MetricsPort } from '../../metrics/metrics-port.js';
import { EDGE_CACHE_HEADER, holds, mayBeShared, shareable } from '../../web/public/edge-cache.js';
import { acceptsGzip } from '../../web/public/page-cache.js';

/** How long one answer is served from memory: long enough that a surge builds it a handful of times a second at most. */
export const FRONT_CACHE_MS = 1_000;
const MAX_ENTRIES = 500;
/** Bounds the memory a stranger can make it hold with URLs that vary by their query string. */
const MAX_BYTES = 32 * 1024 * 1024;
const MAX_ENTRY_BYTES = 2 * 1024 * 1024;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,64}$/;

type Entry = {
  /** The app's headers (names in lower case) without its X-Request-Id, which was another visitor's. */
  headers: OutgoingHttpHeaders;
  body: Buffer;
  etag: string | undefined;
  route: string;
  expiresAt: number;
};

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export type FrontCacheOptions = {
  /** The route pattern that answers a GET of `path` (for the request metrics and the log, never the path itself). */
  routeOf: (path: string) => string;
  metrics?: MetricsPort | undefined;
  logger: Logger;
  now?: () => number;
};

export class FrontCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  /** Renewed by clear(): an answer built before a change is not kept after it. */
  private generation = 0;
  private readonly now: () => number;

  constructor(private readonly options: FrontCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** What the public pages show has changed: every copy goes. */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** `app` behind the cache: the listener to give node:http. */
  listener(app: RequestListener): RequestListener {
    return (request, response) => {
      const path = pathOf(request.url ?? '/');
      if (!mayBeShared(request.method ?? 'GET', path, request.headers.authorization !== undefined)) return app(request, response);
      const key = `${acceptsGzip(request.headers['accept-encoding']) ? 'gzip' : 'identity'} ${request.url}`;
      const entry = this.entries.get(key);
      if (entry && entry.expiresAt > this.now()) return this.serve(entry, request, response);
      if (entry) this.forget(key, entry);
      this.capture(key, path, response);
      return app(request, response);
    };
  }

  private serve(entry: Entry, request: IncomingMessage, response: ServerResponse): void {
    const started = performance.now();
    const incoming = request.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    const notModified = holds(request.headers['if-none-match'], entry.etag);
    const headers: OutgoingHttpHeaders = { ...entry.headers, 'x-request-id': requestId, [EDGE_CACHE_HEADER.toLowerCase()]: 'HIT' };
    if (notModified) {
      delete headers['content-type'];
      delete headers['content-length'];
      delete headers['content-encoding'];
      response.writeHead(304, headers);
      response.end();
    } else {
      response.writeHead(200, headers);
      response.end(entry.body);
    }
    const status = notModified ? 304 : 200;
    const seconds = (performance.now() - started) / 1000;
    this.options.metrics?.observeRequest({ method: 'GET', route: entry.route, status, seconds });
    this.options.logger.info('request', { requestId, method: 'GET', route: entry.route, status, ms: Math.round(seconds * 10_000) / 10, cache: 'hit' });
  }

  /** Records what the app writes for `key` and keeps it when it is shareable and nothing changed meanwhile. */
  private capture(key: string, path: string, response: ServerResponse): void {
    const generation = this.generation;
    let status = 0;
    let headers: OutgoingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const writeHead = response.writeHead;
    const write = response.write;
    const end = response.end;
    // The adapter answers with writeHead(status, headers) and the body through write/end (@hono/node-server).
    response.writeHead = function (this: ServerResponse, code: number, ...rest: unknown[]) {
      status = code;
      const given = rest.find((value) => typeof value === 'object' && value !== null);
      headers = Array.isArray(given) ? {} : lowerCased((given as OutgoingHttpHeaders | undefined) ?? {});
      if (Array.isArray(given)) size = Infinity; // raw header lists are not kept
      return (writeHead as (...args: unknown[]) => ServerResponse).call(this, code, ...rest);
    } as ServerResponse['writeHead'];
    const collect = (chunk: unknown, encoding: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > MAX_ENTRY_BYTES) return;
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
      size += buffer.length;
      chunks.push(buffer);
    };
    response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      collect(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    response.end = ((chunk?: unknown, ...rest: unknown[]) => {
      collect(chunk, rest[0]);
      const result = (end as (...args: unknown[]) => ServerResponse).call(response, chunk, ...rest);
      if (generation === this.generation && size <= MAX_ENTRY_BYTES) this.keep(key, path, status, { ...lowerCased(response.getHeaders()), ...headers }, Buffer.concat(chunks));
      return result;
    }) as ServerResponse['end'];
  }

  private keep(key: string, path: string, status: number, headers: OutgoingHttpHeaders, body: Buffer): void {
    const cacheControl = String(headers['cache-control'] ?? '');
    if (!shareable(status, cacheControl, headers['set-cookie'] !== undefined)) return;
    const vary = String(headers.vary ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean);
    // Authorization: never here (mayBeShared), so what it varies by is the same for every request kept.
    if (vary.some((name) => name !== 'accept-encoding' && name !== 'authorization')) return;
    const maxAge = /(?:^|[\s,])max-age=(\d+)/.exec(cacheControl);
    const lifetime = Math.min(FRONT_CACHE_MS, maxAge ? Number(maxAge[1]) * 1000 : 0);
    if (lifetime <= 0) return;
    delete headers['x-request-id'];
    delete headers.date;
    delete headers.connection;
    delete headers['keep-alive'];
    delete headers['transfer-encoding'];
    headers['content-length'] = body.length;
    const previous = this.entries.get(key);
    if (previous) this.forget(key, previous);
    while (this.entries.size >= MAX_ENTRIES || (this.entries.size > 0 && this.bytes + body.length > MAX_BYTES)) {
      const [oldestKey, oldest] = this.entries.entries().next().value!;
      this.forget(oldestKey, oldest);
    }
    const etag = headers.etag === undefined ? undefined : String(headers.etag);
    this.entries.set(key, { headers, body, etag, route: this.options.routeOf(path), expiresAt: this.now() + lifetime });
    this.bytes += body.length;
  }

  private forget(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.body.length;
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function lowerCased(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name.toLowerCase()] = value;
  return result;
}
