import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { auditEvents } from '../../../src/db/schema.js';
import type { Database } from '../../../src/db/database.js';
import { runRetention } from '../../../src/services/retention.js';
import { createTestApp } from '../../helpers/app.js';
import { runSignet, withDatabase } from '../../helpers/cli.js';

const DAY = 86_400_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Organiser events at the given times, as the audit trail writes them. */
async function insertEvents(database: Database, times: number[]) {
  const rows = times.map((at, index) => ({
    id: `0190f7a0-0000-7000-8000-${String(index).padStart(12, '0')}`,
    createdAt: at,
    actorType: 'token' as const,
    actorId: 'tok-1',
    actorName: 'Field organiser',
    action: 'signatures.export',
    objectType: 'campaign',
    objectId: 'free-them',
    via: 'api' as const,
    route: 'GET /api/v1/campaigns/:slug/signatures.csv',
    requestId: `request-${index}`,
    status: 200,
  }));
  for (let start = 0; start < rows.length; start += 8) await database.atomic([database.db.insert(auditEvents).values(rows.slice(start, start + 8))]);
}

describe('audit retention (AUDIT_RETENTION_DAYS)', () => {
  it('`signet retention run` deletes audit events older than the retention and records the purge, in counts, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-audit-retention-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir, AUDIT_RETENTION_DAYS: '30' };
    expect(runSignet(['migrate'], env).status).toBe(0);
    const now = Date.now();
    await withDatabase(env.DATABASE_PATH, (database) => insertEvents(database, [now - 40 * DAY, now - 35 * DAY, now - 31 * DAY, now - 29 * DAY, now - DAY]));

    const run = runSignet(['retention', 'run'], env);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^auditEventsDeleted\s+3$/m);

    const rows = await withDatabase(env.DATABASE_PATH, (database) => database.db.select().from(auditEvents).orderBy(asc(auditEvents.createdAt)));
    expect(rows.map((row) => row.requestId).slice(0, 2)).toEqual(['request-3', 'request-4']);
    const purge = rows[2]!;
    expect(rows).toHaveLength(3);
    expect(purge).toMatchObject({ action: 'audit.purge', actorType: 'system', actorName: 'retention', via: 'job', route: 'retention', status: 200 });
    expect(purge.details).toEqual({ deleted: 3, before: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const cutoff = Date.parse(String(purge.details!.before));
    expect(Math.abs(cutoff - (now - 30 * DAY))).toBeLessThan(60_000);

    // Nothing more to purge: nothing deleted, nothing recorded.
    const again = runSignet(['retention', 'run'], env);
    expect(again.stdout).toMatch(/^auditEventsDeleted\s+0$/m);
    expect(await withDatabase(env.DATABASE_PATH, (database) => database.db.select().from(auditEvents))).toHaveLength(3);
  }, 60_000);

  it('refuses a retention that is not a whole number of days, naming the setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-audit-retention-bad-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const result = runSignet(['retention', 'run'], { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir, AUDIT_RETENTION_DAYS: '0' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('AUDIT_RETENTION_DAYS');
  });

  it('purges in slices and the purge record counts every one; the API lists it with its figures', async () => {
    const t = createTestApp({ privacy: { retentionDays: 365, pendingTtlDays: 30, publicRegionMin: 5, emailsPerAddress: { limit: 3, windowMs: 3_600_000 }, auditRetentionDays: 730 } });
    cleanups.push(() => t.cleanup());
    const now = t.clock.now();
    await insertEvents(t.database, [...Array.from({ length: 1203 }, (_, i) => now - 731 * DAY - i * 1000), now - 729 * DAY]);

    const report = await runRetention(t.ctx);
    expect(report.auditEventsDeleted).toBe(1203);
    const res = await t.request('GET', '/api/v1/audit?action=audit.purge');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { actor: unknown; via: string; details?: unknown }[] };
    expect(items).toEqual([
      expect.objectContaining({
        actor: { type: 'system', id: null, name: 'retention' },
        via: 'job',
        details: { deleted: 1203, before: new Date(now - 730 * DAY).toISOString() },
      }),
    ]);
    const left = await t.database.db.select({ requestId: auditEvents.requestId }).from(auditEvents);
    expect(left.map((row) => row.requestId).sort()).toEqual(expect.arrayContaining(['request-1203']));
    expect(left.filter((row) => row.requestId.startsWith('request-'))).toHaveLength(1);
  });
});
