import { eq } from 'drizzle-orm';
import { campaigns } from '../../../src/db/schema.js';
import { listLetterBatches } from '../../../src/services/letters.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { ADMIN_TOKEN, createTestApp, repoLettersDir } from '../../helpers/app.js';
import { adminBrowser } from '../../helpers/admin-client.js';
import { testLinks } from '../../helpers/keys.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { createRunner, readMailing, SEND_AT, SEND_AT_LOCAL, SLUG, type TestApp } from './runner-helpers.js';

/**
 * Every target reached (PRODUCT.md §12): a letters mailing to the shipped China missions, whose
 * embassy (and four consulates) have no email address. `auto` queues their letters for print and
 * emails Niigata and Osaka through a real SMTP server on 127.0.0.1; `email` warns at scheduling
 * and records each unreachable target as skipped with the reason. No figure ever passes its total.
 */

const missionsFile = join(repoLettersDir, 'targets/china-missions-japan.json');
const EMBASSY = '驻日本国特命全权大使';
const WITH_ADDRESS = ['驻新潟总领事', '驻大阪总领事'];

let t: TestApp;
let smtp: TestSmtpServer | undefined;
afterEach(async () => {
  await smtp?.close();
  smtp = undefined;
  await t?.cleanup();
});

type Outcome = { targetId: string; name: string; outcome: string; reason?: string; email?: { status: string; notBefore?: string } };
type Progress = { total: number; sent: number; failed: number; skipped: number };

/** The shipped missions as they are, a campaign to all seven, supporters in Tokyo and Osaka. */
async function setup(): Promise<Map<string, string>> {
  t = createTestApp();
  const imported = await t.request('POST', '/api/v1/targets/import', { raw: await readFile(missionsFile, 'utf8') });
  expect(imported.status).toBe(201);
  const { ids } = (await imported.json()) as { ids: string[] };
  const listed = (await (await t.request('GET', '/api/v1/targets?limit=100')).json()) as { items: { id: string; name: string; email: string | null }[] };
  expect(listed.items.find((target) => target.name === EMBASSY)?.email ?? null).toBeNull();
  await openCampaign(t, SLUG, { targetIds: ids });
  for (const [i, region] of ['JP-13', 'JP-13', 'JP-27'].entries()) {
    await signAndConfirm(t, SLUG, signature(`supporter-${i}@example.org`, { name: `Supporter ${i}`, region, consent: { nameOnLetter: 'full' } }));
    t.clock.advance(60_000);
  }
  return new Map(listed.items.map((target) => [target.name, target.id]));
}

