import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LetterTemplateStore } from '../../../src/letters/letter-ports.js';
import { createTemplateFiles } from '../../../src/letters/node/index.js';
import { createBundledTemplates, type LettersBundle } from '../../../src/letters/template/letters-bundle.js';
import { lettersDir, withTempDir } from '../helpers.js';

// The Worker reads letters/ from a module written by scripts/bundle-letters.ts; it must accept
// and refuse exactly what the Node file store does, with the same errors.

const projectRoot = join(lettersDir, '..');

let bundles = 0;

/** Runs the script on `letters` and imports what it wrote (a new module each time: imports are cached). */
async function bundleOf(letters: string, outDir: string): Promise<LettersBundle> {
  const out = join(outDir, `letters-bundle-${++bundles}.ts`);
  const run = spawnSync(join(projectRoot, 'node_modules/.bin/tsx'), ['scripts/bundle-letters.ts', '--letters', letters, '--out', out], { cwd: projectRoot, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return ((await import(pathToFileURL(out).href)) as { lettersBundle: LettersBundle }).lettersBundle;
}

/** What a call gives: its value, or the error's code, message, variable and line. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: await call() };
  } catch (error) {
    const { code, message, variable, line } = error as { code?: string; message: string; variable?: string; line?: number };
    return { error: { code, message, variable, line } };
  }
}

const template = (front: string, body = 'Hello {{target.name}}.') => `---\n${front}\n---\n${body}\n`;

async function sameAnswers(node: LetterTemplateStore, bundled: LetterTemplateStore, templates: [string, string][], updates: [string, string][]) {
  expect(await outcome(() => bundled.listTemplates())).toEqual(await outcome(() => node.listTemplates()));
  for (const [name, language] of templates) {
    expect(await outcome(() => bundled.loadTemplate(name, language)), `${name}/${language}`).toEqual(await outcome(() => node.loadTemplate(name, language)));
  }
  for (const [name, language] of updates) {
    expect(await outcome(() => bundled.loadUpdateTemplate(name, language)), `updates/${name}/${language}`).toEqual(await outcome(() => node.loadUpdateTemplate(name, language)));
  }
}

describe('the letters bundle', () => {
  it('holds the shipped letters/ folder as Node reads it', async () => {
    await withTempDir(async (dir) => {
      const bundle = await bundleOf(lettersDir, dir);
      await sameAnswers(
        createTemplateFiles(lettersDir),
        createBundledTemplates(bundle),
        [['embassy-petition', 'en'], ['embassy-petition', 'ja'], ['embassy-petition', 'zh'], ['embassy-petition', 'ko'], ['../embassy-petition', 'en'], ['embassy-petition', 'fr']],
        [['thank-you', 'en'], ['thank-you', 'ja'], ['thank-you', 'xx'], ['missing', 'en']],
      );
      expect(await createBundledTemplates(bundle).loadOrganisation()).toEqual(await createTemplateFiles(lettersDir).loadOrganisation());
      // The shipped target directories, as the dashboard offers them to import, read the same.
      const [nodeStore, bundled] = [createTemplateFiles(lettersDir), createBundledTemplates(bundle)];
      expect(await bundled.listTargetDirectories()).toEqual(await nodeStore.listTargetDirectories());
      expect(await bundled.listTargetDirectories()).toContain('china-missions-japan');
      expect(await bundled.loadTargetDirectory('china-missions-japan')).toBe(await nodeStore.loadTargetDirectory('china-missions-japan'));
      for (const name of ['../../organisation', 'README', 'missing']) {
        await expect(bundled.loadTargetDirectory(name)).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
        await expect(nodeStore.loadTargetDirectory(name)).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
      }
      // Only what the loaders read: no READMEs.
      expect(Object.keys(bundle.files).filter((path) => !/^(organisation\.json|[a-z0-9-]+\/[a-z]{2}\.md|updates\/[a-z0-9-]+\/[a-z]{2}\.md|targets\/[a-z0-9-]+\.json)$/.test(path))).toEqual([]);
    });
  });

  it('refuses the same broken templates and organisation, with the same errors', async () => {
    await withTempDir(async (dir) => {
      const letters = join(dir, 'letters');
      await mkdir(join(letters, 'good'), { recursive: true });
      await mkdir(join(letters, 'broken'));
      await mkdir(join(letters, 'updates', 'news'), { recursive: true });
      await writeFile(join(letters, 'good', 'en.md'), template('subject: Hi\nclosing: Bye'));
      await writeFile(join(letters, 'broken', 'en.md'), template('subject: Hi\nclosing: Bye', 'Dear {{target.nmae}}'));
      await writeFile(join(letters, 'broken', 'ja.md'), template('subject: Hi\nclosing: Bye\ncolour: red'));
      await writeFile(join(letters, 'updates', 'news', 'en.md'), template('subject: "{{campaign.title}}"', '{{signatures.count}} so far'));
      await writeFile(join(letters, 'updates', 'news', 'ja.md'), template('subject: x', '{{target.name}}'));
      await writeFile(join(letters, 'organisation.json'), JSON.stringify({ name: 'Org', addressLines: ['1 Road'], country: 'jp' }));
      const node = createTemplateFiles(letters);
      const bundled = createBundledTemplates(await bundleOf(letters, dir));
      await sameAnswers(node, bundled, [['good', 'en'], ['broken', 'en'], ['broken', 'ja'], ['good', 'ja']], [['news', 'en'], ['news', 'ja'], ['news', 'ko']]);
      expect(await outcome(() => bundled.loadOrganisation())).toEqual(await outcome(() => node.loadOrganisation()));
    });
  });

  it('carries the logo the organisation names, and refuses one outside the folder or missing, as Node does', async () => {
    await withTempDir(async (dir) => {
      const letters = join(dir, 'letters');
      await mkdir(join(letters, 'images'), { recursive: true });
      const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
      await writeFile(join(letters, 'images', 'logo.png'), png);
      await writeFile(join(dir, 'outside.png'), png);
      const organisation = (logo: string) => JSON.stringify({ name: 'Org', addressLines: ['1 Road'], country: 'JP', logo });

      await writeFile(join(letters, 'organisation.json'), organisation('./images/../images/logo.png'));
      const bundled = createBundledTemplates(await bundleOf(letters, dir));
      const loaded = await bundled.loadOrganisation();
      expect(loaded.logo).toBe('images/logo.png');
      expect(Buffer.from(bundled.image(loaded.logo!))).toEqual(png);
      const { logo: nodeLogo, ...nodeRest } = await createTemplateFiles(letters).loadOrganisation();
      const { logo: _bundleLogo, ...bundleRest } = loaded;
      expect(bundleRest).toEqual(nodeRest);
      expect(nodeLogo).toMatch(/images\/logo\.png$/);

      for (const logo of ['../outside.png', 'images/missing.png']) {
        await writeFile(join(letters, 'organisation.json'), organisation(logo));
        const node = createTemplateFiles(letters);
        const refused = await outcome(async () => createBundledTemplates(await bundleOf(letters, dir)).loadOrganisation());
        expect(refused, logo).toEqual(await outcome(() => node.loadOrganisation()));
        expect(refused).toMatchObject({ error: { code: 'ORGANISATION_INVALID', variable: 'organisation.logo' } });
      }
    });
  });
});
