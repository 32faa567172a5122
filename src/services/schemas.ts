import * as v from 'valibot';
import { locales } from '../lib/locales.js';

/** Shared field schemas; each validated value type shares the schema's name. */
export const Locale = v.picklist(locales);
export type Locale = v.InferOutput<typeof Locale>;

export const CountryCode = v.pipe(
  v.string(),
  v.trim(),
  v.toUpperCase(),
  v.regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code, e.g. JP'),
);

export const Uuid = v.pipe(v.string(), v.uuid('must be an id (UUID)'));

export const IsoDateTime = v.pipe(
  v.string(),
  v.check((value) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 date-time, e.g. 2027-09-22T09:00:00+09:00'),
  v.transform((value) => Date.parse(value)),
);

export const TimeZone = v.pipe(
  v.string(),
  v.check((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone, e.g. Asia/Tokyo'),
);

/** One line of text: no control characters (CR/LF would let a value break out of a header or CSV row). */
/** One line: no control character (CR and LF among them) and no Unicode line or paragraph separator. */
export const oneLine = () => v.regex(/^[^\p{Cc}\p{Zl}\p{Zp}]*$/u, 'must be one line without control characters');

export const SingleLine = (max: number) => v.pipe(v.string(), v.trim(), oneLine(), v.maxLength(max));

export const MultiLine = (max: number) =>
  v.pipe(v.string(), v.regex(/^[^\p{Cc}]*$|^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/u, 'must not contain control characters'), v.maxLength(max));

export const TemplateName = v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,64}$/, 'must be a template name from letters/'));

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
