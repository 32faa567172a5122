/** A field-level problem with the input: `path` is dotted (e.g. `consent.nameOnLetter`). */
export type FieldIssue = { path: string; message: string };

/**
 * Every error code the API can answer with. Closed on purpose: the HTTP
 * layer maps each one to a status (src/http/errors.ts, a Record over this
 * union), so a new code without a status fails the type check instead of
 * falling back to a silent 400.
 */
export const errorCodes = [
  'VALIDATION_FAILED',
  'MALFORMED_BODY',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TEMPLATE_NOT_FOUND',
  'CAMPAIGN_NOT_OPEN',
  'INVALID_TRANSITION',
  'SLUG_TAKEN',
  'PARTNER_CODE_TAKEN',
  'ALREADY_BLOCKED',
  'TARGET_IN_USE',
  'CONFLICT',
  'IDEMPOTENCY_KEY_REUSED',
  'NOT_A_PRINT_DELIVERY',
  'ADDRESS_SUPPRESSED',
  'TOKEN_EXPIRED',
  'LETTER_FILE_MISSING',
  'LETTER_WITHDRAWN',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'METHOD_NOT_ALLOWED',
  'IMPORT_FAILED',
  'TEMPLATE_INVALID',
  'ORGANISATION_INVALID',
  'ORGANISATION_NOT_SET',
  'NO_TARGETS',
  'TARGET_HAS_NO_EMAIL',
  'SEND_AT_IN_PAST',
  'LOCAL_TIME_INVALID',
  'UPDATE_TEMPLATE_NOT_FOUND',
  'UPDATE_CONTENT_MISSING',
  'UNPROCESSABLE',
  'FILE_TYPE_NOT_ALLOWED',
  'TARGET_NOT_IN_CAMPAIGN',
  'NO_PREVIOUS_CAMPAIGN',
  'RATE_LIMITED',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/**
 * Typed errors that services throw; the HTTP layer maps each code to a
 * status in one place (src/http/errors.ts), so services never speak HTTP.
 */
export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailed extends ServiceError {
  constructor(details: FieldIssue[], message = 'The request is not valid.') {
    super('VALIDATION_FAILED', message, details);
  }
}

export class NotFound extends ServiceError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} was not found.`);
  }
}

export class Conflict extends ServiceError {}

export class Unauthorized extends ServiceError {
  constructor(message = 'A valid API token is required.') {
    super('UNAUTHORIZED', message);
  }
}

export class Forbidden extends ServiceError {
  constructor(message: string, details?: unknown) {
    super('FORBIDDEN', message, details);
  }
}

export class RateLimited extends ServiceError {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Too many requests. Please try again later.',
  ) {
    super('RATE_LIMITED', message, { retryAfterSeconds });
  }
}

/**
 * A method the route no longer takes, answered with the one it takes (`allow`, sent as the Allow
 * header) and where the input belongs now; e.g. an address must not travel in a URL.
 */
export class MethodNotAllowed extends ServiceError {
  constructor(
    readonly allow: readonly string[],
    message: string,
    details: unknown,
  ) {
    super('METHOD_NOT_ALLOWED', message, details);
  }
}

/** Input that parsed but cannot be processed as a whole (e.g. an import with bad rows). */
export class Unprocessable extends ServiceError {}
