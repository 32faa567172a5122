import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { auditLog, makeToken } from '../audit/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const SLUG = 'nk-refugees-2027';
const UNKNOWN = '0190c2a0-0000-7000-8000-00000000dead';

async function target(name: string) {
  const response = await t.request('POST', '/api/v1/targets', {
    body: { name, kind: 'consulate', postalAddress: { lines: ['1-1'], postalCode: '100-0001', city: '千代田区', region: 'JP-13', country: 'JP' }, language: 'ja' },
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** The seven Chinese missions in Japan, made one by one as a directory import would. */
async function sevenMissions() {
  const names = ['大使館', '札幌', '新潟', '名古屋', '大阪', '福岡', '長崎'];
  const ids: string[] = [];
  for (const name of names) ids.push(await target(name));
  return ids;
}

async function campaignTargets() {
  const res = await t.request('GET', `/api/v1/campaigns/${SLUG}`);
  expect(res.status).toBe(200);
  const { targetIds, updatedAt } = (await res.json()) as { targetIds: string[]; updatedAt: string };
  return { targetIds, updatedAt };
}

async function newCampaign(targetIds: string[] = []) {
  const res = await t.request('POST', '/api/v1/campaigns', { body: { slug: SLUG, title: '北朝鮮難民を守れ', locale: 'ja', timeZone: 'Asia/Tokyo', targetIds } });
  expect(res.status).toBe(201);
}

describe('campaign targets: many at once', () => {
  it('attaches seven targets in one request, in the order given, and audits it', async () => {
    t = createTestApp();
    const missions = await sevenMissions();
    await newCampaign();
    const attach = await t.request('POST', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: missions } });
    expect(attach.status, await attach.clone().text()).toBe(200);
    expect(await attach.json()).toEqual({ campaign: SLUG, targetIds: missions, attached: missions, detached: [] });
    expect((await campaignTargets()).targetIds).toEqual(missions);

    const { items } = await auditLog(t, 'action=campaign.targets_attach');
    expect(items).toMatchObject([{ action: 'campaign.targets_attach', object: { type: 'campaign', id: SLUG }, status: 200 }]);
  });

  it('appends only the targets not yet attached, leaving the others where they are', async () => {
    t = createTestApp();
    const [embassy, sapporo, niigata, nagoya] = await sevenMissions();
    await newCampaign([nagoya!, embassy!]);
    const attach = await t.request('POST', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: [sapporo, embassy, niigata, sapporo] } });
    expect(attach.status).toBe(200);
    expect(await attach.json()).toMatchObject({ targetIds: [nagoya, embassy, sapporo, niigata], attached: [sapporo, niigata] });
  });

  it('refuses the whole list when one id is unknown, naming it, and writes nothing', async () => {
    t = createTestApp();
    const missions = await sevenMissions();
    await newCampaign([missions[0]!]);
    const before = await campaignTargets();
    t.clock.advance(60_000);
    const attach = await t.request('POST', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: [...missions.slice(1, 4), UNKNOWN, ...missions.slice(4)] } });
    expect(attach.status).toBe(400);
    const { error } = await attach.json();
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'targetIds.3', message: `no target has the id ${UNKNOWN}` }] });
    expect(error.requestId).toBeTruthy();
    expect(await campaignTargets()).toEqual(before);

    const replace = await t.request('PUT', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: [UNKNOWN] } });
    expect(replace.status).toBe(400);
    expect(await campaignTargets()).toEqual(before);
  });

  it('refuses an empty or malformed list and an unknown campaign', async () => {
    t = createTestApp();
    await newCampaign();
    const empty = await t.request('POST', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: [] } });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error.details[0].path).toBe('targetIds');
    const malformed = await t.request('POST', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: ['embassy'], extra: true } });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.details.map((d: { path: string }) => d.path).sort()).toEqual(['extra', 'targetIds.0']);
    const tooMany = await t.request('POST', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: Array.from({ length: 501 }, () => UNKNOWN) } });
    expect(tooMany.status).toBe(400);
    const nowhere = await t.request('POST', '/api/v1/campaigns/no-such-campaign/targets', { body: { targetIds: [UNKNOWN] } });
    expect(nowhere.status).toBe(404);
  });

  it('names every unknown id of a list longer than D1 binds, as one JSON parameter', async () => {
    t = createTestApp();
    const [known] = await sevenMissions();
    await newCampaign();
    const unknown = Array.from({ length: 150 }, (_, i) => `0190c2a0-0000-7000-8000-${String(i).padStart(12, '0')}`);
    const attach = await t.request('POST', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: [known, ...unknown] } });
    expect(attach.status).toBe(400);
    const details = (await attach.json()).error.details as { path: string }[];
    expect(details).toHaveLength(150);
    expect(details[0]!.path).toBe('targetIds.1');
    expect((await campaignTargets()).targetIds).toEqual([]);
  });

  it('replaces the list in one request: new order, the rest detached, empty detaches all', async () => {
    t = createTestApp();
    const [embassy, sapporo, niigata] = await sevenMissions();
    await newCampaign([embassy!, sapporo!, niigata!]);
    const replace = await t.request('PUT', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: [niigata, embassy] } });
    expect(replace.status).toBe(200);
    expect(await replace.json()).toEqual({ campaign: SLUG, targetIds: [niigata, embassy], attached: [], detached: [sapporo] });
    const none = await t.request('PUT', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: [] } });
    expect(await none.json()).toMatchObject({ targetIds: [], detached: [niigata, embassy] });
    const { items } = await auditLog(t, 'action=campaign.targets_replace');
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ object: { type: 'campaign', id: SLUG }, status: 200 });
  });

  it('needs the campaigns scope', async () => {
    t = createTestApp();
    const [embassy] = await sevenMissions();
    await newCampaign();
    const reader = await makeToken(t, 'Reader', ['signatures:read']);
    const refused = await t.request('POST', `/api/v1/campaigns/${SLUG}/targets`, { body: { targetIds: [embassy] }, token: reader.token });
    expect(refused.status).toBe(403);
    expect((await campaignTargets()).targetIds).toEqual([]);
  });
});
