/**
 * Letters: templates in `letters/<name>/<language>.md`, the organisation in
 * `letters/organisation.json`, and the PDF renderer (in process or on worker threads).
 * See docs/letters.md.
 */
export { listTemplates, loadTemplate, loadOrganisation, resolveTemplatePath, type TemplateSummary, type TemplateVariant } from './template-files.js';
export { parseTemplateSource } from './template-source.js';
export { TemplateError, type TemplateErrorCode } from './template-error.js';
export { letterVariables, checkTemplateText, renderTemplateText } from './template-text.js';
export { renderLetter } from './pdf-letter.js';
export { createLetterRenderPool, renderLetterInWorker, type LetterRenderPool } from './render-pool.js';
export { formatLetterDate } from './letter-date.js';
export { toInitials, nameForLetter, cityForLetter } from './signatory-names.js';
export { publicRegionTotals, type RegionTally } from './region-totals.js';
export type {
  EnvelopeWindow,
  LetterCampaign,
  LetterDocument,
  LetterInput,
  LetterLanguage,
  LetterSignatures,
  LetterTarget,
  LetterTemplate,
  NameOnLetter,
  Organisation,
  PageSize,
  PdfDestination,
  PostalAddress,
  RegionCount,
  RenderOptions,
  RenderResult,
  RenderWarning,
  Signatory,
  SignatorySource,
} from './types.js';
