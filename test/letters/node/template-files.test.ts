import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/letters/index.js';
import { listTemplates, loadOrganisation, loadTemplate } from '../../../src/letters/node/index.js';
import { lettersDir, withTempDir } from '../helpers.js';

const rejection = async (promise: Promise<unknown>): Promise<TemplateError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
};

const template = (front: string, body = 'Hello {{target.name}}.') => `---\n${front}\n---\n${body}\n`;

describe('shipped templates', () => {
  it('lists the embassy petition in English, Japanese and Chinese, each naming the petition\'s total', async () => {
    const [petition, ...others] = await listTemplates(lettersDir);
    expect(others).toEqual([]);
    expect(petition!.name).toBe('embassy-petition');
    expect(petition!.languages).toEqual(['en', 'ja', 'zh']);
    for (const variant of petition!.variants) {
      expect(variant).not.toHaveProperty('error');
      expect('variables' in variant && variant.variables).toContain('signatures.total');
    }
    expect(petition!.variables).toEqual(expect.arrayContaining(['organisation.name', 'target.name', 'signatures.total']));
  });

  it('loads each variant with its page size and envelope window', async () => {
    const ja = await loadTemplate(lettersDir, 'embassy-petition', 'ja');
    expect(ja).toMatchObject({ name: 'embassy-petition', language: 'ja', pageSize: 'A4', envelopeWindow: 'jp-naga3', closing: '敬具', closingAlign: 'right' });
    expect(ja.body).toContain('1982年9月24日');
    const en = await loadTemplate(lettersDir, 'embassy-petition', 'en');
    expect(en).toMatchObject({ envelopeWindow: 'din5008-b', salutation: '{{target.salutation}}' });
    expect(en.body).toContain('non-refoulement');
  });

  it('ships a placeholder organisation', async () => {
    const organisation = await loadOrganisation(lettersDir);
    expect(organisation.name).toBeTruthy();
    expect(organisation.country).toBe('JP');
    expect(organisation.logo).toBeUndefined();
  });
});

describe('template names cannot leave the letters directory', () => {
  it.each([
    ['../embassy-petition', 'en'],
    ['..%2Fetc', 'en'],
    ['%2e%2e', 'en'],
    ['/etc/passwd', 'en'],
    ['embassy-petition/../..', 'en'],
    ['Embassy-Petition', 'en'],
    ['embassy-petition', '../ja'],
    ['embassy-petition', 'fr'],
    ['embassy-petition', 'ja.md'],
  ])('refuses %s / %s', async (name, language) => {
    const error = await rejection(loadTemplate(lettersDir, name, language));
    expect(error.code).toBe('TEMPLATE_INVALID');
  });

  it('does not follow a symlink out of the letters directory', async () => {
    await withTempDir(async (dir) => {
      const letters = join(dir, 'letters');
      await mkdir(join(letters, 'escape'), { recursive: true });
      await writeFile(join(dir, 'secret.md'), template('subject: s\nclosing: c'));
      await symlink(join(dir, 'secret.md'), join(letters, 'escape', 'en.md'));
      expect((await rejection(loadTemplate(letters, 'escape', 'en'))).code).toBe('TEMPLATE_NOT_FOUND');
    });
  });

  it('reports a missing template as not found', async () => {
    expect((await rejection(loadTemplate(lettersDir, 'no-such-letter', 'en'))).code).toBe('TEMPLATE_NOT_FOUND');
    expect((await rejection(loadTemplate(lettersDir, 'embassy-petition', 'ko'))).code).toBe('TEMPLATE_NOT_FOUND');
  });
});

describe('front matter and body checks', () => {
  const load = (source: string) =>
    withTempDir(async (dir) => {
      await mkdir(join(dir, 'letter'));
      await writeFile(join(dir, 'letter', 'en.md'), source);
      return loadTemplate(dir, 'letter', 'en');
    });

  it('names an unknown variable in the body with its file line', async () => {
    const error = await rejection(load(template('subject: Hello\nclosing: Bye', 'First line.\n\nDear {{target.nickname}},')));
    expect(error).toMatchObject({ code: 'TEMPLATE_INVALID', variable: 'target.nickname', line: 7 });
  });

  it('names an unknown variable in the front matter with its line', async () => {
    const error = await rejection(load(template('subject: Hello\nclosing: |\n  Yours,\n  {{organisation.director}}')));
    expect(error).toMatchObject({ code: 'TEMPLATE_INVALID', variable: 'organisation.director', line: 5 });
  });

  it('refuses unknown keys, bad values and windows that do not fit the paper', async () => {
    expect((await rejection(load(template('subject: s\nclosing: c\npagesize: A4')))).message).toContain('pagesize');
    expect((await rejection(load(template('subject: s\nclosing: c\npageSize: A5')))).line).toBe(4);
    expect((await rejection(load(template('subject: s\nclosing: c\npageSize: Letter\nenvelopeWindow: jp-naga3')))).message).toContain('A4');
    expect((await rejection(load(template('subject: {{campaign.title}}\nclosing: c')))).message).toContain('quote');
    expect((await rejection(load('No front matter'))).code).toBe('TEMPLATE_INVALID');
    expect((await rejection(load(template('closing: c')))).message).toContain('subject');
  });

  it('defaults the window to the paper and the salutation to the target’s', async () => {
    const letter = await load(template('subject: s\nclosing: c\npageSize: Letter'));
    expect(letter).toMatchObject({ pageSize: 'Letter', envelopeWindow: 'us-10', salutation: '{{target.salutation}}', letterhead: true, bodyLine: 6 });
  });

  it('lists a broken variant with its error instead of failing the whole list', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'letter'));
      await writeFile(join(dir, 'letter', 'en.md'), template('subject: s\nclosing: c'));
      await writeFile(join(dir, 'letter', 'ja.md'), template('subject: s\nclosing: c', '{{nope}}'));
      await mkdir(join(dir, 'targets'));
      const [summary, ...rest] = await listTemplates(dir);
      expect(rest).toEqual([]);
      expect(summary!.variants).toEqual([
        { language: 'en', subject: 's', pageSize: 'A4', envelopeWindow: 'din5008-b', variables: ['target.name', 'target.organisation', 'target.salutation', 'target.title'] },
        { language: 'ja', error: { code: 'TEMPLATE_INVALID', message: expect.stringContaining('"nope"'), variable: 'nope', line: 5 } },
      ]);
    });
  });
});

describe('organisation.json', () => {
  const organisation = { name: 'NGO', addressLines: ['1 Street'], country: 'JP' };

  it('resolves a logo inside the letters directory and refuses one outside it', async () => {
    await withTempDir(async (dir) => {
      const letters = join(dir, 'letters');
      await mkdir(letters);
      await writeFile(join(letters, 'logo.png'), 'not really a png');
      await writeFile(join(letters, 'organisation.json'), JSON.stringify({ ...organisation, logo: 'logo.png' }));
      expect((await loadOrganisation(letters)).logo).toBe(join(letters, 'logo.png'));
      await writeFile(join(dir, 'outside.png'), 'x');
      await writeFile(join(letters, 'organisation.json'), JSON.stringify({ ...organisation, logo: '../outside.png' }));
      expect(await rejection(loadOrganisation(letters))).toMatchObject({ code: 'ORGANISATION_INVALID', variable: 'organisation.logo' });
    });
  });

  it('names the field that is wrong', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'organisation.json'), JSON.stringify({ ...organisation, country: 'Japan' }));
      const error = await rejection(loadOrganisation(dir));
      expect(error.code).toBe('ORGANISATION_INVALID');
      expect(error.message).toContain('country');
    });
  });
});
