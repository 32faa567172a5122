import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.js';
import { OutboxSender } from '../../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../../src/mail/node/smtp-transport.js';
import { auditLog } from '../audit/helpers.js';
import { createTestApp } from '../../helpers/app.js';
import { testLinks } from '../../helpers/keys.js';
import { testOrganisation } from '../../helpers/organisation.js';
import { queuedMail, signature } from '../../helpers/signing.js';
import { issueFormToken } from '../../../src/web/public/form-tokens.js';
import { FORM_TOKEN_FIELD, LANGUAGE_FIELD } from '../../../src/web/public/sign-form.js';
import { parsePdfBytes } from '../../letters/helpers.js';
import { decodeEncodedWords, parseMail } from '../../mail/helpers/mime.js';
import { startSmtpServer, type TestSmtpServer } from '../../mail/helpers/smtp-server.js';
import { readMime } from '../deliveries/helpers.js';
import { bilingualOrganisation, campaignWithTargets, EXAMPLE_NAME, putOrganisation, SLUG, type TestApp } from './helpers.js';

const MAIL_FROM = 'Signet <no-reply@signet.test>';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

/** A new installation: the profile is whatever letters/organisation.json seeds, the shipped example. */
function freshApp(): TestApp {
  const t = createTestApp({ organisation: 'example' });
  closers.push(() => t.cleanup());
  return t;
}

async function smtp(): Promise<TestSmtpServer> {
  const server = await startSmtpServer();
  closers.push(() => server.close());
  return server;
}

/** Sends everything due in the outbox to `server`, as the server's sender would. */
async function drainTo(t: TestApp, server: TestSmtpServer) {
  const transport = new SmtpTransport({ url: server.url, dataDir: t.dataDir });
  closers.push(() => transport.close());
  return new OutboxSender({ links: testLinks, database: t.database, transport, clock: t.clock, logger: silentLogger, from: MAIL_FROM }).drainOnce();
}

const compact = (text: string) => text.replace(/\s+/g, '');

async function letterText(t: TestApp, letterId: string): Promise<string> {
  const res = await t.request('GET', `/api/v1/letters/${letterId}.pdf`);
  expect(res.status).toBe(200);
  return (await parsePdfBytes(Buffer.from(await res.arrayBuffer()))).pages.join('\n');
}

describe('a new installation speaks for nobody until its organisation is set', () => {
  it('reads the shipped example as the example, and refuses letters, previews and letters mailings with 409 ORGANISATION_NOT_SET', async () => {
    const t = freshApp();
    const { jaTarget } = await campaignWithTargets(t);

    const read = await t.request('GET', '/api/v1/organisation');
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ name: EXAMPLE_NAME, email: 'letters@example.org', isExample: true });

    const refusals = [
      await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } }),
      await t.request('GET', `/api/v1/campaigns/${SLUG}/letters/preview.pdf?target=${jaTarget}`),
      await t.request('POST', '/api/v1/mailings', { body: { campaign: SLUG, kind: 'letters', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo' } }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(409);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('ORGANISATION_NOT_SET');
      expect(error.message).toMatch(/^Set your organisation's name and address in the dashboard \(Organisation\) before (generating letters|previewing letters|scheduling letters)/);
    }
    // An update mailing speaks to supporters, not for the organisation to a target: it may be scheduled.
    const update = await t.request('POST', '/api/v1/mailings', { body: { campaign: SLUG, kind: 'update', sendAt: '2027-09-22T09:00', timeZone: 'Asia/Tokyo', subject: 'News', body: 'Thanks' } });
    expect(update.status).toBe(201);
  });

  it('never names the example as responsible for supporters\' data: the signing pages say the organisation is not set up and take no signature', async () => {
    const t = freshApp();
    await campaignWithTargets(t);
    for (const path of [`/c/${SLUG}?lang=en`, `/c/${SLUG}?lang=ja`, `/c/${SLUG}/embed?lang=en`]) {
      const res = await t.app.request(path);
      expect(res.status, path).toBe(200);
      const html = await res.text();
      expect(html, path).not.toContain(EXAMPLE_NAME);
      expect(html, path).not.toContain('letters@example.org');
      expect(html, path).not.toMatch(/action="\/c\/[^"]+\/sign"/);
      expect(html, path).toContain(path.includes('lang=ja') ? '運営する団体が、名称と所在地' : 'has not yet said who it is');
    }
    // A post made anyway (a form token from a page opened before) is refused and nothing is held.
    const posted = await t.app.request(`/c/${SLUG}/sign`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: new URLSearchParams({
        [FORM_TOKEN_FIELD]: await issueFormToken(t.ctx, `sign:${SLUG}`),
        [LANGUAGE_FIELD]: 'en',
        name: 'Late Visitor',
        email: 'late@example.jp',
        country: 'JP',
        nameOnLetter: 'none',
        showPublicly: 'no',
        updates: 'no',
      }).toString(),
    });
    expect(posted.status).toBe(409);
    const html = await posted.text();
    expect(html).toContain('has not yet said who it is');
    expect(html).not.toContain(EXAMPLE_NAME);
    expect(await queuedMail(t, 'late@example.jp')).toEqual([]);
  });
});

