import { Hono, type Context } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson } from '../http/middleware.js';
import { publicRoute } from '../http/openapi.js';
import { validate } from '../http/validate.js';
import { NotFound } from '../lib/service-errors.js';
import { unsubscribe, UnsubscribeInput, UnsubscribeTokenPattern } from '../services/unsubscribe.js';
import { verifyUnsubscribeToken } from '../services/unsubscribe-links.js';
import { negotiateLanguage } from '../web/i18n/index.js';
import { pageHeaders } from '../web/page-headers.js';
import { renderMessage } from '../web/public/render.js';

/** `POST /api/v1/unsubscribe { token }`: the JSON form, for the web pages and API clients. */
export function unsubscribeApiRoutes() {
  const routes = new Hono<AppEnv>();
  routes.post(
    '/unsubscribe',
    publicRoute(
      'Signatures',
      'Stop update emails with the token from an update email’s unsubscribe link (repeating is harmless)',
      { 200: 'Unsubscribed' },
      { 400: 'Not a token (VALIDATION_FAILED)', 404: 'Unknown token' },
    ),
    requireJson(),
    validate('json', UnsubscribeInput),
    async (c) => c.json(await unsubscribe(c.get('services').ctx, c.req.valid('json').token)),
  );
  return routes;
}

const unknownLink = (c: Context<AppEnv>) =>
  renderMessage(c, 404, negotiateLanguage(c), (t) => ({ title: t.unknownLinkTitle, paragraphs: [t.unknownUnsubscribeBody] }), { private: true });

/**
 * `/unsubscribe/:token`, the link in update emails and their List-Unsubscribe
 * header, in the visitor's language. GET only shows a button (mail scanners
 * open links and must not unsubscribe anyone); POST unsubscribes. The POST is
 * also RFC 8058 one-click: mail providers send `List-Unsubscribe=One-Click`
 * form-encoded from their servers, without an Origin header or a form token,
 * so this is the one supporter form without CSRF checks. That is safe: the
 * unguessable token in the path is the authority, and a forged request could
 * only do what the link's owner can. The body is not read.
 */
export function unsubscribePageRoutes() {
  const routes = new Hono<AppEnv>();
  routes.use('/unsubscribe/*', pageHeaders({ frameAncestors: "'none'" }));

  routes.get('/unsubscribe/:token', async (c) => {
    const token = c.req.param('token');
    if (!(await verifyUnsubscribeToken(c.get('services').ctx, token))) return unknownLink(c);
    return renderMessage(
      c,
      200,
      negotiateLanguage(c),
      (t) => ({
        title: t.unsubscribeTitle,
        paragraphs: [t.unsubscribeBody],
        form: { action: `/unsubscribe/${token}`, button: t.unsubscribeButton, fields: { 'List-Unsubscribe': 'One-Click' } },
      }),
      { private: true },
    );
  });

  routes.post('/unsubscribe/:token', async (c) => {
    const token = c.req.param('token');
    if (!UnsubscribeTokenPattern.test(token)) return unknownLink(c);
    try {
      await unsubscribe(c.get('services').ctx, token);
    } catch (error) {
      if (error instanceof NotFound) return unknownLink(c);
      throw error;
    }
    return renderMessage(c, 200, negotiateLanguage(c), (t) => ({ title: t.unsubscribedTitle, paragraphs: [t.unsubscribedBody] }), { private: true });
  });

  return routes;
}
