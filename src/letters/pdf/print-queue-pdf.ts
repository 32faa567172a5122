import { PDFDocument as PdfLibDocument } from 'pdf-lib';
import PDFDocument from 'pdfkit';
import type { ComposedPrintQueue, PrintQueueDocument, PrintQueueEntry } from '../letter-ports.js';
import type { FontFaces } from './font-faces.js';
import { hanFaceForSignatory, type HanFace } from './font-runs.js';
import { mm } from './letter-geometry.js';
import { PdfText, type PreparedText, type Style } from './pdf-text.js';

type Doc = PDFKit.PDFDocument;

const a4: [number, number] = [mm(210), mm(297)];
const margin = 40;
const titleStyle: Style = { weight: 'bold', size: 18 };
const metaStyle: Style = { weight: 'regular', size: 10 };
const headStyle: Style = { weight: 'bold', size: 8.5 };
const cellStyle: Style = { weight: 'regular', size: 9 };
const footStyle: Style = { weight: 'regular', size: 8 };
const lineHeight = 11.5;
const rowPadding = 4;
const columnGap = 6;
const headerHeight = 18;
/** A cell wraps to at most this many lines; the rest is cut with "…". */
const maxCellLines = 3;
/** Where the table starts on the first cover page (below title, date and totals) and on later ones. */
const firstTableTop = 128;
const laterTableTop = 70;

type Column = { heading: string; share: number; align: 'left' | 'right' };
const columns = [
  { heading: '#', share: 0.05, align: 'right' },
  { heading: 'Recipient', share: 0.31, align: 'left' },
  { heading: 'Organisation', share: 0.29, align: 'left' },
  { heading: 'City / country', share: 0.17, align: 'left' },
  { heading: 'Pages', share: 0.07, align: 'right' },
  { heading: 'Delivery', share: 0.11, align: 'left' },
] as const satisfies readonly Column[];

type PlannedRow = { cells: PreparedText[][]; height: number };

const utcDate = (at: number) =>
  new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);

/** Lets other requests run between long synchronous steps (a macrotask turn, in every runtime). */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

// Line-break opportunities: after white space, and on either side of a Han or kana character
// (Japanese and Chinese have no spaces between words; Korean does).
const breakable = /(?<=\s)|(?=[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])|(?<=[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])/u;

/**
 * Composes everything queued for print into one PDF: a cover sheet drawn with pdfkit in the
 * letters' own faces (so CJK names and places print), then every stored letter's pages in order,
 * copied as they are with pdf-lib. The whole document is held in memory, which is fine for a
 * queue of tens to a few hundred letters.
 */
export async function composePrintQueuePdf(input: PrintQueueDocument, fonts: FontFaces): Promise<ComposedPrintQueue> {
  const letters: PdfLibDocument[] = [];
  for (const entry of input.entries) {
    letters.push(await PdfLibDocument.load(entry.pdf, { updateMetadata: false }));
    // Parsing is synchronous work; give other requests a turn between letters.
    await yieldToEventLoop();
  }
  const pageCounts = letters.map((letter) => letter.getPageCount());
  const letterPages = pageCounts.reduce((sum, count) => sum + count, 0);
  const firstPage = letters[0]?.getPage(0).getSize();
  const size: [number, number] = firstPage ? [firstPage.width, firstPage.height] : a4;

  const cover = await renderCover(input, pageCounts, size, fonts);

  const merged = await PdfLibDocument.create({ updateMetadata: false });
  const day = new Date(input.generatedAt).toISOString().slice(0, 10);
  merged.setTitle(`Print queue ${day}`);
  merged.setCreator('Signet');
  merged.setProducer('Signet (pdfkit, pdf-lib)');
  merged.setCreationDate(new Date(input.generatedAt));
  merged.setModificationDate(new Date(input.generatedAt));
  for (const source of [await PdfLibDocument.load(cover.pdf, { updateMetadata: false }), ...letters]) {
    for (const page of await merged.copyPages(source, source.getPageIndices())) merged.addPage(page);
    await yieldToEventLoop();
  }
  // save() builds a fresh array over its own ArrayBuffer (never shared memory).
  const pdf = (await merged.save()) as Uint8Array<ArrayBuffer>;
  return { pdf, coverPages: cover.pages, letterPages };
}

