import * as v from 'valibot';
import { PartnerCode } from '../../services/partners.js';
import { SignInput } from '../../services/signatures.js';
import type { Messages, PageLanguage } from '../i18n/index.js';

/** The signing form's fields as typed (all text), so a refused form can be shown again as it was. */
export type SignFormValues = {
  name: string;
  email: string;
  country: string;
  region: string;
  city: string;
  postalCode: string;
  comment: string;
  nameOnLetter: 'full' | 'initials' | 'none';
  showPublicly: boolean;
  updates: boolean;
  /** The partner's code from the link (`?ref=`), carried in a hidden field; '' for none. */
  ref: string;
  /** The partner's own box, separate from the others and unticked unless the supporter ticks it. */
  partnerOptIn: boolean;
};

/** The fields a supporter fills in and may get an error on (the partner's are never wrong: an unknown ref is ignored). */
export type SignFormField = Exclude<keyof SignFormValues, 'ref' | 'partnerOptIn'>;

/** Field → message key, in the order the fields appear (the error summary follows it). */
export type SignFormErrors = Partial<Record<SignFormField, keyof Messages>>;

export const signFormFieldOrder: SignFormField[] = ['name', 'email', 'country', 'region', 'city', 'postalCode', 'comment', 'nameOnLetter', 'showPublicly', 'updates'];

/** The field names of the hidden inputs. */
export const FORM_TOKEN_FIELD = '_token';
export const HONEYPOT_FIELD = 'website';
export const LANGUAGE_FIELD = 'lang';
export const PARTNER_FIELD = 'ref';
export const PARTNER_OPT_IN_FIELD = 'partnerOptIn';

export function emptySignForm(country = '', ref = ''): SignFormValues {
  return { name: '', email: '', country, region: '', city: '', postalCode: '', comment: '', nameOnLetter: 'none', showPublicly: false, updates: false, ref, partnerOptIn: false };
}

const text = (body: Record<string, unknown>, key: string): string => (typeof body[key] === 'string' ? body[key] : '');

/** What the browser sent, as form values (unknown choices fall back to the most private one). */
export function readSignForm(body: Record<string, unknown>): SignFormValues {
  const nameOnLetter = text(body, 'nameOnLetter');
  return {
    name: text(body, 'name'),
    email: text(body, 'email'),
    country: text(body, 'country'),
    region: text(body, 'region'),
    city: text(body, 'city'),
    postalCode: text(body, 'postalCode'),
    comment: text(body, 'comment'),
    nameOnLetter: nameOnLetter === 'full' || nameOnLetter === 'initials' ? nameOnLetter : 'none',
    showPublicly: text(body, 'showPublicly') === 'yes',
    updates: text(body, 'updates') === 'yes',
    // Anything but a well-formed code is no partner's: dropped here, so it can never be an error.
    ref: v.is(PartnerCode, text(body, PARTNER_FIELD)) ? v.parse(PartnerCode, text(body, PARTNER_FIELD)) : '',
    partnerOptIn: text(body, PARTNER_OPT_IN_FIELD) === 'yes',
  };
}

function messageFor(field: SignFormField, issue: v.BaseIssue<unknown>): keyof Messages {
  if (field === 'name' && issue.type === 'min_length') return 'errorNameRequired';
  if (field === 'email' && issue.type !== 'max_length') return 'errorEmailInvalid';
  if (field === 'country') return 'errorCountryRequired';
  // Without JavaScript the list cannot follow the country chosen, so a region of another country is the usual slip.
  if (field === 'region') return 'errorRegionInvalid';
  if (issue.type === 'max_length') return 'errorTooLong';
  if (issue.type === 'regex') return 'errorControlCharacters';
  return 'errorInvalid';
}

/**
 * Checks the form with the API's own schema (SignInput), so both paths accept
 * exactly the same signatures; errors come back per field as message keys.
 */
export function validateSignForm(values: SignFormValues, language: PageLanguage): { input: SignInput } | { errors: SignFormErrors } {
  const optional = (value: string) => (value.trim() === '' ? undefined : value);
  const result = v.safeParse(SignInput, {
    name: values.name,
    email: values.email,
    country: values.country,
    region: optional(values.region),
    city: optional(values.city),
    postalCode: optional(values.postalCode),
    comment: optional(values.comment),
    locale: language,
    consent: { nameOnLetter: values.nameOnLetter, showPublicly: values.showPublicly, updates: values.updates, partner: values.partnerOptIn },
    ref: optional(values.ref),
  });
  if (result.success) return { input: result.output };
  const errors: SignFormErrors = {};
  for (const issue of result.issues) {
    const path = v.getDotPath(issue) ?? '';
    const field = (signFormFieldOrder as string[]).includes(path.replace(/^consent\./, '')) ? (path.replace(/^consent\./, '') as SignFormField) : 'name';
    errors[field] ??= messageFor(field, issue);
  }
  return { errors };
}
