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

/** OpenAPI description of an organiser route (bearer token with a scope). */
/**
 * What a campaign-limited caller (a token with `campaigns`, a campaign editor or viewer) meets here,
 * published as `x-signet-reach` so clients and test/access/campaign-limits.test.ts read it from the document:
 * - `campaign`: the path names a campaign or something of one; outside the caller's campaigns it answers 404;
 * - `filtered`: a list showing only the caller's campaigns (a `campaign` filter naming another answers 404);
 * - `organisation`: the organisation's own resources, refused (403) to campaign-limited callers.
 */
export type RouteReach = 'campaign' | 'filtered' | 'organisation';

export function organiserRoute(tag: string, summary: string, scope: Scope, responses: Record<number, string> = { 200: 'OK' }, options: { reach?: RouteReach } = {}) {
  return describeRoute({
    tags: [tag],
    summary,
    description: `Needs a token with the \`${scope}\` scope (or \`admin\`).`,
    ...(options.reach ? { 'x-signet-reach': options.reach } : {}),
    security: [{ bearerAuth: [] }],
    responses: {
      ...Object.fromEntries(Object.entries(responses).map(([status, description]) => [status, { description }])),
      401: errorResponse('Missing or invalid token (UNAUTHORIZED)'),
      403: errorResponse('The token lacks the scope (FORBIDDEN)'),
    },
  });
}

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
  options: { optionalBearer?: boolean } = {},
) {
  return describeRoute({
    tags: [tag],
    summary,
    security: options.optionalBearer ? [{}, { bearerAuth: [] }] : [],
    responses: {
      ...Object.fromEntries(Object.entries(responses).map(([status, description]) => [status, { description }])),
      ...Object.fromEntries(Object.entries(errors).map(([status, description]) => [status, errorResponse(description)])),
    },
  });
}
