import { describeRoute } from 'hono-openapi';
import type { Scope } from '../services/tokens.js';

/** An error response in the one envelope `{ error: { code, message, details?, requestId } }`. */
export const errorResponse = (description: string) => ({
  description,
  content: {
    'application/json': {
      schema: {
        type: 'object' as const,
        properties: {
          error: {
            type: 'object' as const,
            required: ['code', 'message', 'requestId'],
            properties: {
              code: { type: 'string' as const },
              message: { type: 'string' as const },
              details: {},
              requestId: { type: 'string' as const },
            },
          },
        },
      },
    },
  },
});

/**
 * What a campaign-limited caller (a token with `campaigns`, a campaign editor or viewer) meets here,
 * published as `x-signet-reach` so clients and test/services/access/campaign-limits.test.ts read it from the document:
 * - `campaign`: the path (or, for a create, the body's `campaign`) names a campaign or something of one;
 *   outside the caller's campaigns it answers 404, as an unknown one does; a viewer changing it, 403;
 * - `filtered`: a list showing only the caller's campaigns; `?campaign=<slug>` narrows it to one, and naming
 *   a campaign outside the caller's answers 404;
 * - `organisation`: the organisation's own resources (tokens, the target directory's writes, block list,
 *   privacy requests, audit log, bounces, outbox), refused (403) to campaign-limited callers;
 * - `shared`: installation facts holding nothing of any campaign (the letter templates), the same for every caller.
 */
export const routeReaches = ['campaign', 'filtered', 'organisation', 'shared'] as const;
export type RouteReach = (typeof routeReaches)[number];

const reachNotes: Record<RouteReach, string> = {
  campaign: 'A token limited to campaigns gets 404 for any other campaign.',
  filtered: 'A token limited to campaigns sees only its campaigns; `?campaign=<slug>` of another is 404.',
  organisation: 'Organisation-wide: a token limited to campaigns gets 403.',
  shared: 'The same for every token.',
};

/** The `x-signet-reach` extension (describeRoute's type knows only the standard fields, so it goes in by spreading). */
function reachExtension(reach: RouteReach): Record<string, unknown> {
  return { 'x-signet-reach': reach };
}

/** "the `deliveries` scope", "the `deliveries` and `letters` scopes". */
function scopeNames(scopes: readonly Scope[]): string {
  const quoted = scopes.map((scope) => `\`${scope}\``);
  return quoted.length === 1 ? `the ${quoted[0]} scope` : `the ${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)} scopes`;
}

/**
 * OpenAPI description of an organiser route (bearer token with a scope, or several that must all be
 * held) and what a campaign-limited caller reaches there. The scopes are stated twice: in words, and
 * as the security requirement's roles (OpenAPI 3.1 allows roles for an http scheme), for clients to read.
 */
export function organiserRoute(tag: string, summary: string, scope: Scope | readonly [Scope, ...Scope[]], responses: Record<number, string>, options: { reach: RouteReach }) {
  const scopes: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
  return describeRoute({
    tags: [tag],
    summary,
    description: `Needs a token with ${scopeNames(scopes)} (or \`admin\`). ${reachNotes[options.reach]}`,
    ...reachExtension(options.reach),
    security: [{ bearerAuth: [...scopes] }],
    responses: {
      ...Object.fromEntries(Object.entries(responses).map(([status, description]) => [status, { description }])),
      401: errorResponse('Missing or invalid token (UNAUTHORIZED)'),
      403: errorResponse(options.reach === 'organisation' ? 'The token lacks a scope, or is limited to campaigns (FORBIDDEN)' : 'The token lacks a scope (FORBIDDEN; details.required names it)'),
    },
  });
}

/** The 409 of every route that sends in the organisation's name (src/services/organisation.ts). */
export const organisationNotSetResponse = 'The organisation profile is still the shipped example (ORGANISATION_NOT_SET): save it first (dashboard: Organisation, or PUT /api/v1/organisation)';

/**
 * OpenAPI description of a public route: `security: []` says so (without it the
 * document-wide reading is "unspecified"). With `optionalBearer`, a token is
 * accepted too and changes the answer (e.g. a campaign's organiser view).
 */
export function publicRoute(
  tag: string,
  summary: string,
  responses: Record<number, string> = { 200: 'OK' },
  errors: Record<number, string> = {},
  options: { optionalBearer?: { reach: RouteReach } } = {},
) {
  return describeRoute({
    tags: [tag],
    summary,
    ...(options.optionalBearer ? reachExtension(options.optionalBearer.reach) : {}),
    security: options.optionalBearer ? [{}, { bearerAuth: [] }] : [],
    responses: {
      ...Object.fromEntries(Object.entries(responses).map(([status, description]) => [status, { description }])),
      ...Object.fromEntries(Object.entries(errors).map(([status, description]) => [status, errorResponse(description)])),
    },
  });
}
