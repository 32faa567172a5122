import { deflateSync } from 'node:zlib';
import PDFDocument from 'pdfkit';
import { expect } from 'vitest';
import type { createTestApp } from '../../helpers/app.js';
import { ADMIN_TOKEN } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

export type TestApp = ReturnType<typeof createTestApp>;

/** A real one-page PDF, as a scanner's software would write one. */
export function makePdf(text = 'Reply from the Embassy, 3 October 2027'): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4' });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    doc.on('error', reject);
    doc.fontSize(14).text(text);
    doc.end();
  });
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real `width`×`height` grey PNG (valid chunks and CRCs), built by hand to need no image library. */
export function makePng(width = 4, height = 3): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.concat(Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), Buffer.alloc(width, 0x80)])));
  return new Uint8Array(
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(rows)), pngChunk('IEND', Buffer.alloc(0))]),
  );
}

export async function createTarget(t: TestApp, name: string, organisation: string | null = null): Promise<string> {
  const res = await t.request('POST', '/api/v1/targets', {
    body: { name, organisation, kind: 'embassy', email: 'embassy@example.org', language: 'ja', postalAddress: { lines: ['1-1'], postalCode: '106-0046', city: 'Tokyo', country: 'JP' } },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Two open campaigns, `alpha` with targets A and B, `beta` with target C. */
export async function seedCampaigns(t: TestApp) {
  const a = await createTarget(t, 'Ambassador A', 'Embassy of A');
  const b = await createTarget(t, 'Consul B', 'Consulate of B');
  const c = await createTarget(t, 'Minister C', null);
  await openCampaign(t, 'alpha', { targetIds: [a, b] });
  await openCampaign(t, 'beta', { targetIds: [c] });
  return { a, b, c };
}

/** A multipart POST through the app (the boundary set by FormData, as a browser or curl -F would). */
export function postMultipart(t: TestApp, path: string, fields: Record<string, string>, file?: { bytes: Uint8Array; name: string; type: string }, token: string | null = ADMIN_TOKEN) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append('file', new Blob([file.bytes], { type: file.type }), file.name);
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return t.app.request(path, { method: 'POST', headers, body: form });
}

export async function campaignToken(t: TestApp, campaigns: string[], scopes = ['campaigns']): Promise<string> {
  const res = await t.request('POST', '/api/v1/tokens', { body: { name: `limited to ${campaigns.join(', ')}`, scopes, campaigns } });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

const ORIGIN = 'http://localhost';

/** A browser stand-in over app.request: keeps the session cookie, sends this site's Origin with forms, and can post multipart forms with a file. */
export function adminClient(t: TestApp) {
  let cookie = '';
  let csrf = '';
  const send = async (method: string, path: string, body?: string | FormData, headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { ...headers };
    if (cookie) h.cookie = cookie;
    if (body !== undefined) h.origin ??= ORIGIN;
    const res = await t.app.request(path, { method, headers: h, body });
    const set = res.headers.get('set-cookie');
    const match = set ? /(?:^|, )((?:__Secure-)?signet_session)=([^;]*)/.exec(set) : null;
    if (match) cookie = match[2] ? `${match[1]}=${match[2]}` : '';
    return res;
  };
  const client = {
    async page(path: string) {
      const res = await send('GET', path);
      const html = await res.text();
      const token = /name="_csrf" value="([^"]+)"/.exec(html);
      if (token) csrf = token[1]!;
      return { res, html };
    },
    post(path: string, form: Record<string, string> = {}) {
      return send('POST', path, new URLSearchParams({ _csrf: csrf, ...form }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    },
    postMultipart(path: string, fields: Record<string, string>, file?: { bytes: Uint8Array; name: string; type: string }, options: { csrf?: string } = {}) {
      const form = new FormData();
      form.append('_csrf', options.csrf ?? csrf);
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      if (file) form.append('file', new Blob([file.bytes], { type: file.type }), file.name);
      return send('POST', path, form);
    },
    async login(token = ADMIN_TOKEN) {
      const res = await send('POST', '/admin/login', new URLSearchParams({ token, next: '/admin/campaigns' }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status, await res.clone().text()).toBe(303);
      await client.page('/admin/campaigns');
    },
  };
  return client;
}
