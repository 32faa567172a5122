import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { extractText, getDocumentProxy } from 'unpdf';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { campaigns, replies } from '../../../src/db/schema.js';
import { createLetterFiles } from '../../../src/letters/node/letter-store.js';
import { createReply, deleteReply, getReply, updateReply } from '../../../src/services/replies.js';
import { Forbidden } from '../../../src/lib/service-errors.js';
import { createTestApp } from '../../helpers/app.js';
import { campaignToken, makePdf, makePng, postMultipart, seedCampaigns, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('replies: recording', () => {
  it('records a JSON reply, stores an ISO instant as its day in the campaign’s zone, and lists it', async () => {
    t = createTestApp();
    const { a } = await seedCampaigns(t);
    // 2027-08-31T20:00Z is already 1 September in Tokyo (the campaign's zone).
    const res = await t.request('POST', `/api/v1/targets/${a}/replies`, {
      body: { campaign: 'alpha', receivedAt: '2027-08-31T20:00:00Z', channel: 'phone', summary: '  The embassy called: the letters arrived.\r\nThey will answer in writing.  ' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const reply = await res.json();
    expect(reply).toMatchObject({
      campaign: 'alpha',
      target: { id: a, name: 'Ambassador A', organisation: 'Embassy of A' },
      receivedOn: '2027-09-01',
      channel: 'phone',
      summary: 'The embassy called: the letters arrived.\nThey will answer in writing.',
      public: false,
      file: null,
    });
    expect(await (await t.request('GET', `/api/v1/replies/${reply.id}`)).json()).toEqual(reply);
    const listed = await (await t.request('GET', '/api/v1/campaigns/alpha/replies')).json();
    expect(listed.items).toEqual([reply]);
  });

  it('records a reply with a real PDF over multipart, serves the same bytes safely, and deletes the file with the reply', async () => {
    t = createTestApp();
    const { a } = await seedCampaigns(t);
    const pdf = await makePdf('Reply from the Embassy of A');
    const res = await postMultipart(
      t,
      `/api/v1/targets/${a}/replies`,
      { campaign: 'alpha', receivedAt: '2027-08-28', channel: 'post', summary: 'A letter: they forwarded the petition to the capital.', public: 'true' },
      { bytes: pdf, name: 'scan "2027".pdf', type: 'application/pdf' },
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const reply = await res.json();
    expect(reply).toMatchObject({ receivedOn: '2027-08-28', channel: 'post', public: true, file: { type: 'application/pdf', bytes: pdf.byteLength, sha256: sha256(pdf), url: `/api/v1/replies/${reply.id}/file` } });
    const [row] = await t.database.db.select().from(replies).where(eq(replies.id, reply.id));
    expect(row!.filePath).toBe(`replies/${row!.campaignId}/${reply.id}.pdf`);
    const stored = join(t.dataDir, row!.filePath!);
    expect(new Uint8Array(await readFile(stored))).toEqual(pdf);

    const file = await t.request('GET', `/api/v1/replies/${reply.id}/file`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-security-policy')).toContain('sandbox');
    expect(file.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="reply-alpha-2027-08-28-Embassy of A-${reply.id}.pdf"; filename\\*=UTF-8''reply-alpha-2027-08-28-Embassy%20of%20A.pdf$`));
    const downloaded = new Uint8Array(await file.arrayBuffer());
    expect(sha256(downloaded)).toBe(sha256(pdf));
    const { text } = await extractText(await getDocumentProxy(downloaded), { mergePages: true });
    expect(text).toContain('Reply from the Embassy of A');

    const deleted = await t.request('DELETE', `/api/v1/replies/${reply.id}`);
    expect(deleted.status).toBe(204);
    expect(existsSync(stored)).toBe(false);
    expect((await t.request('GET', `/api/v1/replies/${reply.id}`)).status).toBe(404);
    expect((await t.request('GET', `/api/v1/replies/${reply.id}/file`)).status).toBe(404);
  });

  it('takes a PNG, judged by its bytes whatever the declared type', async () => {
    t = createTestApp();
    const { b } = await seedCampaigns(t);
    const png = makePng();
    const res = await postMultipart(t, `/api/v1/targets/${b}/replies`, { campaign: 'alpha', receivedAt: '2027-08-30', channel: 'fax', summary: 'Fax received.' }, { bytes: png, name: 'fax.bin', type: 'application/octet-stream' });
    expect(res.status, await res.clone().text()).toBe(201);
    const reply = await res.json();
    expect(reply.file).toMatchObject({ type: 'image/png', bytes: png.byteLength });
    const file = await t.request('GET', `/api/v1/replies/${reply.id}/file`);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(png);
  });
});

describe('replies: refusals', () => {
  it('removes the stored file again when the row cannot be written', async () => {
    t = createTestApp();
    const { a } = await seedCampaigns(t);
    const pdf = await makePdf();
    const real = t.database;
    const failingDb: Database = {
      db: real.db,
      statement: (query) => real.statement(query),
      writeReturning: (query) => real.writeReturning(query),
      close: () => real.close(),
      atomic: async () => Promise.reject(new Error('database is locked')),
    };
    const written: string[] = [];
    const files = createLetterFiles(t.dataDir);
    const watched = { ...files, writeFile: async (stored: string, bytes: Uint8Array, type: string) => (written.push(stored), files.writeFile(stored, bytes, type)) };
    await expect(
      createReply({ ...t.ctx, db: failingDb }, watched, a, { campaign: 'alpha', receivedAt: '2027-08-30', channel: 'post', summary: 'x' }, { bytes: pdf }),
    ).rejects.toThrow('database is locked');
    expect(written).toHaveLength(1);
    expect(existsSync(join(t.dataDir, written[0]!))).toBe(false);
    expect(await t.database.db.select().from(replies)).toEqual([]);
  });

  it('refuses HTML or SVG dressed up as a PDF or an image (422 FILE_TYPE_NOT_ALLOWED), storing nothing', async () => {
    t = createTestApp();
    const { a } = await seedCampaigns(t);
    for (const [content, type] of [
      ['<html><script>alert(document.cookie)</script></html>', 'application/pdf'],
      ['<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 'image/png'],
      ['GIF89a……', 'image/jpeg'],
    ] as const) {
      const res = await postMultipart(t, `/api/v1/targets/${a}/replies`, { campaign: 'alpha', receivedAt: '2027-08-30', channel: 'post', summary: 'x' }, { bytes: new TextEncoder().encode(content), name: 'reply.pdf', type });
      expect(res.status).toBe(422);
      expect((await res.json()).error).toMatchObject({ code: 'FILE_TYPE_NOT_ALLOWED', details: { path: 'file' } });
    }
    expect(await t.database.db.select().from(replies)).toEqual([]);
    expect(existsSync(join(t.dataDir, 'replies'))).toBe(false);
  });

  it('answers 413 for a file over 10 MiB and for a body over the upload limit', async () => {
    t = createTestApp();
    const { a } = await seedCampaigns(t);
    const pdf = await makePdf();
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(pdf);
    const over = await postMultipart(t, `/api/v1/targets/${a}/replies`, { campaign: 'alpha', receivedAt: '2027-08-30', channel: 'post', summary: 'Big scan' }, { bytes: big, name: 'big.pdf', type: 'application/pdf' });
    expect(over.status).toBe(413);
    expect((await over.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    const huge = await postMultipart(t, `/api/v1/targets/${a}/replies`, { campaign: 'alpha', receivedAt: '2027-08-30', channel: 'post', summary: 'Huge' }, { bytes: new Uint8Array(12 * 1024 * 1024), name: 'huge.pdf', type: 'application/pdf' });
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    // Other API routes keep their 1 MB limit.
    const other = await t.request('POST', '/api/v1/targets', { raw: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }) });
    expect(other.status).toBe(413);
    expect(await t.database.db.select().from(replies)).toEqual([]);
  });

  it('answers 422 TARGET_NOT_IN_CAMPAIGN for a target of another campaign, 404 for unknown ones, 400 for bad fields', async () => {
    t = createTestApp();
    const { a, c } = await seedCampaigns(t);
    const notLinked = await t.request('POST', `/api/v1/targets/${c}/replies`, { body: { campaign: 'alpha', receivedAt: '2027-08-30', channel: 'email', summary: 'x' } });
    expect(notLinked.status).toBe(422);
    expect((await notLinked.json()).error).toMatchObject({ code: 'TARGET_NOT_IN_CAMPAIGN', details: [{ path: 'campaign' }] });
    const unknownCampaign = await t.request('POST', `/api/v1/targets/${a}/replies`, { body: { campaign: 'nothing', receivedAt: '2027-08-30', channel: 'email', summary: 'x' } });
    expect(unknownCampaign.status).toBe(404);
    expect((await t.request('POST', '/api/v1/targets/not-an-id/replies', { body: { campaign: 'alpha', receivedAt: '2027-08-30', channel: 'email', summary: 'x' } })).status).toBe(404);
    const bad = await t.request('POST', `/api/v1/targets/${a}/replies`, { body: { campaign: 'alpha', receivedAt: '2027-02-30', channel: 'pigeon', summary: '   ', extra: 1 } });
    expect(bad.status).toBe(400);
    const paths = (await bad.json()).error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['channel', 'extra', 'receivedAt', 'summary']);
    const future = await t.request('POST', `/api/v1/targets/${a}/replies`, { body: { campaign: 'alpha', receivedAt: '2027-12-01', channel: 'email', summary: 'x' } });
    expect(future.status).toBe(400);
    expect((await future.json()).error.details).toEqual([{ path: 'receivedAt', message: 'must not be in the future' }]);
    const plain = await t.request('POST', `/api/v1/targets/${a}/replies`, { raw: 'campaign=alpha', headers: { 'content-type': 'text/plain' } });
    expect(plain.status).toBe(415);
    expect((await t.request('POST', `/api/v1/targets/${a}/replies`, { token: null, body: { campaign: 'alpha', receivedAt: '2027-08-30', channel: 'email', summary: 'x' } })).status).toBe(401);
    expect(await t.database.db.select().from(replies)).toEqual([]);
  });
});

describe('replies: lists, changes and reach', () => {
  it('lists per campaign (newest first, by target) and per target, and changes a reply', async () => {
    t = createTestApp();
    const { a, b, c } = await seedCampaigns(t);
    const record = async (target: string, campaign: string, receivedAt: string, summary: string) => {
      const res = await t.request('POST', `/api/v1/targets/${target}/replies`, { body: { campaign, receivedAt, channel: 'email', summary } });
      expect(res.status).toBe(201);
      return (await res.json()).id as string;
    };
    const first = await record(a, 'alpha', '2027-08-10', 'first');
    const second = await record(b, 'alpha', '2027-08-20', 'second');
    const third = await record(a, 'alpha', '2027-08-15', 'third');
    const other = await record(c, 'beta', '2027-08-25', 'other campaign');
    const ids = async (path: string) => ((await (await t.request('GET', path)).json()).items as { id: string }[]).map((r) => r.id);
    expect(await ids('/api/v1/campaigns/alpha/replies')).toEqual([second, third, first]);
    expect(await ids(`/api/v1/campaigns/alpha/replies?target=${a}`)).toEqual([third, first]);
    expect(await ids(`/api/v1/targets/${a}/replies`)).toEqual([third, first]);
    expect(await ids(`/api/v1/targets/${c}/replies?campaign=beta`)).toEqual([other]);
    expect(await ids(`/api/v1/targets/${c}/replies?campaign=alpha`)).toEqual([]);

    const patched = await t.request('PATCH', `/api/v1/replies/${first}`, { body: { public: true, summary: 'first, corrected', receivedAt: '2027-08-21', channel: 'in_person' } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: first, public: true, summary: 'first, corrected', receivedOn: '2027-08-21', channel: 'in_person' });
    expect(await ids('/api/v1/campaigns/alpha/replies')).toEqual([first, second, third]);
    expect((await t.request('PATCH', `/api/v1/replies/${first}`, { body: { file: 'x' } })).status).toBe(400);

    // A target that replied keeps its replies: detached from the campaign it stays listed, and cannot be deleted.
    expect((await t.request('PATCH', '/api/v1/campaigns/beta', { body: { targetIds: [] } })).status).toBe(200);
    expect(await ids('/api/v1/campaigns/beta/replies')).toEqual([other]);
    const deleteTarget = await t.request('DELETE', `/api/v1/targets/${c}`);
    expect(deleteTarget.status).toBe(409);
    expect((await deleteTarget.json()).error).toMatchObject({ code: 'TARGET_IN_USE', details: { replies: true } });
  });

  it('hides another campaign’s replies from a campaign-limited token (404, as if they did not exist)', async () => {
    t = createTestApp();
    const { a, c } = await seedCampaigns(t);
    const pdf = await makePdf();
    const res = await postMultipart(t, `/api/v1/targets/${c}/replies`, { campaign: 'beta', receivedAt: '2027-08-30', channel: 'post', summary: 'beta reply' }, { bytes: pdf, name: 'beta.pdf', type: 'application/pdf' });
    const betaReply = (await res.json()).id as string;
    const alphaOnly = await campaignToken(t, ['alpha']);
    const as = (method: string, path: string, body?: unknown) => t.request(method, path, { token: alphaOnly, ...(body === undefined ? {} : { body }) });

    for (const [method, path] of [
      ['GET', `/api/v1/replies/${betaReply}`],
      ['GET', `/api/v1/replies/${betaReply}/file`],
      ['DELETE', `/api/v1/replies/${betaReply}`],
      ['GET', '/api/v1/campaigns/beta/replies'],
      ['GET', `/api/v1/targets/${c}/replies?campaign=beta`],
    ] as const) {
      const answer = await as(method, path);
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
    expect((await as('PATCH', `/api/v1/replies/${betaReply}`, { public: true })).status).toBe(404);
    expect((await as('POST', `/api/v1/targets/${c}/replies`, { campaign: 'beta', receivedAt: '2027-08-30', channel: 'post', summary: 'x' })).status).toBe(404);
    // The target's list shows only what the token reaches.
    expect((await (await as('GET', `/api/v1/targets/${c}/replies`)).json()).items).toEqual([]);
    // Its own campaign works.
    const own = await as('POST', `/api/v1/targets/${a}/replies`, { campaign: 'alpha', receivedAt: '2027-08-30', channel: 'post', summary: 'alpha reply' });
    expect(own.status).toBe(201);
    // A viewer of a campaign reads its replies and changes none, in the verbs themselves.
    const [beta] = await t.database.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, 'beta'));
    const viewer = { ...t.ctx, access: { kind: 'campaigns' as const, campaigns: new Map([[beta!.id, 'viewer' as const]]) } };
    expect((await getReply(viewer, betaReply)).summary).toBe('beta reply');
    await expect(updateReply(viewer, betaReply, { public: true })).rejects.toBeInstanceOf(Forbidden);
    await expect(deleteReply(viewer, createLetterFiles(t.dataDir), betaReply)).rejects.toBeInstanceOf(Forbidden);
    // And the beta reply is untouched.
    const [row] = await t.database.db.select().from(replies).where(eq(replies.id, betaReply));
    expect(row).toMatchObject({ public: false, summary: 'beta reply' });
  });
});
