import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';

const file = join(dirname(fileURLToPath(import.meta.url)), '../../../letters/targets/china-missions-japan.json');
const content = readFileSync(file, 'utf8');
type Mission = { name: string; organisation: string; kind: string; jurisdiction: string[]; postalAddress: { country: string; region: string; postalCode: string } };
const missions = (JSON.parse(content) as { targets: Mission[] }).targets;

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

describe('letters/targets/china-missions-japan.json', () => {
  it('has the embassy and six consulates-general in Japan', () => {
    expect(missions.map((m) => m.kind)).toEqual(['embassy', ...Array(6).fill('consulate')]);
    for (const city of ['札幌', '新潟', '名古屋', '大阪', '福冈', '长崎']) {
      expect(missions.filter((m) => m.organisation === `中华人民共和国驻${city}总领事馆`), city).toHaveLength(1);
    }
    for (const mission of missions) {
      expect(mission.postalAddress.country).toBe('JP');
      expect(mission.postalAddress.postalCode).toMatch(/^\d{3}-\d{4}$/);
    }
  });

  it('gives every prefecture JP-01 … JP-47 to exactly one mission', () => {
    const owners = new Map<string, string[]>();
    for (const mission of missions) {
      for (const code of mission.jurisdiction) owners.set(code, [...(owners.get(code) ?? []), mission.name]);
    }
    const prefectures = Array.from({ length: 47 }, (_, i) => `JP-${String(i + 1).padStart(2, '0')}`);
    for (const code of prefectures) expect(owners.get(code), code).toHaveLength(1);
    expect([...owners.keys()].sort()).toEqual(prefectures);
  });

  it('has each mission serve the prefecture it is in', () => {
    const seat: Record<string, string> = { 東京都: 'JP-13', 北海道: 'JP-01', 新潟県: 'JP-15', 愛知県: 'JP-23', 大阪府: 'JP-27', 福岡県: 'JP-40', 長崎県: 'JP-42' };
    for (const mission of missions) expect(mission.jurisdiction, mission.name).toContain(seat[mission.postalAddress.region]);
  });

  it('imports cleanly through the API as 7 targets', async () => {
    t = createTestApp();
    const res = await t.request('POST', '/api/v1/targets/import', { raw: content });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toEqual({ created: 7, updated: 0, unchanged: 0, ids: expect.any(Array) });
    expect(body.ids).toHaveLength(7);

    const embassy = await (await t.request('GET', `/api/v1/targets/${body.ids[0]}`)).json();
    expect(embassy).toMatchObject({
      kind: 'embassy',
      name: '驻日本国特命全权大使',
      organisation: '中华人民共和国驻日本国大使馆',
      salutation: '尊敬的大使阁下：',
      language: 'zh',
      verifiedAt: null,
      postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
    });
    const tokyo = await (await t.request('GET', '/api/v1/targets?jurisdiction=JP-13')).json();
    expect(tokyo.items.map((x: { id: string }) => x.id)).toEqual([body.ids[0]]);
    const okinawa = await (await t.request('GET', '/api/v1/targets?jurisdiction=JP-47')).json();
    expect(okinawa.items.map((x: { name: string }) => x.name)).toEqual(['驻福冈总领事']);
  });
});
