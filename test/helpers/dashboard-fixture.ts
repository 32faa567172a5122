import { expect } from 'vitest';
import type { createTestApp } from './app.js';
import { latestConfirmToken, openCampaign, signature } from './signing.js';

type TestApp = ReturnType<typeof createTestApp>;

/** A campaign with a target, a goal of a million, two confirmed signatures, a batch of letters, a print delivery and a mailing. */
export async function campaignWithEverything(app: TestApp, slug: string) {
  await openCampaign(app, slug, { goal: 1_000_000, title: 'Stop the forced returns' });
  const target = await app.request('POST', '/api/v1/targets', {
    body: { name: 'Embassy of Example', kind: 'embassy', email: 'embassy@example.org', language: 'en', postalAddress: { lines: ['1 Example Street'], city: 'Tokyo', country: 'JP' } },
  });
  expect(target.status).toBe(201);
  const targetId = (await target.json()).id as string;
  expect((await app.request('PATCH', `/api/v1/campaigns/${slug}`, { body: { targetIds: [targetId] } })).status).toBe(200);
  for (const email of ['a@example.jp', 'b@example.jp']) {
    expect((await app.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature(email) })).status).toBe(202);
    const token = await latestConfirmToken(app, email);
    expect((await app.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token } })).status).toBe(200);
  }
  const batch = await app.request('POST', `/api/v1/campaigns/${slug}/letters`, { body: { mode: 'per_target' } });
  expect(batch.status, await batch.clone().text()).toBe(201);
  const letterId = ((await batch.json()) as { letters: { id: string }[] }).letters[0]!.id;
  const delivery = await app.request('POST', `/api/v1/letters/${letterId}/deliveries`, { body: { channel: 'print' }, headers: { 'idempotency-key': 'i18n-test-print' } });
  expect(delivery.status, await delivery.clone().text()).toBe(201);
  const mailing = await app.request('POST', '/api/v1/mailings', { body: { campaign: slug, kind: 'update', sendAt: '2027-12-24T10:00', timeZone: 'Asia/Tokyo', subject: 'News', body: 'Thanks', dryRun: true } });
  expect(mailing.status, await mailing.clone().text()).toBe(201);
  return { targetId, letterId, mailingId: (await mailing.json()).id as string };
}
