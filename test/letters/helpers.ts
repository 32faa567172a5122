import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractText, getDocumentProxy } from 'unpdf';
import type { LetterInput, LetterLanguage, Signatory } from '../../src/letters/index.js';
import { loadOrganisation, loadTemplate } from '../../src/letters/node/index.js';

export const lettersDir = fileURLToPath(new URL('../../letters', import.meta.url));

/** 22 September 2027, 08:00 in Tokyo: the day the petition is delivered. */
export const deliveryDay = Date.UTC(2027, 8, 21, 23, 0);

export const embassyTarget = {
  name: '呉江浩',
  title: '特命全権大使',
  organisation: '中華人民共和国駐日本国大使館',
  salutation: 'Your Excellency,',
  language: 'ja' as const,
  postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
};

/** Signatories in every script the letters must carry, with each consent choice. */
export const mixedSignatories: Signatory[] = [
  { name: '山田太郎', nameOnLetter: 'full', city: '横浜', country: 'JP', locale: 'ja' },
  { name: 'José Álvarez-Núñez', nameOnLetter: 'full', city: 'São Paulo', country: 'BR', locale: 'pt-BR' },
  { name: '김민준', nameOnLetter: 'full', city: '서울', country: 'KR', locale: 'ko' },
  { name: '王伟', nameOnLetter: 'full', city: '北京', country: 'CN', locale: 'zh-CN' },
  { name: '陳美玲', nameOnLetter: 'full', city: '臺北', country: 'TW', locale: 'zh-TW' },
  { name: 'Secret Person', nameOnLetter: 'none', city: 'Kyoto', country: 'JP' },
  { name: 'Jane Doe', nameOnLetter: 'initials', city: 'London', country: 'GB' },
  { name: 'Zoë Łukasiewicz', nameOnLetter: 'full', city: 'Kraków', country: 'PL' },
  { name: '鈴木花子', nameOnLetter: 'initials', city: '大阪', country: 'JP' },
];

export async function letterInput(language: LetterLanguage, overrides: Partial<LetterInput> = {}): Promise<LetterInput> {
  return {
    template: await loadTemplate(lettersDir, 'embassy-petition', language),
    organisation: await loadOrganisation(lettersDir),
    campaign: {
      slug: 'save-north-korean-refugees',
      title: 'World “Save North Korean Refugees” Day 2027',
      summary: 'Fair treatment of North Korean refugees in China.',
      timeZone: 'Asia/Tokyo',
      locale: 'ja',
    },
    target: embassyTarget,
    date: deliveryDay,
    signatures: {
      count: 12,
      byRegion: [
        { region: '東京都', count: 5 },
        { region: '서울특별시', count: 4 },
        { region: 'England', count: 3 },
      ],
      signatories: mixedSignatories,
    },
    ...overrides,
  };
}

/** `count` named Latin-script signatories called "Supporter 00001"…, for paging tests. */
export function numberedSignatories(count: number): Signatory[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `Supporter ${String(i + 1).padStart(5, '0')}`,
    nameOnLetter: 'full' as const,
    city: 'Tokyo',
    country: 'JP',
  }));
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-letters-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type ParsedPdf = { bytes: Buffer; raw: string; pages: string[]; info: Record<string, unknown> };

/** A PDF parsed back: text per page (pdf.js through unpdf), document info, and the raw bytes as latin1 for dictionary checks. */
export async function parsePdf(path: string): Promise<ParsedPdf> {
  const bytes = await readFile(path);
  return parsePdfBytes(bytes);
}

export async function parsePdfBytes(bytes: Buffer): Promise<ParsedPdf> {
  const pdf = await getDocumentProxy(new Uint8Array(bytes));
  const { text } = await extractText(pdf, { mergePages: false });
  const { info } = await pdf.getMetadata();
  await pdf.destroy();
  return { bytes, raw: bytes.toString('latin1'), pages: text, info: info as Record<string, unknown> };
}

/** Names of the embedded fonts (BaseFont of each Type0 font). */
export function embeddedFontNames(raw: string): string[] {
  return [...new Set([...raw.matchAll(/\/Subtype \/Type0\s+\/BaseFont \/([^\s/]+)/g)].map((match) => match[1]!))];
}
