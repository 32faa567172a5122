import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { InvitePreviousInput, invitePreviousSupporters } from '../services/invite-previous.js';

export function invitePreviousRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/campaigns/:slug/invite-previous',
    organiserRoute(
      'Campaigns',
      'Year to year: invite the earlier round\'s supporters who consented to updates (the campaign this one was cloned from, or `from`) to sign this one. Schedules an update mailing on the earlier campaign with { subject?, body? (Markdown, must contain the new campaign\'s link), sendAt? (local time, default: as soon as possible and not before opensAt), timeZone? }; the texts default to an invitation in the earlier campaign\'s language. Answers { mailing, from, recipients }. 409 CAMPAIGN_NOT_OPEN unless this campaign is open, 409 CONFLICT while an earlier invitation has not gone out (details.mailing; cancel it to send another); 422 NO_PREVIOUS_CAMPAIGN. A `from` that does not exist or that the caller cannot see is the same 404 NOT_FOUND.',
      'deliveries',
      { 201: 'Scheduled: { mailing, from, recipients }', 404: 'NOT_FOUND: this campaign, or `from`', 409: 'CAMPAIGN_NOT_OPEN or CONFLICT', 422: 'NO_PREVIOUS_CAMPAIGN, SEND_AT_IN_PAST, LOCAL_TIME_INVALID' },
      { reach: 'campaign' },
    ),
    requireScope('deliveries'),
    requireJson(),
    validate('json', InvitePreviousInput),
    async (c) => c.json(await invitePreviousSupporters(serviceContextOf(c), c.req.param('slug'), c.req.valid('json'), c.get('services').letters), 201),
  );

  return routes;
}
