import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { mailings } from '../../../src/db/schema.js';
import { cancelMailing } from '../../../src/services/mailings/schedule.js';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const missingId = '01890a5d-ac96-774b-bcce-b302099a8057';

async function createTarget(app: TestApp) {
  const res = await app.request('POST', '/api/v1/targets', {
    body: {
      name: "Ambassador of the People's Republic of China to Japan",
      kind: 'embassy',
      postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
      email: 'embassy@example.org',
      language: 'zh',
    },
  });
  expect(res.status).toBe(201);
  return (await res.json()).id as string;
}

/** An open campaign with one target. */
async function campaignWithTarget(app: TestApp, slug = 'free-them-2027') {
  return openCampaign(app, slug, { targetIds: [await createTarget(app)] });
}

const update = (overrides: Record<string, unknown> = {}) => ({
  campaign: 'free-them-2027',
  kind: 'update',
  sendAt: '2027-09-22T09:00',
  timeZone: 'Asia/Tokyo',
  subject: 'The letters are on their way',
  body: '# Thank you\nWe delivered your signatures today.',
  ...overrides,
});

async function schedule(app: TestApp, body: Record<string, unknown>) {
  const res = await app.request('POST', '/api/v1/mailings', { body });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

describe('mailings: scheduling', () => {
  it('schedules letters for 09:00 in Tokyo, stored in UTC with the local time kept', async () => {
    t = createTestApp();
    await campaignWithTarget(t);
    const res = await t.request('POST', '/api/v1/mailings', {
      body: { campaign: 'free-them-2027', kind: 'letters', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', ratePerMinute: 60 },
    });
    expect(res.status).toBe(201);
    const mailing = await res.json();
    expect(mailing).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      campaign: 'free-them-2027',
      kind: 'letters',
      status: 'scheduled',
      sendAt: '2027-09-22T00:00:00.000Z',
      sendAtLocal: '2027-09-22T09:00',
      timeZone: 'Asia/Tokyo',
      cutoffAt: null,
      channel: 'auto',
      ratePerMinute: 60,
      sendingWindow: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] },
      routing: 'all',
      emptyTargets: 'write',
      subject: null,
      body: null,
      template: null,
      languages: null,
      segment: null,
      dryRun: false,
      progress: { total: 0, sent: 0, failed: 0, skipped: 0 },
      lastError: null,
      createdAt: '2027-09-01T00:00:00.000Z',
      updatedAt: '2027-09-01T00:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      targets: [],
      warnings: [],
    });

    const [row] = await t.database.db.select().from(mailings).where(eq(mailings.id, mailing.id));
    expect(row).toMatchObject({ sendAt: Date.UTC(2027, 8, 22, 0, 0), sendAtLocal: '2027-09-22T09:00', timeZone: 'Asia/Tokyo' });

    const read = await t.request('GET', `/api/v1/mailings/${mailing.id}`);
    expect(read.status).toBe(200);
    const { warnings: _atScheduling, ...stored } = mailing;
    expect(await read.json()).toEqual(stored);
  });

  it('schedules an update with a subject, Markdown body, cut-off and dry run', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const mailing = await schedule(t, update({ cutoffAt: '2027-09-21T23:59:59+09:00', dryRun: true, ratePerMinute: 100_000 }));
    expect(mailing).toMatchObject({
      kind: 'update',
      status: 'scheduled',
      channel: null,
      subject: 'The letters are on their way',
      body: '# Thank you\nWe delivered your signatures today.',
      cutoffAt: '2027-09-21T14:59:59.000Z',
      dryRun: true,
    });
    // An update may name a template instead of a subject and body; letters may choose print.
    expect(await schedule(t, { campaign: 'free-them-2027', kind: 'update', sendAt: '2027-09-23T09:00', timeZone: 'Asia/Tokyo', template: 'thank-you' })).toMatchObject({
      template: 'thank-you',
      subject: null,
    });
  });

  it('letters may go by print and closed campaigns still take mailings', async () => {
    t = createTestApp();
    await campaignWithTarget(t);
    expect((await t.request('PATCH', '/api/v1/campaigns/free-them-2027', { body: { status: 'closed' } })).status).toBe(200);
    const mailing = await schedule(t, { campaign: 'free-them-2027', kind: 'letters', channel: 'print', sendAt: '2027-09-22T09:00:30', timeZone: 'Asia/Tokyo' });
    expect(mailing).toMatchObject({ channel: 'print', sendAt: '2027-09-22T00:00:30.000Z', sendAtLocal: '2027-09-22T09:00:30' });
    // Zone names are stored as ICU spells them.
    expect(await schedule(t, { campaign: 'free-them-2027', kind: 'letters', sendAt: '2027-09-22T09:00', timeZone: 'asia/tokyo' })).toMatchObject({
      timeZone: 'Asia/Tokyo',
      sendAt: '2027-09-22T00:00:00.000Z',
    });
    expect(await schedule(t, { campaign: 'free-them-2027', kind: 'letters', sendAt: '9999-12-31T23:59', timeZone: 'Pacific/Kiritimati' })).toMatchObject({
      sendAt: '9999-12-31T09:59:00.000Z',
    });
    const ancient = await t.request('POST', '/api/v1/mailings', { body: { campaign: 'free-them-2027', kind: 'letters', sendAt: '0000-01-01T00:00', timeZone: 'Asia/Tokyo' } });
    expect(ancient.status).toBe(422);
    expect((await ancient.json()).error.code).toBe('SEND_AT_IN_PAST');
  });

  it('New York across daylight saving: EDT, EST, the earlier 01:30 of the overlap, and the gap refused', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const at = async (sendAt: string) => (await schedule(t, update({ sendAt, timeZone: 'America/New_York' }))).sendAt;
    expect(await at('2027-09-22T09:00')).toBe('2027-09-22T13:00:00.000Z');
    expect(await at('2027-11-08T09:00')).toBe('2027-11-08T14:00:00.000Z');
    expect(await at('2027-11-07T01:30')).toBe('2027-11-07T05:30:00.000Z');
    expect(await at('2028-03-12T03:00')).toBe('2028-03-12T07:00:00.000Z');

    // 2028-03-12T02:30 never happens in New York (clocks go from 02:00 to 03:00).
    const gap = await t.request('POST', '/api/v1/mailings', { body: update({ sendAt: '2028-03-12T02:30', timeZone: 'America/New_York' }) });
    expect(gap.status).toBe(422);
    const body = await gap.json();
    expect(body.error).toMatchObject({
      code: 'LOCAL_TIME_INVALID',
      message: expect.stringContaining('the clocks jump from 02:00 to 03:00'),
      details: { path: 'sendAt', sendAt: '2028-03-12T02:30', timeZone: 'America/New_York', gap: { from: '2028-03-12T02:00', to: '2028-03-12T03:00' } },
      requestId: expect.any(String),
    });
  });

  it('a time that is due by the injected clock is refused, and becomes fine again when the clock says so', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    // The test clock stands at 2027-09-01T00:00Z = 09:00 in Tokyo.
    const past = await t.request('POST', '/api/v1/mailings', { body: update({ sendAt: '2027-09-01T09:00' }) });
    expect(past.status).toBe(422);
    expect((await past.json()).error).toMatchObject({ code: 'SEND_AT_IN_PAST', details: { path: 'sendAt', sendAt: '2027-09-01T00:00:00.000Z', now: '2027-09-01T00:00:00.000Z' } });
    // 08:00 in London on that day is still ahead (07:00Z).
    expect((await schedule(t, update({ sendAt: '2027-09-01T08:00', timeZone: 'Europe/London' }))).sendAt).toBe('2027-09-01T07:00:00.000Z');
    t.clock.set(Date.UTC(2027, 8, 1, 7, 0));
    const late = await t.request('POST', '/api/v1/mailings', { body: update({ sendAt: '2027-09-01T08:00', timeZone: 'Europe/London' }) });
    expect(late.status).toBe(422);
    expect((await late.json()).error.code).toBe('SEND_AT_IN_PAST');
  });

  it('an update without subject and body names both fields; letters refuse them', async () => {
    t = createTestApp();
    await campaignWithTarget(t);
    const bare = await t.request('POST', '/api/v1/mailings', { body: update({ subject: undefined, body: undefined }) });
    expect(bare.status).toBe(400);
    expect((await bare.json()).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [
        { path: 'subject', message: 'an update needs a subject (or a template)' },
        { path: 'body', message: 'an update needs a Markdown body (or a template)' },
      ],
    });

    const noBody = await t.request('POST', '/api/v1/mailings', { body: update({ body: undefined }) });
    expect(noBody.status).toBe(400);
    expect((await noBody.json()).error.details).toEqual([{ path: 'body', message: 'an update needs a Markdown body (or a template)' }]);

    const updateChannel = await t.request('POST', '/api/v1/mailings', { body: update({ channel: 'print' }) });
    expect(updateChannel.status).toBe(400);
    expect((await updateChannel.json()).error.details).toEqual([{ path: 'channel', message: 'only letters have a channel; updates go by email' }]);

    const letters = await t.request('POST', '/api/v1/mailings', { body: update({ kind: 'letters' }) });
    expect(letters.status).toBe(400);
    expect((await letters.json()).error.details.map((d: { path: string }) => d.path)).toEqual(['subject', 'body']);
  });

  it('a cut-off after the send time is refused', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const res = await t.request('POST', '/api/v1/mailings', { body: update({ cutoffAt: '2027-09-22T09:00:01+09:00' }) });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'cutoffAt', message: 'must not be after the send time' }] });
    expect((await t.request('POST', '/api/v1/mailings', { body: update({ cutoffAt: '2027-09-22T00:00:00Z' }) })).status).toBe(201);
  });

  it('unknown campaign 404, draft and archived 409, letters without targets 422', async () => {
    t = createTestApp();
    const unknown = await t.request('POST', '/api/v1/mailings', { body: update() });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error).toMatchObject({ code: 'NOT_FOUND', message: 'Campaign was not found.' });

    expect((await t.request('POST', '/api/v1/campaigns', { body: { slug: 'free-them-2027', title: 'Draft', locale: 'en' } })).status).toBe(201);
    const draft = await t.request('POST', '/api/v1/mailings', { body: update() });
    expect(draft.status).toBe(409);
    expect((await draft.json()).error).toMatchObject({ code: 'CAMPAIGN_NOT_OPEN', details: { status: 'draft' } });

    expect((await t.request('PATCH', '/api/v1/campaigns/free-them-2027', { body: { status: 'open' } })).status).toBe(200);
    const noTargets = await t.request('POST', '/api/v1/mailings', {
      body: { campaign: 'free-them-2027', kind: 'letters', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo' },
    });
    expect(noTargets.status).toBe(422);
    expect((await noTargets.json()).error).toMatchObject({ code: 'NO_TARGETS' });

    for (const status of ['closed', 'archived']) {
      expect((await t.request('PATCH', '/api/v1/campaigns/free-them-2027', { body: { status } })).status).toBe(200);
    }
    const archived = await t.request('POST', '/api/v1/mailings', { body: update() });
    expect(archived.status).toBe(409);
    expect((await archived.json()).error).toMatchObject({ code: 'CAMPAIGN_NOT_OPEN', details: { status: 'archived' } });
  });

  it('wrong types, unreal dates, unknown zones and unknown fields are 400 with field details', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const cases: [Record<string, unknown>, string][] = [
      [update({ kind: 'newsletter' }), 'kind'],
      [update({ sendAt: '2027-02-30T09:00' }), 'sendAt'],
      [update({ sendAt: '2027-09-22T09:00+09:00' }), 'sendAt'],
      [update({ sendAt: 20270922 }), 'sendAt'],
      [update({ timeZone: 'Mars/Olympus_Mons' }), 'timeZone'],
      [update({ cutoffAt: 'yesterday' }), 'cutoffAt'],
      [update({ ratePerMinute: 0 }), 'ratePerMinute'],
      [update({ ratePerMinute: 100_001 }), 'ratePerMinute'],
      [update({ ratePerMinute: 1.5 }), 'ratePerMinute'],
      [update({ subject: 'two\nlines' }), 'subject'],
      [update({ subject: 'x'.repeat(201) }), 'subject'],
      [update({ body: 'x'.repeat(50_001) }), 'body'],
      [update({ template: '../etc/passwd' }), 'template'],
      [update({ dryRun: 'yes' }), 'dryRun'],
      [update({ campaign: 'X' }), 'campaign'],
      [update({ priority: 'high' }), 'priority'],
    ];
    for (const [body, path] of cases) {
      const res = await t.request('POST', '/api/v1/mailings', { body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const { error } = await res.json();
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    const notJson = await t.request('POST', '/api/v1/mailings', { raw: '{', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe('MALFORMED_BODY');
    expect(await t.database.db.select().from(mailings)).toHaveLength(0);
  });
});

describe('mailings: security', () => {
  it('needs a token (401) with the deliveries scope (403) on every route', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const { id } = await schedule(t, update());
    const made = await t.request('POST', '/api/v1/tokens', { body: { name: 'campaigner', scopes: ['campaigns'] } });
    expect(made.status).toBe(201);
    const { token } = await made.json();
    const deliveries = (await (await t.request('POST', '/api/v1/tokens', { body: { name: 'sender', scopes: ['deliveries'] } })).json()).token;

    const routes: [string, string, unknown?][] = [
      ['POST', '/api/v1/mailings', update()],
      ['GET', '/api/v1/mailings'],
      ['GET', `/api/v1/mailings/${id}`],
      ['POST', `/api/v1/mailings/${id}/pause`],
      ['POST', `/api/v1/mailings/${id}/resume`],
      ['POST', `/api/v1/mailings/${id}/cancel`],
      ['GET', `/api/v1/mailings/${id}/events`],
    ];
    for (const [method, path, body] of routes) {
      const none = await t.request(method, path, { token: null, body });
      expect(none.status, `${method} ${path}`).toBe(401);
      expect((await none.json()).error).toMatchObject({ code: 'UNAUTHORIZED', requestId: expect.any(String) });
      const wrong = await t.request(method, path, { token, body });
      expect(wrong.status, `${method} ${path}`).toBe(403);
      expect((await wrong.json()).error).toMatchObject({ code: 'FORBIDDEN', details: { required: 'deliveries', granted: ['campaigns'] } });
    }
    expect((await t.request('GET', `/api/v1/mailings/${id}`, { token: deliveries })).status).toBe(200);
    expect((await t.request('GET', `/api/v1/mailings/${id}`)).status).toBe(200);
    const [row] = await t.database.db.select().from(mailings);
    expect(row?.status).toBe('scheduled');
  });

  it('unknown and malformed ids are 404 on every id route', async () => {
    t = createTestApp();
    for (const id of [missingId, 'not-an-id', "1' or '1'='1"]) {
      for (const [method, suffix] of [['GET', ''], ['POST', '/pause'], ['POST', '/resume'], ['POST', '/cancel'], ['GET', '/events']] as const) {
        const res = await t.request(method, `/api/v1/mailings/${encodeURIComponent(id)}${suffix}`);
        expect(res.status, `${method} ${id}${suffix}`).toBe(404);
        expect((await res.json()).error.code).toBe('NOT_FOUND');
      }
    }
  });
});

describe('mailings: pause, resume, cancel', () => {
  it('scheduled → paused → scheduled → cancelled, with the invalid moves refused (409)', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const { id } = await schedule(t, update());

    const resumeScheduled = await t.request('POST', `/api/v1/mailings/${id}/resume`);
    expect(resumeScheduled.status).toBe(409);
    expect((await resumeScheduled.json()).error).toMatchObject({
      code: 'INVALID_TRANSITION',
      message: 'A scheduled mailing cannot be resumed.',
      details: { from: 'scheduled', allowedFrom: ['paused'] },
    });

    t.clock.advance(60_000);
    const paused = await t.request('POST', `/api/v1/mailings/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ id, status: 'paused', updatedAt: '2027-09-01T00:01:00.000Z', finishedAt: null });

    const pauseAgain = await t.request('POST', `/api/v1/mailings/${id}/pause`);
    expect(pauseAgain.status).toBe(409);
    expect((await pauseAgain.json()).error).toMatchObject({ code: 'INVALID_TRANSITION', details: { from: 'paused' } });

    const resumed = await t.request('POST', `/api/v1/mailings/${id}/resume`);
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ status: 'scheduled', startedAt: null });

    t.clock.advance(60_000);
    const cancelled = await t.request('POST', `/api/v1/mailings/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ status: 'cancelled', finishedAt: '2027-09-01T00:02:00.000Z' });

    for (const change of ['pause', 'resume', 'cancel']) {
      const res = await t.request('POST', `/api/v1/mailings/${id}/${change}`);
      expect(res.status, change).toBe(409);
      expect((await res.json()).error).toMatchObject({ code: 'INVALID_TRANSITION', details: { from: 'cancelled' } });
    }
    expect((await (await t.request('GET', `/api/v1/mailings/${id}`)).json()).status).toBe('cancelled');
  });

  it('a mailing paused mid-run resumes as running; a paused one can be cancelled; finished and failed are final', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const { id } = await schedule(t, update());
    // What the runner (next part) will do when it starts a mailing.
    await t.database.db.update(mailings).set({ status: 'running', startedAt: Date.UTC(2027, 8, 22), total: 10, sent: 4 }).where(eq(mailings.id, id));

    expect(await (await t.request('POST', `/api/v1/mailings/${id}/pause`)).json()).toMatchObject({ status: 'paused', progress: { total: 10, sent: 4, failed: 0, skipped: 0 } });
    expect(await (await t.request('POST', `/api/v1/mailings/${id}/resume`)).json()).toMatchObject({ status: 'running', startedAt: '2027-09-22T00:00:00.000Z' });
    expect((await t.request('POST', `/api/v1/mailings/${id}/pause`)).status).toBe(200);
    expect(await (await t.request('POST', `/api/v1/mailings/${id}/cancel`)).json()).toMatchObject({ status: 'cancelled' });

    for (const status of ['finished', 'failed'] as const) {
      const other = await schedule(t, update());
      await t.database.db.update(mailings).set({ status }).where(eq(mailings.id, other.id));
      for (const change of ['pause', 'resume', 'cancel']) {
        const res = await t.request('POST', `/api/v1/mailings/${other.id}/${change}`);
        expect(res.status, `${status} ${change}`).toBe(409);
        expect((await res.json()).error).toMatchObject({ code: 'INVALID_TRANSITION', details: { from: status } });
      }
    }
  });

  it('a running mailing can be cancelled', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const { id } = await schedule(t, update());
    await t.database.db.update(mailings).set({ status: 'running', startedAt: Date.UTC(2027, 8, 22) }).where(eq(mailings.id, id));
    const res = await t.request('POST', `/api/v1/mailings/${id}/cancel`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'cancelled' });
  });

  it('of two racing changes from one status, only one applies; the other is 409', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const { id } = await schedule(t, update());
    const [pause, cancel] = await Promise.all([
      t.request('POST', `/api/v1/mailings/${id}/pause`),
      t.request('POST', `/api/v1/mailings/${id}/cancel`),
    ]);
    const statuses = [pause.status, cancel.status].sort();
    // Either both ran one after the other (pause, then cancel from paused), or one lost the race.
    expect([
      [200, 200],
      [200, 409],
    ]).toContainEqual(statuses);
    for (const loser of [pause, cancel].filter((res) => res.status === 409)) {
      expect((await loser.json()).error).toMatchObject({ code: 'INVALID_TRANSITION' });
    }
    const final = (await (await t.request('GET', `/api/v1/mailings/${id}`)).json()).status;
    if (cancel.status === 200) expect(final).toBe('cancelled');
    else expect(final).toBe('paused');
  });

  it('a change read before the runner finished the mailing does not apply, and says so', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const { id } = await schedule(t, update());
    const app = t;
    // The runner finishes the mailing between the verb's read and its write.
    const racing: Database = {
      db: app.database.db,
      statement: (query) => app.database.statement(query),
      writeReturning: (query) => app.database.writeReturning(query),
      close: () => app.database.close(),
      atomic: async (statements) => {
        await app.database.atomic([app.database.db.update(mailings).set({ status: 'finished' }).where(eq(mailings.id, id))]);
        await app.database.atomic(statements);
      },
    };
    await expect(cancelMailing({ ...app.ctx, db: racing }, id)).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
      message: 'The mailing changed status meanwhile; read it again and retry.',
      details: { status: 'finished' },
    });
    const [row] = await app.database.db.select().from(mailings).where(eq(mailings.id, id));
    expect(row).toMatchObject({ status: 'finished', finishedAt: null });
  });
});

