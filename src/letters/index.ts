/**
 * Letters: templates in `letters/<name>/<language>.md`, the organisation in
 * `letters/organisation.json`, and the PDF renderer. See docs/letters.md.
 *
 * This barrel is runtime-neutral: the template language, the letter types and the port. The PDF
 * layout is in `pdf/` (pdfkit), the Node adapters (files, render threads, fonts from
 * node_modules) in `node/`, the Workers adapters (R2, bundled templates and fonts) in `worker/`.
 */
export type {
  ComposedPrintQueue,
  LetterFiles,
  LetterPorts,
  LetterTemplateStore,
  PrintQueueDocument,
  PrintQueueEntry,
  SignatureSheetDocument,
  SignatureSheetPart,
  TemplateSummary,
  TemplateVariant,
} from './letter-ports.js';
export { parseTemplateSource } from './template/template-source.js';
export { TemplateError, type TemplateErrorCode } from './template/template-error.js';
export { letterVariables, checkTemplateText, renderTemplateText } from './template/template-text.js';
export { formatLetterDate } from './template/letter-date.js';
export { toInitials, nameForLetter, cityForLetter } from './template/signatory-names.js';
export { publicRegionTotals, type RegionTally } from './template/region-totals.js';
export { createBundledTemplates, type LettersBundle } from './template/letters-bundle.js';
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
  PostalAddress,
  RegionCount,
  RenderOptions,
  RenderResult,
  RenderWarning,
  Signatory,
  SignatorySource,
} from './template/types.js';
