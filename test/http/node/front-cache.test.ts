import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import type { MetricsPort, RequestObservation } from '../../../src/metrics/metrics-port.js';
import { FRONT_CACHE_MS, FrontCache } from '../../../src/http/node/front-cache.js';
import { startServerWithSmtp, type ServerWithSmtp } from '../../helpers/server-process.js';

// Issue #22: Node's front cache answers a surge of readers from memory before the app runs, keeps
// only what the app declares shareable, and never serves a page past a change.

type AppAnswer = { status?: number; headers?: Record<string, string | string[]>; body?: string | Buffer; chunks?: string[] };

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real node:http server with the front cache in front of a stand-in app that counts its calls and answers `answer(request)`. */
async function serve(answer: (request: IncomingMessage) => AppAnswer, options: { now?: () => number } = {}) {
  const calls: string[] = [];
  const observed: RequestObservation[] = [];
  const metrics: MetricsPort = { observeRequest: (o) => observed.push(o), exposition: async () => ({ contentType: 'text/plain', body: '' }) };
  const cache = new FrontCache({ logger: silentLogger, metrics, routeOf: (path) => (path.startsWith('/c/') ? '/c/:slug' : '/api/v1/campaigns/:slug'), ...options });
  const app = (request: IncomingMessage, response: ServerResponse) => {
    calls.push(`${request.method} ${request.url}`);
    const { status = 200, headers = {}, body = '', chunks } = answer(request);
    response.writeHead(status, { 'X-Request-Id': 'built-by-the-app', ...headers });
    if (chunks) {
      for (const chunk of chunks) response.write(chunk);
      response.end();
    } else response.end(body);
  };
  server = createServer(cache.listener(app));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const response = await fetch(`${url}${path}`, { method, headers });
    return { response, status: response.status, body: await response.text() };
  };
  return { cache, calls, observed, get };
}

const PUBLIC = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'public, max-age=5, s-maxage=10, stale-while-revalidate=30', ETag: '"page-v1"', Vary: 'Accept-Encoding' };

