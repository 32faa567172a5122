import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudflareD1Database } from '../../src/db/d1.js';
import type { Database } from '../../src/db/database.js';
import { migrationsFolder } from '../../src/entry/node.js';
import { createBundledTemplates } from '../../src/letters/template/letters-bundle.js';
import { organisationAccess } from '../../src/services/access.js';
import type { ServiceContext } from '../../src/services/context.js';
import { currentLetterTemplate, letterTemplateAt } from '../../src/services/letter-template-versions.js';
import { getLetterTemplate, listLetterTemplates, listLetterTemplateVersions, resetLetterTemplate, saveLetterTemplate } from '../../src/services/letter-templates.js';
import { repoLettersDir } from '../helpers/app.js';

/**
 * Template versions on Cloudflare D1 (Miniflare's D1, migrated from migrations/ as `wrangler d1
 * migrations apply` does) with the templates read from the Workers bundle: the next version is
 * numbered in one statement, the newest is what letters use, and a recorded one stays readable.
 */

let miniflare: Miniflare;
let onD1: Database;
const now = Date.UTC(2027, 8, 1);

beforeAll(async () => {
  miniflare = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null, { status: 404 }) } }', d1Databases: ['DB'] });
  const d1 = await miniflare.getD1Database('DB');
  const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: { tag: string }[] };
  for (const { tag } of journal.entries) {
    for (const statement of readFileSync(`${migrationsFolder}/${tag}.sql`, 'utf8').split('--> statement-breakpoint')) if (statement.trim()) await d1.prepare(statement).run();
  }
  onD1 = new CloudflareD1Database(d1 as never);
}, 60_000);

afterAll(async () => {
  await miniflare?.dispose();
});

const shipped = readFileSync(join(repoLettersDir, 'embassy-petition/en.md'), 'utf8');
const bundle = createBundledTemplates({ files: { 'embassy-petition/en.md': shipped, 'organisation.json': readFileSync(join(repoLettersDir, 'organisation.json'), 'utf8') }, binaries: {} });
const ctx = () => ({ db: onD1, clock: { now: () => now }, access: organisationAccess }) as unknown as ServiceContext;

describe('letter template versions on D1 with the bundled templates', () => {
  it('numbers saves made at once apart, uses the newest, keeps each version readable, and resets to the bundled text', async () => {
    expect(await currentLetterTemplate(ctx(), bundle, 'embassy-petition', 'en')).toMatchObject({ version: 0 });
    const [first, second] = await Promise.all([
      saveLetterTemplate(ctx(), bundle, 'embassy-petition', 'en', { body: 'The Curlew text.' }, { name: 'organiser one' }),
      saveLetterTemplate(ctx(), bundle, 'embassy-petition', 'en', { body: 'The Dunlin text.' }, { name: 'organiser two' }),
    ]);
    expect([first.version, second.version].sort()).toEqual([1, 2]);

    const current = await currentLetterTemplate(ctx(), bundle, 'embassy-petition', 'en');
    expect(current.version).toBe(2);
    const byVersion = { 1: (await letterTemplateAt(ctx(), bundle, 'embassy-petition', 'en', 1)).body, 2: current.template.body };
    expect(new Set(Object.values(byVersion))).toEqual(new Set(['The Curlew text.', 'The Dunlin text.']));
    expect((await letterTemplateAt(ctx(), bundle, 'embassy-petition', 'en', 0)).body).toBe((await bundle.loadTemplate('embassy-petition', 'en')).body);
    await expect(letterTemplateAt(ctx(), bundle, 'embassy-petition', 'en', 7)).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });

    const listed = await listLetterTemplates(ctx(), bundle);
    expect(listed.items[0]!.variants[0]).toMatchObject({ language: 'en', version: 2 });

    const reset = await resetLetterTemplate(ctx(), bundle, 'embassy-petition', 'en', { name: 'organiser one' });
    expect(reset).toMatchObject({ version: 3, shipped: true, source: shipped });
    expect((await getLetterTemplate(ctx(), bundle, 'embassy-petition', 'en')).version).toBe(3);
    expect((await listLetterTemplateVersions(ctx(), bundle, 'embassy-petition', 'en')).items.map((item) => item.version)).toEqual([3, 2, 1, 0]);
  });
});
