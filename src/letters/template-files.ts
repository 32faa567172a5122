import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import * as v from 'valibot';
import { TemplateError } from './template-error.js';
import { parseTemplateSource } from './template-source.js';
import { parseUpdateTemplateSource, type UpdateTemplate } from './update-template.js';
import { letterLanguages, type LetterLanguage, type LetterTemplate, type Organisation } from './types.js';

const templateNamePattern = /^[a-z0-9-]+$/;

/** One language version of a template, or why it cannot be used. */
export type TemplateVariant =
  | { language: LetterLanguage; subject: string; pageSize: string; envelopeWindow: string; variables: string[] }
  | { language: LetterLanguage; error: { code: string; message: string; variable?: string; line?: number } };

export type TemplateSummary = {
  name: string;
  languages: LetterLanguage[];
  /** Union of the variables named by the usable variants. */
  variables: string[];
  variants: TemplateVariant[];
};

const isLanguage = (value: string): value is LetterLanguage => (letterLanguages as readonly string[]).includes(value);

const isInside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

const notFound = (what: string) => new TemplateError('TEMPLATE_NOT_FOUND', `${what} was not found.`);

/**
 * The file of one template variant, refusing anything that could leave `lettersDir`: the name must
 * match ^[a-z0-9-]+$ and the language be one of en|ja|ko|zh (so `../`, absolute paths and
 * URL-encoded forms never reach the file system), and the real path (symlinks followed) must
 * still be inside the letters directory.
 */
export async function resolveTemplatePath(lettersDir: string, name: string, language: string): Promise<string> {
  if (!templateNamePattern.test(name)) {
    throw new TemplateError('TEMPLATE_INVALID', `Template name "${name}" is not valid: use lower-case letters, digits and hyphens.`);
  }
  if (!isLanguage(language)) {
    throw new TemplateError('TEMPLATE_INVALID', `Template language "${language}" is not valid: use one of ${letterLanguages.join(', ')}.`);
  }
  const root = resolve(lettersDir);
  const path = resolve(root, name, `${language}.md`);
  if (!isInside(root, path)) throw notFound(`Template ${name}/${language}`);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw notFound(`Template ${name}/${language}`);
  }
  if (!isInside(await realpath(root), real)) throw notFound(`Template ${name}/${language}`);
  return real;
}

/** Reads, parses and checks one template variant (`letters/<name>/<language>.md`). */
export async function loadTemplate(lettersDir: string, name: string, language: string): Promise<LetterTemplate> {
  const path = await resolveTemplatePath(lettersDir, name, language);
  return parseTemplateSource(await readFile(path, 'utf8'), name, language as LetterLanguage);
}

/**
 * Reads and checks one update template variant (`letters/updates/<name>/<language>.md`),
 * with the same path rules as letter templates; TEMPLATE_NOT_FOUND when that variant does not exist.
 */
export async function loadUpdateTemplate(lettersDir: string, name: string, language: string): Promise<UpdateTemplate> {
  const path = await resolveTemplatePath(join(lettersDir, 'updates'), name, language);
  return parseUpdateTemplateSource(await readFile(path, 'utf8'), name, language as LetterLanguage);
}

/** Every template in `lettersDir`, with each language variant either summarised or with the reason it is refused. */
export async function listTemplates(lettersDir: string): Promise<TemplateSummary[]> {
  const entries = await readdir(lettersDir, { withFileTypes: true });
  const summaries: TemplateSummary[] = [];
  for (const entry of entries.filter((e) => e.isDirectory() && templateNamePattern.test(e.name)).sort((a, b) => a.name.localeCompare(b.name))) {
    const files = await readdir(join(lettersDir, entry.name));
    const languages = letterLanguages.filter((language) => files.includes(`${language}.md`));
    if (languages.length === 0) continue;
    const variants: TemplateVariant[] = [];
    for (const language of languages) {
      try {
        const template = await loadTemplate(lettersDir, entry.name, language);
        const { subject, pageSize, envelopeWindow, variables } = template;
        variants.push({ language, subject, pageSize, envelopeWindow, variables });
      } catch (error) {
        if (!(error instanceof TemplateError)) throw error;
        variants.push({ language, error: { code: error.code, message: error.message, variable: error.variable, line: error.line } });
      }
    }
    const variables = new Set(variants.flatMap((variant) => ('variables' in variant ? variant.variables : [])));
    summaries.push({ name: entry.name, languages, variables: [...variables].sort(), variants });
  }
  return summaries;
}

const line = v.pipe(v.string(), v.trim(), v.nonEmpty());
const optionalLine = v.optional(v.pipe(v.string(), v.trim()));

/** `letters/organisation.json`: the sending organisation, edited by organisers. */
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

/**
 * Reads `organisation.json` from `lettersDir`. A logo path is resolved inside the letters
 * directory (never outside it) and must exist; it is returned absolute.
 */
export async function loadOrganisation(lettersDir: string): Promise<Organisation> {
  const path = join(lettersDir, 'organisation.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `is not valid JSON (${(error as Error).message})`;
    throw new TemplateError('ORGANISATION_INVALID', `letters/organisation.json ${reason}.`);
  }
  const parsed = v.safeParse(OrganisationFile, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue.path?.map((item) => String(item.key)).join('.') || 'file';
    throw new TemplateError('ORGANISATION_INVALID', `letters/organisation.json: ${where}: ${issue.message}.`, { variable: `organisation.${where}` });
  }
  const { logo, ...organisation } = parsed.output;
  if (!logo) return organisation;
  const root = await realpath(lettersDir);
  const logoPath = resolve(root, logo);
  let realLogo: string | undefined;
  try {
    realLogo = await realpath(logoPath);
  } catch {
    realLogo = undefined;
  }
  if (!realLogo || !isInside(root, realLogo) || !(await stat(realLogo)).isFile() || !/^\.(png|jpe?g)$/i.test(extname(realLogo))) {
    throw new TemplateError('ORGANISATION_INVALID', `letters/organisation.json: logo "${logo}" must be a PNG or JPEG file inside the letters directory.`, {
      variable: 'organisation.logo',
    });
  }
  return { ...organisation, logo: realLogo };
}
