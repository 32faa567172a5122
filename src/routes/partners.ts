import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import {
  createPartner,
  CreatePartnerInput,
  deletePartner,
  getPartner,
  listPartners,
  listPartnerSupporters,
  PartnerSupportersQuery,
  updatePartner,
  UpdatePartnerInput,
} from '../services/partners.js';

/** Coalition partners of a campaign (PRODUCT.md §13), and the list of supporters who opted in to one. */
export function partnerRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/campaigns/:slug/partners',
    organiserRoute(
      'Partners',
      'Add a coalition partner: { code, name, optInText? }. Links to PUBLIC_URL/c/:slug?ref=<code> (and the embed) attribute signatures to it; with optInText the form shows that text as a separate, unticked box. code: 1–40 lower-case letters, digits and hyphens, fixed once made (`paper` is reserved).',
      'campaigns',
      { 201: 'The partner with its counts', 409: 'The campaign has this code already (PARTNER_CODE_TAKEN)' },
      { reach: 'campaign' },
    ),
    requireScope('campaigns'),
    requireJson(),
    validate('json', CreatePartnerInput),
    async (c) => c.json(await createPartner(serviceContextOf(c), c.req.param('slug'), c.req.valid('json')), 201),
  );

  routes.get(
    '/campaigns/:slug/partners',
    organiserRoute('Partners', 'A campaign\'s partners, in the order added: { items: [{ code, name, optInText, signatures, optedIn, createdAt, updatedAt }] }. signatures: confirmed signatures its links brought; optedIn: those still signed who ticked its box.', 'campaigns', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    async (c) => c.json({ items: await listPartners(serviceContextOf(c), c.req.param('slug')) }),
  );

  routes.get(
    '/campaigns/:slug/partners/:code',
    organiserRoute('Partners', 'One partner with its counts', 'campaigns', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    async (c) => c.json(await getPartner(serviceContextOf(c), c.req.param('slug'), c.req.param('code'))),
  );

  routes.patch(
    '/campaigns/:slug/partners/:code',
    organiserRoute('Partners', 'Rename a partner or change its opt-in text ({ name?, optInText? }; optInText null removes the box). The code cannot change. Opt-ins already given stay.', 'campaigns', { 200: 'The partner' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    requireJson(),
    validate('json', UpdatePartnerInput),
    async (c) => c.json(await updatePartner(serviceContextOf(c), c.req.param('slug'), c.req.param('code'), c.req.valid('json'))),
  );

  routes.delete(
    '/campaigns/:slug/partners/:code',
    organiserRoute('Partners', 'Remove a partner: its signatures stay counted but lose the attribution, the opt-ins given to it lapse, and tokens limited to it are revoked', 'campaigns', { 204: 'Removed' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    async (c) => {
      await deletePartner(serviceContextOf(c), c.req.param('slug'), c.req.param('code'));
      return c.body(null, 204);
    },
  );

  routes.get(
    '/campaigns/:slug/partners/:code/supporters',
    organiserRoute(
      'Partners',
      'The supporters who ticked this partner\'s opt-in box and are still signed, oldest first: { partner: { code, name }, items: [{ name, email, country, region, city, postalCode, locale, confirmedAt }], nextCursor } (?limit= up to 500, ?cursor=). The one route a partner token (POST /tokens with `partner`) reaches, and only for its own partner; any other partner or campaign answers 404.',
      'signatures:read',
      { 200: 'OK' },
      { reach: 'campaign' },
    ),
    requireScope('signatures:read'),
    validate('query', PartnerSupportersQuery),
    async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await listPartnerSupporters(serviceContextOf(c), c.req.param('slug'), c.req.param('code'), c.req.valid('query')));
    },
  );

  return routes;
}
