import * as v from 'valibot';
import { parseDocument } from 'yaml';
import { TemplateError } from './template-error.js';
import { checkTemplateText, renderTemplateText, type VariableShape } from './template-text.js';
import type { LetterLanguage } from './types.js';

/**
 * Update templates: the email an `update` mailing sends to supporters,
 * written once per language as `letters/updates/<name>/<lang>.md` (front
 * matter with a `subject`, then a Markdown body), in the same strict Mustache
 * as letter templates but with the variables of an update only.
 */

const value: VariableShape = { kind: 'value' };

/** Every variable an update template may use. */
export const updateVariables: VariableShape = {
  kind: 'object',
  fields: {
    campaign: { kind: 'object', fields: { slug: value, title: value, summary: value, url: value } },
    signatures: { kind: 'object', fields: { count: value } },
    date: value,
  },
};

/** What an update template is rendered with, every value already written for the supporter's language. */
export type UpdateTemplateView = {
  campaign: { slug: string; title: string; summary: string; url: string };
  signatures: { count: string };
  date: string;
};

export type UpdateTemplate = {
  name: string;
  language: LetterLanguage;
  subject: string;
  body: string;
  /** File line the body starts on, so errors name the line in the file. */
  bodyLine: number;
  /** The dotted variables the template names. */
  variables: string[];
};

const UpdateFrontMatter = v.strictObject(
  { subject: v.pipe(v.string('subject must be text (quote values that start with "{{")'), v.nonEmpty('subject must not be empty')) },
  (issue) => (issue.received === 'undefined' ? 'missing front matter key subject' : `unknown front matter key "${String(issue.path?.[0]?.key ?? issue.received)}"`),
);

const frontMatterPattern = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/** Parses and checks one update template file; errors are TemplateError('TEMPLATE_INVALID') naming the variable and line. */
export function parseUpdateTemplateSource(source: string, name: string, language: LetterLanguage): UpdateTemplate {
  const text = source.replace(/^\uFEFF/, '');
  const match = frontMatterPattern.exec(text);
  if (!match) {
    throw new TemplateError('TEMPLATE_INVALID', `Update template ${name}/${language} must start with front matter between "---" lines.`, { line: 1 });
  }
  const document = parseDocument(match[1]!, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new TemplateError('TEMPLATE_INVALID', `Front matter of update template ${name}/${language} is not valid YAML: ${document.errors[0]!.message.split('\n')[0]}.`);
  }
  const parsed = v.safeParse(UpdateFrontMatter, document.toJS() ?? {});
  if (!parsed.success) {
    throw new TemplateError('TEMPLATE_INVALID', `Front matter of update template ${name}/${language}: ${parsed.issues[0].message}.`);
  }
  const subjectLine = 1 + match[1]!.split('\n').findIndex((line) => line.startsWith('subject:')) + 1;
  const bodyLine = 1 + (match[0].match(/\n/g)?.length ?? 0) + (match[0].endsWith('\n') ? 0 : 1);
  const body = text.slice(match[0].length);
  const variables = new Set([
    ...checkTemplateText(parsed.output.subject, { line: subjectLine }, updateVariables),
    ...checkTemplateText(body, { line: bodyLine }, updateVariables),
  ]);
  return { name, language, subject: parsed.output.subject, body, bodyLine, variables: [...variables].sort() };
}

/**
 * The subject (one line) and Markdown body for one supporter. Values are
 * inserted as written: the email's Markdown renderer escapes everything, so
 * no value can add HTML.
 */
export function renderUpdateTemplate(template: UpdateTemplate, view: UpdateTemplateView): { subject: string; body: string } {
  return {
    subject: renderTemplateText(template.subject, view, 'plain').replace(/\s+/g, ' ').trim(),
    body: renderTemplateText(template.body, view, 'plain', { line: template.bodyLine }),
  };
}
