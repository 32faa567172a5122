import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import { OrganisationInput, readOrganisation, updateOrganisation } from '../services/organisation.js';

const profileShape =
  '{ name, postalAddress: { lines, postalCode, city, region, country }, email, phone, website, signatory: { name, title }, translations: { [locale]: { name?, postalAddress?, signatory? } }, isExample, updatedAt }';

/** The organisation profile (PRODUCT.md §12; scope `admin`: it speaks for the whole organisation). */
export function organisationRoutes() {
  const routes = new Hono<AppEnv>();

  routes.get(
    '/organisation',
    organiserRoute(
      'Organisation',
      `The organisation profile: the name, address, contacts and signatory letters, covering emails and the public privacy notice use, per language. isExample is true while it is still the shipped example of letters/organisation.json: letters, previews, letters mailings and the signing pages refuse (409 ORGANISATION_NOT_SET) until it is saved.`,
      'admin',
      { 200: profileShape },
      { reach: 'organisation' },
    ),
    requireScope('admin'),
    async (c) => c.json(await readOrganisation(serviceContextOf(c), c.get('services').letters)),
  );

  routes.put(
    '/organisation',
    organiserRoute(
      'Organisation',
      "Replace the organisation profile (fields left out are cleared). One-line fields; email required and checked; translations (en, ja, ko, zh) give the name, address and signatory for letters in that language. The shipped example's name, email or phone is refused by field (400 VALIDATION_FAILED).",
      'admin',
      { 200: profileShape, 400: 'Invalid profile (VALIDATION_FAILED, details name each field)' },
      { reach: 'organisation' },
    ),
    requireScope('admin'),
    requireJson(),
    validate('json', OrganisationInput),
    async (c) => c.json(await updateOrganisation(serviceContextOf(c), c.req.valid('json'))),
  );

  return routes;
}
