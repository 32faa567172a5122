import * as v from 'valibot';
import { isMap, isScalar, LineCounter, parseDocument, type Scalar } from 'yaml';
import { TemplateError } from './template-error.js';
import { checkTemplateText } from './template-text.js';
import { envelopeWindows, pageSizes, type LetterLanguage, type LetterTemplate } from './types.js';

const text = (field: string) => v.string(`${field} must be text (quote values that start with "{{")`);

/** Front matter of a letter template file. Unknown keys are refused so that a misspelt key is not silently ignored. */
export const TemplateFrontMatter = v.strictObject(
  {
    subject: v.pipe(text('subject'), v.nonEmpty('subject must not be empty')),
    pageSize: v.optional(v.picklist(pageSizes, `pageSize must be one of ${pageSizes.join(', ')}`), 'A4'),
    envelopeWindow: v.optional(v.picklist(envelopeWindows, `envelopeWindow must be one of ${envelopeWindows.join(', ')}`)),
    letterhead: v.optional(v.boolean('letterhead must be true or false'), true),
    addressee: v.optional(text('addressee'), '{{target.name}}\n{{target.title}}\n{{target.organisation}}'),
    salutation: v.optional(text('salutation'), '{{target.salutation}}'),
    closing: v.pipe(text('closing'), v.nonEmpty('closing must not be empty')),
    closingAlign: v.optional(v.picklist(['left', 'right'], 'closingAlign must be left or right'), 'left'),
  },
  // The object's own message covers both a missing required key and an unknown one.
  (issue) =>
    issue.received === 'undefined'
      ? `missing front matter key ${issue.expected ?? ''}`.trim()
      : `unknown front matter key "${String(issue.path?.[0]?.key ?? issue.received)}"`,
);
export type TemplateFrontMatter = v.InferOutput<typeof TemplateFrontMatter>;

/** The sheet size each envelope window is made for: a window only works on that size. */
export const windowPageSize = { 'din5008-b': 'A4', 'jp-naga3': 'A4', 'us-10': 'Letter' } as const;

const frontMatterPattern = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

const countLines = (value: string): number => value.split('\n').length - 1;

/**
 * Parses and checks one template file: YAML front matter between `---` lines, then the Markdown
 * body. Every Mustache field is checked against the letter variables, and errors name the file line.
 */
export function parseTemplateSource(source: string, name: string, language: LetterLanguage): LetterTemplate {
  const match = frontMatterPattern.exec(source.replace(/^\uFEFF/, ''));
  if (!match) {
    throw new TemplateError('TEMPLATE_INVALID', `Template ${name}/${language} must start with front matter between "---" lines.`, { line: 1 });
  }
  const yamlText = match[1]!;
  const lineCounter = new LineCounter();
  const document = parseDocument(yamlText, { lineCounter, uniqueKeys: true });
  const [yamlError] = document.errors;
  if (yamlError) {
    const line = 1 + (yamlError.linePos?.[0].line ?? 1);
    // yaml's own position counts from the front matter; the file line is given instead.
    const reason = yamlError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new TemplateError('TEMPLATE_INVALID', `Front matter of ${name}/${language} is not valid YAML (line ${line}): ${reason}.`, { line });
  }

  // Line in the file (the opening "---" is line 1) where each key's value begins.
  const valueLines = new Map<string, number>();
  if (isMap(document.contents)) {
    for (const pair of document.contents.items) {
      if (!isScalar(pair.key) || !pair.value || !('range' in pair.value) || !pair.value.range) continue;
      const line = 1 + lineCounter.linePos(pair.value.range[0]).line;
      if (!isScalar(pair.value)) {
        // Every key takes one value; `subject: {{x}}` unquoted is YAML for a nested mapping.
        throw new TemplateError('TEMPLATE_INVALID', `Front matter of ${name}/${language} (line ${line}): ${String(pair.key.value)} must be text (quote values that start with "{{").`, { line });
      }
      const node = pair.value as Scalar;
      const blockScalar = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
      valueLines.set(String(pair.key.value), line + (blockScalar ? 1 : 0));
    }
  }

  const parsed = v.safeParse(TemplateFrontMatter, document.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const key = issue.path?.[0]?.key;
    const line = typeof key === 'string' ? valueLines.get(key) : undefined;
    throw new TemplateError('TEMPLATE_INVALID', `Front matter of ${name}/${language}${line ? ` (line ${line})` : ''}: ${issue.message}.`, { line });
  }
  const front = parsed.output;
  const envelopeWindow = front.envelopeWindow ?? (front.pageSize === 'Letter' ? 'us-10' : 'din5008-b');
  if (envelopeWindow !== 'none' && windowPageSize[envelopeWindow] !== front.pageSize) {
    throw new TemplateError(
      'TEMPLATE_INVALID',
      `Front matter of ${name}/${language}: envelopeWindow ${envelopeWindow} fits ${windowPageSize[envelopeWindow]} paper, not ${front.pageSize}.`,
      { line: valueLines.get('envelopeWindow') },
    );
  }

  const bodyLine = 1 + countLines(match[0]) + (match[0].endsWith('\n') ? 0 : 1);
  const body = source.replace(/^\uFEFF/, '').slice(match[0].length);
  const variables = new Set<string>();
  const fields = { subject: front.subject, addressee: front.addressee, salutation: front.salutation, closing: front.closing };
  for (const [key, value] of Object.entries(fields)) {
    for (const variable of checkTemplateText(value, { line: valueLines.get(key) ?? 1 })) variables.add(variable);
  }
  for (const variable of checkTemplateText(body, { line: bodyLine })) variables.add(variable);

  return {
    name,
    language,
    subject: front.subject,
    pageSize: front.pageSize,
    envelopeWindow,
    addressee: front.addressee.trimEnd(),
    salutation: front.salutation.trimEnd(),
    closing: front.closing.trimEnd(),
    closingAlign: front.closingAlign,
    letterhead: front.letterhead,
    body,
    bodyLine,
    variables: [...variables].sort(),
  };
}
