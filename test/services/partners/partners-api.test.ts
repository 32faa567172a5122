import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { apiTokens, signatures, signatureSubmissions } from '../../../src/db/schema.js';
import { createTestApp } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';
import { json } from '../access/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const API = '/api/v1';
type Partner = { code: string; name: string; optInText: string | null; signatures: number; optedIn: number };

async function partnerRow(t: TestApp, email: string) {
  const [row] = await t.database.db.select({ partnerId: signatures.partnerId, optIn: signatures.partnerOptIn }).from(signatures).where(eq(signatures.emailNormalized, email));
  return row;
}

describe('coalition partners (PRODUCT.md §13)', () => {
  it('are added, listed with counts, changed and removed; codes are checked and unique per campaign', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them');
    await openCampaign(t, 'other-campaign');
    const made = await json<Partner>(
      await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code: 'Amnesty-Tokyo', name: 'Amnesty Tokyo', optInText: 'Amnesty Tokyo may email me about its work.' } }),
      201,
    );
    expect(made).toMatchObject({ code: 'amnesty-tokyo', name: 'Amnesty Tokyo', signatures: 0, optedIn: 0 });
    await json(await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code: 'hrn', name: 'HRN' } }), 201);
    // The same code on another campaign is another partner.
    await json(await t.request('POST', `${API}/campaigns/other-campaign/partners`, { body: { code: 'hrn', name: 'HRN' } }), 201);

    const taken = await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code: 'hrn', name: 'Again' } });
    expect(taken.status).toBe(409);
    expect((await taken.json()).error).toMatchObject({ code: 'PARTNER_CODE_TAKEN', details: [{ path: 'code' }] });
    for (const code of ['paper', 'has space', '-dash', 'x'.repeat(41), '']) {
      const bad = await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code, name: 'Bad' } });
      expect(bad.status, code).toBe(400);
      expect((await bad.json()).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'code' }] });
    }
    const twoLines = await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code: 'ok', name: 'OK', optInText: 'one\ntwo' } });
    expect((await twoLines.json()).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'optInText' }] });
    expect((await t.request('POST', `${API}/campaigns/nowhere/partners`, { body: { code: 'ok', name: 'OK' } })).status).toBe(404);

    // The code is fixed; the name and the text change, and null removes the box.
    const codeChange = await t.request('PATCH', `${API}/campaigns/free-them/partners/hrn`, { body: { code: 'hrn-2' } });
    expect(codeChange.status).toBe(400);
    const renamed = await json<Partner>(await t.request('PATCH', `${API}/campaigns/free-them/partners/HRN`, { body: { name: 'Human Rights Now', optInText: 'HRN may write to me.' } }), 200);
    expect(renamed).toMatchObject({ code: 'hrn', name: 'Human Rights Now', optInText: 'HRN may write to me.' });
    const noBox = await json<Partner>(await t.request('PATCH', `${API}/campaigns/free-them/partners/hrn`, { body: { optInText: null } }), 200);
    expect(noBox.optInText).toBeNull();

    const list = await json<{ items: Partner[] }>(await t.request('GET', `${API}/campaigns/free-them/partners`), 200);
    expect(list.items.map((p) => p.code)).toEqual(['amnesty-tokyo', 'hrn']);
    expect((await t.request('GET', `${API}/campaigns/free-them/partners/nobody`)).status).toBe(404);

    expect((await t.request('DELETE', `${API}/campaigns/free-them/partners/hrn`)).status).toBe(204);
    expect((await t.request('DELETE', `${API}/campaigns/free-them/partners/hrn`)).status).toBe(404);
    expect((await json<{ items: Partner[] }>(await t.request('GET', `${API}/campaigns/other-campaign/partners`), 200)).items).toHaveLength(1);
  });

  it('attribute a signature made with ref and keep the opt-in only where the partner has a box and it was ticked', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them');
    await json(await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code: 'amnesty', name: 'Amnesty', optInText: 'Amnesty may email me.' } }), 201);
    await json(await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code: 'nobox', name: 'No box' } }), 201);

    await signAndConfirm(t, 'free-them', signature('ticked@example.org', { ref: 'amnesty', consent: { partner: true } }));
    await signAndConfirm(t, 'free-them', signature('unticked@example.org', { ref: 'AMNESTY' }));
    await signAndConfirm(t, 'free-them', signature('nobox@example.org', { ref: 'nobox', consent: { partner: true } }));
    await signAndConfirm(t, 'free-them', signature('unknown@example.org', { ref: 'no-such-partner', consent: { partner: true } }));
    await signAndConfirm(t, 'free-them', signature('plain@example.org'));

    const ticked = await partnerRow(t, 'ticked@example.org');
    expect(ticked?.partnerId).toBeTruthy();
    expect(ticked?.optIn).toBe(true);
    expect(await partnerRow(t, 'unticked@example.org')).toEqual({ partnerId: ticked!.partnerId, optIn: false });
    // A partner without a box shows none, so nothing can have been ticked.
    expect((await partnerRow(t, 'nobox@example.org'))?.optIn).toBe(false);
    expect(await partnerRow(t, 'unknown@example.org')).toEqual({ partnerId: null, optIn: false });
    expect(await partnerRow(t, 'plain@example.org')).toEqual({ partnerId: null, optIn: false });

    // A pending request is not counted; an erased signature stays counted for its partner but is no opt-in.
    const pending = await t.request('POST', `${API}/campaigns/free-them/signatures`, { token: null, body: signature('pending@example.org', { ref: 'amnesty', consent: { partner: true } }) });
    expect(pending.status).toBe(202);
    const counts = await json<{ items: Partner[] }>(await t.request('GET', `${API}/campaigns/free-them/partners`), 200);
    expect(counts.items.map(({ code, signatures, optedIn }) => ({ code, signatures, optedIn }))).toEqual([
      { code: 'amnesty', signatures: 2, optedIn: 1 },
      { code: 'nobox', signatures: 1, optedIn: 0 },
    ]);
    await json(await t.request('POST', `${API}/privacy/erasures`, { body: { email: 'ticked@example.org' } }), 200);
    const afterErasure = await json<Partner>(await t.request('GET', `${API}/campaigns/free-them/partners/amnesty`), 200);
    expect(afterErasure).toMatchObject({ signatures: 2, optedIn: 0 });
  });

  it('keep the partner and its box together: a plain link changes neither, another partner\'s link takes both', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them');
    for (const code of ['alpha', 'bravo']) {
      await json(await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code, name: code, optInText: `${code} may email me.` } }), 201);
    }
    const email = 'twice@example.org';
    await signAndConfirm(t, 'free-them', signature(email, { ref: 'alpha', consent: { partner: true } }));
    const alpha = (await partnerRow(t, email))!.partnerId;
    // Each request its own moment, so the newest email is the one just asked for.
    t.clock.advance(60_000);
    await signAndConfirm(t, 'free-them', signature(email));
    expect(await partnerRow(t, email)).toEqual({ partnerId: alpha, optIn: true });
    // Bravo's box left unticked: alpha's consent must not be carried over to bravo.
    t.clock.advance(60_000);
    await signAndConfirm(t, 'free-them', signature(email, { ref: 'bravo' }));
    const row = await partnerRow(t, email);
    expect(row?.partnerId).not.toBe(alpha);
    expect(row?.optIn).toBe(false);
    const counts = await json<{ items: Partner[] }>(await t.request('GET', `${API}/campaigns/free-them/partners`), 200);
    expect(counts.items.map((p) => [p.code, p.signatures, p.optedIn])).toEqual([['alpha', 0, 0], ['bravo', 1, 0]]);
  });

  it('removing a partner keeps its signatures counted, lapses its opt-ins, clears waiting requests and revokes its tokens', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them');
    await json(await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code: 'amnesty', name: 'Amnesty', optInText: 'Amnesty may email me.' } }), 201);
    await signAndConfirm(t, 'free-them', signature('ticked@example.org', { ref: 'amnesty', consent: { partner: true } }));
    await t.request('POST', `${API}/campaigns/free-them/signatures`, { token: null, body: signature('waiting@example.org', { ref: 'amnesty', consent: { partner: true } }) });
    const token = await json<{ id: string; token: string; partner: string }>(
      await t.request('POST', `${API}/tokens`, { body: { name: 'Amnesty', scopes: ['signatures:read'], campaigns: ['free-them'], partner: 'amnesty' } }),
      201,
    );
    expect(token.partner).toBe('amnesty');
    expect((await t.request('DELETE', `${API}/campaigns/free-them/partners/amnesty`)).status).toBe(204);

    expect(await partnerRow(t, 'ticked@example.org')).toEqual({ partnerId: null, optIn: false });
    const [waiting] = await t.database.db.select().from(signatureSubmissions).where(eq(signatureSubmissions.emailNormalized, 'waiting@example.org'));
    expect([waiting?.partnerId, waiting?.partnerOptIn]).toEqual([null, false]);
    const [revoked] = await t.database.db.select().from(apiTokens).where(eq(apiTokens.id, token.id));
    expect(revoked?.revokedAt).not.toBeNull();
    expect((await t.request('GET', `${API}/campaigns/free-them/partners/amnesty/supporters`, { token: token.token })).status).toBe(401);
    expect((await json<{ signatureCount: number }>(await t.request('GET', `${API}/campaigns/free-them`), 200)).signatureCount).toBeGreaterThanOrEqual(0);

    // A new partner with the old code starts from nothing: the waiting request confirms without it.
    await json(await t.request('POST', `${API}/campaigns/free-them/partners`, { body: { code: 'amnesty', name: 'Amnesty again', optInText: 'Yes.' } }), 201);
    const confirmed = await t.request('POST', `${API}/signatures/confirm`, { token: null, body: { token: await latestConfirmToken(t, 'waiting@example.org') } });
    expect(confirmed.status).toBe(200);
    expect(await partnerRow(t, 'waiting@example.org')).toEqual({ partnerId: null, optIn: false });
  });
});
