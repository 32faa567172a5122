import { MailSendError, type OutgoingMail } from '../../../src/mail/transports/transport.js';
import { WorkerSmtpTransport } from '../../../src/mail/worker/worker-smtp-transport.js';

type Env = { SMTP_URL: string };

/** `files`: the letter store's content for this request (stored path → base64), read through the transport's readAttachment port. */
type ProbeRequest = { message: OutgoingMail; files?: Record<string, string>; smtpUrl?: string; requireTls?: boolean };

function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
}

/**
 * POST /send with a ProbeRequest: `{ sent: true }`, or `{ sent: false, error }`
 * with the MailSendError's fields, so the test sees how a failure is classified.
 */
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== 'POST' || new URL(request.url).pathname !== '/send') return new Response('not found', { status: 404 });
    const probe = (await request.json()) as ProbeRequest;
    const files = new Map(Object.entries(probe.files ?? {}).map(([path, base64]) => [path, bytesOf(base64)]));
    const transport = new WorkerSmtpTransport({
      url: probe.smtpUrl ?? env.SMTP_URL,
      requireTls: probe.requireTls,
      readAttachment: async (storedPath) => files.get(storedPath) ?? null,
      connectionTimeoutMs: 5_000,
      greetingTimeoutMs: 5_000,
      socketTimeoutMs: 5_000,
    });
    try {
      await transport.send(probe.message);
      return Response.json({ sent: true });
    } catch (error) {
      if (!(error instanceof MailSendError)) throw error;
      const { name, message, permanent, responseCode, code } = error;
      return Response.json({ sent: false, error: { name, message, permanent, responseCode: responseCode ?? null, code: code ?? null } });
    } finally {
      await transport.close();
    }
  },
};
