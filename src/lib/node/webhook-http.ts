/**
 * Webhook POSTs on Node, through node:http(s) with a `lookup` that checks
 * every address a name resolves to before connecting, so a hook's name
 * cannot lead to the loopback or a private network (unless
 * WEBHOOK_ALLOW_PRIVATE=true). The check is on the address the socket then
 * uses, not on a separate resolution, so a name that answers differently
 * the second time (DNS rebinding) gains nothing.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { parseIpAddress } from '../ip.js';
import { WebhookHttpError, type WebhookHttp } from '../webhook-http.js';
import { isPublicAddress } from '../webhook-targets.js';

class PrivateAddressError extends Error {
  constructor() {
    super('the name resolves to a loopback, private or link-local address (WEBHOOK_ALLOW_PRIVATE=true allows it)');
  }
}

/** dns.lookup, refusing a name any of whose addresses is not public. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 4);
    const refused = addresses.some(({ address }) => {
      const parsed = parseIpAddress(address);
      return parsed === null || !isPublicAddress(parsed);
    });
    if (refused || addresses.length === 0) return callback(new PrivateAddressError(), '', 4);
    if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
    const [first] = addresses;
    callback(null, first!.address, first!.family);
  });
};

/** WebhookHttp on node:http(s): no redirect followed, the response body discarded, the whole exchange under the timeout. */
export const nodeWebhookHttp: WebhookHttp = {
  post(request) {
    return new Promise((resolve, reject) => {
      const url = new URL(request.url);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const signal = AbortSignal.timeout(request.timeoutMs);
      const outgoing = send(
        url,
        {
          method: 'POST',
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
          signal,
          ...(request.allowPrivate ? {} : { lookup: publicOnlyLookup }),
        },
        (response) => {
          // Only the status counts: the body is drained, never kept.
          response.on('error', () => undefined);
          response.resume();
          resolve({ status: response.statusCode ?? 0 });
        },
      );
      outgoing.on('error', (error: Error & { code?: string }) => {
        if (error instanceof PrivateAddressError) reject(new WebhookHttpError(error.message));
        else if (signal.aborted) reject(new WebhookHttpError(`no answer within ${request.timeoutMs} ms`));
        else reject(new WebhookHttpError(`connection failed (${error.code ?? error.name})`));
      });
      outgoing.end(request.body);
    });
  },
};