describe('the front cache', () => {
  it('answers the second view from memory, with its own request id, counted under its route', async () => {
    const { calls, observed, get } = await serve(() => ({ headers: PUBLIC, body: '<h1>Save refugees</h1>' }));
    const first = await get('/c/save?lang=ja');
    const second = await get('/c/save?lang=ja');
    const third = await get('/c/save?lang=ja', { 'x-request-id': 'proxy-id-12345678' });
    expect(calls).toEqual(['GET /c/save?lang=ja']);
    expect(second.body).toBe(first.body);
    expect(second.response.headers.get('x-signet-cache')).toBe('HIT');
    expect(first.response.headers.get('x-signet-cache')).toBeNull();
    expect(second.response.headers.get('etag')).toBe('"page-v1"');
    expect(second.response.headers.get('cache-control')).toBe(PUBLIC['Cache-Control']);
    expect(second.response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    // The id of the request that built it was another visitor's.
    expect(second.response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(third.response.headers.get('x-request-id')).toBe('proxy-id-12345678');
    expect(observed).toEqual([
      expect.objectContaining({ method: 'GET', route: '/c/:slug', status: 200 }),
      expect.objectContaining({ method: 'GET', route: '/c/:slug', status: 200 }),
    ]);
  });

  it('answers If-None-Match with 304 and no body from memory', async () => {
    const { calls, get } = await serve(() => ({ headers: PUBLIC, body: 'page' }));
    await get('/c/save?lang=en');
    const conditional = await get('/c/save?lang=en', { 'if-none-match': '"other", "page-v1"' });
    expect(conditional.status).toBe(304);
    expect(conditional.body).toBe('');
    expect(conditional.response.headers.get('etag')).toBe('"page-v1"');
    expect((await get('/c/save?lang=en', { 'if-none-match': '"page-v0"' })).status).toBe(200);
    expect(calls).toHaveLength(1);
  });

  it('keeps the gzipped and the plain answer apart', async () => {
    const { calls, get } = await serve((request) =>
      /gzip/.test(String(request.headers['accept-encoding']))
        ? { headers: { ...PUBLIC, 'Content-Encoding': 'gzip', ETag: '"page-v1-gz"' }, body: gzipSync('zipped') }
        : { headers: PUBLIC, body: 'plain' },
    );
    await get('/c/save', { 'accept-encoding': 'identity' });
    await get('/c/save', { 'accept-encoding': 'gzip' });
    const plain = await get('/c/save', { 'accept-encoding': 'identity' });
    const zipped = await get('/c/save', { 'accept-encoding': 'gzip, deflate' });
    expect(plain.body).toBe('plain');
    expect(zipped.body).toBe('zipped');
    expect(plain.response.headers.get('x-signet-cache')).toBe('HIT');
    expect(zipped.response.headers.get('x-signet-cache')).toBe('HIT');
    expect(calls).toHaveLength(2);
  });

  it('keeps a body the app wrote in several chunks whole', async () => {
    const { calls, get } = await serve(() => ({ headers: PUBLIC, chunks: ['<p>one</p>', '<p>two</p>', '<p>three</p>'] }));
    await get('/api/v1/campaigns/save');
    const again = await get('/api/v1/campaigns/save');
    expect(again.body).toBe('<p>one</p><p>two</p><p>three</p>');
    expect(again.response.headers.get('content-length')).toBe(String(again.body.length));
    expect(calls).toHaveLength(1);
  });

  it('never keeps what is not shareable: private, a cookie, an error, Vary on the visitor, max-age=0, another path, Authorization, POST, HEAD', async () => {
    const cases: { path: string; answer: AppAnswer; headers?: Record<string, string>; method?: string }[] = [
      { path: '/c/a', answer: { headers: { ...PUBLIC, 'Cache-Control': 'private, no-cache' } } },
      { path: '/c/b', answer: { headers: { ...PUBLIC, 'Set-Cookie': 'lang=ja; Path=/' } } },
      { path: '/c/c', answer: { status: 404, headers: PUBLIC } },
      { path: '/c/d', answer: { headers: { ...PUBLIC, Vary: 'Accept-Language' } } },
      { path: '/c/e', answer: { headers: { ...PUBLIC, 'Cache-Control': 'public, max-age=0, s-maxage=0' } } },
      { path: '/admin/campaigns', answer: { headers: PUBLIC } },
      { path: '/c/f', answer: { headers: PUBLIC }, headers: { authorization: 'Bearer organiser-token' } },
      { path: '/c/g', answer: { headers: PUBLIC }, method: 'POST' },
      { path: '/c/h', answer: { headers: PUBLIC }, method: 'HEAD' },
    ];
    for (const { path, answer, headers, method } of cases) {
      const { calls, cache, get } = await serve(() => answer);
      await get(path, headers, method);
      const again = await get(path, headers, method);
      expect(calls, path).toHaveLength(2);
      expect(again.response.headers.get('x-signet-cache'), path).toBeNull();
      expect(cache.size, path).toBe(0);
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
  });

  it('asks the app again after FRONT_CACHE_MS, and at once after clear()', async () => {
    let now = 1_000_000;
    let version = 1;
    const { cache, calls, get } = await serve(() => ({ headers: { ...PUBLIC, ETag: `"page-v${version}"` }, body: `version ${version}` }), { now: () => now });
    await get('/c/save');
    now += FRONT_CACHE_MS - 1;
    expect((await get('/c/save')).body).toBe('version 1');
    now += 1;
    version = 2;
    expect((await get('/c/save')).body).toBe('version 2');
    expect(calls).toHaveLength(2);
    version = 3;
    cache.clear();
    expect((await get('/c/save')).body).toBe('version 3');
    expect(calls).toHaveLength(3);
  });

  it('does not keep an answer built while a change happened (it may show what was before)', async () => {
    let cache!: FrontCache;
    const served = await serve(() => {
      // The organiser's write lands while this view is being built.
      cache.clear();
      return { headers: PUBLIC, body: 'built from before the change' };
    });
    cache = served.cache;
    await served.get('/c/save');
    expect(cache.size).toBe(0);
  });
});

describe('the front cache in front of the real server', () => {
  const adminToken = 'front-cache-admin-token-0123456789';
  const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  let running: ServerWithSmtp;
  beforeAll(async () => {
    running = await startServerWithSmtp('front-cache', adminToken, { SIGN_RATE_LIMIT: 'off' });
  });
  afterAll(async () => running?.stop());

  it('serves the page and the JSON from memory, shows an organiser change at once and never a closed campaign as open', async () => {
    const url = running.server.url;
    const api = `${url}/api/v1`;
    expect((await fetch(`${api}/campaigns`, { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'front', title: 'Save North Korean refugees', locale: 'en', timeZone: 'Asia/Tokyo' }) })).status).toBe(201);
    expect((await fetch(`${api}/campaigns/front`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);

    for (const path of ['/c/front?lang=en', '/api/v1/campaigns/front']) {
      const first = await fetch(`${url}${path}`, { headers: { 'accept-encoding': 'gzip' } });
      const firstBody = Buffer.from(await first.arrayBuffer());
      const second = await fetch(`${url}${path}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(second.headers.get('x-signet-cache'), path).toBe('HIT');
      expect(second.headers.get('etag'), path).toBe(first.headers.get('etag'));
      expect(second.headers.get('set-cookie'), path).toBeNull();
      expect(second.headers.get('x-request-id'), path).not.toBe(first.headers.get('x-request-id'));
      // fetch inflates gzip itself: the same bytes as the app's answer.
      expect(Buffer.from(await second.arrayBuffer()).equals(firstBody), path).toBe(true);
      expect((await fetch(`${url}${path}`, { headers: { 'if-none-match': second.headers.get('etag')!, 'accept-encoding': 'gzip' } })).status, path).toBe(304);
    }
    // The security headers the app sets are on the copy too.
    const copy = await fetch(`${url}/c/front?lang=en`);
    expect(copy.headers.get('x-signet-cache')).toBe('HIT');
    expect(copy.headers.get('x-content-type-options')).toBe('nosniff');
    expect(copy.headers.get('content-security-policy')).toContain("default-src 'self'");

    expect((await fetch(`${api}/campaigns/front`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ title: 'Stop the forced returns' }) })).status).toBe(200);
    const changed = await fetch(`${url}/c/front?lang=en`);
    expect(changed.headers.get('x-signet-cache')).toBeNull();
    expect(await changed.text()).toContain('Stop the forced returns');
    expect(await (await fetch(`${api}/campaigns/front`)).text()).toContain('Stop the forced returns');

    await fetch(`${url}/c/front?lang=en`);
    expect((await fetch(`${api}/campaigns/front`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'closed' }) })).status).toBe(200);
    const closed = await (await fetch(`${url}/c/front?lang=en`)).text();
    expect(closed).not.toContain('action="/c/front/sign"');
    expect(await (await fetch(`${api}/campaigns/front`)).text()).toContain('"status":"closed"');

    // Counted in the request metrics under the route, as the app counts its own answers.
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).text();
    expect(metrics).toMatch(/signet_http_requests_total\{method="GET",route="\/c\/:slug",status="200"\} [3-9]/);
  });
});
