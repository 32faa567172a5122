import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../src/config.js';
import { projectRoot as root, runSignet } from './helpers/cli.js';

let dir: string;

const signet = (args: string[], env: Record<string, string> = {}) =>
  runSignet(args, { DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir, ...env });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'signet-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signet CLI', () => {
  it('migrates, creates a token, imports targets and lists campaigns', () => {
    const migrate = signet(['migrate']);
    expect(migrate.status).toBe(0);
    expect(migrate.stdout).toContain('Migrations applied');

    const token = signet(['token', 'create', '--name', 'ci', '--scopes', 'campaigns,signatures:read']);
    expect(token.status).toBe(0);
    expect(token.stdout).toMatch(/Token "ci" \(campaigns, signatures:read\), shown only now:\nsgt_[A-Za-z0-9_-]{43}\n/);

    const badScope = signet(['token', 'create', '--name', 'x', '--scopes', 'root']);
    expect(badScope.status).toBe(1);
    expect(badScope.stderr).toContain('scopes');

    const imported = signet(['targets', 'import', join(root, 'letters/targets/china-missions-japan.json')]);
    expect(imported.status).toBe(0);
    expect(imported.stdout).toContain('china-missions-japan.json: 7 created, 0 updated, 0 unchanged');
    const again = signet(['targets', 'import', join(root, 'letters/targets/china-missions-japan.json')]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('china-missions-japan.json: 0 created, 0 updated, 7 unchanged');

    const badCsv = join(dir, 'bad.csv');
    writeFileSync(badCsv, 'name,kind,address_lines,country\nGood,embassy,1 Road,JP\nBad,castle,2 Road,JP\n');
    const rejected = signet(['targets', 'import', badCsv]);
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toContain('IMPORT_FAILED');
    expect(rejected.stderr).toContain('"row": 3');

    const listed = signet(['campaign', 'list']);
    expect(listed.status).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^SLUG\s+STATUS\s+SIGNATURES\s+TITLE$/);
  }, 120_000);

  it('stops with a message naming a bad setting', () => {
    const result = signet(['migrate'], { PORT: 'eighty', SIGN_RATE_LIMIT: '5 per minute' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('SIGN_RATE_LIMIT');
  });

  it('prints usage for an unknown command', () => {
    const result = signet(['frobnicate']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('token create');
  });
});

describe('settings', () => {
  it('applies the documented defaults', () => {
    const settings = loadSettings({});
    expect(settings).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATABASE_PATH: './data/signet.db',
      PUBLIC_URL: 'http://localhost:3000',
      MAIL_FROM: 'Signet <no-reply@localhost>',
      DATA_DIR: './data',
      SIGN_RATE_LIMIT: { limit: 5, windowMs: 300_000 },
      TRUST_PROXY: false,
      LOG_LEVEL: 'info',
    });
    expect(settings.ADMIN_TOKEN).toBeUndefined();
    expect(settings.SMTP_URL).toBeUndefined();
  });

  it('parses valid values and treats empty ones as unset', () => {
    const settings = loadSettings({ SIGN_RATE_LIMIT: 'off', TRUST_PROXY: 'true', SMTP_URL: '', PORT: '8080' });
    expect(settings.SIGN_RATE_LIMIT).toBeNull();
    expect(settings.TRUST_PROXY).toBe(true);
    expect(settings.SMTP_URL).toBeUndefined();
    expect(settings.PORT).toBe(8080);
    expect(settings.PUBLIC_URL).toBe('http://localhost:8080');
  });

  it('names every bad setting', () => {
    try {
      loadSettings({ PORT: '70000', PUBLIC_URL: 'not a url', SMTP_URL: 'http://mail', LOG_LEVEL: 'loud', ADMIN_TOKEN: 'short', MAIL_FROM: 'a\r\nBcc: x' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      const settings = (error as SettingsError).problems.map((p) => p.setting);
      expect(settings).toEqual(expect.arrayContaining(['PORT', 'PUBLIC_URL', 'SMTP_URL', 'LOG_LEVEL', 'ADMIN_TOKEN', 'MAIL_FROM']));
    }
  });
});
