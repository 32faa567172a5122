import { Hono, type Context } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson } from '../http/middleware.js';
import { publicRoute } from '../http/openapi.js';
import { validate } from '../http/validate.js';
import { escapeHtml } from '../lib/html.js';
import { NotFound } from '../services/errors.js';
import { unsubscribe, UnsubscribeInput, UnsubscribeTokenPattern } from '../services/unsubscribe.js';
import { verifyUnsubscribeToken } from '../services/unsubscribe-links.js';

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

type Page = { title: string; paragraphs: string[]; form?: { action: string; button: string } };

// Until the multilingual web pages exist: one small English page, every value escaped.
function page(c: Context<AppEnv>, status: 200 | 404, content: Page): Response {
  const form = content.form
    ? `<form method="post" action="${escapeHtml(content.form.action)}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">${escapeHtml(content.form.button)}</button>
</form>`
    : '';
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(content.title)}</title>
</head>
<body>
<main>
<h1>${escapeHtml(content.title)}</h1>
${content.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`).join('\n')}
${form}
</main>
</body>
</html>
`;
  // The token in the address is a credential: keep it out of caches (and, by the meta tag, out of Referer headers).
  return c.html(html, status, { 'Cache-Control': 'no-store' });
}

const unknownLink: Page = {
  title: 'Link not recognised',
  paragraphs: ['This unsubscribe link is not valid. Please use the link from the most recent update email you received.'],
};

/**
 * `/unsubscribe/:token`, the link in update emails and their List-Unsubscribe
 * header. GET only shows a button (mail scanners open links and must not
 * unsubscribe anyone); POST unsubscribes. The POST is also RFC 8058 one-click:
 * mail clients send `List-Unsubscribe=One-Click` form-encoded. The body is not
 * read, since the token alone is the authority and nothing else is needed.
 */
export function unsubscribePageRoutes() {
  const routes = new Hono<AppEnv>();

  routes.get('/unsubscribe/:token', async (c) => {
    const token = c.req.param('token');
    if (!(await verifyUnsubscribeToken(c.get('services').ctx, token))) return page(c, 404, unknownLink);
    return page(c, 200, {
      title: 'Unsubscribe from campaign updates',
      paragraphs: ['Press the button to stop receiving update emails about this campaign. Your signature stays counted.'],
      form: { action: `/unsubscribe/${token}`, button: 'Unsubscribe' },
    });
  });

  routes.post('/unsubscribe/:token', async (c) => {
    const token = c.req.param('token');
    if (!UnsubscribeTokenPattern.test(token)) return page(c, 404, unknownLink);
    try {
      await unsubscribe(c.get('services').ctx, token);
    } catch (error) {
      if (error instanceof NotFound) return page(c, 404, unknownLink);
      throw error;
    }
    return page(c, 200, {
      title: 'You are unsubscribed',
      paragraphs: ['You will receive no more update emails about this campaign. Your signature stays counted.'],
    });
  });

  return routes;
}