describe('mailings: list', () => {
  it('pages newest first with a cursor and filters by campaign and status', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    await openCampaign(t, 'other-campaign');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      ids.push((await schedule(t, update({ campaign: i % 2 === 0 ? 'free-them-2027' : 'other-campaign' }))).id);
    }
    expect((await t.request('POST', `/api/v1/mailings/${ids[0]}/cancel`)).status).toBe(200);

    const first = await t.request('GET', '/api/v1/mailings?limit=2');
    expect(first.status).toBe(200);
    const page1 = await first.json();
    expect(page1.items.map((m: { id: string }) => m.id)).toEqual([ids[4], ids[3]]);
    expect(page1.items[0]).not.toHaveProperty('body');
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = await (await t.request('GET', `/api/v1/mailings?limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2.items.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[1]]);
    const page3 = await (await t.request('GET', `/api/v1/mailings?limit=2&cursor=${page2.nextCursor}`)).json();
    expect(page3).toMatchObject({ items: [{ id: ids[0], status: 'cancelled' }], nextCursor: null });

    const ofCampaign = await (await t.request('GET', '/api/v1/mailings?campaign=free-them-2027')).json();
    expect(ofCampaign.items.map((m: { id: string }) => m.id)).toEqual([ids[4], ids[2], ids[0]]);
    expect(ofCampaign.items.every((m: { campaign: string }) => m.campaign === 'free-them-2027')).toBe(true);
    const scheduledOfCampaign = await (await t.request('GET', '/api/v1/mailings?campaign=free-them-2027&status=scheduled')).json();
    expect(scheduledOfCampaign.items.map((m: { id: string }) => m.id)).toEqual([ids[4], ids[2]]);
    const cancelled = await (await t.request('GET', '/api/v1/mailings?status=cancelled')).json();
    expect(cancelled).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null });
    expect(await (await t.request('GET', '/api/v1/mailings?campaign=no-such-campaign')).json()).toEqual({ items: [], nextCursor: null });

    for (const query of ['status=sent', 'limit=0', 'limit=501', 'cursor=nonsense']) {
      const res = await t.request('GET', `/api/v1/mailings?${query}`);
      expect(res.status, query).toBe(400);
      expect((await res.json()).error.code).toBe('VALIDATION_FAILED');
    }
  });
});

type SseEvent = { event: string; data: string; id?: string };

/** Reads server-sent events from a response body as they arrive. */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    /** The next event, or null when the stream has ended. */
    async next(): Promise<SseEvent | null> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) continue;
          const event: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === 'event') event.event = value;
            else if (field === 'data') data.push(value);
            else if (field === 'id') event.id = value;
          }
          event.data = data.join('\n');
          return event;
        }
        const { done, value } = await reader.read();
        if (done) return null;
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('mailings: progress events', () => {
  it('sends the mailing at once, then each change, and ends after a final status', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const { id } = await schedule(t, update());

    const res = await t.request('GET', `/api/v1/mailings/${id}/events?pollMs=1000`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = sseReader(res);

    const first = await events.next();
    expect(first).toMatchObject({ event: 'progress', id: '2027-09-01T00:00:00.000Z' });
    const view = JSON.parse(first!.data);
    expect(view).toMatchObject({ id, status: 'scheduled', progress: { total: 0, sent: 0, failed: 0, skipped: 0 } });
    expect(view).not.toHaveProperty('body');

    // Progress the runner will write.
    await t.database.db.update(mailings).set({ status: 'running', startedAt: Date.UTC(2027, 8, 22), total: 3, sent: 1, updatedAt: Date.UTC(2027, 8, 22) }).where(eq(mailings.id, id));
    const progress = await events.next();
    expect(JSON.parse(progress!.data)).toMatchObject({ status: 'running', progress: { total: 3, sent: 1, failed: 0, skipped: 0 } });

    t.clock.advance(60_000);
    expect((await t.request('POST', `/api/v1/mailings/${id}/cancel`)).status).toBe(200);
    const last = await events.next();
    expect(last?.event).toBe('progress');
    expect(JSON.parse(last!.data)).toMatchObject({ status: 'cancelled', progress: { total: 3, sent: 1 } });
    expect(await events.next()).toBeNull();
  });

  it('a mailing already final is sent once and the stream ends; a client that leaves stops the stream', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const { id } = await schedule(t, update());
    const other = await schedule(t, update());
    expect((await t.request('POST', `/api/v1/mailings/${id}/cancel`)).status).toBe(200);

    const done = sseReader(await t.request('GET', `/api/v1/mailings/${id}/events`));
    expect(JSON.parse((await done.next())!.data)).toMatchObject({ id, status: 'cancelled' });
    expect(await done.next()).toBeNull();

    const leaving = sseReader(await t.request('GET', `/api/v1/mailings/${other.id}/events`));
    expect(JSON.parse((await leaving.next())!.data)).toMatchObject({ id: other.id, status: 'scheduled' });
    await leaving.cancel();
    // Give the polling loop (1 s) time to notice before the database closes.
    await new Promise((resolve) => setTimeout(resolve, 1100));
  });

  it('refuses a poll interval outside 1 s..10 s', async () => {
    t = createTestApp();
    await openCampaign(t, 'free-them-2027');
    const { id } = await schedule(t, update());
    for (const pollMs of ['10', '100', '999', '10001', '60000', 'soon']) {
      const res = await t.request('GET', `/api/v1/mailings/${id}/events?pollMs=${pollMs}`);
      expect(res.status, pollMs).toBe(400);
      expect((await res.json()).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'pollMs' }] });
    }
  });
});
