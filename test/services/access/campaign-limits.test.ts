import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { blocklist, outbox } from '../../../src/db/schema.js';
import { type RouteReach, routeReaches } from '../../../src/http/openapi.js';
import type { Access } from '../../../src/services/context.js';
import { getCampaign, listCampaigns, updateCampaign } from '../../../src/services/campaigns.js';
import { getMailing, pauseMailing } from '../../../src/services/mailings/schedule.js';
import { listSignatures } from '../../../src/services/signatures.js';
import { ADMIN_TOKEN, createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';
import { type CampaignObjects, campaignWithEverything, json } from './helpers.js';
import { parsePdfBytes } from '../../letters/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

type Reach = RouteReach;
type Operation = { method: string; path: string; reach: Reach | undefined };

const API = '/api/v1';

/** Every operation of the document that a bearer token can call, with its declared reach. */
function bearerOperations(document: { paths: Record<string, Record<string, { security?: Record<string, unknown>[]; 'x-signet-reach'?: Reach }>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!operation.security?.some((requirement) => 'bearerAuth' in requirement)) continue;
      operations.push({ method: method.toUpperCase(), path, reach: operation['x-signet-reach'] });
    }
  }
  return operations;
}

/**
 * The object a path parameter names, by the resource segment before it. A parameter of a
 * resource not listed here fails the test: a new route has to be taught to it.
 */
function fillPath(path: string, objects: CampaignObjects, organisation: Record<string, string>): string {
  const segments = path.split('/');
  return segments
    .map((segment, index) => {
      const parameter = /^\{(\w+)\}(.*)$/.exec(segment);
      if (!parameter) return segment;
      const resource = segments[index - 1]!;
      const byResource: Record<string, string | undefined> = {
        campaigns: objects.slug,
        letters: objects.letterId,
        deliveries: objects.deliveryId,
        mailings: objects.mailingId,
        targets: objects.targetId,
        replies: objects.replyId,
        partners: objects.partnerCode,
        ...organisation,
      };
      const value = byResource[resource];
      if (value === undefined) throw new Error(`test/services/access/campaign-limits.test.ts cannot fill {${parameter[1]}} of ${path}: teach fillPath the "${resource}" resource`);
      return `${encodeURIComponent(value)}${parameter[2]}`;
    })
    .join('/');
}

type Request = { body?: unknown; raw?: string; query?: Record<string, string>; headers?: Record<string, string> };

/**
 * What each operation that takes a body (or a required query) is sent: a minimal valid request, so
 * the answer is about reach and not a 400. The operations come from the document; one that needs
 * a body and is missing here fails the test.
 */
