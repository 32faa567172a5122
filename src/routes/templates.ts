import { Hono } from 'hono';
import * as v from 'valibot';
import { pdfHeaders } from '../http/content-disposition.js';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organisationNotSetResponse, organiserRoute } from '../http/openapi.js';
import { principalOf, serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import {
  getLetterTemplate,
  getLetterTemplateVersion,
  listLetterTemplates,
  listLetterTemplateVersions,
  previewLetterTemplateDraft,
  PreviewTemplateInput,
  resetLetterTemplate,
  saveLetterTemplate,
  SaveTemplateInput,
} from '../services/letter-templates.js';

const templateShape =
  '{ name, language, version, shipped, savedBy, savedAt, fields: { subject, pageSize, envelopeWindow, letterhead, addressee, salutation, closing, closingAlign, body }, source, variables }';

const VersionParam = v.object({ version: v.pipe(v.string(), v.regex(/^\d{1,9}$/, 'must be a version number'), v.transform(Number)) });

/**
 * Letter templates edited without a terminal (PRODUCT.md §12): read by anyone with `letters`,
 * changed only with organisation reach, since a template speaks in every campaign's letters.
 */
export function templateRoutes() {
  const routes = new Hono<AppEnv>();
  const path = '/templates/:name/:language';

  routes.get(
    '/templates',
    organiserRoute(
      'Templates',
      'List letter templates with their languages and variables, each language as letters use it now (version: 0 for the shipped file, else the newest saved version); a variant that cannot be used carries its error',
      'letters',
      { 200: 'OK' },
      { reach: 'shared' },
    ),
    requireScope('letters'),
    async (c) => c.json(await listLetterTemplates(serviceContextOf(c), c.get('services').letters)),
  );

  routes.get(
    path,
    organiserRoute('Templates', 'One template language as letters use it now: its front matter by field, the Markdown body, the whole text, the version and the variables it names', 'letters', { 200: templateShape }, { reach: 'shared' }),
    requireScope('letters'),
    async (c) => c.json(await getLetterTemplate(serviceContextOf(c), c.get('services').letters, c.req.param('name'), c.req.param('language'))),
  );

  routes.put(
    path,
    organiserRoute(
      'Templates',
      'Save a new version of a shipped template language: { body, subject?, pageSize?, envelopeWindow?, letterhead?, addressee?, salutation?, closing?, closingAlign? } (a field left out keeps its value). Letters made from then on use it; batches keep the version they recorded. Nothing is saved when a field names an unknown variable or is not valid Mustache: 422 TEMPLATE_INVALID with details { field, variable, line } (the line within that field).',
      'letters',
      { 200: templateShape, 400: 'Invalid fields (VALIDATION_FAILED)', 422: 'TEMPLATE_INVALID: details name the field, the variable and its line' },
      { reach: 'organisation' },
    ),
    requireScope('letters'),
    requireJson(),
    validate('json', SaveTemplateInput),
    async (c) => {
      const saved = await saveLetterTemplate(serviceContextOf(c), c.get('services').letters, c.req.param('name'), c.req.param('language'), c.req.valid('json'), { name: principalOf(c).name });
      return c.json(saved);
    },
  );

  routes.get(
    `${path}/versions`,
    organiserRoute('Templates', 'The versions of one template language, newest first, with who saved each and when, ending with the shipped text (version 0)', 'letters', { 200: '{ name, language, items: [{ version, isReset, savedBy, savedAt, current }] }' }, { reach: 'shared' }),
    requireScope('letters'),
    async (c) => c.json(await listLetterTemplateVersions(serviceContextOf(c), c.get('services').letters, c.req.param('name'), c.req.param('language'))),
  );

  routes.get(
    `${path}/versions/:version`,
    organiserRoute('Templates', 'One version of a template language: its whole text and its fields (0: the shipped file)', 'letters', { 200: '{ name, language, version, isReset, savedBy, savedAt, source, fields }' }, { reach: 'shared' }),
    requireScope('letters'),
    validate('param', VersionParam),
    async (c) => {
      const { version } = c.req.valid('param');
      return c.json(await getLetterTemplateVersion(serviceContextOf(c), c.get('services').letters, c.req.param('name'), c.req.param('language'), version));
    },
  );

  routes.post(
    `${path}/reset`,
    organiserRoute('Templates', 'Go back to the shipped text: stores it as a new version (kept in the history like a save)', 'letters', { 200: templateShape }, { reach: 'organisation' }),
    requireScope('letters'),
    async (c) => c.json(await resetLetterTemplate(serviceContextOf(c), c.get('services').letters, c.req.param('name'), c.req.param('language'), { name: principalOf(c).name })),
  );

  routes.post(
    `${path}/preview`,
    organiserRoute(
      'Templates',
      'An unsaved draft ({ campaign, target?, draft: the body of a save }) as one target\'s letter of the campaign would print it now (default: its first target), streamed as a PDF; nothing is stored. Checked as a save is: 422 TEMPLATE_INVALID names the field, variable and line.',
      'letters',
      { 200: 'application/pdf', 409: organisationNotSetResponse, 422: 'TEMPLATE_INVALID' },
      { reach: 'campaign' },
    ),
    requireScope('letters'),
    requireJson(),
    validate('json', PreviewTemplateInput),
    async (c) => {
      const preview = await previewLetterTemplateDraft(serviceContextOf(c), c.get('services').letters, c.req.param('name'), c.req.param('language'), c.req.valid('json'));
      return c.body(preview.body, 200, pdfHeaders(preview.filename, { uniquePart: preview.uniquePart, inline: true }));
    },
  );

  return routes;
}
