import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import type { SignatureSheetDocument, SignatureSheetPart } from '../letter-ports.js';
import type { FontFaces } from './font-faces.js';
import { hanFaceForLanguage, type HanFace } from './font-runs.js';
import { mm } from './letter-geometry.js';
import { PdfText, type PreparedText, type Style } from './pdf-text.js';

type Doc = PDFKit.PDFDocument;

// Landscape: the consent boxes, a name, an address and a signature need the width on one row.
const pageSize: [number, number] = [mm(297), mm(210)];
const margin = 28;
const qrSize = 92;
const titleStyle: Style = { weight: 'bold', size: 15 };
const bodyStyle: Style = { weight: 'regular', size: 8 };
const smallStyle: Style = { weight: 'regular', size: 6.5 };
const legendStyle: Style = { weight: 'bold', size: 8 };
const headStyle: Style = { weight: 'bold', size: 6.5 };
const numberStyle: Style = { weight: 'regular', size: 8 };
const rowHeight = 27;
const box = 9;
const ruleColour = '#555555';

// Line-break opportunities: after white space, and on either side of a Han or kana character.
const breakable = /(?<=\s)|(?=[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])|(?<=[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])/u;

/**
 * The printable signature sheet (PRODUCT.md §13): per language, a landscape A4 page with the
 * petition's title and summary, the privacy notice, the consent choices worded as on the signing
 * form, numbered rows to sign on, and a QR code to the signing page drawn as vector squares (it
 * stays sharp on any printer). Text goes through the letters' own Noto faces, so CJK prints.
 */
export async function renderSignatureSheetPdf(input: SignatureSheetDocument, fonts: FontFaces): Promise<Uint8Array<ArrayBuffer>> {
  const first = input.parts[0];
  const doc: Doc = new PDFDocument({
    size: pageSize,
    margin: 0,
    autoFirstPage: false,
    compress: true,
    pdfVersion: '1.7',
    lang: first?.language ?? 'en',
    info: { Title: first?.title ?? 'Signature sheet', Creator: 'Signet', Producer: 'Signet (pdfkit)', CreationDate: new Date(input.generatedAt) },
  });
  const chunks: Uint8Array[] = [];
  doc.on('data', (chunk: Uint8Array) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.once('end', () => resolve());
    doc.once('error', reject);
  });
  const text = new PdfText(doc, fonts);
  text.useDirectLayout();
  // Error correction M: a sheet gets folded and smudged at a stall; the URL stays short enough.
  const qr = QRCode.create(input.signingUrl, { errorCorrectionLevel: 'M' }).modules;
  input.parts.forEach((part, index) => drawPart(doc, text, part, qr, input.signingUrl, index + 1, input.parts.length));
  doc.end();
  await ended;
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Greedy line breaking at spaces and around CJK characters; the last line is cut with "…" past `maxLines`. */
function wrap(text: PdfText, value: string, han: HanFace, style: Style, width: number, maxLines: number): PreparedText[] {
  const prepare = (part: string) => text.prepare(part, han, style, 'signature sheet');
  const lines: string[] = [];
  let current = '';
  for (const token of value.trim().split(breakable).filter(Boolean)) {
    if (current && prepare((current + token).trimEnd()).width > width) {
      lines.push(current);
      current = token.trimStart();
    } else current += token;
  }
  if (current) lines.push(current);
  if (lines.length > maxLines) lines.splice(maxLines - 1, lines.length, lines.slice(maxLines - 1).join(''));
  return lines.map((line) => text.truncate(prepare(line.trim()), width, style));
}

function drawQr(doc: Doc, qr: { size: number; data: Uint8Array }, x: number, y: number, size: number): void {
  // Four modules of quiet zone on each side, as the standard asks.
  const module = size / (qr.size + 8);
  doc.save().rect(x, y, size, size).fill('#ffffff');
  for (let row = 0; row < qr.size; row++) {
    for (let col = 0; col < qr.size; col++) {
      if (qr.data[row * qr.size + col]) doc.rect(x + (col + 4) * module, y + (row + 4) * module, module, module);
    }
  }
  doc.fill('#000000').restore();
}

function checkbox(doc: Doc, x: number, y: number): void {
  doc.save().lineWidth(0.7).strokeColor('#000000').rect(x, y, box, box).stroke().restore();
}

type Column = { key: string; width: number; heading: string; consent?: boolean };