function requestFor(operation: Operation, objects: CampaignObjects): Request | undefined {
  const key = `${operation.method} ${operation.path}`;
  const table: Record<string, Request> = {
    'POST /api/v1/campaigns': { body: { slug: `made-by-${objects.slug}`.slice(0, 60), title: 'New campaign', locale: 'en' } },
    'PATCH /api/v1/campaigns/{slug}': { body: { summary: 'Changed summary' } },
    'POST /api/v1/campaigns/{slug}/clone': { body: { slug: `${objects.slug}-next` } },
    'POST /api/v1/campaigns/{slug}/targets': { body: { targetIds: [objects.targetId] } },
    'PUT /api/v1/campaigns/{slug}/targets': { body: { targetIds: [objects.targetId] } },
    'POST /api/v1/campaigns/{slug}/letters': { body: { mode: 'per_target' } },
    'POST /api/v1/campaigns/{slug}/invite-previous': { body: {} },
    'GET /api/v1/campaigns/{slug}/letters/preview.pdf': { query: { target: objects.targetId } },
    'POST /api/v1/campaigns/{slug}/partners': { body: { code: 'another-ally', name: 'Another ally' } },
    'PATCH /api/v1/campaigns/{slug}/partners/{code}': { body: { name: 'Renamed ally' } },
    'POST /api/v1/campaigns/{slug}/signatures/invalidate': { body: { domain: 'nobody.invalid' } },
    'POST /api/v1/campaigns/{slug}/signatures/revalidate': { body: { domain: 'nobody.invalid' } },
    'POST /api/v1/campaigns/{slug}/signatures/import': { raw: 'name,country\nKen Sato,JP\n', headers: { 'content-type': 'text/csv' }, query: { dryRun: 'true' } },
    'POST /api/v1/campaigns/{slug}/fraudulent-requests/clear': { body: { ids: ['00000000-0000-7000-8000-000000000000'] } },
    'POST /api/v1/letters/{id}/deliveries': { body: { channel: 'print' } },
    'PATCH /api/v1/deliveries/{id}': { body: { status: 'printed' } },
    'POST /api/v1/deliveries/{id}/print': {},
    'POST /api/v1/mailings': { body: { campaign: objects.slug, kind: 'letters', channel: 'print', sendAt: '2027-09-21T09:00', timeZone: 'Asia/Tokyo' } },
    'POST /api/v1/mailings/{id}/pause': {},
    'POST /api/v1/mailings/{id}/resume': {},
    'POST /api/v1/mailings/{id}/cancel': {},
    'POST /api/v1/targets': { body: { name: 'Another office', kind: 'official', postalAddress: { lines: ['2 Main Street'], country: 'JP' } } },
    'POST /api/v1/targets/import': { body: [{ name: 'Imported office', kind: 'official', postalAddress: { lines: ['3 Main Street'], country: 'JP' } }] },
    'PATCH /api/v1/targets/{id}': { body: { salutation: 'Dear Sir or Madam,' } },
    'POST /api/v1/targets/{id}/replies': { body: { campaign: objects.slug, receivedAt: '2027-08-31', channel: 'email', summary: 'Another answer.' } },
    'PATCH /api/v1/replies/{id}': { body: { summary: 'Changed answer.' } },
    'POST /api/v1/tokens': { body: { name: 'made in the test', scopes: ['campaigns'] } },
    'POST /api/v1/blocklist': { body: { kind: 'domain', value: 'spam.invalid' } },
    'POST /api/v1/webhooks': { body: { url: 'https://crm.example.org/hook', events: ['reply.created'] } },
    'POST /api/v1/webhooks/{id}/enable': {},
    'POST /api/v1/bounces': { body: { email: 'bounced@example.org', kind: 'soft' } },
    'POST /api/v1/outbox/{id}/retry': {},
    'POST /api/v1/privacy/erasures': { body: { email: 'nobody@example.org' } },
    'POST /api/v1/privacy/export': { body: { email: 'nobody@example.org' } },
    'PUT /api/v1/templates/{name}/{language}': { body: { body: 'A letter for {{target.name}}.' } },
    'POST /api/v1/templates/{name}/{language}/reset': {},
    'POST /api/v1/templates/{name}/{language}/preview': { body: { campaign: objects.slug, target: objects.targetId, draft: { body: 'A draft for {{target.name}}.' } } },
    'PUT /api/v1/organisation': {
      body: { name: 'Another network', postalAddress: { lines: ['4 Main Street'], country: 'JP' }, email: 'office@network.test', signatory: { name: 'Someone Else' } },
    },
  };
  if (key in table) return table[key];
  if (operation.method === 'GET' || operation.method === 'DELETE') return undefined;
  throw new Error(`test/services/access/campaign-limits.test.ts has no request for ${key}: add a minimal valid one to requestFor`);
}

async function call(t: TestApp, operation: Operation, path: string, token: string, request: Request = {}, extraQuery: Record<string, string> = {}) {
  const query = new URLSearchParams({ ...request.query, ...extraQuery }).toString();
  const res = await t.request(operation.method, `${path}${query ? `?${query}` : ''}`, {
    token,
    ...(request.body !== undefined ? { body: request.body } : {}),
    ...(request.raw !== undefined ? { raw: request.raw } : {}),
    ...(request.headers !== undefined ? { headers: request.headers } : {}),
  });
  const type = res.headers.get('content-type') ?? '';
  // A stream (mailing events) stays open: the status is the answer, the body is let go.
  if (type.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, text: '', bytes: new Uint8Array(), type };
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, text: new TextDecoder().decode(bytes), bytes, type };
}

/** Everything that would show B: its slug, and the ids of its campaign and objects. */
function tracesOf(objects: CampaignObjects): string[] {
  return [objects.slug, objects.campaignId, objects.targetId, objects.letterId, objects.deliveryId, objects.mailingId, objects.replyId];
}

