import { expect } from 'vitest';
import { auditEvents } from '../../../src/db/schema.js';
import type { AuditEventView } from '../../../src/services/audit.js';
import { createTestApp } from '../../helpers/app.js';
import { signAndConfirm, signature } from '../../helpers/signing.js';

export type TestApp = ReturnType<typeof createTestApp>;

export const SLUG = 'free-the-writers';

/** A token with these scopes, made through the API; returns its id and secret. */
export async function makeToken(t: TestApp, name: string, scopes: string[]): Promise<{ id: string; token: string }> {
  const res = await t.request('POST', '/api/v1/tokens', { body: { name, scopes } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

/** A campaign writing to one embassy, open, with two confirmed supporters. */
export async function campaignWithSupporters(t: TestApp): Promise<{ targetId: string; emails: string[] }> {
  const target = await t.request('POST', '/api/v1/targets', {
    body: {
      name: 'Ambassador of the People\'s Republic of China to Japan',
      kind: 'embassy',
      postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
      language: 'en',
    },
  });
  expect(target.status).toBe(201);
  const { id: targetId } = (await target.json()) as { id: string };
  const created = await t.request('POST', '/api/v1/campaigns', { body: { slug: SLUG, title: 'Free the writers', locale: 'en', timeZone: 'Asia/Tokyo', targetIds: [targetId] } });
  expect(created.status).toBe(201);
  expect((await t.request('PATCH', `/api/v1/campaigns/${SLUG}`, { body: { status: 'open' } })).status).toBe(200);
  const emails = ['aiko.tanaka@example.org', 'min-jun.kim@example.net'];
  for (const email of emails) await signAndConfirm(t, SLUG, signature(email, { name: email.split('@')[0] }));
  return { targetId, emails };
}

/** The audit log through the API (as ADMIN_TOKEN unless a token is given). */
export async function auditLog(t: TestApp, query = '', token?: string): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
  const res = await t.request('GET', `/api/v1/audit${query ? `?${query}` : ''}`, token === undefined ? {} : { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { items: AuditEventView[]; nextCursor: string | null };
}

/** Every stored audit row, as text: for asserting what must never be in it. */
export async function auditTableText(t: TestApp): Promise<string> {
  await auditLog(t, 'limit=1'); // listing writes what is queued first
  const rows = await t.database.db.select().from(auditEvents);
  return JSON.stringify(rows);
}
