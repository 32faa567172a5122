import { Readable } from 'node:stream';
import { toNodemailerFields } from '../../../src/mail/node/nodemailer-fields.js';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { composeMimeMessage, formatMailDate, loadAttachments, parseSender, quotedPrintable } from '../../../src/mail/transports/mime-message.js';
import { dotStuff } from '../../../src/mail/transports/smtp-socket-transport.js';
import { MailSendError, type OutgoingMail } from '../../../src/mail/transports/transport.js';
import { decodeEncodedWords } from '../helpers/mime.js';
import { headerParameter } from '../helpers/mime-params.js';
import { mimeLeaves, type MimeLeafBytes } from '../helpers/mime-parts.js';

const date = Date.UTC(2026, 2, 4, 5, 6, 7);
const pdf = Uint8Array.from({ length: 3000 }, (_, i) => (i * 37 + 11) % 256);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** An update email as src/mail/update-email.ts writes it: one-click unsubscribe headers, a Japanese name and subject. */
function updateMail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    from: 'Signet <no-reply@signet.example>',
    messageId: '<0190f00d-0000-7000-8000-000000000001@signet.example>',
    to: { name: '田中 愛子', address: 'aiko@example.com' },
    subject: '多摩川を守ろう：署名が1万筆を超えました。ご協力ありがとうございます！次は市議会です',
    text: '田中 愛子 様\n\n.先頭の点\n= 等号 =\n行末の空白 \n\n-- \nUnsubscribe: https://signet.example/unsubscribe/tok\n',
    html: '<p>田中 愛子 様</p>\n<p>Thank you</p>',
    headers: {
      'List-Unsubscribe': '<https://signet.example/unsubscribe/eyJhbGciOiJIUzI1NiJ9.c2lnbmF0dXJlLTAxOTBmMDBk.abcdefghijklmnop>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Auto-Submitted': 'auto-generated',
      Precedence: 'bulk',
    },
    ...overrides,
  };
}

/** A text part's text, line breaks as LF (MIME's are CRLF; nodemailer keeps the input's LF). */
function text(leaf: MimeLeafBytes | undefined): string {
  if (!leaf) throw new Error('no such part');
  return utf8.decode(leaf.bytes).replace(/\r\n/g, '\n');
}

function leafOf(leaves: MimeLeafBytes[], type: string): MimeLeafBytes {
  const matches = leaves.filter((leaf) => leaf.contentType === type);
  expect(matches, type).toHaveLength(1);
  return matches[0]!;
}

/** What a reader of the message sees in its headers: names and decoded values. */
function decodedHeaders(headers: Map<string, string>): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const [name, value] of headers) if (name !== 'content-type') seen[name] = decodeEncodedWords(value);
  return seen;
}

async function nodemailerMessage(mail: OutgoingMail, attachments: { filename: string; contentType: string; content: Uint8Array }[]): Promise<string> {
  const opened = attachments.map((attachment) => ({ ...attachment, content: Readable.from([Buffer.from(attachment.content)]) }));
  const raw = await new MailComposer({ ...toNodemailerFields(mail, opened), date: new Date(date) }).compile().build();
  return raw.toString('latin1');
}

