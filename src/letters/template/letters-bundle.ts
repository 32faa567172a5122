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
} from './template-library.js';
import { parseTemplateSource } from './template-source.js';
import type { LetterTemplate, Organisation } from './types.js';
import { parseUpdateTemplateSource, type UpdateTemplate } from './update-template.js';

/**
 * The `letters/` folder as data, for a runtime without a file system (Workers). Written by
 * `scripts/bundle-letters.ts` as it is on disk; nothing is checked until it is loaded, with the
 * same rules and errors as the Node file store (src/letters/node/template-files.ts).
 */
export type LettersBundle = {
  /** Text files by path relative to `letters/`: `<name>/<language>.md`, `updates/<name>/<language>.md`, `organisation.json`, `targets/<name>.json`. */
  files: Record<string, string>;
  /** Binary files (the organisation's logo) by path relative to `letters/`, base64. */
  binaries: Record<string, string>;
};

/** The bundle's templates and organisation; `organisation.logo` is a path inside the bundle, read with `image`. */
export type BundledTemplates = LetterTemplateStore & {
  /** The bytes of a bundled image named by `organisation.logo`. */
  image(path: string): Uint8Array;
};

/** A relative path with `.` and `..` resolved, or null when it is absolute or leaves the folder. */
function normalisePath(path: string): string | null {
  if (path.startsWith('/') || path.includes('\\')) return null;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length > 0 ? parts.join('/') : null;
}

const decodeBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

export function createBundledTemplates(bundle: LettersBundle): BundledTemplates {
  const file = (path: string): string | undefined => (Object.hasOwn(bundle.files, path) ? bundle.files[path] : undefined);
  const variant = (folder: string, name: string, language: string): string => {
    checkTemplateRef(name, language);
    const source = file(`${folder}${name}/${language}.md`);
    if (source === undefined) throw templateNotFound(`Template ${name}/${language}`);
    return source;
  };
  const loadTemplate = async (name: string, language: string): Promise<LetterTemplate> => {
    const source = variant('', name, language);
    return parseTemplateSource(source, name, language as LetterTemplate['language']);
  };
  return {
    loadTemplate,
    loadTemplateSource: async (name, language) => variant('', name, language),
    async loadUpdateTemplate(name, language): Promise<UpdateTemplate> {
      const source = variant('updates/', name, language);
      return parseUpdateTemplateSource(source, name, language as UpdateTemplate['language']);
    },
    async listTemplates(): Promise<TemplateSummary[]> {
      const folders = new Map<string, string[]>();
      for (const path of Object.keys(bundle.files)) {
        const [folder, name, ...deeper] = path.split('/');
        if (!folder || !name || deeper.length > 0 || !templateNamePattern.test(folder)) continue;
        folders.set(folder, [...(folders.get(folder) ?? []), name]);
      }
      const summaries: TemplateSummary[] = [];
      for (const [name, files] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
        const languages = templateLanguages(files);
        if (languages.length > 0) summaries.push(await summariseTemplate(name, languages, (language) => loadTemplate(name, language)));
      }
      return summaries;
    },
    async loadOrganisation(): Promise<Organisation> {
      const text = file('organisation.json');
      if (text === undefined) throw organisationUnreadable('is missing');
      const { organisation, logo } = parseOrganisationFile(text);
      if (!logo) return organisation;
      const path = normalisePath(logo);
      if (!path || !Object.hasOwn(bundle.binaries, path) || !isLogoFile(path)) throw organisationLogoInvalid(logo);
      return { ...organisation, logo: path };
    },
    async listTargetDirectories(): Promise<string[]> {
      return targetDirectoryNames(Object.keys(bundle.files).flatMap((path) => (path.startsWith('targets/') ? [path.slice('targets/'.length)] : [])));
    },
    async loadTargetDirectory(name): Promise<string> {
      const path = targetDirectoryFile(name);
      const text = path === null ? undefined : file(path);
      if (text === undefined) throw templateNotFound(`Target directory ${name}`);
      return text;
    },
    image(path) {
      const normalised = normalisePath(path);
      if (!normalised || !Object.hasOwn(bundle.binaries, normalised)) throw new Error(`No image "${path}" in the letters bundle.`);
      return decodeBase64(bundle.binaries[normalised]!);
    },
  };
}
