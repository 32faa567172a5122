import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { type CampaignObjects, campaignWithEverything, json } from './helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const API = '/api/v1';
const UNKNOWN = 'no-such-campaign';

/** What an answer tells the caller: everything but the request id. */
async function answerOf(res: Response) {
  const body = (await res.json()) as { error?: { code: string; message: string; details?: unknown; requestId: string } };
  const { requestId: _requestId, ...error } = body.error ?? { requestId: '' };
  return { status: res.status, error };
}

/**
 * Routes that take a campaign's slug in the BODY (the path names something else): a caller
 * limited to campaign A who names B, which exists but is hidden from it, must get exactly
 * the answer it gets for a slug that does not exist, or the answer tells which campaigns exist.
 */
describe('a campaign slug in a body: hidden and unknown answer alike (#17)', () => {
  let a: CampaignObjects;
  let b: CampaignObjects;
  let limited: string;

  async function setup() {
    t = createTestApp();
    a = await campaignWithEverything(t, 'campaign-a', 'Embassy of Alpha');
    b = await campaignWithEverything(t, 'campaign-b', 'Embassy of Bravo');
    const token = await json<{ token: string }>(
      await t.request('POST', `${API}/tokens`, { body: { name: 'team A', scopes: ['campaigns', 'signatures:read', 'letters', 'deliveries'], campaigns: [a.slug] } }),
      201,
    );
    limited = token.token;
  }

  /** The same request naming B and naming a campaign that does not exist; returns both answers. */
  async function namingHiddenAndUnknown(method: string, path: string, body: (slug: string) => Record<string, unknown>) {
    const hidden = await answerOf(await t.request(method, path, { token: limited, body: body(b.slug) }));
    const unknown = await answerOf(await t.request(method, path, { token: limited, body: body(UNKNOWN) }));
    return { hidden, unknown };
  }

  it('invite-previous `from`: 404 NOT_FOUND, same message, whether the earlier round is hidden or unknown', async () => {
    await setup();
    const { hidden, unknown } = await namingHiddenAndUnknown('POST', `${API}/campaigns/${a.slug}/invite-previous`, (slug) => ({ from: slug }));
    expect(unknown).toEqual({ status: 404, error: { code: 'NOT_FOUND', message: 'Previous campaign was not found.' } });
    expect(hidden).toEqual(unknown);
    // The organisation, which sees every campaign, gets the same 404 for an unknown one.
    const organisation = await answerOf(await t.request('POST', `${API}/campaigns/${a.slug}/invite-previous`, { body: { from: UNKNOWN } }));
    expect(organisation).toEqual(unknown);
    // And naming a campaign it can see still works, so the 404 above is about reach.
    const reachable = await t.request('POST', `${API}/campaigns/${a.slug}/invite-previous`, { body: { from: b.slug } });
    expect(reachable.status, await reachable.clone().text()).toBe(201);
  });

  it('a reply\'s `campaign`: the same 404 for a hidden and an unknown campaign', async () => {
    await setup();
    const { hidden, unknown } = await namingHiddenAndUnknown('POST', `${API}/targets/${a.targetId}/replies`, (slug) => ({
      campaign: slug,
      receivedAt: '2027-08-31',
      channel: 'email',
      summary: 'An answer.',
    }));
    expect(unknown).toEqual({ status: 404, error: { code: 'NOT_FOUND', message: 'Campaign was not found.' } });
    expect(hidden).toEqual(unknown);
  });

  it('a mailing\'s `campaign`: the same 404 for a hidden and an unknown campaign, for either kind', async () => {
    await setup();
    for (const kind of [
      { kind: 'letters', channel: 'print' },
      { kind: 'update', subject: 'News', body: 'The campaign goes on.' },
    ]) {
      const { hidden, unknown } = await namingHiddenAndUnknown('POST', `${API}/mailings`, (slug) => ({ campaign: slug, ...kind, sendAt: '2027-09-21T09:00', timeZone: 'Asia/Tokyo' }));
      expect(unknown, kind.kind).toEqual({ status: 404, error: { code: 'NOT_FOUND', message: 'Campaign was not found.' } });
      expect(hidden, kind.kind).toEqual(unknown);
    }
  });

  it('a clone\'s new `slug`: a limited caller is refused before the slug is looked at, so a taken one tells nothing', async () => {
    await setup();
    const taken = await answerOf(await t.request('POST', `${API}/campaigns/${a.slug}/clone`, { token: limited, body: { slug: b.slug } }));
    const free = await answerOf(await t.request('POST', `${API}/campaigns/${a.slug}/clone`, { token: limited, body: { slug: 'a-free-slug' } }));
    expect(free).toMatchObject({ status: 403, error: { code: 'FORBIDDEN', details: { needs: 'organisation' } } });
    expect(taken).toEqual(free);
    // The source in the path: B is as unknown as a campaign that does not exist.
    const hiddenSource = await answerOf(await t.request('POST', `${API}/campaigns/${b.slug}/clone`, { token: limited, body: { slug: 'a-free-slug' } }));
    const unknownSource = await answerOf(await t.request('POST', `${API}/campaigns/${UNKNOWN}/clone`, { token: limited, body: { slug: 'a-free-slug' } }));
    expect(unknownSource).toEqual({ status: 404, error: { code: 'NOT_FOUND', message: 'Campaign was not found.' } });
    expect(hiddenSource).toEqual(unknownSource);
  });
});
