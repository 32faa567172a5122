import { Hono } from 'hono';
import { pdfHeaders } from '../http/content-disposition.js';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organisationNotSetResponse, organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { validate } from '../http/validate.js';
import {
  generateLetters,
  GenerateLettersInput,
  getLetter,
  openLetterPdf,
  PreviewLetterQuery,
  previewLetter,
} from '../services/letters.js';
import { previewRouting, RoutingPreviewQuery } from '../services/routing-preview.js';

export function letterRoutes() {
  const routes = new Hono<AppEnv>();

  routes.get(
    '/campaigns/:slug/letters/preview.pdf',
    organiserRoute(
      'Letters',
      'Draft of one target\'s letter with the signatures confirmed so far, streamed as a PDF; nothing is stored. Language: ?language, else the target\'s, the campaign\'s, English. ?routing=jurisdiction: only this target\'s share, as a routed batch would count it (a district\'s supporters not named in full, if fewer than PUBLIC_REGION_MIN, are folded into the embassy\'s letter); with ?emptyTargets=skip, 422 UNPROCESSABLE when that share is empty. 404 for a target the campaign does not write to; 422 TEMPLATE_INVALID names the variable and line.',
      'letters',
      { 200: 'application/pdf', 409: organisationNotSetResponse },
      { reach: 'campaign' },
    ),
    requireScope('letters'),
    validate('query', PreviewLetterQuery),
    async (c) => {
      const services = c.get('services');
      const preview = await previewLetter(serviceContextOf(c), services.letters, c.req.param('slug'), c.req.valid('query'));
      return c.body(preview.body, 200, pdfHeaders(preview.filename, { uniquePart: preview.uniquePart }));
    },
  );

  routes.get(
    '/campaigns/:slug/routing-preview',
    organiserRoute(
      'Letters',
      'What routing by jurisdiction would write at ?cutoffAt (default now): per target the count and region table its letter would print (small districts folded into the embassy\'s letter, regions below PUBLIC_REGION_MIN merged: region null), whether it gets a letter (?emptyTargets=skip), and, for the organiser only, how many supporters were folded out of (folded) and into (foldedIn) it; then the supporters no target\'s jurisdiction covers (they go to the embassies, or to every target without one). Counts only, never names.',
      'letters',
      { 200: '{ campaign, cutoffAt, total, minimum, emptyTargets, targets: [{ id, name, kind, jurisdiction, takesUnserved, count, letter, byRegion: [{ region, count }], folded, foldedIn }], unserved: { count, byRegion: [{ country, region, count }], targetIds } }' },
      { reach: 'campaign' },
    ),
    requireScope('letters'),
    validate('query', RoutingPreviewQuery),
    async (c) => c.json(await previewRouting(serviceContextOf(c), c.req.param('slug'), c.req.valid('query'))),
  );

  routes.post(
    '/campaigns/:slug/letters',
    organiserRoute(
      'Letters',
      'Generate and store the letters of a campaign at a cut-off (default now): per_target (one per target, named signatories appended) or per_signer (one per confirmed signer per target). per_target with routing: jurisdiction gives each target only the supporters of its jurisdiction (the rest to the embassies), k-anonymously: a district\'s supporters not named in full, if fewer than PUBLIC_REGION_MIN, are counted and listed in the embassy\'s letter instead; every letter states the petition\'s total. Every target gets a letter unless emptyTargets: skip, which writes none to a target whose letter would count no one and lists it in skippedTargets (422 UNPROCESSABLE when that is every target). 422 NO_TARGETS when the campaign has no targets.',
      'letters',
      { 201: 'Created: { batchId, mode, routing, emptyTargets, template, cutoffAt, letters: [{ id, targetId, signatureId, signatureCount, sha256, pages, bytes }], skippedTargets: [{ targetId, targetName, reason }] }', 409: organisationNotSetResponse },
      { reach: 'campaign' },
    ),
    requireScope('letters'),
    requireJson(),
    validate('json', GenerateLettersInput),
    async (c) => {
      const services = c.get('services');
      return c.json(await generateLetters(serviceContextOf(c), services.letters, c.req.param('slug'), c.req.valid('json')), 201);
    },
  );

  // One route for `/letters/<id>` and `/letters/<id>.pdf`: a regular-expression
  // parameter would push Hono onto its slower trie router for every request.
  routes.get(
    '/letters/:id',
    organiserRoute(
      'Letters',
      "A letter's metadata (campaign, target, signer, template, language, cut-off, count, sha256, pages, bytes, regeneratedAt when it was rendered again after an erasure, withdrawnAt when it was withdrawn); with `.pdf` after the id, its PDF (410 LETTER_WITHDRAWN for a withdrawn letter)",
      'letters',
      { 200: 'JSON metadata, or application/pdf for `<id>.pdf`' },
      { reach: 'campaign' },
    ),
    requireScope('letters'),
    async (c) => {
      const services = c.get('services');
      const id = c.req.param('id');
      if (!id.endsWith('.pdf')) return c.json(await getLetter(serviceContextOf(c), id));
      const letter = await openLetterPdf(serviceContextOf(c), services.letters, id.slice(0, -'.pdf'.length));
      return c.body(letter.body, 200, pdfHeaders(letter.filename, { bytes: letter.bytes, uniquePart: letter.uniquePart }));
    },
  );

  return routes;
}
