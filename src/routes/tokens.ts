import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { validate } from '../http/validate.js';
import { createToken, CreateTokenInput, listTokens, revokeToken } from '../services/tokens.js';

export function tokenRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/tokens',
    organiserRoute('Tokens', 'Create an API token; its secret is shown only in this response', 'admin', { 201: 'Created' }),
    requireScope('admin'),
    requireJson(),
    validate('json', CreateTokenInput),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await createToken(c.get('services').ctx, c.req.valid('json')), 201);
    },
  );

  routes.get(
    '/tokens',
    organiserRoute('Tokens', 'List API tokens (never their secrets)', 'admin'),
    requireScope('admin'),
    async (c) => c.json({ items: await listTokens(c.get('services').ctx), nextCursor: null }),
  );

  routes.delete(
    '/tokens/:id',
    organiserRoute('Tokens', 'Revoke an API token', 'admin', { 204: 'Revoked' }),
    requireScope('admin'),
    async (c) => {
      await revokeToken(c.get('services').ctx, c.req.param('id'));
      return c.body(null, 204);
    },
  );

  return routes;
}
