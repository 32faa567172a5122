import { ServiceError } from '../../lib/service-errors.js';

/** `ORGANISATION_INVALID`: `letters/organisation.json` is missing or malformed. */
export type TemplateErrorCode = 'TEMPLATE_INVALID' | 'TEMPLATE_NOT_FOUND' | 'ORGANISATION_INVALID';

/**
 * A letter template (or the organisation file it draws on) that cannot be used. `variable` and `line` (1-based, in the template file)
 * are set when the problem is one name in one place, so an organiser can fix it straight away.
 */
export class TemplateError extends ServiceError {
  readonly variable?: string;
  readonly line?: number;

  constructor(code: TemplateErrorCode, message: string, where: { variable?: string; line?: number } = {}) {
    super(code, message, where.variable === undefined && where.line === undefined ? undefined : where);
    this.variable = where.variable;
    this.line = where.line;
  }
}
