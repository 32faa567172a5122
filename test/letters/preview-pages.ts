/**
 * Renders the shipped letters (with a three-page appendix in every script) and, where poppler's
 * pdftoppm is installed, page 1 and the first appendix page of each as PNG, to look at the layout:
 * the address in the envelope window, the letterhead, the repeated header, the CJK glyphs.
 *
 *   npx tsx test/letters/preview-pages.ts [out-dir]      (default: test-artifacts/letters)
 *
 * Not a test: it needs eyes, and pdftoppm is not part of the test environment.
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LetterLanguage, Signatory } from '../../src/letters/index.js';
import { renderLetter } from '../../src/letters/node/index.js';
import { appendixStrings } from '../../src/letters/template/letter-strings.js';
import { letterInput, mixedSignatories, parsePdf } from './helpers.js';

const outDir = resolve(process.argv[2] ?? 'test-artifacts/letters');
await mkdir(outDir, { recursive: true });

const signatories: Signatory[] = Array.from({ length: 120 }, (_, i) => {
  const base = mixedSignatories[i % mixedSignatories.length]!;
  return { ...base, name: i < mixedSignatories.length ? base.name : `${base.name} ${i + 1}` };
});

const hasPdftoppm = spawnSync('pdftoppm', ['-v']).status === 0;

for (const language of ['ja', 'en', 'zh'] as LetterLanguage[]) {
  const input = await letterInput(language, { signatures: { count: 180, byRegion: [{ region: '東京都', count: 120 }, { region: 'Seoul', count: 60 }], signatories } });
  const pdf = join(outDir, `embassy-petition-${language}.pdf`);
  const result = await renderLetter(input, pdf);
  const { columns } = appendixStrings[language];
  const appendixPage = (await parsePdf(pdf)).pages.findIndex((text) => text.includes(columns.number) && text.includes(columns.city)) + 1;
  console.log(`${pdf}: ${result.pages} pages, ${result.bytes} bytes, ${result.warnings.length} warnings`);
  if (!hasPdftoppm) continue;
  for (const page of [1, appendixPage]) {
    const prefix = join(outDir, `embassy-petition-${language}-p${page}`);
    spawnSync('pdftoppm', ['-png', '-r', '80', '-singlefile', '-f', String(page), '-l', String(page), pdf, prefix], { stdio: 'inherit' });
    console.log(`  ${prefix}.png`);
  }
}
if (!hasPdftoppm) console.log('pdftoppm not found (apt-get install poppler-utils) — PDFs written, no PNGs.');
