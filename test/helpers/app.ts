import { join } from 'node:path';
import { BatchingAuditSink } from '../../src/services/audit.js';
import { fileURLToPath } from 'node:url';
import { createApp, type AppDeps } from '../../src/app.js';
import { installedApiReferenceScript } from '../../src/entry/api-reference-script.js';
import { createLocalLetterPorts } from '../../src/letters/node/letter-store.js';
import type { LetterRenderPool } from '../../src/letters/node/render-pool.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createTestDatabase } from './db.js';
import { storeTestOrganisation } from './organisation.js';
import { testKeys, testPrivacy } from './keys.js';
import { organisationAccess } from '../../src/services/access.js';
import { ScryptPasswordHasher } from '../../src/entry/node-passwords.js';

/** scrypt at a test's cost (N=2^10): the real code path, milliseconds a hash. test/accounts checks the shipped cost once. */
export const testPasswords = new ScryptPasswordHasher({ log2N: 10, r: 8, p: 1 });

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** The repository's letter templates. */
export const repoLettersDir = fileURLToPath(new URL('../../letters', import.meta.url));

/**
 * The real app on a fresh migrated SQLite file (or `databaseDir`'s, migrated), with a clock the test controls; letters go to the test's temp dir.
 * It speaks for `testOrganisation` (a saved organisation profile) unless `organisation: 'example'` leaves the profile as a new
 * installation has it: seeded from `letters/organisation.json`, the shipped example.
 */
export function createTestApp(
  overrides: Partial<AppDeps> & { lettersDir?: string; letterRenderPool?: LetterRenderPool; databaseDir?: string; organisation?: 'test' | 'example' } = {},
) {
  const { database, dir, cleanup } = createTestDatabase(overrides.databaseDir);
  const { lettersDir = repoLettersDir, letterRenderPool, databaseDir: _databaseDir, organisation = 'test', ...appOverrides } = overrides;
  if (organisation === 'test') storeTestOrganisation(database);
  const dataDir = join(dir, 'data');
  const clock = new ManualClock(Date.UTC(2027, 8, 1, 0, 0, 0));
  // Held here so a test can wait for the organiser actions' audit rows to be written.
  const audit = overrides.audit ?? new BatchingAuditSink(database, silentLogger);
  const deps: AppDeps = {
    database,
    audit,
    clock,
    logger: silentLogger,
    publicUrl: 'http://localhost:3000',
    mailFrom: 'Signet <no-reply@signet.test>',
    confirmTokenTtlMs: 7 * 24 * 3_600_000,
    adminToken: ADMIN_TOKEN,
    signRateLimit: null,
    trustProxy: true,
    keys: testKeys,
    privacy: testPrivacy,
    letters: createLocalLetterPorts({ lettersDir, dataDir, pool: letterRenderPool }),
    apiReferenceScript: installedApiReferenceScript(),
    passwords: testPasswords,
    ...appOverrides,
  };
  const app = createApp(deps);
  const ctx = { db: database, clock, logger: silentLogger, publicUrl: deps.publicUrl, mailFrom: deps.mailFrom, confirmTokenTtlMs: deps.confirmTokenTtlMs, keys: deps.keys, privacy: deps.privacy, access: organisationAccess, passwords: deps.passwords };

  const request = (method: string, path: string, options: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    return app.request(path, { method, headers, body });
  };

  return { app, database, clock, ctx, request, cleanup, dataDir, audit };
}