/** The cover sheet as its own small PDF: title, date, totals and one table row per letter. */
async function renderCover(input: PrintQueueDocument, pageCounts: number[], size: [number, number], fonts: FontFaces): Promise<{ pdf: Uint8Array; pages: number }> {
  const doc: Doc = new PDFDocument({
    size,
    // The layout below places every line itself; with no margins pdfkit never adds a page on its own.
    margin: 0,
    autoFirstPage: false,
    compress: true,
    pdfVersion: '1.7',
    lang: 'en',
    info: { Title: 'Print queue', Creator: 'Signet', Producer: 'Signet (pdfkit)', CreationDate: new Date(input.generatedAt) },
  });
  const chunks: Uint8Array[] = [];
  doc.on('data', (chunk: Uint8Array) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.once('end', () => resolve());
    doc.once('error', reject);
  });

  const text = new PdfText(doc, fonts);
  // Every width comes from cached glyph advances, so wrapping and drawing agree.
  text.useDirectLayout();
  const [width, height] = size;
  const left = margin;
  const right = width - margin;
  const bottom = height - margin - 16;
  const cellX: number[] = [];
  const cellWidth: number[] = [];
  let x = left;
  for (const column of columns) {
    const columnWidth = (right - left) * column.share;
    cellX.push(column.align === 'right' ? x + columnWidth - columnGap : x);
    cellWidth.push(columnWidth - columnGap);
    x += columnWidth;
  }

  const rows = input.entries.map((entry, index) => planRow(text, entry, index, pageCounts[index] ?? 0, cellWidth));
  const pages = paginate(rows, bottom - firstTableTop - headerHeight, bottom - laterTableTop - headerHeight);
  const letterPages = pageCounts.reduce((sum, count) => sum + count, 0);

  const line = (value: string, x0: number, baseline: number, style: Style, align: 'left' | 'right' = 'left') =>
    text.drawLine(text.prepare(value, 'jp', style, 'cover'), x0, baseline, style, align);
  const rule = (y: number, weight: number) => {
    doc.save().lineWidth(weight).strokeColor('#444444').moveTo(left, y).lineTo(right, y).stroke().restore();
  };
  const header = (top: number): number => {
    columns.forEach((column, index) => text.drawLine(text.latin(column.heading, headStyle), cellX[index]!, top + 12, headStyle, column.align));
    rule(top + headerHeight - 2, 0.8);
    return top + headerHeight;
  };

  pages.forEach((pageRows, pageIndex) => {
    doc.addPage({ size, margin: 0 });
    let y: number;
    if (pageIndex === 0) {
      line('Print queue', left, margin + 18, titleStyle);
      line(`Generated ${utcDate(input.generatedAt)} UTC`, left, margin + 40, metaStyle);
      line(
        input.entries.length === 0
          ? 'Nothing to print: the print queue is empty.'
          : `${plural(input.entries.length, 'letter', 'letters')}, ${plural(letterPages, 'page', 'pages')} after this cover (${plural(letterPages + pages.length, 'page', 'pages')} in this file)`,
        left,
        margin + 58,
        metaStyle,
      );
      if (input.entries.length > 0) {
        line('Letters follow in this order; each starts on a new sheet with its address placed for a window envelope.', left, margin + 74, footStyle);
      }
      y = firstTableTop;
    } else {
      line('Print queue (continued)', left, margin + 14, { weight: 'bold', size: 11 });
      y = laterTableTop;
    }
    if (pageRows.length > 0) y = header(y);
    for (const row of pageRows) {
      row.cells.forEach((cellLines, index) => {
        cellLines.forEach((prepared, lineIndex) => {
          text.drawLine(prepared, cellX[index]!, y + rowPadding + lineHeight * (lineIndex + 1) - 2.5, cellStyle, columns[index]!.align);
        });
      });
      y += row.height;
      rule(y, 0.25);
    }
    line(`Cover ${pageIndex + 1} / ${pages.length}`, right, height - margin, footStyle, 'right');
  });

  doc.end();
  await ended;
  return { pdf: concatBytes(chunks), pages: pages.length };
}


function planRow(text: PdfText, entry: PrintQueueEntry, index: number, pages: number, widths: number[]): PlannedRow {
  const han = hanFaceForSignatory(undefined, entry.country, 'jp');
  const place = [entry.city?.trim(), entry.country].filter(Boolean).join(', ');
  const values = [String(index + 1), entry.recipient, entry.organisation ?? '', place, String(pages), entry.deliveryId.slice(-8)];
  const cells = values.map((value, column) => wrapCell(text, value, han, widths[column]!));
  const height = Math.max(...cells.map((cellLines) => cellLines.length), 1) * lineHeight + rowPadding * 2;
  return { cells, height };
}

/** Greedy line breaking at spaces and around CJK characters, at most `maxCellLines` lines. */
function wrapCell(text: PdfText, value: string, han: HanFace, width: number): PreparedText[] {
  const prepare = (part: string) => text.prepare(part, han, cellStyle, 'cover');
  const tokens = value.trim().split(breakable).filter(Boolean);
  // Lines keep their trailing space, so the overflow below joins back into the original text.
  const lines: string[] = [];
  let current = '';
  for (const token of tokens) {
    if (current && prepare((current + token).trimEnd()).width > width) {
      lines.push(current);
      current = token;
    } else {
      current += token;
    }
  }
  if (current) lines.push(current);
  if (lines.length > maxCellLines) lines.splice(maxCellLines - 1, lines.length, lines.slice(maxCellLines - 1).join(''));
  // A single word wider than the column (or the overflow on the last line) is cut with "…".
  return lines.map((part) => text.truncate(prepare(part.trim()), width, cellStyle));
}

/** Splits rows into pages: `first` and `later` are the heights left for rows below the header. */
function paginate(rows: PlannedRow[], first: number, later: number): PlannedRow[][] {
  const pages: PlannedRow[][] = [[]];
  let room = first;
  for (const row of rows) {
    const page = pages[pages.length - 1]!;
    if (row.height > room && page.length > 0) {
      pages.push([row]);
      room = later - row.height;
    } else {
      page.push(row);
      room -= row.height;
    }
  }
  return pages;
}
