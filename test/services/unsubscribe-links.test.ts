import { afterEach, describe, expect, it } from 'vitest';
import { unsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from '../../src/services/unsubscribe-links.js';
import { Keyring } from '../../src/lib/keyring.js';
import { KeyedHasher } from '../../src/lib/secrets.js';
import { LEGACY_UNSUBSCRIBE_DAYS, retireLegacySecrets } from '../../src/services/installation.js';
import { createTestApp } from '../helpers/app.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

describe('unsubscribe links', () => {
  it('round-trips a signature id and refuses forged or altered tokens', async () => {
    t = createTestApp();
    const id = '01a2212b-d384-7c41-a300-4ef26b334fe5';
    const token = await unsubscribeToken(t.ctx, id);
    expect(token).toMatch(/^01a2212b-d384-7c41-a300-4ef26b334fe5\.[0-9a-f]{32}$/);
    expect(await unsubscribeToken(t.ctx, id)).toBe(token); // stable: one link per supporter
    expect(await verifyUnsubscribeToken(t.ctx, token)).toBe(id);
    expect(await unsubscribeUrl(t.ctx, id)).toBe(`http://localhost:3000/unsubscribe/${token}`);

    const other = '01a2212b-d384-7c41-a300-4ef26b334fe6';
    expect(await verifyUnsubscribeToken(t.ctx, `${other}.${token.split('.')[1]}`)).toBeNull();
    expect(await verifyUnsubscribeToken(t.ctx, `${token.slice(0, -1)}0`.replace(/0$/, token.endsWith('0') ? '1' : '0'))).toBeNull();
    expect(await verifyUnsubscribeToken(t.ctx, 'not-a-token')).toBeNull();
  });

  it('differs between installations (their root secrets)', async () => {
    t = createTestApp();
    const first = await unsubscribeToken(t.ctx, '01a2212b-d384-7c41-a300-4ef26b334fe5');
    await t.cleanup();
    t = createTestApp({ keys: await Keyring.create('another-installation-root-secret-0123456789') });
    expect(await unsubscribeToken(t.ctx, '01a2212b-d384-7c41-a300-4ef26b334fe5')).not.toBe(first);
    expect(await verifyUnsubscribeToken(t.ctx, first)).toBeNull();
  });

  it('honours links mailed by 0.1 under the key it kept in the database until that key is retired', async () => {
    t = createTestApp();
    const id = '01a2212b-d384-7c41-a300-4ef26b334fe5';
    const legacyKey = 'a-key-0.1-made-and-stored-in-settings';
    t.database.sqlite.prepare("insert into settings (key, value) values ('unsubscribe-key', ?)").run(legacyKey);
    const legacyToken = `${id}.${await new KeyedHasher(legacyKey).hash(`unsubscribe:${id}`)}`;
    expect(await verifyUnsubscribeToken(t.ctx, legacyToken)).toBe(id);

    // The first start of 0.2 sets the retirement date; 90 days on, the key goes and so do its links.
    expect(await retireLegacySecrets(t.ctx)).toEqual([]);
    t.clock.advance(LEGACY_UNSUBSCRIBE_DAYS * 86_400_000 - 1);
    expect(await retireLegacySecrets(t.ctx)).toEqual([]);
    t.clock.advance(1);
    expect(await retireLegacySecrets(t.ctx)).toEqual(['unsubscribe-key']);
    expect(await verifyUnsubscribeToken(t.ctx, legacyToken)).toBeNull();
    expect(t.database.sqlite.prepare('select key from settings').all()).toEqual([]);
  });

  it('deletes the IP-hash and form-token keys 0.1 kept in the database at the first start', async () => {
    t = createTestApp();
    for (const key of ['ip-hash-key', 'form-token-key']) t.database.sqlite.prepare('insert into settings (key, value) values (?, ?)').run(key, 'stored-beside-the-data');
    expect((await retireLegacySecrets(t.ctx)).sort()).toEqual(['form-token-key', 'ip-hash-key']);
    expect(t.database.sqlite.prepare('select key from settings').all()).toEqual([]);
  });
});
