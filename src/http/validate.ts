import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { ValidationTargets } from 'hono';
import { validator } from 'hono-openapi';
import { ValidationFailed } from '../lib/service-errors.js';

/** Turns valibot issues into `[{ path, message }]` with dotted paths. */
export function issuesToDetails(issues: readonly StandardSchemaV1.Issue[]) {
  return issues.map((issue) => ({
    path: (issue.path ?? [])
      .map((segment) => (typeof segment === 'object' && segment !== null ? String(segment.key) : String(segment)))
      .join('.'),
    message: issue.message,
  }));
}

/**
 * The route validator: documents the schema in OpenAPI (hono-openapi) and
 * answers invalid input with `400 VALIDATION_FAILED` and field details.
 */
export function validate<Schema extends StandardSchemaV1, Target extends keyof ValidationTargets>(
  target: Target,
  schema: Schema,
) {
  return validator(target, schema, (result) => {
    if (!result.success) throw new ValidationFailed(issuesToDetails(result.error));
  });
}
