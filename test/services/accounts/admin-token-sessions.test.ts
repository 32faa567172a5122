import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/app.js';
import { adminSessions } from '../../../src/db/schema.js';
import { installedApiReferenceScript } from '../../../src/entry/api-reference-script.js';
import { createLocalLetterPorts } from '../../../src/letters/node/letter-store.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { sha256Hex } from '../../../src/lib/secrets.js';
import { createTestApp, repoLettersDir, testPasswords } from '../../helpers/app.js';
import { testKeys, testPrivacy } from '../../helpers/keys.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const TOKEN_A = 'admin-token-before-rotation-0123456789';
const TOKEN_B = 'admin-token-after-rotation-9876543210';

/** The app as a restarted process would build it: the same database, the settings given (ADMIN_TOKEN). */
function restartedWith(adminToken: string | undefined) {
  return createApp({
    database: t.database,
    audit: t.audit,
    clock: t.clock,
    logger: silentLogger,
    publicUrl: 'http://localhost:3000',
    mailFrom: 'Signet <no-reply@signet.test>',
    confirmTokenTtlMs: 7 * 24 * 3_600_000,
    adminToken,
    signRateLimit: null,
    trustProxy: true,
    keys: testKeys,
    privacy: testPrivacy,
    letters: createLocalLetterPorts({ lettersDir: repoLettersDir, dataDir: t.dataDir }),
    apiReferenceScript: installedApiReferenceScript(),
    passwords: testPasswords,
  });
}

async function signInWithToken(app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, token: string): Promise<string> {
  const res = await app.request('/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({ token, next: '/admin/campaigns' }).toString(),
  });
  expect(res.status, await res.clone().text()).toBe(303);
  return /(signet_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!;
}

describe('dashboard sessions made with ADMIN_TOKEN (#17)', () => {
  it('end when ADMIN_TOKEN changes: the old cookie is refused on the next request, and the token is never stored', async () => {
    t = createTestApp({ adminToken: TOKEN_A });
    const cookie = await signInWithToken(t.app, TOKEN_A);
    expect((await t.app.request('/admin/campaigns', { headers: { cookie } })).status).toBe(200);

    // What the session keeps of the token: a keyed fingerprint, neither the token nor its plain hash.
    const [row] = await t.database.db.select().from(adminSessions);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(TOKEN_A);
    expect(stored).not.toContain(await sha256Hex(TOKEN_A));
    expect(row!.adminTokenFingerprint).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    // A restart with the same ADMIN_TOKEN keeps the session.
    expect((await restartedWith(TOKEN_A).request('/admin/campaigns', { headers: { cookie } })).status).toBe(200);

    // Rotated: the session made with A is over, as if signed out.
    const rotated = restartedWith(TOKEN_B);
    const refused = await rotated.request('/admin/campaigns', { headers: { cookie } });
    expect(refused.status).toBe(303);
    expect(refused.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fcampaigns');
    expect(refused.headers.get('set-cookie')).toMatch(/signet_session=;/);
    expect(await t.database.db.select().from(adminSessions)).toEqual([]);
    // Putting A back does not bring it back.
    expect((await restartedWith(TOKEN_A).request('/admin/campaigns', { headers: { cookie } })).status).toBe(303);

    // The new token signs in as before.
    const fresh = await signInWithToken(rotated, TOKEN_B);
    expect((await rotated.request('/admin/campaigns', { headers: { cookie: fresh } })).status).toBe(200);
    // Without ADMIN_TOKEN at all, its sessions end too.
    expect((await restartedWith(undefined).request('/admin/campaigns', { headers: { cookie: fresh } })).status).toBe(303);
  });
});