function drawPart(doc: Doc, text: PdfText, part: SignatureSheetPart, qr: { size: number; data: Uint8Array }, url: string, pageNumber: number, pages: number): void {
  doc.addPage({ size: pageSize, margin: 0 });
  const [width, height] = pageSize;
  const han = hanFaceForLanguage(part.language);
  const f = part.form;
  const left = margin;
  const right = width - margin;
  const line = (value: PreparedText, x: number, baseline: number, style: Style, align: 'left' | 'right' = 'left') => text.drawLine(value, x, baseline, style, align);
  const prep = (value: string, style: Style) => text.prepare(value, han, style, 'signature sheet');

  // The QR code and its caption, top right.
  const qrX = right - qrSize;
  drawQr(doc, qr, qrX, margin - 6, qrSize);
  const caption = wrap(text, part.sheet.scanToSign, han, smallStyle, qrSize + 20, 2);
  caption.forEach((value, i) => line(value, right, margin + qrSize + 2 + i * 8, smallStyle, 'right'));
  line(text.truncate(prep(url, { ...smallStyle, size: 5.5 }), qrSize + 60, { ...smallStyle, size: 5.5 }), right, margin + qrSize + 4 + caption.length * 8, { ...smallStyle, size: 5.5 }, 'right');

  // Title, summary, privacy notice and how to fill in the sheet, left of the QR code.
  const textWidth = qrX - left - 16;
  let y = margin + 8;
  for (const value of wrap(text, part.title, han, titleStyle, textWidth, 2)) {
    line(value, left, y, titleStyle);
    y += 18;
  }
  for (const value of part.summary ? wrap(text, part.summary, han, bodyStyle, textWidth, 3) : []) {
    line(value, left, y, bodyStyle);
    y += 10.5;
  }
  y += 2;
  for (const paragraph of part.privacy) {
    for (const value of wrap(text, paragraph, han, smallStyle, textWidth, 3)) {
      line(value, left, y, smallStyle);
      y += 8.5;
    }
  }
  for (const value of wrap(text, part.sheet.instructions, han, smallStyle, textWidth, 2)) {
    line(value, left, y, smallStyle);
    y += 8.5;
  }

  // The consent choices, each worded exactly as on the form and each on one line of its own.
  y = Math.max(y + 4, margin + qrSize + 28);
  const legend = (title: string, options: string[]) => {
    let x = left;
    const heading = prep(`${title}${part.language === 'ja' || part.language === 'zh' ? '：' : ':'}`, legendStyle);
    line(heading, x, y, legendStyle);
    x += heading.width + 10;
    for (const option of options) {
      checkbox(doc, x, y - box + 1.5);
      x += box + 4;
      const value = prep(option, bodyStyle);
      line(value, x, y, bodyStyle);
      x += value.width + 14;
    }
    y += 13;
  };
  legend(f.consentNameLegend, [f.consentNameFull, f.consentNameInitials, f.consentNameNone]);
  legend(f.consentPublicLegend, [f.consentPublicYes]);
  legend(f.consentUpdatesLegend, [f.consentUpdatesYes]);

  // The table: a group heading over each consent's boxes, then the column headings.
  const columns: Column[] = [
    { key: 'number', width: 20, heading: part.sheet.number },
    { key: 'name', width: 128, heading: f.name },
    { key: 'email', width: 140, heading: `${f.email} ${f.optional}` },
    { key: 'place', width: 96, heading: `${f.region} / ${f.city}` },
    { key: 'full', width: 50, heading: f.consentNameFull, consent: true },
    { key: 'initials', width: 50, heading: f.consentNameInitials, consent: true },
    { key: 'none', width: 50, heading: f.consentNameNone, consent: true },
    { key: 'public', width: 52, heading: f.consentPublicYes, consent: true },
    { key: 'updates', width: 52, heading: f.consentUpdatesYes, consent: true },
  ];
  const used = columns.reduce((sum, column) => sum + column.width, 0);
  columns.push({ key: 'signature', width: right - left - used, heading: part.sheet.signature });
  const xs: number[] = [];
  let x = left;
  for (const column of columns) {
    xs.push(x);
    x += column.width;
  }
  const groups = [
    { from: 4, to: 6, title: f.consentNameLegend },
    { from: 7, to: 7, title: f.consentPublicLegend },
    { from: 8, to: 8, title: f.consentUpdatesLegend },
  ];
  const tableTop = y + 2;
  const groupLines = groups.map((group) => wrap(text, group.title, han, headStyle, xs[group.to]! + columns[group.to]!.width - xs[group.from]! - 4, 2));
  const groupHeight = 2 + Math.max(...groupLines.map((lines) => lines.length)) * 7.5;
  const headLines = columns.map((column) => wrap(text, column.heading, han, headStyle, column.width - 4, 4));
  const headHeight = 3 + Math.max(...headLines.map((lines) => lines.length)) * 7.5;
  groups.forEach((group, i) => {
    groupLines[i]!.forEach((value, j) => line(value, xs[group.from]! + 2, tableTop + 7 + j * 7.5, headStyle));
    doc.save().lineWidth(0.5).strokeColor(ruleColour).moveTo(xs[group.from]!, tableTop + groupHeight).lineTo(xs[group.to]! + columns[group.to]!.width, tableTop + groupHeight).stroke().restore();
  });
  const headTop = tableTop + groupHeight;
  columns.forEach((column, i) => headLines[i]!.forEach((value, j) => line(value, xs[i]! + 2, headTop + 8 + j * 7.5, headStyle)));
  const bodyTop = headTop + headHeight;
  const bottom = height - margin - 10;
  const rows = Math.max(1, Math.floor((bottom - bodyTop) / rowHeight));

  doc.save().lineWidth(0.8).strokeColor(ruleColour);
  doc.moveTo(left, tableTop).lineTo(right, tableTop).stroke();
  doc.moveTo(left, bodyTop).lineTo(right, bodyTop).stroke();
  for (let row = 1; row <= rows; row++) doc.moveTo(left, bodyTop + row * rowHeight).lineTo(right, bodyTop + row * rowHeight).stroke();
  doc.lineWidth(0.4);
  for (const [i, columnX] of xs.entries()) {
    const top = i >= 4 && i <= 8 ? tableTop + (groups.some((group) => group.from === i) ? 0 : groupHeight) : tableTop;
    if (i > 0) doc.moveTo(columnX, top).lineTo(columnX, bodyTop + rows * rowHeight).stroke();
  }
  doc.restore();
  for (let row = 0; row < rows; row++) {
    const top = bodyTop + row * rowHeight;
    line(text.latin(String(row + 1), numberStyle), xs[0]! + columns[0]!.width - 4, top + rowHeight / 2 + 3, numberStyle, 'right');
    columns.forEach((column, i) => {
      if (column.consent) checkbox(doc, xs[i]! + (column.width - box) / 2, top + (rowHeight - box) / 2);
    });
  }
  line(prep(part.sheet.page.replace('{page}', String(pageNumber)).replace('{pages}', String(pages)), smallStyle), right, height - margin + 2, smallStyle, 'right');
}
