import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LetterInput, Signatory } from '../../../src/letters/index.js';
import { renderLetter } from '../../../src/letters/node/index.js';
import { embassyTarget, embeddedFontNames, letterInput, mixedSignatories, numberedSignatories, parsePdf, parsePdfBytes, withTempDir, type ParsedPdf } from '../helpers.js';

const render = (input: LetterInput, options = {}) =>
  withTempDir(async (dir) => {
    const path = join(dir, 'letter.pdf');
    const result = await renderLetter(input, path, options);
    return { result, pdf: await parsePdf(path) };
  });

// pdf.js separates text items by spaces and line breaks; comparisons ignore the difference.
const flat = (text: string) => text.replace(/\s+/g, ' ');

const footerOf = (page: string) => /(\d+) \/ (\d+)/.exec(flat(page))?.slice(1).map(Number);

const appendixPages = (pdf: ParsedPdf) => pdf.pages.filter((page) => page.includes('署名者一覧'));

describe('the Japanese embassy petition', async () => {
  const { result, pdf } = await render(await letterInput('ja'));
  const [first] = pdf.pages;

  it('reports the pages, bytes and hash of what it wrote', () => {
    expect(pdf.pages).toHaveLength(result.pages);
    expect(result.bytes).toBe(pdf.bytes.length);
    expect(result.sha256).toBe(createHash('sha256').update(pdf.bytes).digest('hex'));
    expect(result.warnings).toEqual([]);
  });

  it('prints the recipient in Japanese postal order, the date and the letter on page 1', () => {
    expect(flat(first!)).toContain('〒106-0046 東京都港区元麻布3-4-33 中華人民共和国駐日本国大使館 特命全権大使 呉江浩 閣下');
    expect(first).toContain('2027年9月22日');
    expect(first).toContain('「世界北朝鮮難民救済デー」にあたり');
    expect(first).toContain('拝啓');
    expect(first).toContain('ノン・ルフールマン原則');
    expect(flat(pdf.pages.join(' '))).toContain('敬具');
  });

  it('states how many people signed', () => {
    expect(first).toContain('署名した12名を代表し');
  });

  it('numbers every page "n / N"', () => {
    pdf.pages.forEach((page, index) => expect(footerOf(page)).toEqual([index + 1, result.pages]));
  });

  it('lists the named signatories in order, initials for those who chose them, and never a name withheld', () => {
    const appendix = flat(appendixPages(pdf).join(' '));
    // `full`: name, city and country; `initials`: initials and country, never the city.
    const rows = ['1 山田太郎 横浜 日本', '2 José Álvarez-Núñez São Paulo ブラジル', '3 김민준 서울 韓国', '4 王伟 北京 中国', '5 陳美玲 臺北 台湾', '6 J. D. イギリス', '7 Zoë Łukasiewicz Kraków ポーランド', '8 鈴○○○ 日本'];
    let position = -1;
    for (const row of rows) {
      const at = appendix.indexOf(row);
      expect(at, row).toBeGreaterThan(position);
      position = at;
    }
    expect(pdf.raw).not.toContain('Secret Person');
    expect(flat(pdf.pages.join(' '))).not.toMatch(/Secret|Person|Jane|花子|London|大阪|Kyoto/);
    expect(appendix).toContain('本要請には12名が署名しました。氏名の記載を希望した8名を以下に記します。');
    expect(appendix).toContain('地域別署名数 地域 署名数 東京都 5 서울특별시 4 England 3 合計 12');
  });

  it('embeds every face it uses as a subset, Traditional Chinese for the Taiwanese supporter', () => {
    const fonts = embeddedFontNames(pdf.raw);
    for (const face of ['NotoSans-Regular', 'NotoSansJP-Regular', 'NotoSansJP-Bold', 'NotoSansKR-Regular', 'NotoSansSC-Regular', 'NotoSansTC-Regular']) {
      expect(fonts.some((name) => new RegExp(`^[A-Z]{6}\\+${face}$`).test(name)), face).toBe(true);
    }
    expect(pdf.raw.match(/\/FontFile2 /g)?.length).toBe(fonts.length);
    expect(pdf.raw).not.toMatch(/\/FontFile3|\.ttc/);
  });

  it('carries metadata and a tagged structure', () => {
    expect(pdf.info).toMatchObject({
      Title: '「世界北朝鮮難民救済デー」にあたり、中国における北朝鮮難民の公正な処遇を求める要請書',
      Author: 'Example Human Rights Network Japan',
      Subject: 'World “Save North Korean Refugees” Day 2027',
      CreationDate: 'D:20270921230000Z',
      Language: 'ja',
    });
    expect(pdf.raw).toMatch(/\/StructTreeRoot \d+ 0 R/);
    expect(pdf.raw).toMatch(/\/Marked true/);
    expect(pdf.raw).toMatch(/\/DisplayDocTitle true/);
    for (const role of ['/Document', '/H1', '/P', '/L', '/LI', '/Table', '/TR', '/TH', '/TD']) expect(pdf.raw).toContain(`/S ${role}`);
  });
});

