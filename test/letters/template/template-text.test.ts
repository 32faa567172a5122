import { describe, expect, it } from 'vitest';
import { checkTemplateText, parseTemplateSource, renderTemplateText, TemplateError } from '../../../src/letters/index.js';

const thrown = (run: () => unknown): TemplateError => {
  try {
    run();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
};

describe('checkTemplateText', () => {
  it('returns the variables a template names, sections resolved to their full path', () => {
    const text = 'Dear {{target.name}},\n{{#signatures.byRegion}}- {{region}}: {{count}}\n{{/signatures.byRegion}}{{#organisation.addressLines}}{{.}} {{/organisation.addressLines}}';
    expect(checkTemplateText(text, { line: 1 })).toEqual([
      'organisation.addressLines',
      'signatures.byRegion',
      'signatures.byRegion.count',
      'signatures.byRegion.region',
      'target.name',
    ]);
  });

  it('refuses an unknown variable, naming it and its line in the file', () => {
    const error = thrown(() => checkTemplateText('Line one\nLine two {{campaign.title}}\nand {{campaign.goal}} here', { line: 10 }));
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.variable).toBe('campaign.goal');
    expect(error.line).toBe(12);
    expect(error.message).toContain('"campaign.goal"');
    expect(error.message).toContain('line 12');
  });

  it('refuses inherited members that Mustache would otherwise reach', () => {
    for (const name of ['campaign.constructor', 'constructor', 'campaign.__proto__', 'target.toString']) {
      expect(thrown(() => checkTemplateText(`{{${name}}}`, { line: 1 })).variable).toBe(name);
    }
  });

  it('refuses partials, raw output and objects printed as values', () => {
    expect(thrown(() => checkTemplateText('{{> /etc/passwd}}', { line: 3 }))).toMatchObject({ code: 'TEMPLATE_INVALID', line: 3 });
    expect(thrown(() => checkTemplateText('{{{campaign.title}}}', { line: 1 })).variable).toBe('campaign.title');
    expect(thrown(() => checkTemplateText('{{& campaign.title}}', { line: 1 })).variable).toBe('campaign.title');
    expect(thrown(() => checkTemplateText('{{signatures.byRegion}}', { line: 1 })).message).toContain('section');
  });

  it('knows names inside a section only there, and "." only over a list of values', () => {
    expect(thrown(() => checkTemplateText('{{region}}', { line: 1 })).variable).toBe('region');
    expect(thrown(() => checkTemplateText('{{#target}}{{.}}{{/target}}', { line: 1 })).variable).toBe('.');
    // Mustache looks names up through the enclosing contexts, so outer names stay valid inside.
    expect(checkTemplateText('{{#signatures.byRegion}}{{date}}{{/signatures.byRegion}}', { line: 1 })).toContain('date');
  });

  it('reports syntax errors with their line, an unclosed section where it opens', () => {
    const error = thrown(() => checkTemplateText('ok\n{{#signer}}\nunclosed', { line: 5 }));
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.line).toBe(6);
    expect(thrown(() => checkTemplateText('a\nb {{/signer}}', { line: 1 })).line).toBe(2);
  });
});

describe('renderTemplateText', () => {
  const view = {
    campaign: { title: '*Urgent* # appeal', slug: 's', summary: '', url: '' },
    signatures: { count: '1,234', listed: '0', byRegion: [{ region: 'Tokyo', count: '3' }, { region: 'Osaka', count: '2' }] },
    signer: null,
  };

  it('escapes values in Markdown so data cannot format the letter', () => {
    expect(renderTemplateText('{{campaign.title}}', view, 'markdown')).toBe('\\*Urgent\\* \\# appeal');
    expect(renderTemplateText('{{campaign.title}}', view, 'plain')).toBe('*Urgent* # appeal');
  });

  it('iterates lists and leaves out sections over an absent signer', () => {
    const text = '{{#signatures.byRegion}}{{region}}={{count}};{{/signatures.byRegion}}{{#signer}}from {{signer.name}}{{/signer}}{{^signer}}from all{{/signer}}';
    expect(renderTemplateText(text, view, 'plain')).toBe('Tokyo=3;Osaka=2;from all');
  });
});

describe('template front matter', () => {
  const parse = (source: string) => {
    try {
      parseTemplateSource(source, 'sample', 'en');
      return null;
    } catch (error) {
      return error as TemplateError;
    }
  };

  it('names a missing required key and an unknown key for what they are', () => {
    const missing = parse('---\nsubject: Petition\n---\nBody');
    expect(missing).toBeInstanceOf(TemplateError);
    expect(missing!.code).toBe('TEMPLATE_INVALID');
    expect(missing!.message).toContain('missing front matter key "closing"');

    const unknown = parse('---\nsubject: Petition\nclosing: Yours\nfooter: x\n---\nBody');
    expect(unknown!.message).toContain('unknown front matter key "footer"');
    expect(unknown!.line).toBe(4);

    expect(parse('---\nsubject: Petition\nclosing: Yours\n---\nBody')).toBeNull();
  });
});
