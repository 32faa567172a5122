import { and, desc, eq } from 'drizzle-orm';
import { letterTemplateVersions } from '../db/schema.js';
import type { LetterTemplateStore } from '../letters/letter-ports.js';
import { TemplateError } from '../letters/template/template-error.js';
import { checkTemplateRef } from '../letters/template/template-library.js';
import { parseTemplateSource } from '../letters/template/template-source.js';
import type { LetterLanguage, LetterTemplate } from '../letters/template/types.js';
import type { ServiceContext } from './context.js';

/**
 * Which text of a letter template letters use (PRODUCT.md §12): the newest version saved in the
 * dashboard or the API (src/services/letter-templates.ts), else the shipped file
 * `letters/<name>/<language>.md`, which is version 0.
 */

/** A template language at one version: 0 is the shipped file. */
export type VersionedTemplate = { template: LetterTemplate; version: number };

type VersionRow = typeof letterTemplateVersions.$inferSelect;

/** The newest stored version of one template language, if any was saved. */
export async function newestTemplateVersion(ctx: ServiceContext, name: string, language: string): Promise<VersionRow | undefined> {
  const [row] = await ctx.db.db
    .select()
    .from(letterTemplateVersions)
    .where(and(eq(letterTemplateVersions.name, name), eq(letterTemplateVersions.language, language as LetterLanguage)))
    .orderBy(desc(letterTemplateVersions.version))
    .limit(1);
  return row;
}

/**
 * One template language as letters use it now: the newest saved version, else the shipped
 * file (version 0). TEMPLATE_NOT_FOUND when neither exists; TemplateError when it cannot be used.
 */
export async function currentLetterTemplate(ctx: ServiceContext, store: Pick<LetterTemplateStore, 'loadTemplate'>, name: string, language: string): Promise<VersionedTemplate> {
  checkTemplateRef(name, language);
  const row = await newestTemplateVersion(ctx, name, language);
  if (row) return { template: parseTemplateSource(row.source, name, language), version: row.version };
  return { template: await store.loadTemplate(name, language), version: 0 };
}

/**
 * One template language at the version a batch recorded (0: the shipped file as it is now).
 * A version that is no longer stored is TEMPLATE_NOT_FOUND, so a letter is never rendered
 * again with words it was not written with.
 */
export async function letterTemplateAt(ctx: ServiceContext, store: Pick<LetterTemplateStore, 'loadTemplate'>, name: string, language: string, version: number): Promise<LetterTemplate> {
  checkTemplateRef(name, language);
  if (version === 0) return store.loadTemplate(name, language);
  const [row] = await ctx.db.db
    .select({ source: letterTemplateVersions.source })
    .from(letterTemplateVersions)
    .where(and(eq(letterTemplateVersions.name, name), eq(letterTemplateVersions.language, language), eq(letterTemplateVersions.version, version)))
    .limit(1);
  if (!row) throw new TemplateError('TEMPLATE_NOT_FOUND', `Version ${version} of template ${name}/${language} was not found.`);
  return parseTemplateSource(row.source, name, language);
}
