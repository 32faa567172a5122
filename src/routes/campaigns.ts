import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute, publicRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import {
  CampaignListQuery,
  cloneCampaign,
  CloneCampaignInput,
  createCampaign,
  CreateCampaignInput,
  getCampaign,
  getPublicCampaign,
  listCampaigns,
  updateCampaign,
  UpdateCampaignInput,
} from '../services/campaigns.js';
import { AttachCampaignTargetsInput, changeCampaignTargets, ReplaceCampaignTargetsInput } from '../services/campaign-targets.js';
import { PageQuery } from '../services/pagination.js';
import { builtPage, serveBuiltPage } from '../web/public/page-cache.js';
import * as v from 'valibot';

const ListQuery = v.object({ ...PageQuery.entries, ...CampaignListQuery.entries });

export function campaignRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/campaigns',
    organiserRoute('Campaigns', 'Create a campaign (as a draft). Organisation only: a token limited to campaigns gets 403.', 'campaigns', { 201: 'Created' }, { reach: 'organisation' }),
    requireScope('campaigns'),
    requireJson(),
    validate('json', CreateCampaignInput),
    async (c) => c.json(await createCampaign(serviceContextOf(c), c.req.valid('json')), 201),
  );

  routes.get(
    '/campaigns',
    organiserRoute('Campaigns', 'List campaigns, newest first; ?status=, ?campaign=<slug> for one. A token limited to campaigns sees only its own.', 'campaigns', { 200: 'OK' }, { reach: 'filtered' }),
    requireScope('campaigns'),
    validate('query', ListQuery),
    async (c) => c.json(await listCampaigns(serviceContextOf(c), c.req.valid('query'))),
  );

  // Public view without a token; the organiser view (drafts, target ids) with one.
  routes.get(
    '/campaigns/:slug',
    publicRoute(
      'Campaigns',
      'Get a campaign: the public view, or the full view with an organiser token (a token limited to other campaigns gets 404, as for an unknown one)',
      { 200: 'OK' },
      { 404: 'No such open or closed campaign', 401: 'A token was sent but is not valid (UNAUTHORIZED)', 403: 'A token without the `campaigns` scope (FORBIDDEN)' },
      { optionalBearer: { reach: 'campaign' } },
    ),
    async (c, next) => {
      if (c.req.header('authorization')) return requireScope('campaigns')(c, next);
      // The same for everyone: built once, served from memory, and kept by shared caches (page-cache.ts).
      const services = c.get('services');
      const slug = c.req.param('slug');
      const now = services.ctx.clock.now();
      const page = await services.publicPages.get(`json:${slug}`, now, async () => builtPage(JSON.stringify(await getPublicCampaign(services.ctx, slug)), 'application/json', now));
      return serveBuiltPage(c, page!, { shared: true, vary: 'Authorization' });
    },
    async (c) => c.json(await getCampaign(serviceContextOf(c), c.req.param('slug'))),
  );

  routes.patch(
    '/campaigns/:slug',
    organiserRoute('Campaigns', 'Change a campaign; status changes follow draft → open ⇄ closed → archived', 'campaigns', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    requireJson(),
    validate('json', UpdateCampaignInput),
    async (c) => c.json(await updateCampaign(serviceContextOf(c), c.req.param('slug'), c.req.valid('json'))),
  );

  routes.post(
    '/campaigns/:slug/clone',
    organiserRoute('Campaigns', 'Copy a campaign as a new draft for the next round: texts, translations, goal, time zone, letter template and targets; no supporters. Making a campaign is for the organisation: a token limited to campaigns gets 404 for another\'s and 403 for its own.', 'campaigns', { 201: 'Created' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    requireJson(),
    validate('json', CloneCampaignInput),
    async (c) => c.json(await cloneCampaign(serviceContextOf(c), c.req.param('slug'), c.req.valid('json')), 201),
  );

  routes.put(
    '/campaigns/:slug/targets',
    organiserRoute(
      'Campaigns',
      'Set the campaign\'s targets to this list, in its order, in one transaction (an empty list detaches every target). An unknown id refuses the whole list with 400 naming it; nothing is written.',
      'campaigns',
      { 200: 'OK' },
      { reach: 'campaign' },
    ),
    requireScope('campaigns'),
    requireJson(),
    validate('json', ReplaceCampaignTargetsInput),
    async (c) => c.json(await changeCampaignTargets(serviceContextOf(c), c.req.param('slug'), 'replace', c.req.valid('json'))),
  );

  routes.post(
    '/campaigns/:slug/targets',
    organiserRoute(
      'Campaigns',
      'Attach many targets at once, after those already attached (ids already attached are left where they are), in one transaction. An unknown id refuses the whole list with 400 naming it; nothing is written.',
      'campaigns',
      { 200: 'OK' },
      { reach: 'campaign' },
    ),
    requireScope('campaigns'),
    requireJson(),
    validate('json', AttachCampaignTargetsInput),
    async (c) => c.json(await changeCampaignTargets(serviceContextOf(c), c.req.param('slug'), 'add', c.req.valid('json'))),
  );

  return routes;
}
