import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { signatures } from '../../../src/db/schema.js';
import { createTestApp } from '../../helpers/app.js';
import { signAndConfirm, signature } from '../../helpers/signing.js';
import { campaignWithEverything, type CampaignObjects, json } from '../access/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const API = '/api/v1';
type Supporters = { partner: { code: string }; items: { email: string; name: string }[]; nextCursor: string | null };

type Document = { paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>> };

/** Every path parameter filled with an object of campaign `objects`, so a refusal is about the token and not an unknown id. */
function fillPath(path: string, objects: CampaignObjects & { partner: string }, organisation: Record<string, string>): string {
  const segments = path.split('/');
  return segments
    .map((segment, index) => {
      const parameter = /^\{(\w+)\}(.*)$/.exec(segment);
      if (!parameter) return segment;
      const resource = segments[index - 1]!;
      const byResource: Record<string, string | undefined> = {
        campaigns: objects.slug,
        partners: objects.partner,
        letters: objects.letterId,
        deliveries: objects.deliveryId,
        mailings: objects.mailingId,
        targets: objects.targetId,
        replies: objects.replyId,
        ...organisation,
      };
      const value = byResource[resource];
      if (value === undefined) throw new Error(`cannot fill {${parameter[1]}} of ${path}: teach fillPath the "${resource}" resource`);
      return `${encodeURIComponent(value)}${parameter[2]}`;
    })
    .join('/');
}

async function partnerOf(t: TestApp, slug: string, code: string, optInText = `${code} may email me.`) {
  await json(await t.request('POST', `${API}/campaigns/${slug}/partners`, { body: { code, name: code.toUpperCase(), optInText } }), 201);
}

/**
 * Campaign A with partners alpha and bravo, campaign B with its own alpha; supporters who ticked
 * a box, who did not, who signed without a partner, who were invalidated and who were erased.
 */
async function coalition(t: TestApp) {
  const a = await campaignWithEverything(t, 'campaign-a', 'Embassy of Alpha');
  const b = await campaignWithEverything(t, 'campaign-b', 'Embassy of Bravo');
  await partnerOf(t, a.slug, 'alpha');
  await partnerOf(t, a.slug, 'bravo');
  await partnerOf(t, b.slug, 'alpha');
  const sign = (slug: string, email: string, extra: Record<string, unknown>) => signAndConfirm(t, slug, signature(email, { name: email.split('@')[0], ...extra }));
  await sign(a.slug, 'alpha-yes@example.org', { ref: 'alpha', consent: { partner: true } });
  await sign(a.slug, 'alpha-yes-too@example.org', { ref: 'alpha', consent: { partner: true, updates: true } });
  await sign(a.slug, 'alpha-no@example.org', { ref: 'alpha', consent: { partner: false, updates: true } });
  await sign(a.slug, 'bravo-yes@example.org', { ref: 'bravo', consent: { partner: true } });
  await sign(a.slug, 'plain@example.org', { consent: { updates: true } });
  await sign(a.slug, 'alpha-invalidated@example.org', { ref: 'alpha', consent: { partner: true } });
  await sign(a.slug, 'alpha-erased@example.org', { ref: 'alpha', consent: { partner: true } });
  await sign(b.slug, 'b-alpha-yes@example.org', { ref: 'alpha', consent: { partner: true } });
  await t.database.db.update(signatures).set({ status: 'invalidated' }).where(eq(signatures.emailNormalized, 'alpha-invalidated@example.org'));
  await json(await t.request('POST', `${API}/privacy/erasures`, { body: { email: 'alpha-erased@example.org' } }), 200);
  const token = await json<{ token: string; scopes: string[]; campaigns: string[]; partner: string }>(
    await t.request('POST', `${API}/tokens`, { body: { name: 'Alpha of A', scopes: ['signatures:read'], campaigns: [a.slug], partner: 'alpha' } }),
    201,
  );
  expect(token).toMatchObject({ scopes: ['signatures:read'], campaigns: [a.slug], partner: 'alpha' });
  return { a, b, token: token.token };
}

