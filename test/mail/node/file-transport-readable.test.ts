import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.js';
import { FileTransport } from '../../../src/mail/node/file-transport.js';
import { newMessageId } from '../../../src/mail/messages.js';
import { parseMail, partText } from '../helpers/mime.js';
import { mailFrom } from '../helpers/outbox.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function writeOne(text: string): Promise<string> {
  const directory = mkdtempSync(join(tmpdir(), 'signet-mail-readable-'));
  dirs.push(directory);
  const transport = new FileTransport({ directory, clock: new ManualClock() });
  await transport.send({ to: { address: 'aiko@example.com' }, subject: '確認', text, html: '<p><a href="https://signet.example/confirm/tok?lang=ja&amp;x=1">確認</a></p>', from: mailFrom, messageId: newMessageId(mailFrom, '0190f00d-0000-7000-8000-000000000009') });
  return readFileSync(join(directory, readdirSync(directory)[0]!), 'utf8');
}

describe('FileTransport: a file a person reads', () => {
  it('keeps the text part as written (8bit UTF-8, lines whole) and the HTML out of grep’s way (base64)', async () => {
    const text = 'ご署名ありがとうございます。\n\nhttps://signet.example/confirm/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEf?lang=ja\n';
    const raw = await writeOne(text);
    const mail = parseMail(raw);
    expect(raw).toContain('Content-Transfer-Encoding: 8bit\n\nご署名ありがとうございます。\n\nhttps://signet.example/confirm/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEf?lang=ja\n');
    expect(raw).not.toContain('\r');
    expect(partText(mail, 'text/plain').trimEnd()).toBe(text.trimEnd());
    expect(partText(mail, 'text/html')).toContain('href="https://signet.example/confirm/tok?lang=ja&amp;x=1"');
    expect(raw.match(/https:\/\/signet\.example\/confirm\/[^ \n]*/g)).toEqual(['https://signet.example/confirm/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEf?lang=ja']);
  });

  it('falls back to an encoding when a line is longer than 998 octets, so the file stays valid MIME', async () => {
    const long = '署'.repeat(400);
    const raw = await writeOne(`${long}\nhttps://signet.example/confirm/tok\n`);
    expect(raw).not.toContain('Content-Transfer-Encoding: 8bit');
    for (const line of raw.split('\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(998);
    expect(partText(parseMail(raw), 'text/plain')).toContain(long);
  });
});
