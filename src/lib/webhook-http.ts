/**
 * The port a webhook's POST goes through, and its \`fetch\` implementation (the same on every
 * runtime); Node's own, which checks the address it connects to, is in node/webhook-http.ts.
 */
/** One POST to a receiver. */
export type WebhookRequest = {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The whole exchange, connection included; then it counts as failed. */
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE: an adapter that resolves names refuses non-public addresses without it. */
  allowPrivate: boolean;
};

/**
 * Posts webhooks: `fetch` everywhere (fetchWebhookHttp), and on Node an
 * adapter that checks the addresses a name resolves to before it connects
 * (src/lib/node/webhook-http.ts). Never follows a redirect (it could lead to a
 * private address); answers the status, or throws WebhookHttpError.
 */
export interface WebhookHttp {
  post(request: WebhookRequest): Promise<{ status: number }>;
}

/** A POST that got no answer: refused address, DNS failure, timeout, connection reset. */
export class WebhookHttpError extends Error {}

/** WebhookHttp over the runtime's `fetch` (Workers: a private address is not reachable from Cloudflare's network anyway). */
export const fetchWebhookHttp: WebhookHttp = {
  async post(request) {
    let response: Response;
    try {
      response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal: AbortSignal.timeout(request.timeoutMs) });
    } catch (error) {
      throw new WebhookHttpError(error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${request.timeoutMs} ms` : `connection failed (${error instanceof Error ? error.name : 'error'})`);
    }
    // The body is not read: only the status counts, and a large one would cost us.
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status };
  },
};