async function schedule(extra: Record<string, unknown>) {
  const res = await t.request('POST', '/api/v1/mailings', {
    body: { campaign: SLUG, kind: 'letters', sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo', sendingWindow: null, ...extra },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; channel: string; warnings: { code: string; targetId: string; message: string }[] };
}

async function apiMailing(id: string) {
  const res = await t.request('GET', `/api/v1/mailings/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; progress: Progress; targets: Outcome[]; startedAt: string | null; finishedAt: string | null };
}

/** Runs the mailing to its end, reading its progress after every step; each sample must keep within its total. */
async function runSampling(id: string): Promise<Progress[]> {
  smtp = await startSmtpServer();
  const transport = new SmtpTransport({ url: smtp.url, dataDir: t.dataDir, maxConnections: 2 });
  const sender = new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', batchSize: 1, concurrency: 1 });
  const runner = createRunner(t);
  const samples: Progress[] = [];
  const sample = async () => samples.push((await apiMailing(id)).progress);
  t.clock.set(SEND_AT);
  try {
    for (let step = 0; step < 12 && (await readMailing(t, id)).status !== 'finished'; step++) {
      await runner.tick();
      await sample();
      await sender.drainOnce();
      await sample();
    }
  } finally {
    await transport.close();
  }
  for (const p of samples) {
    expect(p.sent + p.failed, JSON.stringify(p)).toBeLessThanOrEqual(p.total);
  }
  return samples;
}

const missionMails = () => smtp!.received.filter((mail) => mail.rcptTo.some((address) => address.endsWith('@mfa.gov.cn'))).map((mail) => mail.rcptTo[0]);

describe('a letters mailing reaches every target through its channel', () => {
  it('channel auto (the default) emails the consulates with an address and queues the embassy\'s letter for print, recording each outcome', async () => {
    const ids = await setup();
    const mailing = await schedule({});
    expect(mailing.channel).toBe('auto');
    expect(mailing.warnings.filter((warning) => warning.code === 'TARGET_UNREACHABLE')).toEqual([]);

    await runSampling(mailing.id);
    const done = await apiMailing(mailing.id);
    expect(done).toMatchObject({ status: 'finished', progress: { total: 7, sent: 7, failed: 0, skipped: 0 } });
    expect(missionMails().sort()).toEqual(['chinaconsul_nii_jp@mfa.gov.cn', 'chinaconsul_osa_jp@mfa.gov.cn']);

    const byName = new Map(done.targets.map((target) => [target.name, target]));
    expect(done.targets).toHaveLength(7);
    expect(byName.get(EMBASSY)).toEqual({ targetId: ids.get(EMBASSY), name: EMBASSY, outcome: 'queued_for_print' });
    for (const name of WITH_ADDRESS) expect(byName.get(name)).toMatchObject({ outcome: 'emailed', email: { status: 'sent' } });
    expect(done.targets.filter((target) => target.outcome === 'queued_for_print')).toHaveLength(5);
    // In the campaign's order of targets (the shipped file's: the embassy first, then north to south), not by name.
    const attached = (JSON.parse(await readFile(missionsFile, 'utf8')) as { targets: { name: string }[] }).targets.map((target) => target.name);
    expect(done.targets.map((target) => target.name)).toEqual(attached);
    expect(done.targets[0]!.name).toBe(EMBASSY);
    // The batch the mailing wrote lists its letters in the same order (the letters page shows it so).
    const [campaignRow] = await t.database.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, SLUG));
    const [batch] = await listLetterBatches(t.ctx, campaignRow!.id, 1);
    expect(batch!.letters.map((letter) => letter.targetName)).toEqual(attached);

    const queue = (await (await t.request('GET', `/api/v1/print-queue?campaign=${SLUG}`)).json()) as { items: { target: { id: string } }[] };
    expect(queue.items.map((item) => item.target.id)).toContain(ids.get(EMBASSY));
    expect(queue.items).toHaveLength(5);
  }, 90_000);

  it('an email waiting for the consulate\'s office hours says so, in the API and on the dashboard, until it is sent', async () => {
    await setup();
    // 07:30 in Tokyo: the letters are queued at once, the emails wait for 09:00 in the consulates' time zone.
    const mailing = await schedule({ sendAt: '2027-09-22T07:30', sendingWindow: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] } });
    smtp = await startSmtpServer();
    const transport = new SmtpTransport({ url: smtp.url, dataDir: t.dataDir, maxConnections: 1 });
    const sender = new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>' });
    try {
      t.clock.set(SEND_AT - 90 * 60_000);
      const runner = createRunner(t);
      for (let step = 0; step < 5; step++) await runner.tick();
      await sender.drainOnce();
      const waiting = await apiMailing(mailing.id);
      expect(waiting.status).toBe('running');
      for (const name of WITH_ADDRESS) {
        expect(waiting.targets.find((target) => target.name === name)).toMatchObject({ outcome: 'emailed', email: { status: 'queued', notBefore: new Date(SEND_AT).toISOString() } });
      }
      expect(missionMails()).toEqual([]);

      const browser = adminBrowser(t);
      await browser.login();
      const page = await browser.page(`/admin/mailings/${mailing.id}`);
      expect(page.status).toBe(200);
      const osaka = new RegExp(`data-target="[^"]+" data-outcome="emailed"><td>${WITH_ADDRESS[1]}</td><td>([^<]+)</td>`).exec(page.html)?.[1];
      expect(osaka).toMatch(/^by email: waits until .*09:00 \(Asia\/Tokyo\)$/);

      t.clock.set(SEND_AT);
      await sender.drainOnce();
      const sent = await apiMailing(mailing.id);
      for (const name of WITH_ADDRESS) expect(sent.targets.find((target) => target.name === name)).toMatchObject({ email: { status: 'sent' } });
      expect(missionMails().sort()).toEqual(['chinaconsul_nii_jp@mfa.gov.cn', 'chinaconsul_osa_jp@mfa.gov.cn']);
      const after = await browser.page(`/admin/mailings/${mailing.id}`);
      expect(after.html).toContain(`<td>${WITH_ADDRESS[1]}</td><td>by email: sent</td>`);
    } finally {
      await transport.close();
    }
  }, 90_000);

  it('channel email warns that the embassy cannot be reached, and records it skipped with the reason', async () => {
    const ids = await setup();
    const mailing = await schedule({ channel: 'email' });
    const unreachable = mailing.warnings.filter((warning) => warning.code === 'TARGET_UNREACHABLE');
    expect(unreachable.map((warning) => warning.targetId)).toContain(ids.get(EMBASSY));
    expect(unreachable).toHaveLength(5);
    expect(unreachable.find((warning) => warning.targetId === ids.get(EMBASSY))!.message).toContain(EMBASSY);

    const samples = await runSampling(mailing.id);
    expect(samples.length).toBeGreaterThan(1);
    const done = await apiMailing(mailing.id);
    expect(done).toMatchObject({ status: 'finished', progress: { total: 2, sent: 2, failed: 0, skipped: 5 } });
    expect(done.targets.find((target) => target.targetId === ids.get(EMBASSY))).toEqual({
      targetId: ids.get(EMBASSY),
      name: EMBASSY,
      outcome: 'skipped',
      reason: 'TARGET_HAS_NO_EMAIL',
    });
    expect(missionMails()).toHaveLength(2);
    const queue = (await (await t.request('GET', `/api/v1/print-queue?campaign=${SLUG}`)).json()) as { items: unknown[] };
    expect(queue.items).toEqual([]);
  }, 90_000);

  it('routed by jurisdiction, warns of the targets no supporter is routed to, and with emptyTargets skip records them skipped', async () => {
    const ids = await setup();
    const writing = await schedule({ routing: 'jurisdiction', channel: 'print' });
    const empty = writing.warnings.filter((warning) => warning.code === 'TARGET_WITHOUT_SUPPORTERS').map((warning) => warning.targetId);
    // Tokyo's supporters are the embassy's, Osaka's Osaka's: the other five consulates count none of their own.
    expect(empty.sort()).toEqual(['驻札幌总领事', '驻新潟总领事', '驻名古屋总领事', '驻福冈总领事', '驻长崎总领事'].map((name) => ids.get(name)).sort());
    expect(writing.warnings.filter((warning) => warning.code === 'TARGET_UNREACHABLE')).toEqual([]);

    const skipping = await schedule({ routing: 'jurisdiction', emptyTargets: 'skip', channel: 'print' });
    expect(skipping.warnings.find((warning) => warning.targetId === ids.get('驻长崎总领事'))?.message).toContain('gets no letter');
    await runSampling(skipping.id);
    const done = await apiMailing(skipping.id);
    expect(done.progress).toMatchObject({ total: 2, sent: 2, skipped: 5 });
    expect(done.targets.find((target) => target.targetId === ids.get('驻长崎总领事'))).toMatchObject({ outcome: 'skipped', reason: 'NO_SUPPORTERS_ROUTED' });
    expect(done.targets.find((target) => target.targetId === ids.get(EMBASSY))).toMatchObject({ outcome: 'queued_for_print' });
  }, 90_000);

  it('the dashboard\'s mailing form shows the warnings before the organiser confirms, in Japanese', async () => {
    await setup();
    const login = await t.app.request('/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin/mailings' }).toString(),
    });
    const cookie = /((?:__Secure-)?signet_session=[^;]*)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
    const form = await (await t.app.request(`/admin/mailings/new?campaign=${SLUG}&lang=ja`, { headers: { cookie } })).text();
    expect(form).toMatch(/<option value="auto" selected/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)![1]!;
    const post = (extra: Record<string, string>) =>
      t.app.request('/admin/mailings?lang=ja', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
        body: new URLSearchParams({ _csrf: csrf, campaign: SLUG, kind: 'letters', channel: 'email', sendAt: SEND_AT_LOCAL, timeZone: 'Asia/Tokyo', windowAnyTime: 'on', ...extra }).toString(),
      });

    const first = await post({});
    expect(first.status).toBe(200);
    const text = (await first.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain('予約の前に確認してください');
    expect(text).toContain(`${EMBASSY}にはメールアドレスがないため、メールでは書簡がスキップされます。`);
    expect((await (await t.request('GET', '/api/v1/mailings')).json()).items).toEqual([]);

    const confirmed = await post({ confirmWarnings: 'on' });
    expect(confirmed.status).toBe(303);
    expect((await (await t.request('GET', '/api/v1/mailings')).json()).items).toHaveLength(1);
  });

  it('the dashboard, in Japanese, says the mailing finished with targets skipped, and why, on its page and in the list', async () => {
    await setup();
    const mailing = await schedule({ channel: 'email' });

    const percentShown = (html: string) => Number(/<output[^>]*>\s*(\d+)%/.exec(html)?.[1]);

    // Running: both letters queued, none sent yet, five targets skipped. The share counts skipped in neither part.
    t.clock.set(SEND_AT);
    await createRunner(t).tick();
    expect((await readMailing(t, mailing.id)).status).toBe('running');
    // Signed in on the day (a session from weeks before would have expired).
    const login = await t.app.request('/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin/mailings' }).toString(),
    });
    expect(login.status).toBe(303);
    const cookie = /((?:__Secure-)?signet_session=[^;]*)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
    const page = async (path: string) => (await t.app.request(path, { headers: { cookie } })).text();
    const running = await page(`/admin/mailings/${mailing.id}?lang=ja`);
    expect(percentShown(running)).toBe(0);

    await runSampling(mailing.id);

    const detail = await page(`/admin/mailings/${mailing.id}?lang=ja`);
    const text = detail.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain('完了（5件スキップ）');
    expect(text).toContain('宛先ごとの結果');
    expect(text).toContain(`${EMBASSY} スキップ（メールアドレスなし）`);
    expect(text).toContain('驻大阪总领事 メールで送付');
    expect(percentShown(detail)).toBe(100);

    const list = (await page('/admin/mailings?lang=ja')).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(list).toContain('完了（5件スキップ）');
    expect(list).toContain('5件スキップ：メールアドレスなし');
  }, 90_000);
});
