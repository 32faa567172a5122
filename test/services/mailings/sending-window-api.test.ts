import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign } from '../../helpers/signing.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const SLUG = 'window-api-2027';

async function setup() {
  t = createTestApp();
  const res = await t.request('POST', '/api/v1/targets', {
    body: { name: 'Embassy', kind: 'embassy', email: 'embassy@example.org', postalAddress: { lines: ['1-1 Nagatacho'], country: 'JP' } },
  });
  const { id } = (await res.json()) as { id: string };
  await openCampaign(t, SLUG, { targetIds: [id] });
}

const schedule = (extra: Record<string, unknown>) =>
  t.request('POST', '/api/v1/mailings', { body: { campaign: SLUG, kind: 'letters', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', ...extra } });

describe('POST /mailings: sendingWindow', () => {
  it('defaults to office hours for letters by email (the default channel auto emails too), and to none for print and updates', async () => {
    await setup();
    expect(await (await schedule({})).json()).toMatchObject({ channel: 'auto', sendingWindow: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } });
    expect(await (await schedule({ channel: 'print' })).json()).toMatchObject({ channel: 'print', sendingWindow: null });
    const update = await schedule({ kind: 'update', subject: 'News', body: 'Hello' });
    expect(update.status).toBe(201);
    expect(await update.json()).toMatchObject({ sendingWindow: null });
    const listed = (await (await t.request('GET', `/api/v1/mailings?campaign=${SLUG}`)).json()) as { items: { sendingWindow: unknown }[] };
    expect(listed.items.map((item) => item.sendingWindow)).toContainEqual({ start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] });
  });

  it('refuses a malformed window with the field to fix', async () => {
    await setup();
    const cases: [unknown, string, string][] = [
      [{ start: '9:00', end: '17:00', days: [1] }, 'sendingWindow.start', 'must be a time HH:mm from 00:00 to 24:00'],
      [{ start: '24:00', end: '24:00', days: [1] }, 'sendingWindow.start', 'must be a time HH:mm from 00:00 to 23:59'],
      [{ start: '09:00', end: '25:00', days: [1] }, 'sendingWindow.end', 'must be a time HH:mm from 00:00 to 24:00'],
      [{ start: '17:00', end: '09:00', days: [1] }, 'sendingWindow.end', 'must be after start'],
      [{ start: '09:00', end: '09:00', days: [1] }, 'sendingWindow.end', 'must be after start'],
      [{ start: '09:00', end: '17:00', days: [] }, 'sendingWindow.days', 'must name at least one day'],
      [{ start: '09:00', end: '17:00', days: [1, 1] }, 'sendingWindow.days', 'must not name a day twice'],
      [{ start: '09:00', end: '17:00', days: [0] }, 'sendingWindow.days.0', 'must be 1 (Monday) to 7 (Sunday)'],
      [{ start: '09:00', end: '17:00', days: [8] }, 'sendingWindow.days.0', 'must be 1 (Monday) to 7 (Sunday)'],
      [{ start: '09:00', end: '17:00', days: [1.5] }, 'sendingWindow.days.0', 'must be a whole number'],
    ];
    for (const [sendingWindow, path, message] of cases) {
      const res = await schedule({ sendingWindow });
      expect(res.status, JSON.stringify(sendingWindow)).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } };
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.details).toContainEqual({ path, message });
    }
    const extra = await schedule({ sendingWindow: { start: '09:00', end: '17:00', days: [1], zone: 'UTC' } });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe('sendingWindow.zone');
    const notAnObject = await schedule({ sendingWindow: 'office hours' });
    expect(notAnObject.status).toBe(400);
  });

  it('is only for letters by email', async () => {
    await setup();
    const window = { start: '09:00', end: '17:00', days: [1] };
    const update = await schedule({ kind: 'update', subject: 'News', body: 'Hello', sendingWindow: window });
    expect(update.status).toBe(400);
    expect(((await update.json()) as { error: { details: unknown } }).error.details).toEqual([{ path: 'sendingWindow', message: 'only letters to targets have a sending window' }]);
    const updateNull = await schedule({ kind: 'update', subject: 'News', body: 'Hello', sendingWindow: null });
    expect(updateNull.status).toBe(400);
    const print = await schedule({ channel: 'print', sendingWindow: window });
    expect(print.status).toBe(400);
    expect(((await print.json()) as { error: { details: unknown } }).error.details).toEqual([{ path: 'sendingWindow', message: 'only letters by email have a sending window' }]);
  });

  it('appears in the OpenAPI document', async () => {
    t = createTestApp();
    const doc = JSON.stringify(await (await t.request('GET', '/api/v1/openapi.json', { token: null })).json());
    expect(doc).toContain('sendingWindow');
    expect(doc).toContain('/api/v1/outbox/{id}/retry');
  });
});
