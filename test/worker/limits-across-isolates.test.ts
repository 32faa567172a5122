// The per-client limits on Workers hold across isolates: two Signet Workers (the real
// src/entry/worker.ts, each in its own isolate with its own memory) on one D1, in workerd
// (`wrangler dev --local` with three configs: ./limits-isolates/). A client alternating between
// them gets what one process would give it. With the limits in each isolate's memory, every
// isolate would let the client through its own `limit` times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signature } from '../helpers/signing.js';
import { fixtureAdminToken as adminToken, startTwoIsolateSignet, type TwoIsolateSignet } from './limits-isolates/start.js';

const publicOrigin = 'http://signet.example';
const SIGN_LIMIT = 3;
const SIGN_WINDOW_S = 10;
/** src/web/admin/account-pages.tsx: sign-in attempts per client in 15 minutes. */
const SIGN_IN_LIMIT = 10;

let worker: TwoIsolateSignet;

beforeAll(async () => {
  // Signet logs with console.log, which wrangler shows for these Workers only at debug.
  worker = await startTwoIsolateSignet({ logLevel: 'debug' });
  const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  expect((await call('a', '/api/v1/campaigns', { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'limits', title: 'Limits', locale: 'en' }) })).status).toBe(201);
  expect((await call('b', '/api/v1/campaigns/limits', { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
});

/** A request to Signet A or B (a 500 fails the test with the Workers' output). */
async function call(isolate: 'a' | 'b', path: string, init: RequestInit & { clientIp?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.clientIp) headers.set('x-client-ip', init.clientIp);
  const response = await fetch(`${worker.url}/${isolate}${path}`, { ...init, headers, redirect: 'manual' });
  if (response.status >= 500) throw new Error(`Signet ${isolate} answered ${response.status} to ${path}: ${await response.text()}\n${worker.output().slice(-4000)}`);
  return response;
}

async function sql(statement: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${worker.url}/sql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: statement }) });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Record<string, unknown>[];
}

const json = { 'content-type': 'application/json' };
const isolates = (i: number) => (i % 2 === 0 ? 'a' : 'b');

const sign = (isolate: 'a' | 'b', email: string, clientIp: string) =>
  call(isolate, '/api/v1/campaigns/limits/signatures', { method: 'POST', headers: json, body: JSON.stringify(signature(email)), clientIp });

const askPrivacyLink = (isolate: 'a' | 'b', email: string, clientIp: string) =>
  call(isolate, '/api/v1/privacy/requests', { method: 'POST', headers: json, body: JSON.stringify({ email, kind: 'export' }), clientIp });

const signInWithToken = (isolate: 'a' | 'b', token: string, clientIp: string) =>
  call(isolate, '/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: publicOrigin },
    body: new URLSearchParams({ token, next: '/admin/campaigns' }).toString(),
    clientIp,
  });

async function expectRefused(response: Response, maxSeconds: number) {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  return retryAfter;
}

describe('limits across two isolates on one D1', () => {
  it(`signing: the ${SIGN_LIMIT + 1}th request of one client across A and B is 429 with Retry-After, and its window rolls over`, async () => {
    const ip = '203.0.113.10';
    for (let i = 0; i < SIGN_LIMIT; i++) expect((await sign(isolates(i), `s${i}@example.org`, ip)).status).toBe(202);
    const refused = await sign('b', 'refused@example.org', ip);
    const retryAfter = await expectRefused(refused, SIGN_WINDOW_S);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    // Both isolates now refuse the client; another client is not affected.
    await expectRefused(await sign('a', 'refused@example.org', ip), SIGN_WINDOW_S);
    expect((await sign('a', 'other@example.org', '203.0.113.11')).status).toBe(202);

    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 200));
    expect((await sign('b', 'next-window@example.org', ip)).status).toBe(202);
    expect((await sign('a', 'next-window-2@example.org', ip)).status).toBe(202);
  }, 60_000);

  it(`privacy links: the ${SIGN_LIMIT + 1}th request of one client across A and B is 429 with Retry-After`, async () => {
    const ip = '2001:db8:10:20::1';
    for (let i = 0; i < SIGN_LIMIT; i++) expect((await askPrivacyLink(isolates(i), `p${i}@example.org`, ip)).status).toBe(202);
    // Another address of the same /64 is the same client.
    await expectRefused(await askPrivacyLink('b', 'p3@example.org', '2001:db8:10:20::99'), SIGN_WINDOW_S);
  });

  it(`dashboard sign-in: the ${SIGN_IN_LIMIT + 1}th attempt of one client across A and B is 429 with Retry-After`, async () => {
    const ip = '198.51.100.20';
    for (let i = 0; i < SIGN_IN_LIMIT; i++) expect((await signInWithToken(isolates(i), `wrong-token-${i}-0123456789abcdef`, ip)).status).toBe(401);
    // Even the right token is refused now: every attempt counts.
    await expectRefused(await signInWithToken('b', adminToken, ip), 15 * 60);
    expect((await signInWithToken('a', adminToken, '198.51.100.21')).status).toBe(303);
  });

  it('the counters are keyed hashes: no client address is stored', async () => {
    const rows = await sql('SELECT "key", "count" FROM "rate_limit_windows"');
    expect(rows.length).toBeGreaterThanOrEqual(4);
    const keys = rows.map((row) => String(row.key));
    expect(keys.every((key) => /^(sign:[0-9a-f-]+|privacy|admin-sign-in):[A-Za-z0-9_-]+$/.test(key)), keys.join('\n')).toBe(true);
    expect(JSON.stringify(rows)).not.toMatch(/203\.0\.113|2001:db8|198\.51\.100/);
  });

  it('when D1 cannot count: supporters are answered and held, sign-ins refused for a minute, and the Worker logs why', async () => {
    const held = async () => Number((await sql('SELECT count(*) AS n FROM "signature_submissions"'))[0]!.n);
    const before = await held();
    await sql('DROP TABLE "rate_limit_windows"');
    expect((await sign('a', 'during-outage@example.org', '192.0.2.50')).status).toBe(202);
    expect((await sign('b', 'during-outage-2@example.org', '192.0.2.50')).status).toBe(202);
    expect(await held()).toBe(before + 2);
    expect((await askPrivacyLink('a', 's0@example.org', '192.0.2.50')).status).toBe(202);
    expect(await expectRefused(await signInWithToken('b', adminToken, '192.0.2.50'), 60)).toBe(60);
    expect(worker.output()).toMatch(/"event":"rate limiter unavailable[^"]*","bucket":"sign","outcome":"allowed"/);
  });
});