async function visibleText(answer: { text: string; bytes: Uint8Array; type: string }): Promise<string> {
  if (!answer.type.startsWith('application/pdf')) return answer.text;
  return (await parsePdfBytes(Buffer.from(answer.bytes))).pages.join('\n');
}

describe('campaign-limited tokens (PRODUCT.md §11: another campaign answers 404)', () => {
  it('get 404 on another campaign for every organiser route, taken from the OpenAPI document, and 403 on the organisation\'s own', async () => {
    t = createTestApp();
    const a = await campaignWithEverything(t, 'campaign-a', 'Embassy of Alpha');
    const b = await campaignWithEverything(t, 'campaign-b', 'Embassy of Bravo');

    // Objects of the organisation (not of a campaign) that organisation routes name in their paths.
    const spareToken = await json<{ id: string }>(await t.request('POST', `${API}/tokens`, { body: { name: 'spare', scopes: ['letters'] } }), 201);
    await json(await t.request('POST', `${API}/blocklist`, { body: { kind: 'email', value: 'blocked@example.org' } }), 201);
    const [entry] = await t.database.db.select({ id: blocklist.id }).from(blocklist).where(eq(blocklist.value, 'blocked@example.org'));
    const [message] = await t.database.db.select({ id: outbox.id }).from(outbox).limit(1);
    const hook = await json<{ id: string }>(await t.request('POST', `${API}/webhooks`, { body: { url: 'https://crm.example.org/spare', events: ['mailing.finished'] } }), 201);
    // A template's language and version follow its name in the path.
    const organisationObjects = { tokens: spareToken.id, blocklist: entry!.id, outbox: message!.id, webhooks: hook.id, suppressions: 'nobody@example.org', templates: 'embassy-petition', '{name}': 'en', versions: '0' };

    // Every scope, so no answer below is a scope's refusal: only the campaign limit decides.
    const limitedAdmin = await json<{ token: string; campaigns: string[] }>(
      await t.request('POST', `${API}/tokens`, { body: { name: 'limited to A, every scope', scopes: ['admin'], campaigns: [a.slug] } }),
      201,
    );
    expect(limitedAdmin.campaigns).toEqual([a.slug]);
    // Every scope but admin, as an organiser's working token would be.
    const limited = await json<{ token: string }>(
      await t.request('POST', `${API}/tokens`, {
        body: { name: 'limited to A', scopes: ['campaigns', 'signatures:read', 'letters', 'deliveries', 'privacy', 'bounces'], campaigns: [a.slug] },
      }),
      201,
    );

    const document = await json<Parameters<typeof bearerOperations>[0]>(await t.request('GET', `${API}/openapi.json`, { token: null }), 200);
    const operations = bearerOperations(document);
    expect(operations.length).toBeGreaterThan(40);
    expect(operations.filter((operation) => operation.reach === undefined).map((operation) => `${operation.method} ${operation.path}`)).toEqual([]);
    const byReach = (reach: Reach) => operations.filter((operation) => operation.reach === reach);
    for (const reach of routeReaches) expect(byReach(reach).length, reach).toBeGreaterThan(0);

    const bTraces = tracesOf(b);
    const checked: string[] = [];

    // Lists first, while every object of A is still as made: they show A's and nothing of B's.
    for (const operation of byReach('filtered')) {
      const name = `${operation.method} ${operation.path}`;
      for (const token of [limitedAdmin.token, limited.token]) {
        const answer = await call(t, operation, fillPath(operation.path, a, organisationObjects), token, requestFor(operation, a));
        expect(answer.status, `${name}: ${answer.text.slice(0, 300)}`).toBe(200);
        const shown = await visibleText(answer);
        for (const trace of bTraces) expect(shown, `${name} shows ${trace} of B`).not.toContain(trace);
        // Not an empty answer passing for a filtered one: A's objects are there.
        expect([a.slug, a.targetName, a.replyId].some((trace) => shown.includes(trace)), `${name} shows nothing of A`).toBe(true);

        const namingB = await call(t, operation, fillPath(operation.path, a, organisationObjects), token, requestFor(operation, a), { campaign: b.slug });
        expect(namingB.status, `${name}?campaign=B`).toBe(404);
        expect(JSON.parse(namingB.text).error.code).toBe('NOT_FOUND');
        const namingA = await call(t, operation, fillPath(operation.path, a, organisationObjects), token, requestFor(operation, a), { campaign: a.slug });
        expect(namingA.status, `${name}?campaign=A`).toBe(200);
      }
      // The same list for the organisation shows B (a list under one of A's objects, such as a target's replies, has none of B's to show).
      if (operation.path.includes('{')) {
        checked.push(name);
        continue;
      }
      const whole = await call(t, operation, fillPath(operation.path, a, organisationObjects), ADMIN_TOKEN, requestFor(operation, a));
      expect(whole.status).toBe(200);
      expect(bTraces.some((trace) => whole.text.includes(trace)) || (await visibleText(whole)).includes(b.targetName), `${name} for the organisation shows B`).toBe(true);
      checked.push(name);
    }

    for (const operation of byReach('shared')) {
      const name = `${operation.method} ${operation.path}`;
      const answer = await call(t, operation, fillPath(operation.path, a, organisationObjects), limitedAdmin.token, requestFor(operation, a));
      expect(answer.status, name).toBe(200);
      for (const trace of bTraces) expect(answer.text, `${name} shows ${trace} of B`).not.toContain(trace);
      checked.push(name);
    }

    // B's objects: 404, exactly as for an unknown id, for both limited tokens.
    for (const operation of byReach('campaign')) {
      const name = `${operation.method} ${operation.path}`;
      for (const token of [limitedAdmin.token, limited.token]) {
        const answer = await call(t, operation, fillPath(operation.path, b, organisationObjects), token, requestFor(operation, b));
        expect(answer.status, `${name} with B's objects: ${answer.text.slice(0, 300)}`).toBe(404);
        expect(JSON.parse(answer.text).error.code, name).toBe('NOT_FOUND');
      }
    }

    // The organisation's own resources: 403 for a token limited to campaigns even with every scope, not for the organisation.
    for (const operation of byReach('organisation')) {
      const name = `${operation.method} ${operation.path}`;
      const path = fillPath(operation.path, b, organisationObjects);
      const refused = await call(t, operation, path, limitedAdmin.token, requestFor(operation, b));
      expect(refused.status, `${name}: ${refused.text.slice(0, 300)}`).toBe(403);
      expect(JSON.parse(refused.text).error).toMatchObject({ code: 'FORBIDDEN', details: { needs: 'organisation' } });
      expect((await call(t, operation, path, limited.token, requestFor(operation, b))).status, name).toBe(403);
      const allowed = await call(t, operation, path, ADMIN_TOKEN, requestFor(operation, b));
      expect(allowed.status, `${name} for the organisation: ${allowed.text.slice(0, 300)}`).not.toBe(403);
      expect(allowed.status, `${name} for the organisation: ${allowed.text.slice(0, 300)}`).toBeLessThan(500);
      checked.push(name);
    }

    // A's objects: not 404, so the 404s above are about the campaign and not a broken request.
    // Deletions go last, so no operation meets an object another one removed.
    const campaignOperations = [...byReach('campaign')].sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'));
    for (const operation of campaignOperations) {
      const name = `${operation.method} ${operation.path}`;
      const answer = await call(t, operation, fillPath(operation.path, a, organisationObjects), limitedAdmin.token, requestFor(operation, a));
      expect(answer.status, `${name} with A's objects: ${answer.text.slice(0, 300)}`).not.toBe(404);
      expect(answer.status, `${name} with A's objects: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
      checked.push(name);
    }

    expect(checked.length).toBe(operations.length);
    // Nothing of B changed under the limited tokens.
    const bNow = await json<{ summary: string; status: string }>(await t.request('GET', `${API}/campaigns/${b.slug}`), 200);
    expect(bNow).toMatchObject({ status: 'open', summary: '' });
    expect(await json(await t.request('GET', `${API}/mailings/${b.mailingId}`), 200)).toMatchObject({ status: 'scheduled' });
  }, 180_000);

  it('stores a token\'s campaigns, lists them by slug, and refuses an unknown slug or a limited caller making tokens', async () => {
    t = createTestApp();
    await openCampaign(t, 'campaign-a');
    await openCampaign(t, 'campaign-b');
    const created = await json<{ campaigns: string[]; token: string }>(
      await t.request('POST', `${API}/tokens`, { body: { name: 'A and B', scopes: ['campaigns'], campaigns: ['campaign-a', 'campaign-b', 'campaign-a'] } }),
      201,
    );
    expect(created.campaigns).toEqual(['campaign-a', 'campaign-b']);
    await json(await t.request('POST', `${API}/tokens`, { body: { name: 'everything', scopes: ['campaigns'] } }), 201);
    const listed = await json<{ items: { name: string; campaigns: string[] | null }[] }>(await t.request('GET', `${API}/tokens`), 200);
    expect(Object.fromEntries(listed.items.map((item) => [item.name, item.campaigns]))).toMatchObject({ 'A and B': ['campaign-a', 'campaign-b'], everything: null });

    const unknown = await t.request('POST', `${API}/tokens`, { body: { name: 'typo', scopes: ['campaigns'], campaigns: ['campaign-a', 'campaign-x'] } });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'campaigns.1' }] });
    const empty = await t.request('POST', `${API}/tokens`, { body: { name: 'none', scopes: ['campaigns'], campaigns: [] } });
    expect(empty.status).toBe(400);

    // A token limited to campaigns cannot make itself a wider one, even with the admin scope.
    const limitedAdmin = await json<{ token: string }>(await t.request('POST', `${API}/tokens`, { body: { name: 'limited admin', scopes: ['admin'], campaigns: ['campaign-a'] } }), 201);
    const escalation = await t.request('POST', `${API}/tokens`, { token: limitedAdmin.token, body: { name: 'wider', scopes: ['admin'] } });
    expect(escalation.status).toBe(403);
    expect((await escalation.json()).error.code).toBe('FORBIDDEN');

    // Its campaigns, as the token sees them.
    const mine = await json<{ items: { slug: string }[] }>(await t.request('GET', `${API}/campaigns`, { token: created.token }), 200);
    expect(mine.items.map((item) => item.slug).sort()).toEqual(['campaign-a', 'campaign-b']);
    const one = await json<{ items: { slug: string }[] }>(await t.request('GET', `${API}/campaigns`, { token: limitedAdmin.token }), 200);
    expect(one.items.map((item) => item.slug)).toEqual(['campaign-a']);
    // A missing campaign and another's answer alike, so a limited token learns nothing of which slugs exist.
    const hidden = await t.request('GET', `${API}/campaigns/campaign-b`, { token: limitedAdmin.token });
    const missing = await t.request('GET', `${API}/campaigns/campaign-z`, { token: limitedAdmin.token });
    const [hiddenError, missingError] = [(await hidden.json()).error, (await missing.json()).error];
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    expect(hiddenError.message).toBe(missingError.message);
  });

  it('a campaign viewer reads its campaign but cannot change it, in the service verbs themselves', async () => {
    t = createTestApp();
    const a = await campaignWithEverything(t, 'campaign-a', 'Embassy of Alpha');
    const b = await campaignWithEverything(t, 'campaign-b', 'Embassy of Bravo');
    const access: Access = { kind: 'campaigns', campaigns: new Map([[b.campaignId, 'viewer']]) };
    const viewer = { ...t.ctx, access };

    expect((await getCampaign(viewer, b.slug)).id).toBe(b.campaignId);
    expect((await listCampaigns(viewer, { limit: 50 })).items.map((item) => item.slug)).toEqual([b.slug]);
    expect((await listSignatures(viewer, b.slug, { limit: 50 })).items).toHaveLength(1);
    expect((await getMailing(viewer, b.mailingId)).id).toBe(b.mailingId);

    await expect(updateCampaign(viewer, b.slug, { summary: 'changed' })).rejects.toMatchObject({ code: 'FORBIDDEN', details: { role: 'viewer' } });
    await expect(pauseMailing(viewer, b.mailingId)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // A campaign it does not view is not there at all.
    await expect(getCampaign(viewer, a.slug)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(getMailing(viewer, a.mailingId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(updateCampaign(viewer, a.slug, { summary: 'changed' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Nothing changed.
    expect((await getCampaign(t.ctx, b.slug)).summary).toBe('');
    expect((await getMailing(t.ctx, b.mailingId)).status).toBe('scheduled');
  });
});
