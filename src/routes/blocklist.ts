import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { principalOf, serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { addBlocklistEntry, BlocklistEntryInput, listBlocklist, removeBlocklistEntry } from '../services/blocklist.js';

/** The block list (scope `admin`: it applies to every campaign of the installation). */
export function blocklistRoutes() {
  const routes = new Hono<AppEnv>();

  routes.get(
    '/blocklist',
    organiserRoute('Abuse', 'List the block list: addresses, email domains and IP ranges whose signing requests are silently kept as fraudulent requests', 'admin', { 200: 'OK' }, { reach: 'organisation' }),
    requireScope('admin'),
    async (c) => c.json({ items: await listBlocklist(serviceContextOf(c)), nextCursor: null }),
  );

  routes.post(
    '/blocklist',
    organiserRoute(
      'Abuse',
      'Add an entry: kind email (an address), domain (example.org, or *.example.org for its subdomains; IDN as punycode) or ip (an address or CIDR range; a bare IPv6 address blocks its /64). The value is stored in canonical form.',
      'admin',
      { 201: 'Created', 400: 'Invalid entry (VALIDATION_FAILED)', 409: 'Already on the list (ALREADY_BLOCKED)' },
      { reach: 'organisation' },
    ),
    requireScope('admin'),
    requireJson(),
    validate('json', BlocklistEntryInput),
    async (c) => c.json(await addBlocklistEntry(serviceContextOf(c), principalOf(c), c.req.valid('json')), 201),
  );

  routes.delete(
    '/blocklist/:id',
    organiserRoute('Abuse', 'Remove an entry: the fraudulent requests it matched stay for review (until cleared), and the addresses they named sign as anyone does', 'admin', { 204: 'Removed', 404: 'No such entry' }, { reach: 'organisation' }),
    requireScope('admin'),
    async (c) => {
      await removeBlocklistEntry(serviceContextOf(c), c.req.param('id'));
      return c.body(null, 204);
    },
  );

  return routes;
}
