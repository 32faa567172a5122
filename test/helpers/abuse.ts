import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { campaigns, signatures } from '../../src/db/schema.js';
import { clientKey } from '../../src/lib/ip.js';
import { utcDay } from '../../src/lib/keyring.js';
import type { createTestApp } from './app.js';
import { latestConfirmToken, signature } from './signing.js';

export type TestApp = ReturnType<typeof createTestApp>;

/** Signs through the API from a client address (X-Forwarded-For; the test app trusts the proxy). */
export function signFrom(t: TestApp, slug: string, email: string, ip: string, extra: Record<string, unknown> = {}) {
  return t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature(email, extra), headers: { 'x-forwarded-for': ip } });
}

/** Signs from a client address and confirms through the mailed link, as a supporter would. */
export async function signAndConfirmFrom(t: TestApp, slug: string, email: string, ip: string) {
  const signed = await signFrom(t, slug, email, ip);
  expect(signed.status, await signed.clone().text()).toBe(202);
  const confirmed = await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: await latestConfirmToken(t, email) } });
  expect(confirmed.status, await confirmed.clone().text()).toBe(200);
}

/** The campaign's live count as organisers read it (folded count plus unfolded deltas). */
export async function liveCount(t: TestApp, slug: string): Promise<number> {
  const res = await t.request('GET', `/api/v1/campaigns/${slug}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { signatureCount: number }).signatureCount;
}

/** The IP hash the app stores for a client address on the clock's day. */
export async function ipHashOf(t: TestApp, slug: string, ip: string): Promise<string> {
  const [campaign] = await t.database.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, slug));
  return t.ctx.keys.ipHash(campaign!.id, utcDay(t.clock.now()), clientKey(ip));
}

export async function signatureOf(t: TestApp, email: string) {
  const [row] = await t.database.db.select().from(signatures).where(eq(signatures.emailNormalized, email.toLowerCase()));
  return row;
}

/** A stored API token with exactly these scopes. */
export async function tokenWith(t: TestApp, scopes: string[]): Promise<string> {
  const res = await t.request('POST', '/api/v1/tokens', { body: { name: `only ${scopes.join(' ')}`, scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

export async function block(t: TestApp, kind: 'email' | 'domain' | 'ip', value: string) {
  const res = await t.request('POST', '/api/v1/blocklist', { body: { kind, value } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; value: string };
}
