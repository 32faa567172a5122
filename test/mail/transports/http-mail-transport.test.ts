import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.js';
import { checkMailApiUrl, HttpMailTransport, MailApiUrlError } from '../../../src/mail/transports/http-mail-transport.js';
import { MailSendError, type OutgoingMail } from '../../../src/mail/transports/transport.js';
import { decodeEncodedWords } from '../helpers/mime.js';
import { headerParameter } from '../helpers/mime-params.js';
import { mimeLeaves } from '../helpers/mime-parts.js';

// A stand-in for Mailgun's POST /v3/<domain>/messages.mime on 127.0.0.1.

type ApiRequest = { method: string; path: string; authorization: string | undefined; form: FormData };
type ApiAnswer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function readForm(request: IncomingMessage): Promise<FormData> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new Request('http://api.test/', { method: 'POST', headers: { 'content-type': request.headers['content-type']! }, body: Buffer.concat(chunks) }).formData();
}

async function startApi(answer: (request: ApiRequest) => ApiAnswer = () => ({ status: 200, body: '{"id":"<x@mg>","message":"Queued. Thank you."}' })) {
  const requests: ApiRequest[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    void (async () => {
      const received: ApiRequest = { method: request.method!, path: request.url!, authorization: request.headers.authorization, form: await readForm(request) };
      requests.push(received);
      const reply = answer(received);
      if (reply === 'hang') {
        open.add(response);
        return;
      }
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      response.end(reply.body ?? '');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const response of open) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${port}/v3/mg.signet.example/messages.mime`, requests };
}

const pdf = Uint8Array.from({ length: 4096 }, (_, i) => (i * 53 + 1) % 256);

function outgoing(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    from: 'Signet <no-reply@signet.example>',
    messageId: '<0190f00d-0000-7000-8000-00000000000b@signet.example>',
    to: { name: '田中 愛子', address: 'aiko@example.com' },
    subject: '多摩川を守ろう：最新情報',
    text: 'Hello',
    html: '<p>Hello</p>',
    headers: { 'List-Unsubscribe': '<https://signet.example/unsubscribe/tok>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    ...overrides,
  };
}

function transport(url: string, options: { timeoutMs?: number } = {}) {
  return new HttpMailTransport({
    url,
    token: 'key-0123456789abcdef',
    readAttachment: async (path) => (path === 'letters/a/b.pdf' ? pdf : null),
    clock: new ManualClock(Date.UTC(2026, 2, 4, 5, 6, 7)),
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<MailSendError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MailSendError);
  return error as MailSendError;
}

describe('HttpMailTransport: happy path', () => {
  it('posts the recipient and the complete MIME message, authenticated as api:<key>', async () => {
    const api = await startApi();
    await transport(api.url).send(outgoing({ attachments: [{ filename: '手紙.pdf', contentType: 'application/pdf', storedPath: 'letters/a/b.pdf' }] }));

    expect(api.requests).toHaveLength(1);
    const request = api.requests[0]!;
    expect(request).toMatchObject({ method: 'POST', path: '/v3/mg.signet.example/messages.mime' });
    expect(request.authorization).toBe(`Basic ${Buffer.from('api:key-0123456789abcdef').toString('base64')}`);
    expect(request.form.getAll('to')).toEqual(['aiko@example.com']);
    const file = request.form.get('message');
    expect(file).toBeInstanceOf(File);
    expect((file as File).type).toBe('message/rfc822');

    const { headers, leaves } = mimeLeaves(await (file as File).text());
    expect(headers.get('message-id')).toBe('<0190f00d-0000-7000-8000-00000000000b@signet.example>');
    expect(decodeEncodedWords(headers.get('from')!)).toBe('Signet <no-reply@signet.example>');
    expect(decodeEncodedWords(headers.get('to')!)).toBe('田中 愛子 <aiko@example.com>');
    expect(decodeEncodedWords(headers.get('subject')!)).toBe('多摩川を守ろう：最新情報');
    expect(headers.get('list-unsubscribe')).toBe('<https://signet.example/unsubscribe/tok>');
    expect(headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(headers.get('date')).toBe('Wed, 04 Mar 2026 05:06:07 +0000');
    expect(leaves.map((leaf) => leaf.contentType)).toEqual(['text/plain', 'text/html', 'application/pdf']);
    expect(leaves[2]!.bytes).toEqual(pdf);
    expect(headerParameter(leaves[2]!.headers.get('content-disposition')!, 'filename')).toBe('手紙.pdf');
  });
});

describe('HttpMailTransport: errors', () => {
  it('maps refusals of the message to permanent and problems of the installation or service to temporary', async () => {
    const cases: [number, boolean, string][] = [
      [400, true, 'HTTP_400'],
      [413, true, 'HTTP_413'],
      [401, false, 'EAUTH'],
      [403, false, 'EAUTH'],
      [404, false, 'ECONFIG'],
      [302, false, 'ECONFIG'],
      [429, false, 'HTTP_429'],
      [500, false, 'HTTP_500'],
      [503, false, 'HTTP_503'],
    ];
    let status = 200;
    const api = await startApi(() => ({ status, body: '{"message":"to parameter is not a valid address: aiko@example.com"}', headers: { location: 'https://elsewhere.example/' } }));
    for (const [code, permanent, errorCode] of cases) {
      status = code;
      const error = await failure(transport(api.url).send(outgoing()));
      expect(error, String(code)).toMatchObject({ permanent, code: errorCode, responseCode: undefined });
      expect(error.message).toBe(`HTTP ${code}: to parameter is not a valid address: [address]`);
    }
    // The redirect was not followed.
    expect(api.requests).toHaveLength(cases.length);
  });

  it('reports an unreachable API as temporary', async () => {
    const api = await startApi();
    const url = api.url;
    await closers.pop()!();
    const error = await failure(transport(url).send(outgoing()));
    expect(error).toMatchObject({ permanent: false, code: 'ECONNECTION' });
  });

  it('gives up on an API that does not answer, temporarily', async () => {
    const api = await startApi(() => 'hang');
    const error = await failure(transport(api.url, { timeoutMs: 300 }).send(outgoing()));
    expect(error).toMatchObject({ permanent: false, code: 'ETIMEDOUT' });
    expect(error.message).toBe('ETIMEDOUT: no answer from the mail API within 300 ms');
  });

  it('refuses a missing attachment and a header injection before any request', async () => {
    const api = await startApi();
    const missing = await failure(transport(api.url).send(outgoing({ attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', storedPath: 'letters/gone.pdf' }] })));
    expect(missing).toMatchObject({ permanent: true, code: 'ATTACHMENT_MISSING' });
    const injected = await failure(transport(api.url).send(outgoing({ headers: { 'X-Note': 'a\nBcc: evil@example.com' } })));
    expect(injected).toMatchObject({ permanent: true, code: 'INVALID_HEADER' });
    expect(api.requests).toHaveLength(0);
  });
});

describe('HttpMailTransport: settings', () => {
  it('takes https://, or http:// to the loopback only, and never a key in the URL', () => {
    expect(() => transport('https://api.mailgun.net/v3/mg.example.org/messages.mime')).not.toThrow();
    expect(() => transport('http://localhost:8025/v3/x/messages.mime')).not.toThrow();
    for (const url of ['http://api.mailgun.net/v3/x/messages.mime', 'https://api:key@api.mailgun.net/v3/x/messages.mime', 'not a url']) {
      expect(() => transport(url), url).toThrow(MailApiUrlError);
    }
    expect(() => new HttpMailTransport({ url: 'https://api.mailgun.net/v3/x/messages.mime', token: '' })).toThrow(/MAIL_API_TOKEN/);
    // The same check, for settings validation at start.
    expect(checkMailApiUrl('https://api.eu.mailgun.net/v3/mg.example.org/messages.mime').hostname).toBe('api.eu.mailgun.net');
    expect(() => checkMailApiUrl('http://api.mailgun.net/v3/x/messages.mime')).toThrow(/https:\/\//);
  });
});
