import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { createToken, CreateTokenInput, listTokens, revokeToken } from '../services/tokens.js';

export function tokenRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/tokens',
    organiserRoute('Tokens', 'Create an API token, optionally limited to campaigns (`campaigns: [slug]`: any other campaign answers 404, the organisation\'s own resources 403; an unknown slug is 400 VALIDATION_FAILED at `campaigns.N`), or to one coalition partner (`partner: code` with its one campaign in `campaigns` and scopes `[\'signatures:read\']`: it reads only GET /campaigns/:slug/partners/:code/supporters); its secret is shown only in this response', 'admin', { 201: 'Created' }, { reach: 'organisation' }),
    requireScope('admin'),
    requireJson(),
    validate('json', CreateTokenInput),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await createToken(serviceContextOf(c), c.req.valid('json')), 201);
    },
  );

  routes.get(
    '/tokens',
    organiserRoute('Tokens', 'List API tokens (never their secrets), each with the campaigns it is limited to (slugs) or null, and the partner (code) or null', 'admin', { 200: 'OK' }, { reach: 'organisation' }),
    requireScope('admin'),
    async (c) => c.json({ items: await listTokens(serviceContextOf(c)), nextCursor: null }),
  );

  routes.delete(
    '/tokens/:id',
    organiserRoute('Tokens', 'Revoke an API token', 'admin', { 204: 'Revoked' }, { reach: 'organisation' }),
    requireScope('admin'),
    async (c) => {
      await revokeToken(serviceContextOf(c), c.req.param('id'));
      return c.body(null, 204);
    },
  );

  return routes;
}