describe('a token limited to a partner (PRODUCT.md §13: reads only that partner\'s opted-in supporters)', () => {
  it('reads exactly the supporters who ticked its partner\'s box and are still signed', async () => {
    t = createTestApp();
    const { a, token } = await coalition(t);
    const answer = await t.request('GET', `${API}/campaigns/${a.slug}/partners/alpha/supporters`, { token });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const page = await json<Supporters>(answer, 200);
    expect(page.partner.code).toBe('alpha');
    expect(page.items.map((item) => item.email).sort()).toEqual(['alpha-yes-too@example.org', 'alpha-yes@example.org']);
    // What a partner needs to write to them, and nothing of the petition's own record (consents, comment, IP hash, ids).
    expect(Object.keys(page.items[0]!).sort()).toEqual(['city', 'confirmedAt', 'country', 'email', 'locale', 'name', 'postalCode', 'region']);

    // Pages: one at a time, the cursor carries on, nothing twice.
    const first = await json<Supporters>(await t.request('GET', `${API}/campaigns/${a.slug}/partners/alpha/supporters?limit=1`, { token }), 200);
    expect(first.items).toHaveLength(1);
    const second = await json<Supporters>(await t.request('GET', `${API}/campaigns/${a.slug}/partners/alpha/supporters?limit=1&cursor=${first.nextCursor}`, { token }), 200);
    expect(second.items).toHaveLength(1);
    expect(second.items[0]!.email).not.toBe(first.items[0]!.email);
    expect(second.nextCursor).toBeNull();
  });

  it('cannot read another partner\'s supporters, of its campaign or of another one with the same code', async () => {
    t = createTestApp();
    const { a, b, token } = await coalition(t);
    for (const path of [`${a.slug}/partners/bravo/supporters`, `${b.slug}/partners/alpha/supporters`, `${a.slug}/partners/nobody/supporters`, `no-such-campaign/partners/alpha/supporters`]) {
      const answer = await t.request('GET', `${API}/campaigns/${path}`, { token });
      expect(answer.status, path).toBe(404);
      const text = await answer.text();
      expect(text, path).not.toContain('@example.org');
      expect(JSON.parse(text).error.code).toBe('NOT_FOUND');
    }
    // The organisation reads every partner's list.
    const bravo = await json<Supporters>(await t.request('GET', `${API}/campaigns/${a.slug}/partners/bravo/supporters`), 200);
    expect(bravo.items.map((item) => item.email)).toEqual(['bravo-yes@example.org']);
  });

  it('reaches nothing else: every other organiser route of the OpenAPI document refuses it, and nothing changes', async () => {
    t = createTestApp();
    const { a, token } = await coalition(t);
    const document = await json<Document>(await t.request('GET', `${API}/openapi.json`, { token: null }), 200);
    const objects = { ...a, partner: 'alpha' };
    const organisation = { tokens: 'x', webhooks: 'x', blocklist: 'x', outbox: 'x', suppressions: 'nobody@example.org', templates: 'embassy-petition', '{name}': 'en', versions: '0' };
    const before = await json<{ signatureCount: number; summary: string }>(await t.request('GET', `${API}/campaigns/${a.slug}`), 200);
    let checked = 0;
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (!operation.security?.some((requirement) => 'bearerAuth' in requirement)) continue;
        if (method === 'get' && path === '/api/v1/campaigns/{slug}/partners/{code}/supporters') continue;
        const url = fillPath(path, objects, organisation);
        const answer = await t.request(method.toUpperCase(), url, { token, ...(method === 'get' || method === 'delete' ? {} : { body: {} }) });
        const type = answer.headers.get('content-type') ?? '';
        const text = type.startsWith('text/event-stream') ? (await answer.body?.cancel(), '') : await answer.text();
        const name = `${method.toUpperCase()} ${path}`;
        // A list across campaigns may answer, but empty: the token reaches no campaign.
        if (answer.status === 200) {
          const body = JSON.parse(text) as { items?: unknown[] };
          expect(body.items, `${name}: ${text.slice(0, 300)}`).toEqual([]);
        } else {
          expect([403, 404], `${name}: ${answer.status} ${text.slice(0, 300)}`).toContain(answer.status);
        }
        expect(text, name).not.toContain('@example.org');
        expect(text, name).not.toContain(a.targetName);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
    const after = await json<{ signatureCount: number; summary: string }>(await t.request('GET', `${API}/campaigns/${a.slug}`), 200);
    expect(after).toEqual(before);
  }, 120_000);

  it('can only be made for one campaign\'s partner, reading only, and cannot open the dashboard', async () => {
    t = createTestApp();
    const { a, b, token } = await coalition(t);
    const attempts: [Record<string, unknown>, string][] = [
      [{ name: 'writes', scopes: ['signatures:read', 'campaigns'], campaigns: [a.slug], partner: 'alpha' }, 'scopes'],
      [{ name: 'admin', scopes: ['admin'], campaigns: [a.slug], partner: 'alpha' }, 'scopes'],
      [{ name: 'no campaign', scopes: ['signatures:read'], partner: 'alpha' }, 'campaigns'],
      [{ name: 'two campaigns', scopes: ['signatures:read'], campaigns: [a.slug, b.slug], partner: 'alpha' }, 'campaigns'],
      [{ name: 'unknown partner', scopes: ['signatures:read'], campaigns: [a.slug], partner: 'nobody' }, 'partner'],
    ];
    for (const [body, path] of attempts) {
      const answer = await t.request('POST', `${API}/tokens`, { body });
      expect(answer.status, String(body.name)).toBe(400);
      expect((await answer.json()).error.details, String(body.name)).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    }
    // A partner token cannot make tokens (the organisation's own resource).
    const escalation = await t.request('POST', `${API}/tokens`, { token, body: { name: 'wider', scopes: ['admin'] } });
    expect(escalation.status).toBe(403);

    const form = new URLSearchParams({ token });
    const signIn = await t.app.request('/admin/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:3000' }, body: form.toString() });
    expect(signIn.status).toBe(401);
    expect(signIn.headers.get('set-cookie') ?? '').not.toContain('signet_session=');
  });
});
