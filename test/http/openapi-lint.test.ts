import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const redoclyCli = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin', 'cli.js');

let t: ReturnType<typeof createTestApp>;
let dir: string | undefined;
afterEach(async () => {
  t?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

type LintProblem = { ruleId: string; severity: 'error' | 'warn'; message: string; location: { pointer?: string }[] };
type LintReport = { totals: { errors: number; warnings: number; ignored: number }; problems: LintProblem[] };

/** `redocly lint` with the repository's redocly.yaml (recommended rules), as JSON. */
async function redoclyLint(path: string): Promise<LintReport> {
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
  const args = [redoclyCli, 'lint', path, '--config', join(projectRoot, 'redocly.yaml'), '--format', 'json', '--max-problems', '1000'];
  // Exit code 1 means "errors found"; the report on stdout says which.
  const { stdout } = await run(process.execPath, args, { cwd: projectRoot, env, maxBuffer: 16 * 1024 * 1024 }).catch(
    (failure: { stdout?: string; code?: number }) => {
      if (failure.code === 1 && failure.stdout) return { stdout: failure.stdout };
      throw failure;
    },
  );
  return JSON.parse(stdout) as LintReport;
}

const summary = (problems: LintProblem[]) => problems.map((p) => `${p.ruleId} ${p.location.map((l) => l.pointer).join(' ')}: ${p.message}`);

describe('the OpenAPI document passes Redocly’s recommended rules', () => {
  it('has no errors, declares security on every operation and names its licence', { timeout: 60_000 }, async () => {
    // A public URL like a real installation's (the rules warn about localhost servers).
    t = createTestApp({ publicUrl: 'https://petitions.signet.test' });
    const res = await t.app.request('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const document = (await res.json()) as {
      info: { license?: unknown };
      paths: Record<string, Record<string, { security?: unknown[]; operationId?: string }>>;
    };
    dir = mkdtempSync(join(tmpdir(), 'signet-openapi-'));
    const path = join(dir, 'openapi.json');
    writeFileSync(path, JSON.stringify(document));

    const report = await redoclyLint(path);
    const errors = report.problems.filter((problem) => problem.severity === 'error');
    expect(summary(errors)).toEqual([]);
    expect(report.totals.errors).toBe(0);

    expect(document.info.license).toEqual({ name: 'GNU Affero General Public License v3.0 or later', identifier: 'AGPL-3.0-or-later' });
    const operations = Object.entries(document.paths).flatMap(([route, methods]) => Object.entries(methods).map(([method, operation]) => ({ route, method, operation })));
    expect(operations.length).toBeGreaterThan(40);
    for (const { route, method, operation } of operations) expect(operation.security, `${method} ${route}`).toBeDefined();
    const publicOperations = operations.filter(({ operation }) => operation.security!.length === 0).map(({ method, route }) => `${method} ${route}`);
    expect(publicOperations).toEqual(
      expect.arrayContaining(['post /api/v1/campaigns/{slug}/signatures', 'post /api/v1/signatures/confirm', 'post /api/v1/unsubscribe']),
    );
    expect(document.paths['/api/v1/campaigns']!.post!.security).toEqual([{ bearerAuth: ['campaigns'] }]);
    expect(document.paths['/api/v1/campaigns/{slug}']!.get!.security).toEqual([{}, { bearerAuth: [] }]);
  });
});
