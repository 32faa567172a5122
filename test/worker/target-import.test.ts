// Idempotent target imports on Workers (#18): the matching read and the
// `UPDATE … FROM json_each(?)` of the import run on D1 in workerd, through
// `npm run worker:dev`, as on Node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoLettersDir } from '../helpers/app.js';
import { startWorkerDevProcess, type WorkerDevProcess } from '../helpers/worker-dev-process.js';

const adminToken = 'import-admin-token-0123456789abcdef';
const missionsText = readFileSync(join(repoLettersDir, 'targets/china-missions-japan.json'), 'utf8');
let worker: WorkerDevProcess;

beforeAll(async () => {
  worker = await startWorkerDevProcess({ ADMIN_TOKEN: adminToken, MAIL_API_URL: 'https://api.mailgun.net/v3/mg.example.org/messages.mime', MAIL_API_TOKEN: 'unused', PUBLIC_URL: 'http://signet.example' });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

async function importJson(body: string) {
  const res = await fetch(`${worker.url}/api/v1/targets/import`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('target import on D1', () => {
  it('makes the 7 missions once, finds them unchanged the second time, and updates the one a corrected file changes', async () => {
    const first = await importJson(missionsText);
    expect(first).toEqual({ status: 201, body: { created: 7, updated: 0, unchanged: 0, ids: expect.any(Array) } });
    expect(await importJson(missionsText)).toEqual({ status: 201, body: { created: 0, updated: 0, unchanged: 7, ids: first.body.ids } });

    const corrected = missionsText.replace('"name": "驻长崎总领事",', '"name": "驻长崎总领事",\n      "email": "nagasaki@example.org",');
    expect(await importJson(corrected)).toEqual({ status: 201, body: { created: 0, updated: 1, unchanged: 6, ids: first.body.ids } });
    const listed = (await (await fetch(`${worker.url}/api/v1/targets?limit=100`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { items: { externalId: string; email: string | null }[] };
    expect(listed.items).toHaveLength(7);
    expect(listed.items.find((target) => target.externalId === 'cn-consulate-nagasaki')?.email).toBe('nagasaki@example.org');
  }, 60_000);

  it('sends a newcomer from / to the dashboard', async () => {
    const res = await fetch(`${worker.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/admin');
  });
});
