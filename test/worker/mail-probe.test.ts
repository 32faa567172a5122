import { createServer, type AddressInfo } from 'node:net';
import { toNodemailerFields } from '../../src/mail/node/nodemailer-fields.js';
import { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutgoingMail } from '../../src/mail/transports/transport.js';
import { startWranglerDev, type WranglerDev } from '../helpers/wrangler-dev.js';
import { decodeEncodedWords } from '../mail/helpers/mime.js';
import { headerParameter } from '../mail/helpers/mime-params.js';
import { mimeLeaves } from '../mail/helpers/mime-parts.js';
import { startScriptedSmtpServer } from '../mail/helpers/scripted-smtp-server.js';
import { startSmtpServer, type TestSmtpServer } from '../mail/helpers/smtp-server.js';

// WorkerSmtpTransport in the real workerd runtime (wrangler dev --local):
// SMTP over cloudflare:sockets to a real SMTP server on 127.0.0.1, through the
// fixture Worker in ./mail-probe/.

type ProbeResult =
  | { sent: true }
  | { sent: false; error: { name: string; message: string; permanent: boolean; responseCode: number | null; code: string | null } };

let smtp: TestSmtpServer;
let worker: WranglerDev;

beforeAll(async () => {
  smtp = await startSmtpServer({
    replyToRecipient: (address) => (address === 'refused@example.com' ? { code: 550, message: `5.1.1 <${address}>: Recipient address rejected` } : undefined),
    replyToData: (_index, raw) => (raw.includes('X-Probe: try-later') ? { code: 451, message: '4.3.0 Try again later' } : undefined),
  });
  worker = await startWranglerDev({ config: 'test/worker/mail-probe/wrangler.toml', vars: { SMTP_URL: smtp.url } });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await smtp?.close();
});

