import * as v from 'valibot';
import type { TemplateSummary, TemplateVariant } from '../letter-ports.js';
import { TemplateError } from './template-error.js';
import { letterLanguages, type LetterLanguage, type LetterTemplate, type Organisation } from './types.js';

/**
 * The rules of the `letters/` folder that do not depend on where it is kept: which names and
 * languages are templates, how a folder of variants is summarised, and what `organisation.json`
 * must hold. The file store (Node) and the bundle (Workers) apply them alike.
 */

export const templateNamePattern = /^[a-z0-9-]+$/;

export const isLetterLanguage = (value: string): value is LetterLanguage => (letterLanguages as readonly string[]).includes(value);

/**
 * Refuses a template name or language that could name anything but a template: the name must
 * match ^[a-z0-9-]+$ and the language be one of en|ja|ko|zh, so `../`, absolute paths and
 * URL-encoded forms never reach a file system or a bundle lookup.
 */
export function checkTemplateRef(name: string, language: string): asserts language is LetterLanguage {
  if (!templateNamePattern.test(name)) {
    throw new TemplateError('TEMPLATE_INVALID', `Template name "${name}" is not valid: use lower-case letters, digits and hyphens.`);
  }
  if (!isLetterLanguage(language)) {
    throw new TemplateError('TEMPLATE_INVALID', `Template language "${language}" is not valid: use one of ${letterLanguages.join(', ')}.`);
  }
}

/** `letters/targets/<name>.json`: the shipped target directories, by name. */
export const targetDirectoryFile = (name: string): string | null => (templateNamePattern.test(name) ? `targets/${name}.json` : null);

/** The directory names among the file names of `letters/targets/`, sorted. */
export function targetDirectoryNames(files: readonly string[]): string[] {
  return files
    .map((file) => /^([a-z0-9-]+)\.json$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

export const templateNotFound = (what: string) => new TemplateError('TEMPLATE_NOT_FOUND', `${what} was not found.`);

/** The languages of `letterLanguages` that have a `<language>.md` among `files`, in that order. */
export function templateLanguages(files: readonly string[]): LetterLanguage[] {
  return letterLanguages.filter((language) => files.includes(`${language}.md`));
}

/** One template with each language variant either summarised or with the reason it is refused. */
export async function summariseTemplate(
  name: string,
  languages: readonly LetterLanguage[],
  load: (language: LetterLanguage) => Promise<LetterTemplate>,
): Promise<TemplateSummary> {
  const variants: TemplateVariant[] = [];
  for (const language of languages) {
    try {
      const { subject, pageSize, envelopeWindow, variables } = await load(language);
      variants.push({ language, subject, pageSize, envelopeWindow, variables });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      variants.push({ language, error: { code: error.code, message: error.message, variable: error.variable, line: error.line } });
    }
  }
  const variables = new Set(variants.flatMap((variant) => ('variables' in variant ? variant.variables : [])));
  return { name, languages: [...languages], variables: [...variables].sort(), variants };
}

const line = v.pipe(v.string(), v.trim(), v.nonEmpty());
const optionalLine = v.optional(v.pipe(v.string(), v.trim()));

/** `letters/organisation.json`: the seed of the organisation profile (src/services/organisation.ts) and its logo. */
export const OrganisationFile = v.strictObject({
  name: line,
  addressLines: v.pipe(v.array(line), v.minLength(1, 'give at least one address line')),
  country: v.pipe(v.string(), v.regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as JP')),
  email: optionalLine,
  website: optionalLine,
  phone: optionalLine,
  logo: v.optional(v.nullable(v.pipe(v.string(), v.regex(/\.(png|jpe?g)$/i, 'must be a .png or .jpg file')))),
  representative: v.optional(v.strictObject({ name: line, title: optionalLine })),
});
export type OrganisationFile = v.InferOutput<typeof OrganisationFile>;

/** `letters/organisation.json` could not be read (`reason` completes "letters/organisation.json …"). */
export const organisationUnreadable = (reason: string) => new TemplateError('ORGANISATION_INVALID', `letters/organisation.json ${reason}.`);

export const organisationLogoInvalid = (logo: string) =>
  new TemplateError('ORGANISATION_INVALID', `letters/organisation.json: logo "${logo}" must be a PNG or JPEG file inside the letters directory.`, {
    variable: 'organisation.logo',
  });

export const isLogoFile = (path: string): boolean => /\.(png|jpe?g)$/i.test(path);

/**
 * Parses and checks the text of `organisation.json`. The logo comes back apart, as written
 * (relative to the letters directory), for the store to find and check.
 */
export function parseOrganisationFile(text: string): { organisation: Omit<Organisation, 'logo'>; logo: string | undefined } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw organisationUnreadable(`is not valid JSON (${(error as Error).message})`);
  }
  const parsed = v.safeParse(OrganisationFile, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue.path?.map((item) => String(item.key)).join('.') || 'file';
    throw new TemplateError('ORGANISATION_INVALID', `letters/organisation.json: ${where}: ${issue.message}.`, { variable: `organisation.${where}` });
  }
  const { logo, ...organisation } = parsed.output;
  return { organisation, logo: logo ?? undefined };
}
