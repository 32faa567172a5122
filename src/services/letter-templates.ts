import { and, desc, eq, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { stringify } from 'yaml';
import { letterTemplateVersions } from '../db/schema.js';
import type { LetterPorts, LetterTemplateStore, TemplateSummary, TemplateVariant } from '../letters/letter-ports.js';
import { TemplateError } from '../letters/template/template-error.js';
import { checkTemplateRef } from '../letters/template/template-library.js';
import { parseTemplateSource, windowPageSize } from '../letters/template/template-source.js';
import { checkTemplateText } from '../letters/template/template-text.js';
import { envelopeWindows, pageSizes, type LetterLanguage, type LetterTemplate } from '../letters/template/types.js';
import { assertOrganisationAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound, ServiceError, ValidationFailed } from '../lib/service-errors.js';
import { newestTemplateVersion } from './letter-template-versions.js';
import { previewLetter } from './letters.js';

/**
 * Letter templates edited in the dashboard and the API (PRODUCT.md §12). The shipped file
 * `letters/<name>/<language>.md` is version 0; every save and every reset stores the whole text
 * as the next version, and the newest is what letters use. A batch records the versions it was
 * written with, so rendering it again (after an erasure) uses the same words.
 */

/** The front matter fields a form edits, one by one, with the Markdown body. */
export type TemplateFields = {
  subject: string;
  pageSize: (typeof pageSizes)[number];
  envelopeWindow: (typeof envelopeWindows)[number];
  letterhead: boolean;
  addressee: string;
  salutation: string;
  closing: string;
  closingAlign: 'left' | 'right';
  body: string;
};

/** The text fields that may name template variables, in the order a form shows them. */
export const templateTextFields = ['subject', 'addressee', 'salutation', 'closing', 'body'] as const;
type TemplateTextField = (typeof templateTextFields)[number];

const MAX_FIELD = 2_000;
const MAX_BODY = 100_000;

const lineEnds = (text: string) => text.replace(/\r\n?/g, '\n');
const Text = (max: number) => v.pipe(v.string(), v.maxLength(max, `must be at most ${max} characters`), v.transform(lineEnds));

/**
 * `PUT /api/v1/templates/:name/:language` and the dashboard's form: the Markdown body and the
 * front matter by field. A field left out keeps the value of the version in use.
 */
export const SaveTemplateInput = v.strictObject({
  body: v.pipe(Text(MAX_BODY), v.check((text) => text.trim() !== '', 'must not be empty')),
  subject: v.optional(v.pipe(Text(MAX_FIELD), v.check((text) => text.trim() !== '', 'must not be empty'), v.check((text) => !text.includes('\n'), 'must be one line'))),
  pageSize: v.optional(v.picklist(pageSizes, `must be one of ${pageSizes.join(', ')}`)),
  envelopeWindow: v.optional(v.picklist(envelopeWindows, `must be one of ${envelopeWindows.join(', ')}`)),
  letterhead: v.optional(v.boolean('must be true or false')),
  addressee: v.optional(Text(MAX_FIELD)),
  salutation: v.optional(Text(MAX_FIELD)),
  closing: v.optional(v.pipe(Text(MAX_FIELD), v.check((text) => text.trim() !== '', 'must not be empty'))),
  closingAlign: v.optional(v.picklist(['left', 'right'], 'must be left or right')),
});
export type SaveTemplateInput = v.InferOutput<typeof SaveTemplateInput>;

/** `POST …/preview`: an unsaved draft, shown as the letter of one target of a campaign. */
export const PreviewTemplateInput = v.strictObject({
  campaign: v.pipe(v.string(), v.nonEmpty('must be a campaign slug')),
  /** Default: the campaign's first target. */
  target: v.optional(v.pipe(v.string(), v.nonEmpty('must be a target id'))),
  draft: SaveTemplateInput,
});
export type PreviewTemplateInput = v.InferOutput<typeof PreviewTemplateInput>;

/** Who saved a version, as the audit log names them. */
export type TemplateAuthor = { name: string };

type VersionRow = typeof letterTemplateVersions.$inferSelect;

function fieldsOf(template: LetterTemplate): TemplateFields {
  return {
    subject: template.subject,
    pageSize: template.pageSize,
    envelopeWindow: template.envelopeWindow,
    letterhead: template.letterhead,
    addressee: template.addressee,
    salutation: template.salutation,
    closing: template.closing,
    closingAlign: template.closingAlign,
    body: template.body,
  };
}

/** One language of a template as letters use it now, with its version (0: the shipped file). */
export type VersionedVariant = TemplateVariant & { version: number };

/** Every template with its languages and variables, each variant as letters use it now. */
export async function listLetterTemplates(ctx: ServiceContext, ports: Pick<LetterPorts, 'listTemplates'>): Promise<{ items: (Omit<TemplateSummary, 'variants'> & { variants: VersionedVariant[] })[] }> {
  const shipped = await ports.listTemplates();
  const newest = await ctx.db.db
    .select()
    .from(letterTemplateVersions)
    .where(
      sql`${letterTemplateVersions.version} = (SELECT max(v2.version) FROM ${letterTemplateVersions} v2 WHERE v2.name = ${letterTemplateVersions.name} AND v2.language = ${letterTemplateVersions.language})`,
    );
  const stored = new Map(newest.map((row) => [`${row.name}/${row.language}`, row]));
  const items = shipped.map((summary) => {
    const variants = summary.variants.map((variant): VersionedVariant => {
      const row = stored.get(`${summary.name}/${variant.language}`);
      if (!row) return { ...variant, version: 0 };
      try {
        const { subject, pageSize, envelopeWindow, variables } = parseTemplateSource(row.source, summary.name, variant.language);
        return { language: variant.language, subject, pageSize, envelopeWindow, variables, version: row.version };
      } catch (error) {
        if (!(error instanceof TemplateError)) throw error;
        return { language: variant.language, error: { code: error.code, message: error.message, variable: error.variable, line: error.line }, version: row.version };
      }
    });
    const variables = new Set(variants.flatMap((variant) => ('variables' in variant ? variant.variables : [])));
    return { ...summary, variables: [...variables].sort(), variants };
  });
  return { items };
}

/** The template's view for an editor: its fields, the version in use and the variables it names. */
export type LetterTemplateView = {
  name: string;
  language: LetterLanguage;
  version: number;
  /** Whether the version in use is a copy of the shipped text (version 0, or a reset). */
  shipped: boolean;
  savedBy: string | null;
  savedAt: string | null;
  fields: TemplateFields;
  /** The whole text as stored: front matter, then the body. */
  source: string;
  variables: string[];
};

/** One template language as an editor sees it (GET `…/templates/:name/:language`). */
export async function getLetterTemplate(ctx: ServiceContext, ports: Pick<LetterTemplateStore, 'loadTemplate' | 'loadTemplateSource'>, name: string, language: string): Promise<LetterTemplateView> {
  checkTemplateRef(name, language);
  const row = await newestTemplateVersion(ctx, name, language);
  const source = row ? row.source : await ports.loadTemplateSource(name, language);
  const template = parseTemplateSource(source, name, language);
  return {
    name,
    language,
    version: row?.version ?? 0,
    shipped: row ? row.isReset : true,
    savedBy: row?.savedBy ?? null,
    savedAt: row ? new Date(row.savedAt).toISOString() : null,
    fields: fieldsOf(template),
    source,
    variables: template.variables,
  };
}

/** What a save (or reset) just stored, as the editor's view of it: its own version, also when another save followed at once. */
function savedView(template: LetterTemplate, source: string, version: number, isReset: boolean, author: TemplateAuthor, savedAt: number): Omit<LetterTemplateView, 'name' | 'language'> {
  return { version, shipped: isReset, savedBy: author.name, savedAt: new Date(savedAt).toISOString(), fields: fieldsOf(template), source, variables: template.variables };
}

/** The file a set of fields is stored as: every front matter key written out, then the body. */
export function templateSourceOf(fields: TemplateFields): string {
  const frontMatter = stringify(
    {
      subject: fields.subject,
      pageSize: fields.pageSize,
      envelopeWindow: fields.envelopeWindow,
      letterhead: fields.letterhead,
      addressee: fields.addressee,
      salutation: fields.salutation,
      closing: fields.closing,
      closingAlign: fields.closingAlign,
    },
    { lineWidth: 0 },
  );
  return `---\n${frontMatter}---\n${fields.body}`;
}

const fieldNames: Record<TemplateTextField, string> = { subject: 'the subject', addressee: 'the addressee', salutation: 'the salutation', closing: 'the closing', body: 'the body' };

/**
 * Checks a draft and gives its file. Each text field is checked on its own first, so a refusal
 * names the field, the variable and the line within that field (what the form shows); what
 * only the whole file can tell (a window that does not fit the sheet) is then checked by the
 * same parser letters use. Throws TEMPLATE_INVALID (422) or VALIDATION_FAILED (400).
 */
function checkedDraft(name: string, language: LetterLanguage, current: TemplateFields, input: SaveTemplateInput): { fields: TemplateFields; source: string; template: LetterTemplate } {
  const fields: TemplateFields = { ...current, ...Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) };
  // A window made for one sheet size is moved to the other size's when only the size was changed.
  if (input.pageSize !== undefined && input.envelopeWindow === undefined && fields.envelopeWindow !== 'none' && windowPageSize[fields.envelopeWindow] !== fields.pageSize) {
    fields.envelopeWindow = fields.pageSize === 'Letter' ? 'us-10' : 'din5008-b';
  }
  if (fields.envelopeWindow !== 'none' && windowPageSize[fields.envelopeWindow] !== fields.pageSize) {
    throw new ValidationFailed([{ path: 'envelopeWindow', message: `${fields.envelopeWindow} fits ${windowPageSize[fields.envelopeWindow]} paper, not ${fields.pageSize}` }]);
  }
  for (const field of templateTextFields) {
    try {
      checkTemplateText(fields[field], { line: 1 });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      const where = error.line === undefined ? '' : field === 'body' || fields[field].includes('\n') ? ` (line ${error.line} of ${fieldNames[field]})` : ` (in ${fieldNames[field]})`;
      const message = `${error.message.replace(/ on line \d+/, '').replace(/ \(line \d+\)/, '').replace(/\.$/, '')}${where}.`;
      throw new ServiceError('TEMPLATE_INVALID', message, { field, ...(error.variable === undefined ? {} : { variable: error.variable }), ...(error.line === undefined ? {} : { line: error.line }) });
    }
  }
  const source = templateSourceOf(fields);
  return { fields, source, template: parseTemplateSource(source, name, language) };
}

