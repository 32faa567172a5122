import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../../src/db/node/better-sqlite3.js';
import { letters } from '../../../src/db/schema.js';
import { systemClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { createCampaign } from '../../../src/services/campaigns.js';
import { importTargets } from '../../../src/services/target-import.js';
import { repoLettersDir } from '../../helpers/app.js';
import { runSignet, withDatabase as withDatabaseAt } from '../../helpers/cli.js';
import { testKeys, testPrivacy } from '../../helpers/keys.js';
import { storeTestOrganisation } from '../../helpers/organisation.js';
import { organisationAccess } from '../../../src/services/access.js';

let dir: string;
let targetIds: string[];

const signet = (args: string[]) => runSignet(args, { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir });

const withDatabase = <T>(task: (database: SqliteDatabase) => Promise<T>) => withDatabaseAt(join(dir, 'signet.db'), task);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signet-letters-cli-'));
  targetIds = await withDatabase(async (database) => {
    const ctx = { db: database, clock: systemClock, logger: silentLogger, publicUrl: 'http://localhost:3000', mailFrom: 'x <x@example.org>', confirmTokenTtlMs: 1, keys: testKeys, privacy: testPrivacy, access: organisationAccess };
    const { ids } = await importTargets(ctx, { format: 'json', content: readFileSync(join(repoLettersDir, 'targets/china-missions-japan.json'), 'utf8') });
    await createCampaign(ctx, { slug: 'cli-letters', title: 'CLI letters', locale: 'ja', targetIds: ids });
    storeTestOrganisation(database);
    return ids;
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signet letters', () => {
  it('generates a batch with a progress line per letter and a summary table, and previews one letter', async () => {
    const generated = signet(['letters', 'generate', 'cli-letters', '--mode', 'per_target', '--cutoff', '2026-01-01T00:00:00Z']);
    expect(generated.stderr).toContain('[7/7] 驻长崎总领事 … 2 pages');
    expect(generated.status).toBe(0);
    expect(generated.stdout).toMatch(/^TARGET +PAGES +BYTES +SHA256\n/);
    expect(generated.stdout).toMatch(/驻大阪总领事 +2 +\d+ +[0-9a-f]{12}\n/);
    expect(generated.stdout).toMatch(/Batch [0-9a-f-]{36}: 7 letters \(per_target, embassy-petition, cut-off 2026-01-01T00:00:00.000Z\)/);
    const rows = await withDatabase((database) => database.db.select().from(letters));
    expect(rows).toHaveLength(7);

    const output = join(dir, 'preview.pdf');
    const preview = signet(['letters', 'preview', 'cli-letters', '--target', targetIds[4]!, '-o', output]);
    expect(preview.status).toBe(0);
    expect(readFileSync(output).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('routes by jurisdiction writing to every mission, and skips the empty ones only with --empty-targets skip', async () => {
    const routed = signet(['letters', 'generate', 'cli-letters', '--routing', 'jurisdiction', '--cutoff', '2026-01-01T00:00:00Z']);
    expect(routed.status, routed.stderr).toBe(0);
    expect(routed.stdout).toMatch(/Batch [0-9a-f-]{36}: 7 letters/);
    const skipping = signet(['letters', 'generate', 'cli-letters', '--routing', 'jurisdiction', '--empty-targets', 'skip', '--cutoff', '2026-01-01T00:00:00Z']);
    expect(skipping.status).toBe(1);
    expect(skipping.stderr).toContain('no target would get a letter');
    const wrong = signet(['letters', 'generate', 'cli-letters', '--routing', 'jurisdiction', '--empty-targets', 'sometimes']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('emptyTargets: must be write or skip');
  });
});