async function probe(body: { message: OutgoingMail; files?: Record<string, string>; smtpUrl?: string; requireTls?: boolean }): Promise<ProbeResult> {
  const response = await fetch(`${worker.url}/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status !== 200) throw new Error(`probe answered ${response.status}: ${await response.text()}\n${worker.output()}`);
  return (await response.json()) as ProbeResult;
}

/** A letter PDF's worth of bytes: every byte value, so no encoding step can get away with text-only handling. */
const pdf = new Uint8Array(Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), Buffer.from(Uint8Array.from({ length: 20_000 }, (_, i) => (i * 97 + 13) % 256))]));

function updateMail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    from: 'Signet <no-reply@signet.example>',
    messageId: '<0190f00d-0000-7000-8000-0000000000c1@signet.example>',
    to: { name: '田中 愛子', address: 'aiko@example.com' },
    subject: '多摩川を守ろう：署名が1万筆を超えました。市議会への手紙をお送りしました',
    text: '田中 愛子 様\n\n.\n.点で始まる行\n\n-- \n配信停止: https://signet.example/unsubscribe/tok\n',
    html: '<p>田中 愛子 様</p>\n<p>ありがとうございます。</p>',
    headers: {
      'List-Unsubscribe': '<https://signet.example/unsubscribe/eyJzIjoiMDE5MGYwMGQifQ.c2lnbmF0dXJl>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Auto-Submitted': 'auto-generated',
      Precedence: 'bulk',
    },
    ...overrides,
  };
}

async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('WorkerSmtpTransport in workerd', () => {
  it('delivers a Japanese update with one-click unsubscribe headers and a PDF, with the headers nodemailer writes on Node', async () => {
    const message = updateMail({ attachments: [{ filename: '多摩川市議会への手紙.pdf', contentType: 'application/pdf', storedPath: 'letters/batch/letter.pdf' }] });
    const before = smtp.received.length;
    expect(await probe({ message, files: { 'letters/batch/letter.pdf': Buffer.from(pdf).toString('base64') } })).toEqual({ sent: true });

    expect(smtp.received).toHaveLength(before + 1);
    const delivery = smtp.received.at(-1)!;
    expect(delivery).toMatchObject({ mailFrom: 'no-reply@signet.example', rcptTo: ['aiko@example.com'] });
    const { headers, leaves } = mimeLeaves(delivery.raw);
    expect(headers.get('message-id')).toBe('<0190f00d-0000-7000-8000-0000000000c1@signet.example>');
    expect(headers.get('list-unsubscribe')).toBe('<https://signet.example/unsubscribe/eyJzIjoiMDE5MGYwMGQifQ.c2lnbmF0dXJl>');
    expect(headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(headers.get('auto-submitted')).toBe('auto-generated');
    expect(headers.get('precedence')).toBe('bulk');
    expect(headers.get('to')).toMatch(/^=\?UTF-8\?B\?[^?]+\?= <aiko@example\.com>$/);
    expect(decodeEncodedWords(headers.get('to')!)).toBe('田中 愛子 <aiko@example.com>');
    expect(decodeEncodedWords(headers.get('subject')!)).toBe(message.subject);
    expect(headers.get('from')).toBe('Signet <no-reply@signet.example>');
    expect(headers.get('date')).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);

    const text = new TextDecoder('utf-8', { fatal: true });
    expect(leaves.map((leaf) => leaf.contentType)).toEqual(['text/plain', 'text/html', 'application/pdf']);
    expect(text.decode(leaves[0]!.bytes)).toBe(message.text.replace(/\n/g, '\r\n'));
    expect(text.decode(leaves[1]!.bytes)).toBe(message.html.replace(/\n/g, '\r\n'));
    expect(leaves[2]!.bytes).toEqual(pdf);
    expect(headerParameter(leaves[2]!.headers.get('content-disposition')!, 'filename')).toBe('多摩川市議会への手紙.pdf');

    // Header for header, what a reader decodes is what nodemailer would have sent from Node.
    const fromNode = await new MailComposer({
      ...toNodemailerFields(message, [{ filename: '多摩川市議会への手紙.pdf', contentType: 'application/pdf', content: Readable.from([Buffer.from(pdf)]) }]),
      date: new Date(headers.get('date')!),
    })
      .compile()
      .build();
    const decoded = (map: Map<string, string>) => Object.fromEntries([...map].filter(([name]) => name !== 'content-type').map(([name, value]) => [name, decodeEncodedWords(value)]));
    expect(decoded(headers)).toEqual(decoded(mimeLeaves(fromNode.toString('latin1'), { strict: false }).headers));
  });

  it('reports a 550 to RCPT TO as permanent, without the address', async () => {
    const result = await probe({ message: updateMail({ to: { name: '拒否', address: 'refused@example.com' } }) });
    expect(result).toEqual({
      sent: false,
      error: { name: 'MailSendError', message: 'RCPT TO: 550 5.1.1 <[address]>: Recipient address rejected', permanent: true, responseCode: 550, code: 'EENVELOPE' },
    });
  });

  it('reports a 451 after DATA as temporary', async () => {
    const result = await probe({ message: updateMail({ headers: { 'X-Probe': 'try-later' } }) });
    expect(result).toMatchObject({ sent: false, error: { permanent: false, responseCode: 451, code: 'EMESSAGE' } });
  });

  it('refuses a message whose letter is no longer stored, permanently', async () => {
    const result = await probe({ message: updateMail({ attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', storedPath: 'letters/gone.pdf' }] }) });
    expect(result).toMatchObject({ sent: false, error: { permanent: true, code: 'ATTACHMENT_MISSING' } });
  });

  it('reports a refused connection as temporary', async () => {
    const result = await probe({ message: updateMail(), smtpUrl: `smtp://127.0.0.1:${await refusedPort()}` });
    expect(result).toMatchObject({ sent: false, error: { permanent: false, code: 'ECONNECTION', responseCode: null } });
  });

  it('ends at once when the server hangs up mid-session, and the next send goes through', async () => {
    let hangUp = true;
    const scripted = await startScriptedSmtpServer({
      answer: (line) => {
        if (!line.startsWith('RCPT TO') || !hangUp) return undefined;
        hangUp = false;
        return 'close';
      },
    });
    try {
      const started = Date.now();
      expect(await probe({ message: updateMail(), smtpUrl: scripted.url })).toMatchObject({ sent: false, error: { permanent: false, code: 'ECONNECTION' } });
      // Well inside the 5 s socket timeout: the closed stream is seen, not waited out.
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(await probe({ message: updateMail(), smtpUrl: scripted.url })).toEqual({ sent: true });
      expect(scripted.commands.filter((line) => line === 'DATA-END')).toHaveLength(1);
    } finally {
      await scripted.close();
    }
  });

  it('sends nothing in plain text when STARTTLS is required and the relay does not offer it', async () => {
    const before = smtp.dataCount();
    const result = await probe({ message: updateMail(), requireTls: true });
    expect(result).toMatchObject({ sent: false, error: { permanent: false, code: 'ETLS' } });
    expect(smtp.dataCount()).toBe(before);
  });
});