/**
 * Saves a new version of one template language (which must be shipped: `letters/<name>/<language>.md`).
 * Refused whole, with nothing stored, when any field names an unknown variable or is not valid
 * Mustache (422 TEMPLATE_INVALID naming the field, variable and line). Organisation access only:
 * the templates are every campaign's.
 */
export async function saveLetterTemplate(
  ctx: ServiceContext,
  ports: Pick<LetterTemplateStore, 'loadTemplate' | 'loadTemplateSource'>,
  name: string,
  language: string,
  input: SaveTemplateInput,
  author: TemplateAuthor,
): Promise<LetterTemplateView> {
  assertOrganisationAccess(ctx.access);
  const current = await getLetterTemplate(ctx, ports, name, language);
  const draft = checkedDraft(name, current.language, current.fields, input);
  const version = await storeVersion(ctx, current.name, current.language, draft.source, false, author);
  return { ...current, ...savedView(draft.template, draft.source, version, false, author, ctx.clock.now()) };
}

/** Stores the shipped text as the next version (a reset is kept in the history like any save). Organisation access only. */
export async function resetLetterTemplate(
  ctx: ServiceContext,
  ports: Pick<LetterTemplateStore, 'loadTemplate' | 'loadTemplateSource'>,
  name: string,
  language: string,
  author: TemplateAuthor,
): Promise<LetterTemplateView> {
  assertOrganisationAccess(ctx.access);
  checkTemplateRef(name, language);
  // A shipped file that does not parse is not copied (parseTemplateSource throws): letters could not use it.
  const shipped = await ports.loadTemplateSource(name, language);
  const template = parseTemplateSource(shipped, name, language);
  const version = await storeVersion(ctx, name, language, shipped, true, author);
  return { name, language, ...savedView(template, shipped, version, true, author, ctx.clock.now()) };
}