describe('composeMimeMessage: the same message as nodemailer on Node', () => {
  it('carries the same headers, decoded, and the same text, HTML and attachment', async () => {
    const mail = updateMail({ attachments: [{ filename: '多摩川 letter 2026.pdf', contentType: 'application/pdf', storedPath: 'letters/a/b.pdf' }] });
    const attachments = [{ filename: '多摩川 letter 2026.pdf', contentType: 'application/pdf', content: pdf }];
    const ours = mimeLeaves(composeMimeMessage(mail, { date, attachments }));
    const node = mimeLeaves(await nodemailerMessage(mail, attachments), { strict: false });

    expect(decodedHeaders(ours.headers)).toEqual(decodedHeaders(node.headers));
    expect(decodedHeaders(ours.headers)).toMatchObject({
      from: 'Signet <no-reply@signet.example>',
      to: '田中 愛子 <aiko@example.com>',
      subject: mail.subject,
      'message-id': mail.messageId,
      date: 'Wed, 04 Mar 2026 05:06:07 +0000',
      'list-unsubscribe': mail.headers!['List-Unsubscribe'],
      'list-unsubscribe-post': 'List-Unsubscribe=One-Click',
      'mime-version': '1.0',
    });
    expect(ours.headers.get('content-type')).toMatch(/^multipart\/mixed;/);
    expect(node.headers.get('content-type')).toMatch(/^multipart\/mixed;/);

    expect(ours.leaves.map((leaf) => leaf.contentType)).toEqual(node.leaves.map((leaf) => leaf.contentType));
    expect(text(leafOf(ours.leaves, 'text/plain'))).toBe(text(leafOf(node.leaves, 'text/plain')));
    expect(text(leafOf(ours.leaves, 'text/html'))).toBe(text(leafOf(node.leaves, 'text/html')));
    const ourPdf = leafOf(ours.leaves, 'application/pdf');
    const nodePdf = leafOf(node.leaves, 'application/pdf');
    expect(ourPdf.bytes).toEqual(pdf);
    expect(nodePdf.bytes).toEqual(pdf);
    for (const leaf of [ourPdf, nodePdf]) {
      expect(headerParameter(leaf.headers.get('content-disposition')!, 'filename')).toBe('多摩川 letter 2026.pdf');
      expect(headerParameter(leaf.headers.get('content-type')!, 'name')).toBe('多摩川 letter 2026.pdf');
      expect(leaf.headers.get('content-disposition')).toMatch(/^attachment;/);
    }
  });

  it('without attachments is a multipart/alternative of text and HTML, as on Node', () => {
    const { headers, leaves } = mimeLeaves(composeMimeMessage(updateMail(), { date }));
    expect(headers.get('content-type')).toMatch(/^multipart\/alternative; boundary="=_signet_[0-9A-F]{24}"$/);
    expect(leaves.map((leaf) => leaf.contentType)).toEqual(['text/plain', 'text/html']);
    expect(leaves[0]!.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('sends one part when the HTML is empty, as nodemailer does', () => {
    const { headers, leaves } = mimeLeaves(composeMimeMessage(updateMail({ html: '' }), { date }));
    expect(headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(leaves).toHaveLength(1);
  });
});

describe('composeMimeMessage: headers', () => {
  it('keeps header lines 7-bit and within 78 characters unless one word is longer, each encoded word decodable on its own', () => {
    const raw = composeMimeMessage(updateMail({ subject: '保护长江：'.repeat(30) }), { date });
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    expect(head).toContain('\r\nList-Unsubscribe:\r\n <https://');
    for (const line of head.split('\r\n')) {
      if (!/^ \S+$/.test(line)) expect(line.length, line).toBeLessThanOrEqual(78);
      expect(line).toMatch(/^[\x20-\x7e]*$/);
    }
    const words = head.match(/=\?UTF-8\?B\?[^?]*\?=/g)!;
    expect(words.length).toBeGreaterThan(10);
    for (const word of words) {
      expect(word.length).toBeLessThanOrEqual(75);
      expect(() => utf8.decode(Buffer.from(word.slice(10, -2), 'base64'))).not.toThrow();
    }
    expect(decodeEncodedWords(mimeLeaves(raw).headers.get('subject')!)).toBe('保护长江：'.repeat(30));
  });

  it('folds a long ASCII subject at spaces and leaves it readable', () => {
    const subject = 'An update on the campaign to save the Tama River, with news from the city council and next steps';
    const raw = composeMimeMessage(updateMail({ subject }), { date });
    expect(raw).toContain('Subject: An update on the campaign to save the Tama River, with news from the\r\n city council and next steps\r\n');
    expect(mimeLeaves(raw).headers.get('subject')).toBe(subject);
  });

  it('writes display names as atoms, quoted strings or encoded words', () => {
    const cases: [OutgoingMail['to'], string][] = [
      [{ name: 'Ada Lovelace', address: 'ada@example.com' }, 'To: Ada Lovelace <ada@example.com>'],
      [{ name: 'Doe, John', address: 'john@example.com' }, 'To: "Doe, John" <john@example.com>'],
      [{ name: 'Say "hi" \\o/', address: 'hi@example.com' }, 'To: "Say \\"hi\\" \\\\o/" <hi@example.com>'],
      [{ name: '=?UTF-8?B?QQ==?=', address: 'w@example.com' }, 'To: =?UTF-8?B?PT9VVEYtOD9CP1FRPT0/PQ==?= <w@example.com>'],
      [{ address: 'bare@example.com' }, 'To: bare@example.com'],
      [{ name: '', address: 'empty@example.com' }, 'To: empty@example.com'],
    ];
    for (const [to, line] of cases) {
      const raw = composeMimeMessage(updateMail({ to }), { date });
      expect(raw.split('\r\n')).toContain(line);
    }
  });

  it('reads MAIL_FROM in its usual forms', () => {
    expect(parseSender('Signet <no-reply@signet.example>')).toEqual({ name: 'Signet', address: 'no-reply@signet.example' });
    expect(parseSender('"Tama, River" <a@b.example>')).toEqual({ name: 'Tama, River', address: 'a@b.example' });
    expect(parseSender('  a@b.example ')).toEqual({ address: 'a@b.example' });
    expect(parseSender('<a@b.example>')).toEqual({ address: 'a@b.example' });
    const raw = composeMimeMessage(updateMail({ from: '多摩川の会 <info@tama.example>' }), { date });
    expect(decodeEncodedWords(mimeLeaves(raw).headers.get('from')!)).toBe('多摩川の会 <info@tama.example>');
  });

  it('treats a MAIL_FROM without an address as a setting to fix (temporary)', () => {
    for (const from of ['Signet', 'Signet <not an address>', '']) {
      expect(() => parseSender(from)).toThrow(MailSendError);
      expect(() => parseSender(from)).toThrow(expect.objectContaining({ permanent: false, code: 'ECONFIG' }));
    }
  });

  it('lets no line break in a name or subject start a header, and refuses one in a custom header', () => {
    const raw = composeMimeMessage(
      updateMail({ to: { name: 'Eve\r\nBcc: evil@example.com', address: 'eve@example.com' }, subject: 'Hi\r\nBcc: evil@example.com' }),
      { date },
    );
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    expect(head.split('\r\n').filter((line) => /^bcc:/i.test(line))).toEqual([]);
    expect(mimeLeaves(raw).headers.get('subject')).toBe('Hi Bcc: evil@example.com');
    expect(() => composeMimeMessage(updateMail({ headers: { 'X-Note': 'a\r\nBcc: evil@example.com' } }), { date })).toThrow(
      expect.objectContaining({ permanent: true, code: 'INVALID_HEADER' }),
    );
  });

  it('refuses a custom header that cannot be folded under 998 characters', () => {
    const headers = { 'List-Unsubscribe': `<https://signet.example/${'a'.repeat(1000)}>` };
    expect(() => composeMimeMessage(updateMail({ headers }), { date })).toThrow(expect.objectContaining({ permanent: true, code: 'HEADER_TOO_LONG' }));
    // A subject is text, not a URL: an unbreakable word is encoded, which folds.
    const raw = composeMimeMessage(updateMail({ subject: 'x'.repeat(1200) }), { date });
    expect(decodeEncodedWords(mimeLeaves(raw).headers.get('subject')!)).toBe('x'.repeat(1200));
  });

  it('formats the date as nodemailer does', () => {
    expect(formatMailDate(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('Fri, 02 Jan 2026 03:04:05 +0000');
  });
});

describe('composeMimeMessage: bodies and attachments', () => {
  it('encodes text as quoted-printable that decodes to the same text, with CRLF', () => {
    const body = `${'長い行'.repeat(40)}\nend with space \nend with tab\t\n= sign\n.dot`;
    const encoded = quotedPrintable(body);
    for (const line of encoded.split('\r\n')) {
      expect(line.length).toBeLessThanOrEqual(76);
      expect(line).not.toMatch(/[ \t]$/);
      expect(line).toMatch(/^[\x21-\x7e \t]*$/);
    }
    const { leaves } = mimeLeaves(composeMimeMessage(updateMail({ text: body }), { date }));
    expect(utf8.decode(leafOf(leaves, 'text/plain').bytes)).toBe(body.replace(/\n/g, '\r\n'));
  });

  it('sends attachment bytes unchanged in base64 lines of 76, with long non-ASCII names in RFC 2231 sections', () => {
    const all = Uint8Array.from({ length: 256 * 4 }, (_, i) => i % 256);
    const filename = `${'署名者一覧'.repeat(12)}.pdf`;
    const raw = composeMimeMessage(updateMail({ attachments: [{ filename, contentType: 'application/pdf', storedPath: 'letters/x.pdf' }] }), {
      date,
      attachments: [{ filename, contentType: 'application/pdf', content: all }],
    });
    const { leaves } = mimeLeaves(raw);
    const attachment = leafOf(leaves, 'application/pdf');
    expect(attachment.bytes).toEqual(all);
    expect(attachment.headers.get('content-disposition')).toMatch(/^attachment; filename\*0\*=utf-8''%E7%BD%B2/);
    expect(headerParameter(attachment.headers.get('content-disposition')!, 'filename')).toBe(filename);
    expect(headerParameter(attachment.headers.get('content-type')!, 'name')).toBe(filename);
    const base64Lines = raw.split('\r\n').filter((line) => /^[A-Za-z0-9+/]{76}$/.test(line));
    expect(base64Lines.length).toBeGreaterThan(10);
  });

  it('keeps a short ASCII file name as a quoted parameter', () => {
    const raw = composeMimeMessage(updateMail({ attachments: [{ filename: 'letter.pdf', contentType: 'application/pdf', storedPath: 'letters/x.pdf' }] }), {
      date,
      attachments: [{ filename: 'letter.pdf', contentType: 'application/pdf', content: pdf }],
    });
    expect(raw).toContain('\r\nContent-Type: application/pdf; name="letter.pdf"\r\n');
    expect(raw).toContain('\r\nContent-Disposition: attachment; filename="letter.pdf"\r\n');
  });
});

describe('dotStuff', () => {
  it('doubles a dot that starts a line, so a lone dot cannot end DATA early', () => {
    expect(dotStuff('.first\r\nmiddle.\r\n.\r\n..two\r\n')).toBe('..first\r\nmiddle.\r\n..\r\n...two\r\n');
    expect(dotStuff('no dots at line starts\r\n')).toBe('no dots at line starts\r\n');
  });

  it('leaves a composed message that starts lines with dots intact once unstuffed', () => {
    const raw = composeMimeMessage(updateMail({ text: '.\n..\n.hidden' }), { date });
    expect(raw).toMatch(/\r\n\.\r\n/);
    const unstuffed = dotStuff(raw).replace(/(^|\r\n)\./g, '$1');
    expect(unstuffed).toBe(raw);
    expect(dotStuff(raw)).not.toMatch(/\r\n\.\r\n/);
  });
});

describe('loadAttachments', () => {
  const mail = updateMail({ attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', storedPath: 'letters/a.pdf' }] });

  it('reads each stored path through the port', async () => {
    const read: string[] = [];
    const loaded = await loadAttachments(mail, async (path) => {
      read.push(path);
      return pdf;
    });
    expect(read).toEqual(['letters/a.pdf']);
    expect(loaded).toEqual([{ filename: 'a.pdf', contentType: 'application/pdf', content: pdf }]);
  });

  it('fails as the Node transports do: missing is permanent, unreadable temporary, no store permanent', async () => {
    await expect(loadAttachments(mail, async () => null)).rejects.toMatchObject({ permanent: true, code: 'ATTACHMENT_MISSING' });
    await expect(
      loadAttachments(mail, async () => {
        throw new Error('R2 unavailable');
      }),
    ).rejects.toMatchObject({ permanent: false, code: 'ATTACHMENT_UNREADABLE' });
    await expect(loadAttachments(mail, undefined)).rejects.toMatchObject({ permanent: true, code: 'ATTACHMENT_NOT_ALLOWED' });
    await expect(loadAttachments(updateMail(), undefined)).resolves.toEqual([]);
  });
});
