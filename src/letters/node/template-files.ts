import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { LetterTemplateStore, TemplateSummary } from '../letter-ports.js';
import {
  checkTemplateRef,
  isLogoFile,
  organisationLogoInvalid,
  organisationUnreadable,
  parseOrganisationFile,
  summariseTemplate,
  targetDirectoryFile,
  targetDirectoryNames,
  templateLanguages,
  templateNamePattern,
  templateNotFound,
} from '../template/template-library.js';
import { parseTemplateSource } from '../template/template-source.js';
import type { LetterLanguage, LetterTemplate, Organisation } from '../template/types.js';
import { parseUpdateTemplateSource, type UpdateTemplate } from '../template/update-template.js';

const isInside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/**
 * The file of one template variant, refusing anything that could leave `lettersDir`: the name and
 * language are checked first (`checkTemplateRef`), and the real path (symlinks followed) must
 * still be inside the letters directory.
 */
export async function resolveTemplatePath(lettersDir: string, name: string, language: string): Promise<string> {
  checkTemplateRef(name, language);
  const root = resolve(lettersDir);
  const path = resolve(root, name, `${language}.md`);
  if (!isInside(root, path)) throw templateNotFound(`Template ${name}/${language}`);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw templateNotFound(`Template ${name}/${language}`);
  }
  if (!isInside(await realpath(root), real)) throw templateNotFound(`Template ${name}/${language}`);
  return real;
}

/** The text of one template variant (`letters/<name>/<language>.md`) as written. */
export async function loadTemplateSource(lettersDir: string, name: string, language: string): Promise<string> {
  return readFile(await resolveTemplatePath(lettersDir, name, language), 'utf8');
}

/** Reads, parses and checks one template variant (`letters/<name>/<language>.md`). */
export async function loadTemplate(lettersDir: string, name: string, language: string): Promise<LetterTemplate> {
  return parseTemplateSource(await loadTemplateSource(lettersDir, name, language), name, language as LetterLanguage);
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
    const languages = templateLanguages(await readdir(join(lettersDir, entry.name)));
    if (languages.length === 0) continue;
    summaries.push(await summariseTemplate(entry.name, languages, (language) => loadTemplate(lettersDir, entry.name, language)));
  }
  return summaries;
}

/**
 * Reads `organisation.json` from `lettersDir`. A logo path is resolved inside the letters
 * directory (never outside it) and must exist; it is returned absolute.
 */
export async function loadOrganisation(lettersDir: string): Promise<Organisation> {
  let text: string;
  try {
    text = await readFile(join(lettersDir, 'organisation.json'), 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `is not valid JSON (${(error as Error).message})`;
    throw organisationUnreadable(reason);
  }
  const { organisation, logo } = parseOrganisationFile(text);
  if (!logo) return organisation;
  const root = await realpath(lettersDir);
  const logoPath = resolve(root, logo);
  let realLogo: string | undefined;
  try {
    realLogo = await realpath(logoPath);
  } catch {
    realLogo = undefined;
  }
  if (!realLogo || !isInside(root, realLogo) || !(await stat(realLogo)).isFile() || !isLogoFile(realLogo)) throw organisationLogoInvalid(logo);
  return { ...organisation, logo: realLogo };
}

/** The names of the shipped target directories (`letters/targets/*.json`); none when the folder is absent. */
export async function listTargetDirectories(lettersDir: string): Promise<string[]> {
  try {
    return targetDirectoryNames(await readdir(join(lettersDir, 'targets')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** One shipped target directory's text; the name is checked first, so nothing outside `letters/targets/` is read. */
export async function loadTargetDirectory(lettersDir: string, name: string): Promise<string> {
  const file = targetDirectoryFile(name);
  if (!file) throw templateNotFound(`Target directory ${name}`);
  try {
    const root = await realpath(lettersDir);
    const real = await realpath(join(root, file));
    if (!isInside(root, real)) throw templateNotFound(`Target directory ${name}`);
    return await readFile(real, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw templateNotFound(`Target directory ${name}`);
    throw error;
  }
}

/** The templates and organisation of a `letters/` directory on disk. */
export function createTemplateFiles(lettersDir: string): LetterTemplateStore {
  return {
    listTemplates: () => listTemplates(lettersDir),
    loadTemplate: (name, language) => loadTemplate(lettersDir, name, language),
    loadTemplateSource: (name, language) => loadTemplateSource(lettersDir, name, language),
    loadOrganisation: () => loadOrganisation(lettersDir),
    loadUpdateTemplate: (name, language) => loadUpdateTemplate(lettersDir, name, language),
    listTargetDirectories: () => listTargetDirectories(lettersDir),
    loadTargetDirectory: (name) => loadTargetDirectory(lettersDir, name),
  };
}