describe('PUT /api/v1/organisation', () => {
  it('refuses what is not a profile with 400 and the fields named, the example included', async () => {
    const t = freshApp();
    const cases: [unknown, string[]][] = [
      [{ ...testOrganisation, name: '' }, ['name']],
      [{ ...testOrganisation, email: 'not an address' }, ['email']],
      [{ ...testOrganisation, email: 'a@example.org\r\nBcc: everyone@example.org' }, ['email']],
      [{ ...testOrganisation, name: 'Rights\r\nBcc: everyone@example.org' }, ['name']],
      [{ ...testOrganisation, website: 'javascript:alert(1)' }, ['website']],
      [{ ...testOrganisation, postalAddress: { ...testOrganisation.postalAddress, lines: [], country: 'Japan' } }, ['postalAddress.lines', 'postalAddress.country']],
      [{ ...testOrganisation, signatory: { title: 'Director' } }, ['signatory.name']],
      [{ ...testOrganisation, translations: { fr: { name: 'Réseau' } } }, ['translations.fr']],
      [{ ...testOrganisation, isExample: false }, ['isExample']],
      [{ ...testOrganisation, name: EXAMPLE_NAME, email: 'letters@example.org' }, ['name', 'email']],
      [{ ...testOrganisation, translations: { en: { name: EXAMPLE_NAME } } }, ['translations.en.name']],
    ];
    for (const [body, paths] of cases) {
      const { res, body: answer } = await putOrganisation(t, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(answer.error?.code).toBe('VALIDATION_FAILED');
      const named = answer.error?.details?.map((detail) => detail.path) ?? [];
      for (const path of paths) expect(named.some((given) => given === path || given.startsWith(`${path}.`)), `${path} in ${JSON.stringify(answer.error)}`).toBe(true);
    }
    expect(await (await t.request('GET', '/api/v1/organisation')).json()).toMatchObject({ isExample: true });
  });

  it('is for organisation-wide admins only', async () => {
    const t = freshApp();
    await campaignWithTargets(t);
    const token = async (body: Record<string, unknown>) => ((await (await t.request('POST', '/api/v1/tokens', { body })).json()) as { token: string }).token;
    const letters = await token({ name: 'letters', scopes: ['letters', 'campaigns'] });
    const limitedAdmin = await token({ name: 'campaign admin', scopes: ['admin'], campaigns: [SLUG] });
    for (const bearer of [letters, limitedAdmin]) {
      expect((await t.request('GET', '/api/v1/organisation', { token: bearer })).status).toBe(403);
      const { res, body } = await putOrganisation(t, testOrganisation, bearer);
      expect(res.status).toBe(403);
      expect(body.error?.code).toBe('FORBIDDEN');
    }
    expect((await t.request('GET', '/api/v1/organisation', { token: null })).status).toBe(401);
  });

  it('saves the profile (audited), and the letters, their covering email and the signing page speak for the organisation, per language', async () => {
    const t = freshApp();
    const server = await smtp();
    const { jaTarget, enTarget } = await campaignWithTargets(t);

    const { res, body } = await putOrganisation(t, bilingualOrganisation);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ ...bilingualOrganisation, isExample: false, updatedAt: new Date(t.clock.now()).toISOString() });
    expect(await (await t.request('GET', '/api/v1/organisation')).json()).toEqual(body);
    const audited = await auditLog(t, 'action=organisation.update');
    expect(audited.items).toHaveLength(1);
    expect(audited.items[0]).toMatchObject({ action: 'organisation.update', object: { type: 'organisation' }, status: 200, via: 'api' });

    const generated = await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode: 'per_target' } });
    expect(generated.status, await generated.clone().text()).toBe(201);
    const { letters } = (await generated.json()) as { letters: { id: string; targetId: string }[] };
    const letterFor = (targetId: string) => letters.find((letter) => letter.targetId === targetId)!.id;

    // The Japanese letter: the Japanese name in the letterhead, the address in Japanese order, the Japanese signatory.
    const ja = await letterText(t, letterFor(jaTarget));
    expect(compact(ja)).toContain(compact('難民の権利ネットワーク東京'));
    expect(compact(ja)).toContain(compact('〒101-0051'));
    expect(compact(ja)).toContain(compact('東京都千代田区神田神保町2-4-6'));
    expect(compact(ja)).toContain(compact('代表理事 星野さゆり'));
    expect(ja).toContain('letters@refugee-rights.test');
    expect(ja).not.toContain(EXAMPLE_NAME);
    expect(ja).not.toContain('Hanako');
    // The English letter: the main name, address and signatory.
    const en = await letterText(t, letterFor(enTarget));
    expect(en).toContain('Refugee Rights Network Tokyo');
    expect(en).toContain('2-4-6 Kanda-Jimbocho, Chiyoda-ku');
    expect(en).toContain('Director Sayuri Hoshino');
    expect(en).not.toContain(EXAMPLE_NAME);

    // The covering email, over SMTP: from the organisation (its name in the letter's language) at MAIL_FROM's address, replies to it.
    const delivery = await t.request('POST', `/api/v1/letters/${letterFor(jaTarget)}/deliveries`, { body: { channel: 'email' } });
    expect(delivery.status, await delivery.clone().text()).toBe(201);
    await drainTo(t, server);
    const covering = server.received.find((mail) => mail.rcptTo.includes('embassy@example.org'));
    expect(covering).toBeDefined();
    expect(covering!.mailFrom).toBe('no-reply@signet.test');
    const mail = readMime(covering!.raw);
    expect(decodeEncodedWords(mail.header('from')!)).toBe('難民の権利ネットワーク東京 <no-reply@signet.test>');
    expect(mail.header('reply-to')).toBe('letters@refugee-rights.test');
    expect(decodeEncodedWords(mail.header('subject')!)).toContain('難民の権利ネットワーク東京');
    expect(covering!.raw).not.toContain('letters@example.org');

    // The signing page names the organisation as responsible for the supporters' data, and takes signatures.
    t.clock.advance(6_000);
    const page = await (await t.app.request(`/c/${SLUG}?lang=ja`)).text();
    expect(page).toContain('ご提供いただく個人情報は、難民の権利ネットワーク東京が取得し、責任をもって管理します。');
    expect(page).toContain('〒101-0051');
    expect(page).toMatch(/action="\/c\/save-refugees-2027\/sign"/);
    expect(page).not.toContain(EXAMPLE_NAME);
  });

  it('puts the organisation\'s name on every email\'s From line once set, header-safe, and MAIL_FROM as it is before', async () => {
    const t = freshApp();
    const server = await smtp();
    await campaignWithTargets(t);
    await drainTo(t, server);
    const before = server.received.find((mail) => mail.rcptTo.includes('supporter@example.jp'))!;
    expect(parseMail(before.raw).header('from')).toBe(MAIL_FROM);

    // A name with quotes and a comma: one quoted display name, nothing added to the header block.
    const name = 'Rights "Now", Tokyo';
    expect((await putOrganisation(t, { ...testOrganisation, name })).res.status).toBe(200);
    t.clock.advance(6_000);
    const signed = await t.request('POST', `/api/v1/campaigns/${SLUG}/signatures`, { token: null, body: signature('second@example.jp') });
    expect(signed.status).toBe(202);
    await drainTo(t, server);
    const after = server.received.find((mail) => mail.rcptTo.includes('second@example.jp'))!;
    expect(after.mailFrom).toBe('no-reply@signet.test');
    const from = parseMail(after.raw).header('from')!;
    expect(from).toBe('"Rights \\"Now\\", Tokyo" <no-reply@signet.test>');
    const headerBlock = after.raw.slice(0, after.raw.indexOf('\r\n\r\n'));
    expect(headerBlock.match(/^From:/gim)).toHaveLength(1);
    expect(headerBlock).not.toMatch(/^Bcc:/im);
  });
});