describe('the Chinese and English letters', () => {
  it('keep Simplified Chinese text intact', async () => {
    const { pdf } = await render(await letterInput('zh', { target: { ...embassyTarget, salutation: '尊敬的大使阁下：' } }));
    const text = flat(pdf.pages.join(' '));
    expect(text).toContain('中华人民共和国于1982年9月24日加入1951年《关于难民地位的公约》');
    expect(text).toContain('联署人名单');
    // The salutation is the target's own, in the target's language.
    expect(text).toContain('尊敬的大使阁下：');
    expect(embeddedFontNames(pdf.raw).some((name) => name.endsWith('+NotoSansSC-Regular'))).toBe(true);
  });

  it('set the English letter for a DIN window envelope with a return address line', async () => {
    const { pdf } = await render(await letterInput('en'));
    const first = flat(pdf.pages[0]!);
    // Too long for one line of the return-address zone, so the name sits above the whole address.
    expect(first).toContain('Example Human Rights Network Japan 1-2-3 Kanda-Jimbocho, Chiyoda-ku · Tokyo 101-0051');
    expect(first).toContain('22 September 2027');
    expect(first).toContain('Your Excellency,');
    expect(first).toContain('the 12 people who have signed this petition');
    expect(flat(pdf.pages.join(' '))).toContain('Respectfully yours,');
  });
});

describe('the appendix', () => {
  it('repeats its header on every page and keeps names in order across pages', async () => {
    const signatories = numberedSignatories(130);
    const { result, pdf } = await render(await letterInput('ja', { signatures: { count: 130, byRegion: [{ region: 'Tokyo', count: 130 }], signatories } }));
    const pages = appendixPages(pdf);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const page of pages) expect(flat(page)).toContain('番号 氏名 市区町村 国');
    const numbers = [...flat(pages.join(' ')).matchAll(/(\d+) Supporter (\d{5})/g)].map((match) => [Number(match[1]), Number(match[2])]);
    expect(numbers).toEqual(signatories.map((_, i) => [i + 1, i + 1]));
    pdf.pages.forEach((page, index) => expect(footerOf(page)).toEqual([index + 1, result.pages]));
  });

  it('cuts a long name to one line with an ellipsis', async () => {
    const long = { name: `Maria ${'Longname-'.repeat(20)}End`, nameOnLetter: 'full' as const, city: 'Tokyo', country: 'JP' };
    const { pdf } = await render(await letterInput('en', { signatures: { count: 1, byRegion: [], signatories: [long] } }));
    const appendix = flat(pdf.pages.at(-1)!);
    expect(appendix).toMatch(/1 Maria Longname-Longname-[\w-]*…/);
    expect(appendix).not.toContain('End');
  });

  it('still states how many signed when nobody asked to be named', async () => {
    const hidden: Signatory[] = mixedSignatories.map((signatory) => ({ ...signatory, nameOnLetter: 'none' }));
    const { pdf } = await render(await letterInput('en', { signatures: { count: 2345, byRegion: [], signatories: hidden } }));
    const text = flat(pdf.pages.join(' '));
    expect(text).toContain('the 2,345 people who have signed this petition');
    expect(text).toContain('2,345 people signed this petition. None of them asked to be named, so they are counted but not listed.');
    expect(text).toContain('Total 2,345');
    expect(text).not.toMatch(/山田|José|김민준/);
  });

  it('tags big appendices page by page and reads an async source twice', async () => {
    const rows = numberedSignatories(1100);
    let passes = 0;
    const source = async function* () {
      passes++;
      yield* rows;
    };
    const { result, pdf } = await render(await letterInput('en', { signatures: { count: 1100, byRegion: [], signatories: source } }));
    expect(passes).toBe(2);
    expect(flat(pdf.pages.join(' '))).toContain('1100 Supporter 01100 Tokyo Japan');
    expect(pdf.pages).toHaveLength(result.pages);
    // Rows are one tagged block per page rather than 1,100 table rows.
    expect(pdf.raw.match(/\/S \/TR/g)?.length ?? 0).toBeLessThan(10);
  });
});

