import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../src/config.js';
import { loadRootSecret, SecretKeyError } from '../../src/entry/secret-key.js';
import { Keyring, newNonce } from '../../src/lib/keyring.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'signet-key-'));
  dirs.push(dir);
  return dir;
}

describe('the root secret', () => {
  it('is made at first start as DATA_DIR/secret.key, readable by its owner only, and read back after', () => {
    const dataDir = join(tempDir(), 'data');
    const first = loadRootSecret({ DATA_DIR: dataDir });
    expect(first.source).toBe('new key file');
    expect(first.secret.length).toBeGreaterThanOrEqual(43);
    const path = join(dataDir, 'secret.key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(first.secret);
    const again = loadRootSecret({ DATA_DIR: dataDir });
    expect(again).toMatchObject({ source: 'key file', secret: first.secret });
  });

  it('comes from SECRET_KEY when set, and then no file is made', () => {
    const dataDir = tempDir();
    const secret = 'a-passphrase-of-at-least-thirty-two-characters';
    expect(loadRootSecret({ DATA_DIR: dataDir, SECRET_KEY: secret })).toEqual({ secret, source: 'SECRET_KEY' });
    expect(() => statSync(join(dataDir, 'secret.key'))).toThrow();
  });

  it('refuses a SECRET_KEY_FILE that is missing or too short, naming the setting', () => {
    const dir = tempDir();
    expect(() => loadRootSecret({ DATA_DIR: dir, SECRET_KEY_FILE: join(dir, 'absent.key') })).toThrow(/SECRET_KEY_FILE/);
    writeFileSync(join(dir, 'short.key'), 'too-short\n');
    expect(() => loadRootSecret({ DATA_DIR: dir, SECRET_KEY_FILE: join(dir, 'short.key') })).toThrow(SecretKeyError);
  });

  it('is refused as a setting shorter than 32 characters, or given twice', () => {
    expect(() => loadSettings({ SECRET_KEY: 'short' })).toThrow(/SECRET_KEY: must be at least 32 characters/);
    expect(() => loadSettings({ SECRET_KEY: 'x'.repeat(32), SECRET_KEY_FILE: '/run/secrets/signet' })).toThrow(SettingsError);
  });
});

describe('rotating the root secret', () => {
  it('keeps links made under the previous key working while it is kept as secret.key.previous, and makes new ones under the new key', async () => {
    const dataDir = tempDir();
    const before = loadRootSecret({ DATA_DIR: dataDir });
    const oldKeys = await Keyring.create(before.secret);
    const nonce = newNonce();
    const oldLink = await oldKeys.confirmTokens.token(nonce);
    const oldUnsubscribe = await oldKeys.unsubscribeToken('0190f00d-0000-7000-8000-000000000001');

    // The documented procedure: move the key aside and start again.
    renameSync(join(dataDir, 'secret.key'), join(dataDir, 'secret.key.previous'));
    const after = loadRootSecret({ DATA_DIR: dataDir });
    expect(after.source).toBe('new key file');
    expect(after.secret).not.toBe(before.secret);
    expect(after.previous).toBe(before.secret);
    const keys = await Keyring.create(after.secret, after.previous);
    expect(await keys.confirmTokens.verify(oldLink)).toBe(nonce);
    expect(await keys.confirmTokens.token(nonce)).not.toBe(oldLink);
    expect(await keys.previous!.unsubscribeToken('0190f00d-0000-7000-8000-000000000001')).toBe(oldUnsubscribe);

    // Once the previous key is removed, its links stop working.
    rmSync(join(dataDir, 'secret.key.previous'));
    const done = loadRootSecret({ DATA_DIR: dataDir });
    expect(done.previous).toBeUndefined();
    expect(await (await Keyring.create(done.secret)).confirmTokens.verify(oldLink)).toBeNull();
  });

  it('gives every purpose its own key: a confirmation token is not a privacy token', async () => {
    const keys = await Keyring.create('k'.repeat(40));
    const nonce = newNonce();
    expect(await keys.privacyTokens.verify(await keys.confirmTokens.token(nonce))).toBeNull();
    expect(await keys.confirmTokens.verify(await keys.confirmTokens.token(nonce))).toBe(nonce);
  });
});
