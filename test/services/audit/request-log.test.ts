import { afterEach, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../../src/lib/logger.js';
import { ENV_ADMIN_TOKEN_ID } from '../../../src/services/tokens.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { makeToken, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

/** The app with its logger writing into an array, as JSON lines. */
function appWithCapturedLog() {
  const lines: string[] = [];
  t = createTestApp({ logger: createJsonLogger('debug', (line) => lines.push(line)) });
  const requestLines = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.event === 'request');
  return { lines, requestLines };
}

describe('the request log names the token, never its secret', () => {
  it('carries tokenId for a stored token and for ADMIN_TOKEN, and the secret appears in no line', async () => {
    const { lines, requestLines } = appWithCapturedLog();
    const organiser = await makeToken(t, 'Organiser', ['campaigns']);
    lines.length = 0;

    const res = await t.request('GET', '/api/v1/campaigns', { token: organiser.token, headers: { 'x-request-id': 'log-line-check-01' } });
    expect(res.status).toBe(200);
    const refused = await t.request('GET', '/api/v1/tokens', { token: organiser.token });
    expect(refused.status).toBe(403);
    expect((await t.request('GET', '/api/v1/tokens')).status).toBe(200);

    expect(requestLines()).toEqual([
      { time: expect.any(String), level: 'info', event: 'request', requestId: 'log-line-check-01', method: 'GET', route: '/api/v1/campaigns', tokenId: organiser.id, status: 200, ms: expect.any(Number) },
      expect.objectContaining({ route: '/api/v1/tokens', tokenId: organiser.id, status: 403 }),
      expect.objectContaining({ route: '/api/v1/tokens', tokenId: ENV_ADMIN_TOKEN_ID, status: 200 }),
    ]);
    const all = lines.join('\n');
    expect(all).not.toContain(organiser.token);
    expect(all).not.toContain(organiser.token.slice(4)); // without its sgt_ prefix
    expect(all).not.toContain(ADMIN_TOKEN);
  });

  it('has no tokenId for a wrong token or none, and does not echo the wrong token', async () => {
    const { lines, requestLines } = appWithCapturedLog();
    const organiser = await makeToken(t, 'Organiser', ['campaigns']);
    lines.length = 0;
    const forged = `${organiser.token.slice(0, -2)}xx`;
    expect((await t.request('GET', '/api/v1/campaigns', { token: forged })).status).toBe(401);
    expect((await t.request('GET', '/api/v1/campaigns', { token: null })).status).toBe(401);
    expect((await t.request('GET', '/healthz', { token: null })).status).toBe(200);

    const logged = requestLines();
    expect(logged.map((line) => line.status)).toEqual([401, 401, 200]);
    for (const line of logged) expect(line).not.toHaveProperty('tokenId');
    expect(lines.join('\n')).not.toContain(forged);
  });

  it('names the token behind a dashboard session, and never logs the token typed to sign in or the session cookie', async () => {
    const { lines, requestLines } = appWithCapturedLog();
    const organiser = await makeToken(t, 'Organiser', ['campaigns']);
    lines.length = 0;
    const signIn = await t.app.request('/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({ token: organiser.token, next: '/admin/campaigns' }).toString(),
    });
    expect(signIn.status).toBe(303);
    const cookie = /signet_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')![1]!;
    const page = await t.app.request('/admin/campaigns', { headers: { cookie: `signet_session=${cookie}` } });
    expect(page.status).toBe(200);

    expect(requestLines()).toEqual([
      expect.objectContaining({ method: 'POST', tokenId: organiser.id, status: 303 }),
      expect.objectContaining({ method: 'GET', route: '/admin/campaigns', tokenId: organiser.id, status: 200 }),
    ]);
    const all = lines.join('\n');
    expect(all).not.toContain(organiser.token.slice(4));
    expect(all).not.toContain(cookie);
  });
});
