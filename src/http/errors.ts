import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ErrorCode, MethodNotAllowed, RateLimited, ServiceError } from '../lib/service-errors.js';
import type { AppEnv } from './env.js';

/** Exhaustive: a code without a status here is a type error (lib/service-errors.ts errorCodes). */
const statusByCode: Record<ErrorCode, ContentfulStatusCode> = {
  VALIDATION_FAILED: 400,
  MALFORMED_BODY: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TEMPLATE_NOT_FOUND: 404,
  CAMPAIGN_NOT_OPEN: 409,
  INVALID_TRANSITION: 409,
  SLUG_TAKEN: 409,
  PARTNER_CODE_TAKEN: 409,
  ALREADY_BLOCKED: 409,
  TARGET_IN_USE: 409,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  NOT_A_PRINT_DELIVERY: 409,
  ADDRESS_SUPPRESSED: 409,
  ORGANISATION_NOT_SET: 409,
  TOKEN_EXPIRED: 410,
  LETTER_FILE_MISSING: 410,
  LETTER_WITHDRAWN: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_ALLOWED: 405,
  IMPORT_FAILED: 422,
  TEMPLATE_INVALID: 422,
  ORGANISATION_INVALID: 422,
  NO_TARGETS: 422,
  TARGET_HAS_NO_EMAIL: 422,
  SEND_AT_IN_PAST: 422,
  LOCAL_TIME_INVALID: 422,
  UPDATE_TEMPLATE_NOT_FOUND: 422,
  UPDATE_CONTENT_MISSING: 422,
  UNPROCESSABLE: 422,
  FILE_TYPE_NOT_ALLOWED: 422,
  TARGET_NOT_IN_CAMPAIGN: 422,
  NO_PREVIOUS_CAMPAIGN: 422,
  RATE_LIMITED: 429,
};

export type ErrorBody = {
  error: { code: string; message: string; details?: unknown; requestId: string };
};

export function errorBody(c: Context<AppEnv>, code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }), requestId: c.get('requestId') } };
}

/** The one place errors become HTTP responses, all in the shape `{ error: { code, message, details?, requestId } }`. */
export function handleError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof ServiceError) {
    const status = statusByCode[error.code];
    if (error instanceof RateLimited) c.header('Retry-After', String(error.retryAfterSeconds));
    if (error instanceof MethodNotAllowed) c.header('Allow', error.allow.join(', '));
    return c.json(errorBody(c, error.code, error.message, error.details), status);
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    const code =
      status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 401 ? 'UNAUTHORIZED' : status === 400 ? 'MALFORMED_BODY' : 'HTTP_ERROR';
    const message = status === 400 ? 'The request body could not be parsed.' : error.message || 'Request failed.';
    return c.json(errorBody(c, code, message), status as ContentfulStatusCode);
  }
  c.get('logger')?.error('unhandled error', {
    requestId: c.get('requestId'),
    error: error.name,
    message: error.message,
    stack: error.stack,
  });
  return c.json(errorBody(c, 'INTERNAL', 'Something went wrong on our side.'), 500);
}

export function handleNotFound(c: Context<AppEnv>): Response {
  return c.json(errorBody(c, 'NOT_FOUND', 'No such route.'), 404);
}
