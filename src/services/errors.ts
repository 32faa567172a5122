/** A field-level problem with the input: `path` is dotted (e.g. `consent.nameOnLetter`). */
export type FieldIssue = { path: string; message: string };

/**
 * Typed errors that services throw; the HTTP layer maps each code to a
 * status in one place (src/http/errors.ts), so services never speak HTTP.
 */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
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

/** Input that parsed but cannot be processed as a whole (e.g. an import with bad rows). */
export class Unprocessable extends ServiceError {}
