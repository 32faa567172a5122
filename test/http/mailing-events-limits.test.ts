import { afterEach, describe, expect, it } from 'vitest';
import { MAX_EVENT_STREAMS_PER_TOKEN } from '../../src/http/stream-slots.js';
import { createTestApp } from '../helpers/app.js';
import { openCampaign } from '../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
const open: ReadableStreamDefaultReader<Uint8Array>[] = [];
afterEach(async () => {
  // Leave every stream first: a polling loop that wakes to find its client gone stops without touching the database.
  while (open.length > 0) await open.pop()!.cancel();
  t?.cleanup();
});

const missingId = '01890a5d-ac96-774b-bcce-b302099a8057';

async function scheduleUpdate(app: TestApp) {
  const res = await app.request('POST', '/api/v1/mailings', {
    body: { campaign: 'limits', kind: 'update', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', subject: 'News', body: 'Thank you.' },
  });
  expect(res.status).toBe(201);
  return (await res.json()).id as string;
}

async function tokenWith(app: TestApp, name: string, scopes: string[]) {
  const res = await app.request('POST', '/api/v1/tokens', { body: { name, scopes } });
  expect(res.status).toBe(201);
  return (await res.json()).token as string;
}

/** Opens a progress stream and reads up to its first event; the reader stays open until the test leaves it. */
async function openStream(app: TestApp, id: string, token: string) {
  const res = await app.request('GET', `/api/v1/mailings/${id}/events`, { token });
  if (res.status !== 200) return { res, reader: null };
  const reader = res.body!.getReader();
  open.push(reader);
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('\n\n')) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  expect(text).toMatch(/^event: progress\n/);
  return { res, reader };
}

async function leave(reader: ReadableStreamDefaultReader<Uint8Array>) {
  open.splice(open.indexOf(reader), 1);
  await reader.cancel();
}

async function readToEnd(reader: ReadableStreamDefaultReader<Uint8Array>) {
  while (!(await reader.read()).done);
  open.splice(open.indexOf(reader), 1);
}

async function expectRateLimited(res: Response) {
  expect(res.status).toBe(429);
  expect(res.headers.get('retry-after')).toBe('5');
  expect((await res.json()).error).toMatchObject({
    code: 'RATE_LIMITED',
    message: expect.stringContaining(`already has ${MAX_EVENT_STREAMS_PER_TOKEN} progress streams open`),
    details: { retryAfterSeconds: 5 },
  });
}

describe('mailing progress streams: a cap per token', () => {
  it('answers the sixth stream of a token 429 with Retry-After, while another token still gets one', async () => {
    t = createTestApp();
    await openCampaign(t, 'limits');
    const id = await scheduleUpdate(t);
    const first = await tokenWith(t, 'dashboard script', ['deliveries']);
    const second = await tokenWith(t, 'other organiser', ['deliveries']);

    expect(MAX_EVENT_STREAMS_PER_TOKEN).toBe(5);
    for (let i = 0; i < 5; i++) expect((await openStream(t, id, first)).res.status).toBe(200);
    await expectRateLimited((await openStream(t, id, first)).res);
    expect((await openStream(t, id, second)).res.status).toBe(200);
  });

  it('frees a slot as soon as the client leaves', async () => {
    t = createTestApp();
    await openCampaign(t, 'limits');
    const id = await scheduleUpdate(t);
    const token = await tokenWith(t, 'watcher', ['deliveries']);
    const readers = [];
    for (let i = 0; i < 5; i++) readers.push((await openStream(t, id, token)).reader!);
    await expectRateLimited((await openStream(t, id, token)).res);

    await leave(readers[0]!);
    expect((await openStream(t, id, token)).res.status).toBe(200);
    await expectRateLimited((await openStream(t, id, token)).res);
  });

  it('frees the slots of streams that end with the mailing, and an unknown mailing takes none', async () => {
    t = createTestApp();
    await openCampaign(t, 'limits');
    const ending = await scheduleUpdate(t);
    const next = await scheduleUpdate(t);
    const token = await tokenWith(t, 'watcher', ['deliveries']);

    for (let i = 0; i < 6; i++) expect((await t.request('GET', `/api/v1/mailings/${missingId}/events`, { token })).status).toBe(404);
    const readers = [];
    for (let i = 0; i < 5; i++) readers.push((await openStream(t, ending, token)).reader!);
    await expectRateLimited((await openStream(t, next, token)).res);

    t.clock.advance(1000);
    expect((await t.request('POST', `/api/v1/mailings/${ending}/cancel`)).status).toBe(200);
    // Each stream sends the final status and ends; nobody left it.
    for (const reader of readers) await readToEnd(reader);
    for (let i = 0; i < 5; i++) expect((await openStream(t, next, token)).res.status).toBe(200);
    await expectRateLimited((await openStream(t, next, token)).res);
  });
});
