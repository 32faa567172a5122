import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../../src/db/node/better-sqlite3.js';
import { createLetterFiles } from '../../../src/letters/node/letter-store.js';
import { FileTransport } from '../../../src/mail/node/file-transport.js';
import { composeConfirmationEmail, newMessageId } from '../../../src/mail/messages.js';
import { makePrivateDirectory, secureDataDirectory, tightenDataDirectory, writePrivateFile } from '../../../src/lib/node/private-files.js';
import { migrationsFolder } from '../../helpers/db.js';
import { mailFrom } from '../../mail/helpers/outbox.js';

const modeOf = (path: string) => lstatSync(path).mode & 0o7777;

let dir: string;
let umaskBefore: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'signet-private-'));
  umaskBefore = process.umask();
});
afterEach(() => {
  process.umask(umaskBefore);
  rmSync(dir, { recursive: true, force: true });
});

// The most open umask (0o000: files 0666, directories 0777 by default), the usual one and a strict one.
describe.each([0o000, 0o022, 0o077])('under umask %o, what Signet writes is its owner\'s only (#17)', (umask) => {
  beforeEach(() => {
    process.umask(umask);
  });

  it('makes new directories 0700 all the way down, and leaves an existing one as it is', async () => {
    mkdirSync(join(dir, 'shared'), { mode: 0o755 });
    chmodSync(join(dir, 'shared'), 0o755);
    await makePrivateDirectory(join(dir, 'shared', 'a', 'b', 'c'));
    expect([modeOf(join(dir, 'shared')), modeOf(join(dir, 'shared', 'a')), modeOf(join(dir, 'shared', 'a', 'b')), modeOf(join(dir, 'shared', 'a', 'b', 'c'))]).toEqual([0o755, 0o700, 0o700, 0o700]);
  });

  it('writes files 0600, an existing wider one included', async () => {
    writeFileSync(join(dir, 'old'), 'before');
    chmodSync(join(dir, 'old'), 0o666);
    await writePrivateFile(join(dir, 'old'), 'after');
    await writePrivateFile(join(dir, 'new'), 'new');
    expect([modeOf(join(dir, 'old')), modeOf(join(dir, 'new'))]).toEqual([0o600, 0o600]);
    expect(readFileSync(join(dir, 'old'), 'utf8')).toBe('after');
  });

  it('writes mail files (working links inside) 0600 in a 0700 folder', async () => {
    const directory = join(dir, 'data', 'mail');
    const transport = new FileTransport({ directory });
    const message = composeConfirmationEmail({ locale: 'en', campaignTitle: 'Free them', expiresAt: Date.UTC(2027, 8, 5) }, { confirmUrl: 'https://signet.example/confirm/tok', to: 'aiko@example.com' });
    await transport.send({ ...message, from: mailFrom, messageId: newMessageId(mailFrom, '0190f00d-0000-7000-8000-000000000001') });
    const [file] = readdirSync(directory);
    expect([modeOf(join(dir, 'data')), modeOf(directory), modeOf(join(directory, file!))]).toEqual([0o700, 0o700, 0o600]);
  });

  it('stores reply scans 0600 in 0700 folders', async () => {
    const files = createLetterFiles(join(dir, 'data'));
    const stored = 'replies/0190f00d-0000-7000-8000-000000000001/0190f00d-0000-7000-8000-000000000002.pdf';
    await files.writeFile(stored, new TextEncoder().encode('%PDF-1.4\n%%EOF\n'), 'application/pdf');
    expect([modeOf(join(dir, 'data', 'replies')), modeOf(join(dir, 'data', 'replies', '0190f00d-0000-7000-8000-000000000001')), modeOf(join(dir, 'data', stored))]).toEqual([0o700, 0o700, 0o600]);
  });

  it('opens the database 0600 with its -wal and -shm, and sets an existing one to 0600', async () => {
    const path = join(dir, 'db', 'signet.db');
    const database = new SqliteDatabase({ path, migrationsFolder });
    expect([modeOf(join(dir, 'db')), modeOf(path), modeOf(`${path}-wal`), modeOf(`${path}-shm`)]).toEqual([0o700, 0o600, 0o600, 0o600]);
    await database.close();

    chmodSync(path, 0o644);
    const again = new SqliteDatabase({ path, migrationsFolder });
    expect(modeOf(path)).toBe(0o600);
    await again.close();
  });
});

describe('DATA_DIR at start (#17)', () => {
  it('is set to 0700, and Signet\'s folders behind it to 0700 and 0600; nothing else is touched, no link followed', async () => {
    const dataDir = join(dir, 'data');
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'not Signet\'s');
    chmodSync(outside, 0o644);
    for (const folder of ['letters/batch', 'mail', 'operator']) mkdirSync(join(dataDir, folder), { recursive: true, mode: 0o755 });
    for (const [path, mode] of [['letters/batch/letter.pdf', 0o644], ['mail/old.eml', 0o644], ['operator/notes.txt', 0o644]] as const) {
      writeFileSync(join(dataDir, path), 'x');
      chmodSync(join(dataDir, path), mode);
    }
    symlinkSync(outside, join(dataDir, 'mail', 'link.eml'));
    chmodSync(dataDir, 0o755);

    expect(secureDataDirectory(dataDir)).toEqual({ state: 'tightened' });
    expect(modeOf(dataDir)).toBe(0o700);
    expect(await tightenDataDirectory(dataDir)).toEqual({ directories: 3, files: 2 });
    expect([modeOf(join(dataDir, 'letters')), modeOf(join(dataDir, 'letters/batch')), modeOf(join(dataDir, 'letters/batch/letter.pdf'))]).toEqual([0o700, 0o700, 0o600]);
    expect([modeOf(join(dataDir, 'mail')), modeOf(join(dataDir, 'mail/old.eml'))]).toEqual([0o700, 0o600]);
    // Not Signet's folder, and not through a link.
    expect([modeOf(join(dataDir, 'operator')), modeOf(join(dataDir, 'operator/notes.txt')), modeOf(outside)]).toEqual([0o755, 0o644, 0o644]);
    expect(await tightenDataDirectory(dataDir)).toEqual({ directories: 0, files: 0 });
    expect(secureDataDirectory(dataDir)).toEqual({ state: 'private' });
  });

  it('is made 0700 when missing, and a shared directory (sticky bit, like /tmp) is left as it is', () => {
    expect(secureDataDirectory(join(dir, 'new', 'data'))).toEqual({ state: 'private' });
    expect(modeOf(join(dir, 'new', 'data'))).toBe(0o700);
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    expect(secureDataDirectory(shared)).toEqual({ state: 'left', mode: 0o1777, reason: 'it is a shared directory (sticky bit)' });
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
  });
});
