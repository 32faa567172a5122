import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox } from '../../../src/db/schema.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { unsubscribeToken } from '../../../src/services/unsubscribe-links.js';
import { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';
import { signAndConfirm, signature } from '../../helpers/signing.js';
import { parseMail, partText } from '../../mail/helpers/mime.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { createRunner, readMailing } from '../mailings/runner-helpers.js';
import { adminClient } from '../replies/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
let smtp: TestSmtpServer | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
  await smtp?.close();
  smtp = undefined;
  await t?.cleanup();
});

const NEW_URL = 'http://localhost:3000/c/refugees-2027';

const SUPPORTERS = {
  consented: ['hanako@example.jp', 'taro@example.jp'],
  notConsented: 'quiet@example.jp',
  unsubscribed: 'gone@example.jp',
  pending: 'never-confirmed@example.jp',
};

/** Last year's campaign (Japanese, closed) with its supporters, and this year's clone, opened. */
async function lastYearAndThisYear(options: { openNew?: boolean } = {}) {
  const target = await t.request('POST', '/api/v1/targets', {
    body: { name: '中華人民共和国駐日本国大使館', kind: 'embassy', postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', country: 'JP' }, language: 'ja' },
  });
  const targetId = (await target.json()).id as string;
  const created = await t.request('POST', '/api/v1/campaigns', {
    body: { slug: 'refugees-2026', title: '北朝鮮難民を守れ 2026', locale: 'ja', timeZone: 'Asia/Tokyo', targetIds: [targetId] },
  });
  expect(created.status).toBe(201);
  expect((await t.request('PATCH', '/api/v1/campaigns/refugees-2026', { body: { status: 'open' } })).status).toBe(200);
  for (const email of SUPPORTERS.consented) await signAndConfirm(t, 'refugees-2026', signature(email, { name: `支援者 ${email}`, consent: { nameOnLetter: 'full', updates: true } }));
  await signAndConfirm(t, 'refugees-2026', signature(SUPPORTERS.notConsented, { consent: { nameOnLetter: 'full', updates: false } }));
  const leaving = await signAndConfirm(t, 'refugees-2026', signature(SUPPORTERS.unsubscribed, { consent: { nameOnLetter: 'full', updates: true } }));
  // Unsubscribed the way the link in an update does it.
  const unsubscribed = await t.request('POST', '/api/v1/unsubscribe', { token: null, body: { token: await unsubscribeToken(t.ctx, leaving) } });
  expect(unsubscribed.status, await unsubscribed.clone().text()).toBe(200);
  const pending = await t.request('POST', '/api/v1/campaigns/refugees-2026/signatures', { token: null, body: signature(SUPPORTERS.pending, { consent: { nameOnLetter: 'full', updates: true } }) });
  expect(pending.status).toBe(202);
  expect((await t.request('PATCH', '/api/v1/campaigns/refugees-2026', { body: { status: 'closed' } })).status).toBe(200);

  const cloned = await t.request('POST', '/api/v1/campaigns/refugees-2026/clone', {
    body: { slug: 'refugees-2027', title: '北朝鮮難民を守れ 2027' },
  });
  expect(cloned.status).toBe(201);
  if (options.openNew !== false) expect((await t.request('PATCH', '/api/v1/campaigns/refugees-2027', { body: { status: 'open' } })).status).toBe(200);
}

describe('year to year: inviting last round’s supporters', () => {
  it('schedules an update on last year’s campaign that reaches exactly the supporters who consented, with the new link', async () => {
    t = createTestApp();
    await lastYearAndThisYear();

    const res = await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { body: {} });
    expect(res.status, await res.clone().text()).toBe(201);
    const invited = await res.json();
    expect(invited).toMatchObject({
      from: 'refugees-2026',
      recipients: 2,
      mailing: { campaign: 'refugees-2026', kind: 'update', status: 'scheduled', timeZone: 'Asia/Tokyo', subject: '改めてご署名のお願い：北朝鮮難民を守れ 2027' },
    });
    expect(invited.mailing.body).toContain(NEW_URL);
    expect(invited.mailing.body).toContain('今年も「**北朝鮮難民を守れ 2027**」を行います');
    // As soon as possible: the next whole minute after a minute from now.
    expect(Date.parse(invited.mailing.sendAt)).toBe(t.clock.now() + 60_000);

    // The real pipeline: the runner queues the update, the sender hands it to an SMTP server.
    const runner = createRunner(t);
    t.clock.set(Date.parse(invited.mailing.sendAt));
    await runner.tick();
    const queued = await t.database.db.select({ recipient: outbox.recipient }).from(outbox).where(eq(outbox.mailingId, invited.mailing.id));
    expect(queued.map((row) => row.recipient).sort()).toEqual([...SUPPORTERS.consented].sort());

    smtp = await startSmtpServer();
    const transport = new SmtpTransport({ url: smtp.url, dataDir: t.dataDir });
    closers.push(() => transport.close());
    const sender = new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>' });
    while ((await sender.drainOnce()).sent > 0);
    await runner.tick();
    expect(await readMailing(t, invited.mailing.id)).toMatchObject({ status: 'finished', sent: 2, lastError: null });

    const invitations = smtp.received
      .map((mail) => ({ to: mail.rcptTo[0]!, parsed: parseMail(mail.raw) }))
      .filter(({ parsed }) => parsed.decodedHeader('Subject') === '改めてご署名のお願い：北朝鮮難民を守れ 2027');
    expect(invitations.map((mail) => mail.to).sort()).toEqual([...SUPPORTERS.consented].sort());
    for (const { to, parsed } of invitations) {
      const text = partText(parsed, 'text/plain');
      expect(text).toContain(NEW_URL);
      expect(text).toContain(`支援者 ${to} 様`);
      // The footer says why it came (last year's campaign) and how to stop it.
      expect(text).toContain('「北朝鮮難民を守れ 2026」へのご署名の際に');
      expect(partText(parsed, 'text/html')).toContain(`href="${NEW_URL}"`);
    }
    // Nobody else got anything from this mailing (confirmation emails aside, sent when they signed).
    const others = smtp.received.filter((mail) => partText(parseMail(mail.raw), 'text/plain').includes(NEW_URL)).map((mail) => mail.rcptTo[0]);
    expect(others.sort()).toEqual([...SUPPORTERS.consented].sort());
  }, 60_000);

  it('takes the organiser’s own texts and time, and keeps the new campaign’s link in them', async () => {
    t = createTestApp();
    await lastYearAndThisYear();
    const withoutLink = await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { body: { subject: 'We are back', body: 'Sign again please.' } });
    expect(withoutLink.status).toBe(400);
    expect((await withoutLink.json()).error.details).toEqual([{ path: 'body', message: `must contain the link to the new campaign: ${NEW_URL}` }]);

    const res = await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', {
      body: { subject: 'We are back', body: `Sign again: ${NEW_URL}`, sendAt: '2027-09-10T10:00', timeZone: 'Asia/Tokyo' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { mailing } = await res.json();
    expect(mailing).toMatchObject({ subject: 'We are back', body: `Sign again: ${NEW_URL}`, sendAtLocal: '2027-09-10T10:00', sendAt: '2027-09-10T01:00:00.000Z' });
    const first = mailing.id as string;
    // A second invitation while the first has not gone out would email everyone twice.
    const twice = await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { body: {} });
    expect(twice.status).toBe(409);
    expect((await twice.json()).error).toMatchObject({ code: 'CONFLICT', details: { mailing: first, status: 'scheduled' } });
    expect((await t.request('POST', `/api/v1/mailings/${first}/cancel`)).status).toBe(200);
    expect((await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { body: {} })).status).toBe(201);
    const mailings = await (await t.request('GET', '/api/v1/mailings?campaign=refugees-2026')).json();
    expect(mailings.items.map((m: { status: string }) => m.status).sort()).toEqual(['cancelled', 'scheduled']);
  });

  it('refuses without an earlier round (422 NO_PREVIOUS_CAMPAIGN), for a draft (409 CAMPAIGN_NOT_OPEN), and before the campaign opens', async () => {
    t = createTestApp();
    await lastYearAndThisYear({ openNew: false });
    const draft = await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { body: {} });
    expect(draft.status).toBe(409);
    expect((await draft.json()).error).toMatchObject({ code: 'CAMPAIGN_NOT_OPEN', details: { status: 'draft' } });

    const first = await t.request('POST', '/api/v1/campaigns', { body: { slug: 'first-ever', title: 'First', locale: 'en' } });
    expect(first.status).toBe(201);
    await t.request('PATCH', '/api/v1/campaigns/first-ever', { body: { status: 'open' } });
    const none = await t.request('POST', '/api/v1/campaigns/first-ever/invite-previous', { body: {} });
    expect(none.status).toBe(422);
    expect((await none.json()).error).toMatchObject({ code: 'NO_PREVIOUS_CAMPAIGN', details: { path: 'from' } });
    // Naming the earlier round works for a campaign that was not cloned, in its language (English here: the earlier one is Japanese).
    const named = await t.request('POST', '/api/v1/campaigns/first-ever/invite-previous', { body: { from: 'refugees-2026' } });
    expect(named.status, await named.clone().text()).toBe(201);
    expect((await named.json()).mailing.body).toContain('http://localhost:3000/c/first-ever');
    expect((await t.request('POST', '/api/v1/campaigns/first-ever/invite-previous', { body: { from: 'first-ever' } })).status).toBe(400);
    expect((await t.request('POST', '/api/v1/campaigns/nothing/invite-previous', { body: {} })).status).toBe(404);

    // Open, but signing starts on 1 October: the invitation waits for it, and may not go earlier.
    await t.request('PATCH', '/api/v1/campaigns/refugees-2027', { body: { status: 'open', opensAt: '2027-10-01T09:00:00+09:00' } });
    const early = await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { body: { sendAt: '2027-09-30T09:00' } });
    expect(early.status).toBe(400);
    expect((await early.json()).error.details[0]).toMatchObject({ path: 'sendAt' });
    const waiting = await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { body: {} });
    expect(waiting.status).toBe(201);
    expect((await waiting.json()).mailing).toMatchObject({ sendAtLocal: '2027-10-01T09:00', sendAt: '2027-10-01T00:00:00.000Z' });
  });

  it('needs write access to both rounds and the deliveries scope', async () => {
    t = createTestApp();
    await lastYearAndThisYear();
    const token = async (scopes: string[], campaigns?: string[]) => {
      const res = await t.request('POST', '/api/v1/tokens', { body: { name: 'limited', scopes, ...(campaigns ? { campaigns } : {}) } });
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()).token as string;
    };
    const newOnly = await token(['deliveries'], ['refugees-2027']);
    const hidden = await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { token: newOnly, body: {} });
    expect(hidden.status).toBe(404);
    expect((await hidden.json()).error.message).toBe('Previous campaign was not found.');
    const oldOnly = await token(['deliveries'], ['refugees-2026']);
    expect((await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { token: oldOnly, body: {} })).status).toBe(404);
    const noScope = await token(['campaigns']);
    expect((await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { token: noScope, body: {} })).status).toBe(403);
    const both = await token(['deliveries'], ['refugees-2026', 'refugees-2027']);
    expect((await t.request('POST', '/api/v1/campaigns/refugees-2027/invite-previous', { token: both, body: {} })).status).toBe(201);
  });

  it('takes a few clicks in the dashboard: the card on the new campaign, one button, then the mailing’s progress page', async () => {
    t = createTestApp();
    await lastYearAndThisYear({ openNew: false });
    const admin = adminClient(t);
    await admin.login();

    // A draft: the card says how many would be invited, and to open the campaign first.
    const draft = await admin.page('/admin/campaigns/refugees-2027');
    expect(draft.res.status).toBe(200);
    expect(draft.html).toContain('Invite the supporters of “北朝鮮難民を守れ 2026”');
    expect(draft.html).toContain('2 supporters of the earlier round agreed to receive updates');
    expect(draft.html).toContain('Open this campaign first');
    expect(draft.html).not.toContain('action="/admin/campaigns/refugees-2027/invite-previous"');

    await t.request('PATCH', '/api/v1/campaigns/refugees-2027', { body: { status: 'open' } });
    const open = await admin.page('/admin/campaigns/refugees-2027?lang=ja');
    expect(open.html).toContain('「北朝鮮難民を守れ 2026」の賛同者を招待する');
    expect(open.html).toContain('前回の賛同者のうち 2 人が');
    expect(open.html).toContain('action="/admin/campaigns/refugees-2027/invite-previous"');
    // Prefilled with the default invitation, link included.
    expect(open.html).toContain('value="改めてご署名のお願い：北朝鮮難民を守れ 2027"');
    expect(open.html).toContain(NEW_URL);

    // A token without the deliveries scope sees the count but no button.
    const res = await t.request('POST', '/api/v1/tokens', { body: { name: 'campaigns only', scopes: ['campaigns'] } });
    const viewer = adminClient(t);
    await viewer.login((await res.json()).token);
    const page = await viewer.page('/admin/campaigns/refugees-2027');
    expect(page.html).toContain('needs a token with the “deliveries” scope');
    expect(page.html).not.toContain('action="/admin/campaigns/refugees-2027/invite-previous"');

    const subject = /name="subject" type="text" value="([^"]*)"/.exec(open.html)![1]!;
    const body = /<textarea id="f-body" name="body"[^>]*>([^<]*)<\/textarea>/.exec(open.html)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    const withoutLink = await admin.post('/admin/campaigns/refugees-2027/invite-previous', { subject, body: 'No link here', sendAt: '' });
    expect(withoutLink.status).toBe(422);
    expect(await withoutLink.text()).toContain('must contain the link to the new campaign');

    const scheduled = await admin.post('/admin/campaigns/refugees-2027/invite-previous', { subject, body, sendAt: '' });
    expect(scheduled.status, await scheduled.clone().text()).toBe(303);
    const location = scheduled.headers.get('location')!;
    expect(location).toMatch(/^\/admin\/mailings\/[0-9a-f-]{36}\?done=scheduled$/);
    const progress = await admin.page(location);
    expect(progress.res.status).toBe(200);
    const id = /mailings\/([0-9a-f-]{36})/.exec(location)![1]!;
    expect(await readMailing(t, id)).toMatchObject({ kind: 'update', status: 'scheduled', subject: '改めてご署名のお願い：北朝鮮難民を守れ 2027' });
    expect((await readMailing(t, id)).body).toContain(NEW_URL);
    // Back on the campaign's page, the card links to the invitation and offers no second one while it waits.
    const after = await admin.page('/admin/campaigns/refugees-2027');
    expect(after.html).toContain(`href="/admin/mailings/${id}"`);
    expect(after.html).toContain('An invitation is scheduled and has not gone out yet.');
    expect(after.html).not.toContain('action="/admin/campaigns/refugees-2027/invite-previous"');

  });
});
