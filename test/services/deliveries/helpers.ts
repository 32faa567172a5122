import { eq } from 'drizzle-orm';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { outbox } from '../../../src/db/schema.js';
import { createTestApp, repoLettersDir } from '../../helpers/app.js';
import { latestConfirmToken, openCampaign, signature } from '../../helpers/signing.js';
import { decodeEncodedWords } from '../../mail/helpers/mime.js';

export type TestApp = ReturnType<typeof createTestApp>;
export type Letter = { id: string; targetId: string; sha256: string; pages: number; bytes: number };
export type Delivery = { id: string; letterId: string; channel: 'email' | 'print'; status: string; [key: string]: unknown };

export const SLUG = 'save-refugees-2027';
export const EMBASSY_EMAIL = 'embassy@example.org';
/** The embassy's name in Chinese, so the attachment's file name needs RFC 2231 encoding. */
export const EMBASSY_NAME = '中华人民共和国驻日本国大使';
export const ZH_TITLE = '拯救脱北难民';

const missionsFile = join(repoLettersDir, 'targets/china-missions-japan.json');

/**
 * The shipped Chinese missions in Japan; the embassy (Tokyo, 106-0046) gets an email address and
 * a Chinese name; a Japanese campaign (with a Chinese title) writes to the embassy, Sapporo
 * (064-0913, no email) and Nagoya (461-0005); two supporters sign and confirm; one letter per target.
 */
export async function setupLetters(): Promise<{ t: TestApp; letters: { embassy: Letter; sapporo: Letter; nagoya: Letter } }> {
  const t = createTestApp();
  const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
  expect(imported.status).toBe(201);
  const { ids } = (await imported.json()) as { ids: string[] };
  const [embassy, sapporo, , nagoya] = ids as [string, string, string, string];
  const patched = await t.request('PATCH', `/api/v1/targets/${embassy}`, { body: { email: EMBASSY_EMAIL, name: EMBASSY_NAME } });
  expect(patched.status).toBe(200);

  await openCampaign(t, SLUG, { locale: 'ja', title: '北朝鮮難民を救おう', translations: { zh: { title: ZH_TITLE } }, targetIds: [embassy, sapporo, nagoya] });
  for (const [email, name] of [
    ['aiko@example.org', 'Aiko Tanaka'],
    ['taro@example.org', '山田太郎'],
  ] as const) {
    const signed = await t.request('POST', `/api/v1/campaigns/${SLUG}/signatures`, { token: null, body: signature(email, { name, consent: { nameOnLetter: 'full' } }) });
    expect(signed.status).toBe(202);
    const confirmed = await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: await latestConfirmToken(t, email) } });
    expect(confirmed.status).toBe(200);
    t.clock.advance(60_000);
  }
  // The confirmation emails are out of the way, so a test's sender sees only the letters.
  await t.database.atomic([t.database.db.update(outbox).set({ status: 'sent', message: null }).where(eq(outbox.kind, 'confirmation'))]);
  const generated = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } });
  expect(generated.status).toBe(201);
  const { letters } = (await generated.json()) as { letters: Letter[] };
  const byTarget = (id: string) => letters.find((letter) => letter.targetId === id)!;
  return { t, letters: { embassy: byTarget(embassy), sapporo: byTarget(sapporo), nagoya: byTarget(nagoya) } };
}

export async function deliver(t: TestApp, letterId: string, channel: unknown, options: { key?: string; token?: string | null } = {}) {
  const res = await t.request('POST', `/api/v1/letters/${letterId}/deliveries`, {
    body: { channel },
    token: options.token,
    headers: options.key === undefined ? {} : { 'idempotency-key': options.key },
  });
  return { res, body: (await res.json()) as Delivery & { error?: { code: string; details?: unknown } } };
}

export async function scopedToken(t: TestApp, scopes: string[]) {
  const res = await t.request('POST', '/api/v1/tokens', { body: { name: `t-${scopes.join('-')}`, scopes } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

export type MimePart = { headers: string[]; header(name: string): string | undefined; body: Buffer; parts: MimePart[] };

/** Reads a MIME message into a tree of parts, keeping bodies as bytes (the test MIME reader decodes every leaf as text). */
export function readMime(raw: string): MimePart {
  const normalised = raw.replace(/\r\n/g, '\n');
  const end = normalised.indexOf('\n\n');
  const head = end < 0 ? normalised : normalised.slice(0, end);
  const body = end < 0 ? '' : normalised.slice(end + 2);
  const headers: string[] = [];
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += line.replace(/^[ \t]+/, ' ');
    else if (line !== '') headers.push(line);
  }
  const header = (name: string) => headers.find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();
  const type = header('Content-Type') ?? 'text/plain';
  if (/^multipart\//i.test(type)) {
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (!boundary) throw new Error('multipart without boundary');
    const parts: MimePart[] = [];
    for (const section of body.split(`--${boundary}`).slice(1)) {
      if (section.startsWith('--')) break;
      parts.push(readMime(section.replace(/^\n/, '').replace(/\n$/, '')));
    }
    return { headers, header, body: Buffer.alloc(0), parts };
  }
  const encoding = (header('Content-Transfer-Encoding') ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? Buffer.from(
            body.replace(/=\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          )
        : Buffer.from(body, 'utf8');
  return { headers, header, body: bytes, parts: [] };
}

export function leaves(part: MimePart): MimePart[] {
  return part.parts.length === 0 ? [part] : part.parts.flatMap(leaves);
}

/** A `filename` parameter as RFC 2231 (`filename*0*=utf-8''…; filename*1*=…`) or RFC 2047 encodes it. */
export function dispositionFilename(disposition: string): string | undefined {
  const pieces: { index: number; value: string; encoded: boolean }[] = [];
  for (const match of disposition.matchAll(/filename\*(?:(\d+))?(\*)?="?([^";]*)"?/gi)) {
    pieces.push({ index: Number(match[1] ?? 0), value: match[3]!, encoded: match[2] === '*' || match[1] === undefined });
  }
  if (pieces.length > 0) {
    pieces.sort((a, b) => a.index - b.index);
    const joined = pieces.map((piece) => piece.value).join('');
    const value = joined.replace(/^utf-8''/i, '');
    return pieces.some((piece) => piece.encoded) ? decodeURIComponent(value) : value;
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition)?.[1];
  return plain === undefined ? undefined : decodeEncodedWords(plain);
}
