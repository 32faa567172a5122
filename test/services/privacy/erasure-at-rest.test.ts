import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Keyring, utcDay } from '../../../src/lib/keyring.js';
import { startServerWithSmtp, type ServerWithSmtp } from '../../helpers/server-process.js';
import { waitFor } from '../../helpers/wait.js';
import { parseMail } from '../../mail/helpers/mime.js';
import { hiddenFields } from './helpers.js';

const adminToken = 'erasure-admin-token-0123456789abcdef';
let running: ServerWithSmtp | undefined;
afterAll(async () => running?.stop());

const supporter = {
  name: 'Zbigniew Quillfeather',
  email: 'Zbigniew.Quillfeather@example.net',
  city: 'Quillfeatherton',
  postalCode: '987-6543',
  comment: 'Quillfeather solidarity note',
};

function mailText(raw: string): string {
  return parseMail(raw).leaves.find((leaf) => leaf.contentType === 'text/plain')!.text;
}

/** Opens a mailed link's page and posts its form, as a browser on this site does. */
async function pressButton(base: string, path: string): Promise<Response> {
  const page = await fetch(`${base}${path}`);
  expect(page.status).toBe(200);
  const fields = hiddenFields(await page.text());
  return fetch(`${base}${path.split('?')[0]}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

describe('acceptance: an erased supporter leaves nothing in the database files', () => {
  it('signs, confirms, asks for erasure, erases through the mailed link, and no personal value or secret is left in signet.db or its log', async () => {
    running = await startServerWithSmtp('erasure', adminToken);
    const { server, smtp, dir } = running;
    const api = `${server.url}/api/v1`;
    const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    expect((await fetch(`${api}/campaigns`, { method: 'POST', headers: organiser, body: JSON.stringify({ slug: 'free-them', title: 'Free them', locale: 'en' }) })).status).toBe(201);
    expect((await fetch(`${api}/campaigns/free-them`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
    const campaign = (await (await fetch(`${api}/campaigns/free-them`)).json()) as { id: string };

    const signedAt = Date.now();
    const signed = await fetch(`${api}/campaigns/free-them/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...supporter, country: 'JP', region: 'JP-13', consent: { nameOnLetter: 'full', showPublicly: true, updates: true }, source: { utm_source: 'quillfeather-list' } }),
    });
    expect(signed.status).toBe(202);

    const confirmation = await waitFor('the confirmation email', () => smtp.received.find((m) => m.rcptTo.includes(supporter.email) || m.rcptTo.includes(supporter.email.toLowerCase())));
    const confirmLink = /http:\/\/signet\.example(\/confirm\/([A-Za-z0-9_-]+)\?lang=en)/.exec(mailText(confirmation.raw))!;
    expect(confirmLink).not.toBeNull();
    const confirmed = await pressButton(server.url, confirmLink[1]!);
    expect(confirmed.status).toBe(200);
    await waitFor('the count', async () => ((await (await fetch(`${api}/campaigns/free-them`)).json()).signatureCount === 1 ? true : undefined));

    const asked = await fetch(`${api}/privacy/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: supporter.email, kind: 'erase' }) });
    expect(asked.status).toBe(202);
    const privacyEmail = await waitFor('the privacy email', () => smtp.received.find((m) => /\/privacy\//.test(m.raw)));
    const privacyLink = /http:\/\/signet\.example(\/privacy\/([A-Za-z0-9_-]{44})\?lang=en)/.exec(mailText(privacyEmail.raw))!;
    expect(privacyLink).not.toBeNull();
    const erased = await pressButton(server.url, privacyLink[1]!);
    expect(erased.status).toBe(200);
    expect(await erased.text()).toContain('Signatures whose personal data was deleted: 1.');
    expect((await (await fetch(`${api}/campaigns/free-them`)).json()).signatureCount).toBe(1);
    // While the server still runs: the log was truncated by the erasure, so its old frames are gone too
    // (at a clean stop SQLite folds the log into the file and deletes it anyway).
    const walWhileRunning = existsSync(join(dir, 'signet.db-wal')) ? readFileSync(join(dir, 'signet.db-wal')) : Buffer.alloc(0);

    expect(await server.stop()).toBe(0);

    const secret = readFileSync(join(dir, 'secret.key'), 'utf8').trim();
    const keys = await Keyring.create(secret);
    // The day the signature's IP hash was made (and the next, should the test have run across midnight UTC).
    const ipHashes = await Promise.all([signedAt, signedAt + 86_400_000].map((at) => keys.ipHash(campaign.id, utcDay(at), '127.0.0.1')));
    const needles: Record<string, string> = {
      email: supporter.email,
      'email (normalised)': supporter.email.toLowerCase(),
      'email local part': 'quillfeather@',
      name: supporter.name,
      city: supporter.city,
      'postal code': supporter.postalCode,
      comment: supporter.comment,
      source: 'quillfeather-list',
      'confirmation token': confirmLink[2]!,
      'privacy token': privacyLink[2]!,
      'IP hash': ipHashes[0]!,
      'IP hash (next day)': ipHashes[1]!,
      'root secret': secret,
    };
    const files = ['signet.db', 'signet.db-wal'].map((name) => join(dir, name)).filter((path) => existsSync(path));
    expect(files).toContain(join(dir, 'signet.db'));
    const contents: [string, Buffer][] = [...files.map((path): [string, Buffer] => [path, readFileSync(path)]), ['signet.db-wal while running', walWhileRunning]];
    for (const [what, bytes] of contents) {
      const found = Object.entries(needles)
        .filter(([, value]) => bytes.includes(Buffer.from(value, 'utf8')) || bytes.includes(Buffer.from(value.toLowerCase(), 'utf8')))
        .map(([needle]) => needle);
      expect(found, what).toEqual([]);
    }

    // Nor does the server's log.
    const logged = Object.entries(needles).filter(([, value]) => server.stdout().includes(value) || server.stderr().includes(value));
    expect(logged.map(([what]) => what)).toEqual([]);

    // The database holds nothing that derives the IP hash (or any other key).
    const db = new BetterSqlite3(join(dir, 'signet.db'), { readonly: true });
    try {
      const settings = db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
      expect(settings.filter((row) => /key|secret/i.test(row.key) && !/retire-at$/.test(row.key))).toEqual([]);
      expect(settings.filter((row) => row.value.includes(secret))).toEqual([]);
      const [row] = db.prepare("SELECT status, name, email, city, ip_hash AS ipHash, confirmed_at AS confirmedAt FROM signatures").all() as Record<string, unknown>[];
      expect(row).toMatchObject({ status: 'erased', name: '', email: '', city: null, ipHash: null });
      expect(row!.confirmedAt).not.toBeNull();
    } finally {
      db.close();
    }
  }, 60_000);
});