/**
 * Inserts the next version in one statement and answers its number, so two saves at once get
 * two numbers (each told its own) rather than a clash.
 */
async function storeVersion(ctx: ServiceContext, name: string, language: LetterLanguage, source: string, isReset: boolean, author: TemplateAuthor): Promise<number> {
  const [row] = await ctx.db.writeReturning({
    sql: `INSERT INTO "letter_template_versions" ("name", "language", "version", "source", "is_reset", "saved_by", "saved_at")
      SELECT ?, ?, coalesce(max("version"), 0) + 1, ?, ?, ?, ? FROM "letter_template_versions" WHERE "name" = ? AND "language" = ?
      RETURNING "version"`,
    params: [name, language, source, isReset ? 1 : 0, author.name, ctx.clock.now(), name, language],
  });
  return Number(row![0]);
}

export type TemplateVersionSummary = { version: number; isReset: boolean; savedBy: string | null; savedAt: string | null; current: boolean };

/** The versions of one template language, newest first, ending with the shipped text (version 0). */
export async function listLetterTemplateVersions(
  ctx: ServiceContext,
  ports: Pick<LetterTemplateStore, 'loadTemplateSource'>,
  name: string,
  language: string,
): Promise<{ name: string; language: LetterLanguage; items: TemplateVersionSummary[] }> {
  checkTemplateRef(name, language);
  await ports.loadTemplateSource(name, language);
  const rows = await ctx.db.db
    .select({ version: letterTemplateVersions.version, isReset: letterTemplateVersions.isReset, savedBy: letterTemplateVersions.savedBy, savedAt: letterTemplateVersions.savedAt })
    .from(letterTemplateVersions)
    .where(and(eq(letterTemplateVersions.name, name), eq(letterTemplateVersions.language, language)))
    .orderBy(desc(letterTemplateVersions.version));
  const items: TemplateVersionSummary[] = rows.map((row, index) => ({ version: row.version, isReset: row.isReset, savedBy: row.savedBy, savedAt: new Date(row.savedAt).toISOString(), current: index === 0 }));
  items.push({ version: 0, isReset: false, savedBy: null, savedAt: null, current: rows.length === 0 });
  return { name, language, items };
}

