// Attaching many targets at once on Workers (#18): the existence check binds the ids as one JSON
// parameter (`json_each`), so a list longer than D1's 100 bound parameters is answered, not a 500.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoLettersDir } from '../helpers/app.js';
import { startWorkerDevProcess, type WorkerDevProcess } from '../helpers/worker-dev-process.js';

const adminToken = 'attach-admin-token-0123456789abcdef';
const slug = 'nk-refugees-2027';
let worker: WorkerDevProcess;

beforeAll(async () => {
  worker = await startWorkerDevProcess({ ADMIN_TOKEN: adminToken, MAIL_API_URL: 'https://api.mailgun.net/v3/mg.example.org/messages.mime', MAIL_API_TOKEN: 'unused', PUBLIC_URL: 'http://signet.example' });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${worker.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('campaign targets on D1', () => {
  it('attaches the seven missions in one request, and refuses a list of 151 ids naming the 150 unknown ones', async () => {
    const imported = await call('POST', '/targets/import', JSON.parse(readFileSync(join(repoLettersDir, 'targets/china-missions-japan.json'), 'utf8')));
    expect(imported.status).toBe(201);
    const missions = imported.body.ids as string[];
    expect(missions).toHaveLength(7);
    expect((await call('POST', '/campaigns', { slug, title: '北朝鮮難民を守れ', locale: 'ja', timeZone: 'Asia/Tokyo' })).status).toBe(201);

    const unknown = Array.from({ length: 150 }, (_, i) => `0190c2a0-0000-7000-8000-${String(i).padStart(12, '0')}`);
    const refused = await call('POST', `/campaigns/${slug}/targets`, { targetIds: [missions[0], ...unknown] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    expect(refused.body.error.details).toHaveLength(150);
    expect(refused.body.error.details[0]).toEqual({ path: 'targetIds.1', message: `no target has the id ${unknown[0]}` });

    const attached = await call('POST', `/campaigns/${slug}/targets`, { targetIds: missions });
    expect(attached).toEqual({ status: 200, body: { campaign: slug, targetIds: missions, attached: missions, detached: [] } });
    const reversed = [...missions].reverse();
    const replaced = await call('PUT', `/campaigns/${slug}/targets`, { targetIds: reversed.slice(0, 3) });
    expect(replaced).toEqual({ status: 200, body: { campaign: slug, targetIds: reversed.slice(0, 3), attached: [], detached: missions.slice(0, 4) } });
  }, 60_000);
});
