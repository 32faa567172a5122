import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/letters/template/template-error.js';
import { loadUpdateTemplate } from '../../../src/letters/node/template-files.js';
import { parseUpdateTemplateSource, renderUpdateTemplate } from '../../../src/letters/template/update-template.js';
import { renderEmailMarkdown } from '../../../src/mail/markdown-email.js';
import { repoLettersDir } from '../../helpers/app.js';

function refusal(source: string): TemplateError {
  try {
    parseUpdateTemplateSource(source, 'test', 'en');
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('accepted');
}

const view = {
  campaign: { slug: 'free-them', title: 'Free *them*', summary: '', url: 'http://localhost:3000/c/free-them' },
  signatures: { count: '12,345' },
  date: '22 September 2027',
};

describe('update templates', () => {
  it('letters/updates/thank-you is written in en, ja, ko and zh with the same variables', async () => {
    for (const language of ['en', 'ja', 'ko', 'zh']) {
      const template = await loadUpdateTemplate(repoLettersDir, 'thank-you', language);
      expect(template.variables, language).toEqual(['campaign.title', 'campaign.url', 'signatures.count']);
      const { subject, body } = renderUpdateTemplate(template, view);
      expect(subject).toContain('Free *them*');
      expect(body).toContain('http://localhost:3000/c/free-them');
      expect(body).toContain('12,345');
      expect(body).toMatch(/22/);
    }
  });

  it('renders values as typed; the email’s Markdown escapes them', async () => {
    const template = parseUpdateTemplateSource('---\nsubject: "{{campaign.title}} on {{date}}"\n---\n# {{campaign.title}}\n\n<b>{{signatures.count}}</b>\n', 'test', 'en');
    const rendered = renderUpdateTemplate(template, { ...view, campaign: { ...view.campaign, title: '<script>x</script>' } });
    expect(rendered.subject).toBe('<script>x</script> on 22 September 2027');
    expect(renderEmailMarkdown(rendered.body).html).not.toContain('<script>');
    expect(renderEmailMarkdown(rendered.body).html).not.toContain('<b>');
  });

  it('refuses unknown variables (with the file line), raw output, partials and bad front matter', () => {
    expect(refusal('---\nsubject: Hi\n---\nHello\n\n{{target.name}}\n')).toMatchObject({ code: 'TEMPLATE_INVALID', variable: 'target.name', line: 6 });
    expect(refusal('---\nsubject: "{{signer.name}}"\n---\nHello\n')).toMatchObject({ code: 'TEMPLATE_INVALID', variable: 'signer.name', line: 2 });
    expect(refusal('---\nsubject: Hi\n---\n{{{campaign.title}}}\n')).toMatchObject({ code: 'TEMPLATE_INVALID', variable: 'campaign.title' });
    expect(refusal('---\nsubject: Hi\n---\n{{> footer}}\n').message).toContain('Partials');
    expect(refusal('Hello\n').message).toContain('must start with front matter');
    expect(refusal('---\nsubject: Hi\nclosing: Bye\n---\nHello\n').message).toContain('unknown front matter key "closing"');
    expect(refusal('---\ntitle: Hi\n---\nHello\n').message).toContain('missing front matter key subject');
    expect(refusal('---\nsubject: ""\n---\nHello\n').message).toContain('subject must not be empty');
    expect(refusal('---\nsubject: [a\n---\nHello\n').message).toContain('not valid YAML');
  });

  it('a variant that does not exist, or a name that leaves the directory, is not found', async () => {
    await expect(loadUpdateTemplate(repoLettersDir, 'thank-you', 'fr')).rejects.toMatchObject({ code: 'TEMPLATE_INVALID' });
    await expect(loadUpdateTemplate(repoLettersDir, 'no-such-update', 'en')).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    await expect(loadUpdateTemplate(repoLettersDir, '../embassy-petition', 'en')).rejects.toMatchObject({ code: 'TEMPLATE_INVALID' });
    expect(await readFile(join(repoLettersDir, 'updates/thank-you/en.md'), 'utf8')).toContain('22 September');
  });
});