/** One version's whole text and fields (0: the shipped file). */
export async function getLetterTemplateVersion(
  ctx: ServiceContext,
  ports: Pick<LetterTemplateStore, 'loadTemplateSource'>,
  name: string,
  language: string,
  version: number,
): Promise<{ name: string; language: LetterLanguage; version: number; isReset: boolean; savedBy: string | null; savedAt: string | null; source: string; fields: TemplateFields | null }> {
  checkTemplateRef(name, language);
  let row: Pick<VersionRow, 'source' | 'isReset' | 'savedBy' | 'savedAt'> | undefined;
  if (version === 0) row = undefined;
  else {
    [row] = await ctx.db.db
      .select({ source: letterTemplateVersions.source, isReset: letterTemplateVersions.isReset, savedBy: letterTemplateVersions.savedBy, savedAt: letterTemplateVersions.savedAt })
      .from(letterTemplateVersions)
      .where(and(eq(letterTemplateVersions.name, name), eq(letterTemplateVersions.language, language), eq(letterTemplateVersions.version, version)));
    if (!row) throw new NotFound(`Version ${version} of template ${name}/${language}`);
  }
  const source = row ? row.source : await ports.loadTemplateSource(name, language);
  let fields: TemplateFields | null;
  try {
    fields = fieldsOf(parseTemplateSource(source, name, language));
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    fields = null;
  }
  return { name, language, version, isReset: row?.isReset ?? false, savedBy: row?.savedBy ?? null, savedAt: row ? new Date(row.savedAt).toISOString() : null, source, fields };
}

/**
 * An unsaved draft as one target's letter of a campaign would print it now (nothing is
 * stored): checked as a save would check it, then rendered by the letter preview.
 */
export async function previewLetterTemplateDraft(
  ctx: ServiceContext,
  ports: LetterPorts,
  name: string,
  language: string,
  input: PreviewTemplateInput,
): Promise<{ body: ReadableStream<Uint8Array>; filename: string; uniquePart: string }> {
  const current = await getLetterTemplate(ctx, ports, name, language);
  const { template } = checkedDraft(name, current.language, current.fields, input.draft);
  return previewLetter(ctx, ports, input.campaign, { ...(input.target === undefined ? {} : { target: input.target }), template: name, language: current.language }, template);
}
