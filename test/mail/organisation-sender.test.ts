import MailComposer from 'nodemailer/lib/mail-composer';
import { afterEach, describe, expect, it } from 'vitest';
import { composeMimeMessage, parseSender } from '../../src/mail/transports/mime-message.js';
import { toNodemailerFields } from '../../src/mail/node/nodemailer-fields.js';
import { OrganisationSender, senderWithName } from '../../src/mail/organisation-sender.js';
import type { OutgoingMail } from '../../src/mail/transports/transport.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createTestApp } from '../helpers/app.js';
import { storeTestOrganisation, testOrganisation } from '../helpers/organisation.js';
import { decodeEncodedWords } from './helpers/mime.js';

const MAIL_FROM = 'Signet <no-reply@signet.example>';

function mail(from: string): OutgoingMail {
  return { from, messageId: '<1@signet.example>', to: { address: 'aiko@example.com' }, subject: 'Hello', text: 'Hello', html: '<p>Hello</p>' };
}

/** The From header of the message each runtime's transport writes: nodemailer (Node) and composeMimeMessage (Workers). */
async function fromHeaders(from: string): Promise<string[]> {
  const node = (await new MailComposer(toNodemailerFields(mail(from))).compile().build()).toString('utf8');
  const worker = composeMimeMessage(mail(from), { date: Date.UTC(2027, 8, 22), attachments: [] });
  return [node, worker].map((raw) => {
    const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
    const lines = head.split('\r\n').filter((line) => /^from:/i.test(line));
    expect(lines).toHaveLength(1);
    return decodeEncodedWords(lines[0]!.replace(/^from:\s*/i, ''));
  });
}

describe('the From line under the organisation\'s name', () => {
  it('keeps MAIL_FROM\'s address, and gives each runtime one display name it cannot break out of', async () => {
    for (const [name, shown] of [
      ['Refugee Rights Network Tokyo', ['Refugee Rights Network Tokyo', '"Refugee Rights Network Tokyo"']],
      ['難民の権利ネットワーク東京', ['難民の権利ネットワーク東京']],
      ['Rights "Now", Tokyo', ['"Rights \\"Now\\", Tokyo"']],
      ['Evil\r\nBcc: everyone@example.org', ['"Evil Bcc: everyone@example.org"', 'Evil Bcc: everyone@example.org']],
      ['A <b@example.org> \\ C', ['"A <b@example.org> \\\\ C"']],
    ] as const) {
      const from = senderWithName(MAIL_FROM, name);
      expect(from).not.toMatch(/[\r\n]/);
      expect(parseSender(from)).toEqual({ name: name.replace(/\s+/g, ' '), address: 'no-reply@signet.example' });
      for (const header of await fromHeaders(from)) {
        expect(header.endsWith(' <no-reply@signet.example>'), header).toBe(true);
        expect(shown as readonly string[], header).toContain(header.slice(0, -' <no-reply@signet.example>'.length));
      }
    }
    // A MAIL_FROM that names no address is left as it is: the transport then says what is wrong with it.
    expect(senderWithName('not an address', 'Network')).toBe('not an address');
  });

  it('reads the saved profile, in the message\'s language, and MAIL_FROM while it is the example', async () => {
    const example = createTestApp({ organisation: 'example' });
    const saved = createTestApp();
    try {
      expect(await new OrganisationSender(example.database, MAIL_FROM, example.clock, silentLogger).fromLine('ja')).toBe(MAIL_FROM);
      storeTestOrganisation(saved.database, { ...testOrganisation, translations: { ja: { name: '難民の権利ネットワーク東京' } } });
      const sender = new OrganisationSender(saved.database, MAIL_FROM, saved.clock, silentLogger);
      expect(await sender.fromLine('ja')).toBe('"難民の権利ネットワーク東京" <no-reply@signet.example>');
      expect(await sender.fromLine('en')).toBe('"Refugee Rights Network Tokyo" <no-reply@signet.example>');
      expect(await sender.fromLine(undefined)).toBe('"Refugee Rights Network Tokyo" <no-reply@signet.example>');
    } finally {
      await example.cleanup();
      await saved.cleanup();
    }
  });
});
