import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/letters/index.js';
import { createLetterRenderPool, renderLetter, renderLetterInWorker } from '../../../src/letters/node/index.js';
import { embassyTarget, letterInput, numberedSignatories, parsePdf, parsePdfBytes, withTempDir } from '../helpers.js';

describe('rendering on a worker thread', () => {
  it('produces the same PDF as rendering in process', async () => {
    await withTempDir(async (dir) => {
      const input = await letterInput('ja');
      const inProcess = await renderLetter(input, join(dir, 'main.pdf'));
      const inWorker = await renderLetterInWorker(input, join(dir, 'worker.pdf'));
      expect(inWorker).toEqual(inProcess);
      const [a, b] = [await parsePdf(join(dir, 'main.pdf')), await parsePdf(join(dir, 'worker.pdf'))];
      expect(b.pages).toEqual(a.pages);
      expect(b.pages.join('')).toContain('陳美玲');
    });
  });

  it('renders a letter with a translation the same on a worker thread, counting missing glyphs over both parts', async () => {
    await withTempDir(async (dir) => {
      const japanese = await letterInput('ja', { target: { ...embassyTarget, organisation: '中華人民共和国駐日本国大使館 🛂' } });
      const chinese = await letterInput('zh', { target: { ...embassyTarget, organisation: '中华人民共和国驻日本国大使馆 🛂', language: 'zh' } });
      const { template, campaign, target, organisation } = chinese;
      const input = { ...japanese, translations: [{ template, campaign, target, organisation }] };
      const alone = await renderLetter(japanese, join(dir, 'alone.pdf'));
      const inProcess = await renderLetter(input, join(dir, 'main.pdf'));
      const inWorker = await renderLetterInWorker(input, join(dir, 'worker.pdf'));
      expect(inWorker).toEqual(inProcess);
      expect(alone.warnings).toEqual([expect.objectContaining({ code: 'MISSING_GLYPH', codePoint: 'U+1F6C2', occurrences: 1, firstSeen: 'address' })]);
      expect(inProcess.warnings).toEqual([expect.objectContaining({ code: 'MISSING_GLYPH', codePoint: 'U+1F6C2', occurrences: 2, firstSeen: 'address' })]);
      const pages = (await parsePdf(join(dir, 'worker.pdf'))).pages.map((page) => page.replace(/\s+/g, ''));
      expect(pages).toHaveLength(inProcess.pages);
      expect(inProcess.pages).toBeGreaterThan(alone.pages);
      const chineseStart = pages.findIndex((page) => page.includes('中华人民共和国驻日本国大使馆'));
      expect(chineseStart).toBe(alone.pages - 1);
      pages.forEach((page, index) => expect(page).toContain(`${index + 1}/${pages.length}`));
    });
  });

  it('streams to a writable on the main thread, reading an async source there', async () => {
    const pool = createLetterRenderPool({ size: 2 });
    try {
      const rows = numberedSignatories(700);
      const source = async function* () {
        yield* rows;
      };
      const input = await letterInput('en', { signatures: { count: 700, byRegion: [], signatories: source } });
      const first = new PassThrough();
      const second = new PassThrough();
      const collect = async (stream: PassThrough) => {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      };
      const [a, b, bytesA, bytesB] = await Promise.all([pool.render(input, first), pool.render(input, second), collect(first), collect(second)]);
      expect(a.sha256).toBe(b.sha256);
      expect(bytesA.equals(bytesB)).toBe(true);
      expect(bytesA.length).toBe(a.bytes);
      const pdf = await parsePdfBytes(bytesA);
      expect(pdf.pages).toHaveLength(a.pages);
      expect(pdf.pages.join(' ').replace(/\s+/g, ' ')).toContain('700 Supporter 00700');
    } finally {
      await pool.close();
    }
  });

  it('stops a worker render whose reader goes away, and renders the next letter', async () => {
    const pool = createLetterRenderPool({ size: 1 });
    try {
      const input = await letterInput('en', { signatures: { count: 3000, byRegion: [], signatories: numberedSignatories(3000) } });
      const stream = new PassThrough({ highWaterMark: 1024 });
      let received = 0;
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > 20_000) stream.destroy();
      });
      await expect(pool.render(input, stream)).rejects.toThrow('closed before the letter was complete');
      await withTempDir(async (dir) => expect((await pool.render(input, join(dir, 'next.pdf'))).pages).toBeGreaterThan(50));
    } finally {
      await pool.close();
    }
  });

  it('passes template errors back with their code, variable and line', async () => {
    const input = await letterInput('en');
    const template = { ...input.template, body: 'Hello\n{{target.nickname}}', bodyLine: 14 };
    await withTempDir(async (dir) => {
      const error = await renderLetterInWorker({ ...input, template }, join(dir, 'x.pdf')).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TemplateError);
      expect(error).toMatchObject({ code: 'TEMPLATE_INVALID', variable: 'target.nickname', line: 15 });
    });
  });

  it('fails the render when the source fails, and the pool keeps working', async () => {
    const pool = createLetterRenderPool({ size: 1 });
    try {
      const input = await letterInput('en');
      let calls = 0;
      const flaky = () => {
        calls++;
        if (calls === 2) throw new Error('database went away');
        return numberedSignatories(3);
      };
      await withTempDir(async (dir) => {
        await expect(pool.render({ ...input, signatures: { count: 3, byRegion: [], signatories: flaky } }, join(dir, 'a.pdf'))).rejects.toThrow('database went away');
        const result = await pool.render(input, join(dir, 'b.pdf'));
        expect(result.pages).toBeGreaterThan(1);
      });
    } finally {
      await pool.close();
    }
  });
});
