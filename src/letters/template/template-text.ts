import Mustache from 'mustache';
import { TemplateError } from './template-error.js';

/**
 * The shape of the data a template may name. Checking names against it before rendering is what
 * makes the language strict: Mustache itself renders an unknown name as an empty string, and looks
 * names up with `in`, which would reach `constructor` and other inherited members.
 */
export type VariableShape =
  | { kind: 'value' }
  | { kind: 'object'; fields: Record<string, VariableShape> }
  | { kind: 'list'; item: VariableShape };

const value: VariableShape = { kind: 'value' };
const object = (fields: Record<string, VariableShape>): VariableShape => ({ kind: 'object', fields });
const list = (item: VariableShape): VariableShape => ({ kind: 'list', item });

/** Every variable a letter template may use (PRODUCT.md §6). */
export const letterVariables = object({
  campaign: object({ slug: value, title: value, summary: value, url: value }),
  target: object({
    name: value,
    title: value,
    organisation: value,
    salutation: value,
    language: value,
    postalAddress: object({ lines: list(value), postalCode: value, city: value, region: value, country: value }),
  }),
  signatures: object({
    count: value,
    total: value,
    listed: value,
    byRegion: list(object({ region: value, count: value })),
  }),
  date: value,
  organisation: object({
    name: value,
    addressLines: list(value),
    country: value,
    postalAddress: object({ lines: list(value), postalCode: value, city: value, region: value, country: value }),
    email: value,
    website: value,
    phone: value,
    logo: value,
    signatory: object({ name: value, title: value }),
    representative: object({ name: value, title: value }),
  }),
  signer: object({ name: value, city: value, country: value }),
});

type Token = [type: string, value: string, start: number, end: number, children?: Token[]];

type Scope = { shape: VariableShape; path: string };

/** Where a piece of template text sits in its file, so errors can name a file line. */
export type TextOrigin = { line: number };

const lineAt = (text: string, offset: number, origin: TextOrigin): number => {
  let line = origin.line;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
};

const parseTokens = (text: string, origin: TextOrigin): Token[] => {
  try {
    return Mustache.parse(text) as Token[];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Mustache reports an unclosed section at the end of the text; the line that opened it is the useful one.
    const unclosed = /^Unclosed section "(.+)"/.exec(message);
    const opening = unclosed ? Math.max(text.lastIndexOf(`{{#${unclosed[1]}`), text.lastIndexOf(`{{^${unclosed[1]}`)) : -1;
    const at = /at (\d+)$/.exec(message);
    const offset = opening >= 0 ? opening : at ? Number(at[1]) : 0;
    const line = lineAt(text, offset, origin);
    throw new TemplateError('TEMPLATE_INVALID', `Template syntax error on line ${line}: ${message.replace(/ at \d+$/, '')}.`, { line });
  }
};

const resolveName = (name: string, scopes: Scope[]): { shape: VariableShape; path: string } | undefined => {
  if (name === '.') {
    const inner = scopes[scopes.length - 1];
    return inner && inner.shape.kind === 'value' && inner.path !== '' ? inner : undefined;
  }
  const [head, ...rest] = name.split('.');
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i]!;
    if (scope.shape.kind !== 'object' || !Object.hasOwn(scope.shape.fields, head!)) continue;
    // Mustache stops at the first context that has the head, so the rest must resolve from there.
    let shape: VariableShape | undefined = scope.shape.fields[head!];
    let path = scope.path ? `${scope.path}.${head}` : head!;
    for (const part of rest) {
      if (shape?.kind !== 'object' || !Object.hasOwn(shape.fields, part)) return undefined;
      shape = shape.fields[part];
      path = `${path}.${part}`;
    }
    return shape && { shape, path };
  }
  return undefined;
};

const walk = (tokens: Token[], scopes: Scope[], text: string, origin: TextOrigin, used: Set<string>): void => {
  for (const [type, name, start, , children] of tokens) {
    if (type === 'text' || type === '!' || type === '=') continue;
    const line = lineAt(text, start, origin);
    if (type === '>') {
      throw new TemplateError('TEMPLATE_INVALID', `Partials ("{{> ${name}}}") are not allowed in letter templates (line ${line}).`, { line });
    }
    if (type === '&' || type === '{') {
      // Values are already printed as typed; raw output would only let data format the letter.
      throw new TemplateError('TEMPLATE_INVALID', `Raw output of "${name}" on line ${line} is not allowed; write {{${name}}}.`, { variable: name, line });
    }
    const resolved = resolveName(name, scopes);
    if (!resolved) {
      const hint = name === '.' ? ' ("." is only valid inside a section over a list of values)' : '';
      throw new TemplateError('TEMPLATE_INVALID', `Unknown variable "${name}" on line ${line}${hint}.`, { variable: name, line });
    }
    used.add(resolved.path);
    if (type === '#' || type === '^') {
      const inner = resolved.shape.kind === 'list' ? { shape: resolved.shape.item, path: resolved.path } : resolved;
      walk(children ?? [], type === '#' ? [...scopes, inner] : scopes, text, origin, used);
    } else if (resolved.shape.kind !== 'value') {
      throw new TemplateError(
        'TEMPLATE_INVALID',
        `Variable "${name}" on line ${line} is a ${resolved.shape.kind}; use it as a section: {{#${name}}}…{{/${name}}}.`,
        { variable: name, line },
      );
    }
  }
};

/**
 * Checks that `text` is valid Mustache naming only known variables, without partials.
 * Returns the dotted paths it names. Throws TemplateError('TEMPLATE_INVALID') with the variable and line.
 */
export function checkTemplateText(text: string, origin: TextOrigin, shape: VariableShape = letterVariables): string[] {
  const used = new Set<string>();
  walk(parseTokens(text, origin), [{ shape, path: '' }], text, origin, used);
  return [...used].sort();
}

// Every ASCII character that the letter Markdown gives a meaning to, so data can never format itself.
const markdownSpecial = /[\\`*_#+\-.!\[\]()<>|~]/g;

/** Escapes a value for insertion into Markdown; line breaks in data become spaces. */
function escapeMarkdown(text: unknown): string {
  return String(text).replace(/\r?\n|\r/g, ' ').replace(markdownSpecial, (c) => `\\${c}`);
}

const plain = (text: unknown): string => String(text).replace(/\r?\n|\r/g, ' ');

/**
 * Renders checked template text. `markdown` escapes every value so a campaign title such as
 * "*urgent*" prints as typed; `plain` (subject, salutation, closing) inserts values as they are.
 */
export function renderTemplateText(text: string, view: object, mode: 'markdown' | 'plain', origin: TextOrigin = { line: 1 }): string {
  checkTemplateText(text, origin);
  return Mustache.render(text, view, {}, { escape: mode === 'markdown' ? escapeMarkdown : plain });
}
