import type { D1Database, Fetcher } from '@cloudflare/workers-types';

/**
 * The front of test/worker/limits-across-isolates.test.ts: two Signet Workers (the real
 * src/entry/worker.ts, each its own isolate) behind service bindings, on one D1.
 *   /a/<path>, /b/<path>   the request, to Signet A or B; `X-Client-IP` becomes its CF-Connecting-IP
 *   POST /sql { sql }       runs one statement on the shared D1 and answers its rows (to look, or to break it)
 */
type Env = { A: Fetcher; B: Fetcher; DB: D1Database };

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/sql' && request.method === 'POST') {
      const { sql } = (await request.json()) as { sql: string };
      return Response.json((await env.DB.prepare(sql).all()).results);
    }
    const [, isolate, ...path] = url.pathname.split('/');
    const signet = isolate === 'a' ? env.A : isolate === 'b' ? env.B : null;
    if (!signet) return new Response('not found', { status: 404 });
    url.pathname = `/${path.join('/')}`;
    const headers = new Headers(request.headers);
    const client = headers.get('x-client-ip');
    if (client) headers.set('cf-connecting-ip', client);
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    const response = await signet.fetch(url.toString(), { method: request.method, headers: [...headers], body, redirect: 'manual' });
    return response as unknown as Response;
  },
};