describe('rendering', () => {
  it('warns about characters no face has instead of dropping them', async () => {
    const signatories: Signatory[] = [{ name: 'Emoji 😀 Fan', nameOnLetter: 'full', country: 'JP' }, { name: 'Gothic 𐌰𐌱', nameOnLetter: 'full', country: 'JP' }];
    const { result, pdf } = await render(await letterInput('en', { signatures: { count: 2, byRegion: [], signatories } }));
    expect(result.warnings).toEqual([
      { code: 'MISSING_GLYPH', codePoint: 'U+1F600', char: '😀', occurrences: 1, firstSeen: 'appendix row 1' },
      { code: 'MISSING_GLYPH', codePoint: 'U+10330', char: '𐌰', occurrences: 1, firstSeen: 'appendix row 2' },
      { code: 'MISSING_GLYPH', codePoint: 'U+10331', char: '𐌱', occurrences: 1, firstSeen: 'appendix row 2' },
    ]);
    expect(flat(pdf.pages.join(' '))).toContain('Emoji \uFFFD Fan');
  });

  it('gives the same bytes for the same input, and the creation date can be injected', async () => {
    const input = await letterInput('ja');
    const [a, b] = [await render(input), await render(input)];
    expect(a.result.sha256).toBe(b.result.sha256);
    const later = await render(input, { createdAt: Date.UTC(2027, 8, 30) });
    expect(later.pdf.info.CreationDate).toBe('D:20270930000000Z');
    expect(later.result.sha256).not.toBe(a.result.sha256);
  });

  it('streams to a slow writable with backpressure and the same bytes as the file', async () => {
    const input = await letterInput('ja', { signatures: { count: 400, byRegion: [], signatories: numberedSignatories(400) } });
    const file = await render(input);
    const stream = new PassThrough({ highWaterMark: 1024 });
    const chunks: Buffer[] = [];
    let maxBuffered = 0;
    const reading = (async () => {
      for await (const chunk of stream) {
        chunks.push(chunk as Buffer);
        maxBuffered = Math.max(maxBuffered, stream.readableLength + stream.writableLength);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    const result = await renderLetter(input, stream);
    await reading;
    expect(Buffer.concat(chunks).equals(file.pdf.bytes)).toBe(true);
    expect(result.sha256).toBe(file.result.sha256);
    // The renderer waited for the reader: it never ran more than a page or so ahead of it.
    expect(maxBuffered).toBeLessThan(64 * 1024);
  });

  it('stops when the reader goes away mid-letter', async () => {
    const input = await letterInput('en', { signatures: { count: 3000, byRegion: [], signatories: numberedSignatories(3000) } });
    const stream = new PassThrough({ highWaterMark: 1024 });
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > 20_000) stream.destroy();
    });
    await expect(renderLetter(input, stream)).rejects.toThrow();
    expect(received).toBeLessThan(200_000);
  });

  it('sets US Letter paper and leaves nothing behind when the source changes between passes', async () => {
    const input = await letterInput('en');
    const template = { ...input.template, pageSize: 'Letter' as const, envelopeWindow: 'us-10' as const };
    const { pdf } = await render({ ...input, template });
    expect(pdf.raw).toMatch(/\/MediaBox \[0 0 612 792\]/);

    await withTempDir(async (dir) => {
      let pass = 0;
      const shifting = () => (++pass === 1 ? numberedSignatories(3) : numberedSignatories(2));
      const path = join(dir, 'letter.pdf');
      await expect(renderLetter({ ...input, signatures: { count: 3, byRegion: [], signatories: shifting } }, path)).rejects.toThrow('changed between');
      expect(existsSync(path)).toBe(false);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('refuses a one-shot generator, which cannot be read twice', async () => {
    const generator = (function* () {
      yield* numberedSignatories(2);
    })();
    await withTempDir(async (dir) => {
      await expect(renderLetter(await letterInput('en', { signatures: { count: 2, byRegion: [], signatories: generator } }), join(dir, 'x.pdf'))).rejects.toThrow(
        'fresh iterable',
      );
    });
  });

  it('writes a per-signer letter without an appendix, showing of the signer only what their consent covers', async () => {
    const input = await letterInput('en');
    const template = { ...input.template, body: 'Sent by {{#signer}}[{{signer.name}}|{{signer.city}}|{{signer.country}}]{{/signer}}.' };
    const sentBy = async (recipientSignature: Signatory) => {
      const { result, pdf } = await render({ ...input, template, recipientSignature });
      expect(result.pages).toBe(1);
      const text = flat(pdf.pages.join(' '));
      expect(text).not.toContain('Signatories');
      return /Sent by (\[.*?\])\./.exec(text)?.[1];
    };
    expect(await sentBy({ name: 'Jane Doe', nameOnLetter: 'full', city: 'Leeds', country: 'GB' })).toBe('[Jane Doe|Leeds|United Kingdom]');
    expect(await sentBy({ name: 'Jane Doe', nameOnLetter: 'initials', city: 'Leeds', country: 'GB' })).toBe('[J. D.||United Kingdom]');
    expect(await sentBy({ name: 'Jane Doe', nameOnLetter: 'none', city: 'Leeds', country: 'GB' })).toBe('[||]');
  });

  it('draws the organisation logo when there is one', async () => {
    await withTempDir(async (dir) => {
      // A 1×1 PNG, enough for pdfkit to embed an image XObject.
      const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
      const logo = join(dir, 'logo.png');
      await writeFile(logo, png);
      const input = await letterInput('en');
      const path = join(dir, 'letter.pdf');
      await renderLetter({ ...input, organisation: { ...input.organisation, logo } }, path);
      const raw = (await readFile(path)).toString('latin1');
      expect(raw).toMatch(/\/Subtype \/Image/);
      expect(raw).toContain('/S /Figure');
      expect((await parsePdfBytes(await readFile(path))).pages[0]).toContain('Example Human Rights Network Japan');
    });
  });
});
