import { ADMIN_TOKEN, type createTestApp } from '../../helpers/app.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;

/** One campaign's objects, as the API made them. */
export type CampaignObjects = { slug: string; campaignId: string; targetId: string; targetName: string; letterId: string; deliveryId: string; mailingId: string; replyId: string; partnerCode: string };

const API = '/api/v1';

/** The body of an answer that must have this status (else the error names what came instead). */
export async function json<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A campaign with a target, a confirmed signature, a letter, a print delivery, a scheduled mailing, a reply with a scan and a coalition partner. */
export async function campaignWithEverything(t: TestApp, slug: string, targetName: string): Promise<CampaignObjects> {
  const target = await json<{ id: string }>(
    await t.request('POST', `${API}/targets`, {
      body: { name: targetName, kind: 'embassy', email: `${slug}@embassy.test`, postalAddress: { lines: ['1 Embassy Row'], postalCode: '100-0001', country: 'JP' } },
    }),
    201,
  );
  await openCampaign(t, slug, { targetIds: [target.id] });
  await signAndConfirm(t, slug, signature(`supporter-of-${slug}@example.org`));
  const campaign = await json<{ id: string }>(await t.request('GET', `${API}/campaigns/${slug}`), 200);
  const batch = await json<{ letters: { id: string }[] }>(await t.request('POST', `${API}/campaigns/${slug}/letters`, { body: { mode: 'per_target' } }), 201);
  const letterId = batch.letters[0]!.id;
  const delivery = await json<{ id: string }>(await t.request('POST', `${API}/letters/${letterId}/deliveries`, { body: { channel: 'print' } }), 201);
  const mailing = await json<{ id: string }>(
    await t.request('POST', `${API}/mailings`, { body: { campaign: slug, kind: 'letters', channel: 'print', sendAt: '2027-09-20T09:00', timeZone: 'Asia/Tokyo' } }),
    201,
  );
  const form = new FormData();
  form.set('campaign', slug);
  form.set('receivedAt', '2027-08-30');
  form.set('channel', 'post');
  form.set('summary', `The embassy answered ${slug}.`);
  form.set('file', new Blob([new TextEncoder().encode('%PDF-1.4\n%%EOF\n')], { type: 'application/pdf' }), 'reply.pdf');
  const reply = await json<{ id: string }>(
    await t.app.request(`${API}/targets/${target.id}/replies`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: form }),
    201,
  );
  const partnerCode = `ally-of-${slug}`;
  await json(await t.request('POST', `${API}/campaigns/${slug}/partners`, { body: { code: partnerCode, name: `Ally of ${slug}`, optInText: 'The ally may email me.' } }), 201);
  return { slug, campaignId: campaign.id, targetId: target.id, targetName, letterId, deliveryId: delivery.id, mailingId: mailing.id, replyId: reply.id, partnerCode };
}
