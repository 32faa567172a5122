import PDFDocument from 'pdfkit';
import { attachClosingPunctuation, parseMarkdown, type InlineSpan, type MarkdownBlock } from '../../markdown/markdown.js';
import { AppendixCursor, countAppendixPages, regionLines, type PageHeader } from '../template/appendix-plan.js';
import { formatCount, formatLetterDate } from '../template/letter-date.js';
import { appendixStrings, fillCounts } from '../template/letter-strings.js';
import { buildLetterView, countryName } from '../template/letter-view.js';
import { addressBlockLines } from '../template/postal-address.js';
import { feedFrom, isListed, type SignatoryFeed } from '../template/signatory-feed.js';
import { cityForLetter, nameForLetter } from '../template/signatory-names.js';
import { renderTemplateText } from '../template/template-text.js';
import type { LetterDocument, LetterInput, LetterLanguage, RenderOptions, RenderResult, Signatory } from '../template/types.js';
import type { FontFaces } from './font-faces.js';
import { hanFaceForLanguage, hanFaceForSignatory, type HanFace } from './font-runs.js';
import { letterGeometry, mm, type LetterGeometry } from './letter-geometry.js';
import type { PdfSink } from './pdf-sink.js';
import { PdfText, type PreparedText, type Style } from './pdf-text.js';

type Doc = PDFKit.PDFDocument;
type Struct = PDFKit.PDFStructureElement;

const documentLanguage: Record<LetterLanguage, string> = { en: 'en', ja: 'ja', ko: 'ko', zh: 'zh-Hans' };

// Up to this many named signatories the appendix is tagged as a real table (TR/TH/TD per row).
// Beyond it each page of rows is one tagged block: per-row structure elements cost about a dozen
// PDF objects per name and a parent-tree entry each, which a 100,000-name appendix cannot afford.
const rowTaggingLimit = 1000;

const bodyStyle: Style = { weight: 'regular', size: 10 };
const bodyLineGap = 3.5;

type Line = { text: string; style: Style };

/** Marks what is drawn in `draw` as an artifact (page furniture that assistive technology skips). */
const artifact = (doc: Doc, type: 'Pagination' | 'Layout', draw: () => void): void => {
  doc.markContent('Artifact', { type } as PDFKit.Mixins.MarkingOptions);
  draw();
  doc.endMarkedContent();
};

/** What a render needs from its runtime besides the letter: the fonts, and the bytes of the organisation's logo. */
export type LetterRenderContext = {
  fonts: FontFaces;
  /** The image `organisation.logo` names (a file path on Node, a bundle path on Workers), as PNG or JPEG bytes. */
  image(ref: string): Uint8Array | ArrayBuffer;
};

/**
 * Renders one letter into a sink (a file, an HTTP response, R2), waiting whenever the sink is full.
 *
 * The signatories are read twice: once to count the named ones, so every page can print "n / N"
 * while the appendix is streamed, and once to write them. Memory stays flat however long the
 * appendix is: pages are written out as they are completed.
 */
export async function renderLetterPdf(input: LetterInput, sink: PdfSink, context: LetterRenderContext, options: RenderOptions = {}): Promise<RenderResult> {
  return renderLetterPdfFromFeed(input, feedFrom(input.signatures.signatories), sink, context, options);
}

/** `renderLetterPdf` with the signatories read through a feed (on Node, a render thread's link to the main thread). */
export async function renderLetterPdfFromFeed(
  input: LetterDocument,
  feed: SignatoryFeed,
  sink: PdfSink,
  context: LetterRenderContext,
  options: RenderOptions = {},
): Promise<RenderResult> {
  const { template } = input;
  const perSigner = input.recipientSignature !== undefined;
  const listed = perSigner ? 0 : await feed.countListed();
  const view = buildLetterView(input, listed);
  const origin = { line: template.bodyLine };
  const texts = {
    subject: renderTemplateText(template.subject, view, 'plain'),
    addressee: renderTemplateText(template.addressee, view, 'plain').split('\n'),
    salutation: renderTemplateText(template.salutation, view, 'plain'),
    closing: renderTemplateText(template.closing, view, 'plain').split('\n'),
    body: parseMarkdown(renderTemplateText(template.body, view, 'markdown', origin)),
  };
  const geometry = letterGeometry(template.pageSize, template.envelopeWindow);
  const createdAt = new Date(options.createdAt ?? input.date);

  const doc = new SinkDocument(
    {
      size: [mm(geometry.page.width), mm(geometry.page.height)],
      margins: {
        top: mm(geometry.margins.top),
        bottom: mm(geometry.margins.bottom),
        left: mm(geometry.margins.left),
        right: mm(geometry.margins.right),
      },
      autoFirstPage: false,
      // Letter pages are held until the appendix's length is known; appendix pages are flushed one by one.
      bufferPages: true,
      compress: true,
      pdfVersion: '1.7',
      tagged: true,
      lang: documentLanguage[template.language],
      displayTitle: true,
      // Per-string layout caches grow with every distinct name; direct layout needs none.
      fontLayoutCache: false,
      info: {
        Title: texts.subject,
        Author: input.organisation.name,
        Subject: input.campaign.title,
        Keywords: input.campaign.slug,
        Creator: 'Signet',
        Producer: 'Signet (pdfkit)',
        CreationDate: createdAt,
        ModDate: createdAt,
      },
    },
    sink,
  );
  const flush = async () => {
    doc.flushPages();
    await sink.ready();
  };
  try {
    const letter = new LetterComposer(doc, input, geometry, texts, context);
    const bodyPages = letter.compose();
    const appendix = perSigner ? null : new AppendixComposer(doc, letter.text, letter.root, input, geometry, listed, feed);
    const total = bodyPages + (appendix?.pageCount ?? 0);
    for (let page = 0; page < bodyPages; page++) {
      doc.switchToPage(page);
      letter.footer(page + 1, total);
    }
    await flush();
    if (appendix) await appendix.write(flush, bodyPages, total);
    letter.root.end();
    const written = doc.bufferedPageRange();
    if (written.start + written.count !== total) throw new Error(`Page count drifted: planned ${total}, wrote ${written.start + written.count}.`);
    // Fonts and any PNG with transparency are finished asynchronously after end().
    doc.end();
    await doc.ended;
    const { bytes, sha256 } = await sink.finish();
    return { pages: total, bytes, sha256, warnings: letter.text.warnings.list() };
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/** Chunks pdfkit writes from its constructor (the PDF header), before a subclass can keep anything. */
let constructing: Uint8Array[] | null = null;

/**
 * A pdfkit document whose output goes straight to a sink, as it is produced. pdfkit hands its
 * output to `push` in both its builds (a Node Readable, or its own small one in the browser
 * build); taking it there rather than from 'data' events keeps memory flat: the Node build emits
 * those from process.nextTick, which never runs while rendering continues from one resolved
 * promise to the next, so the whole PDF would pile up. The header is held back until the first
 * page is flushed, so nothing reaches the sink before page 1 rendered.
 */
class SinkDocument extends (PDFDocument as unknown as new (options: PDFKit.PDFDocumentOptions) => Doc) {
  declare private readonly sink: PdfSink;
  declare private readonly header: Uint8Array[];
  declare private finished: () => void;
  /** Resolves once the document has ended (fonts are finished asynchronously after `end()`). */
  declare readonly ended: Promise<void>;

  constructor(options: PDFKit.PDFDocumentOptions, sink: PdfSink) {
    const header: Uint8Array[] = [];
    constructing = header;
    try {
      super(options);
    } finally {
      constructing = null;
    }
    this.sink = sink;
    this.header = header;
    this.ended = new Promise<void>((resolve) => (this.finished = resolve));
  }

  override push(chunk: Uint8Array | null): boolean {
    if (!this.sink) {
      if (chunk) constructing!.push(chunk);
      return true;
    }
    for (const held of this.header.splice(0)) this.sink.write(held);
    if (chunk === null) this.finished();
    else this.sink.write(chunk);
    return true;
  }
}

type LetterTexts = { subject: string; addressee: string[]; salutation: string; closing: string[]; body: MarkdownBlock[] };

/** Page 1 furniture and the letter's text, flowing over as many pages as it needs. */
class LetterComposer {
  readonly text: PdfText;
  readonly root: Struct;
  private readonly han: HanFace;
  private readonly left: number;
  private readonly right: number;

  constructor(
    private readonly doc: Doc,
    private readonly input: LetterDocument,
    private readonly geometry: LetterGeometry,
    private readonly texts: LetterTexts,
    private readonly context: LetterRenderContext,
  ) {
    this.text = new PdfText(doc, context.fonts);
    this.root = doc.struct('Document');
    doc.addStructure(this.root);
    this.han = hanFaceForLanguage(input.template.language);
    this.left = mm(geometry.margins.left);
    this.right = mm(geometry.page.width - geometry.margins.right);
  }

  private prepare(text: string, style: Style, where: string): PreparedText {
    return this.text.prepare(text, this.han, style, where);
  }

  /** Draws lines top-down from `top` (pt), each on its own baseline; returns the y below the last. */
  private lines(lines: Line[], x: number, top: number, align: 'left' | 'right', where: string, leading = 1.35): number {
    let y = top;
    for (const { text, style } of lines) {
      y += style.size * leading;
      if (text) this.text.drawLine(this.prepare(text, style, where), x, y - style.size * 0.3, style, align);
    }
    return y;
  }

  private block(type: string, draw: () => void): void {
    this.root.add(this.doc.struct(type, {}, draw));
  }

  /** Lays out the letter; returns how many pages it took. */
  compose(): number {
    const { doc, geometry, input, texts } = this;
    doc.addPage();
    artifact(doc, 'Layout', () => this.marks());
    if (input.template.letterhead) this.letterhead();
    this.address();
    const date = formatLetterDate(input.date, input.template.language, input.campaign.timeZone);
    this.block('P', () => this.lines([{ text: date, style: bodyStyle }], this.right, mm(geometry.dateTop) - 4, 'right', 'date'));

    doc.y = mm(geometry.bodyTop);
    this.block('H1', () => this.flow([{ text: texts.subject, bold: true, italic: false }], { weight: 'bold', size: 12 }, 'subject'));
    doc.y += 10;
    if (texts.salutation.trim()) {
      this.block('P', () => this.flow([{ text: texts.salutation, bold: false, italic: false }], bodyStyle, 'salutation'));
      doc.y += 8;
    }
    for (const block of texts.body) this.markdownBlock(block);
    this.closing();
    return doc.bufferedPageRange().count;
  }

  private marks(): void {
    const { doc, geometry } = this;
    doc.save().lineWidth(0.4).strokeColor('#888888');
    for (const at of geometry.foldMarks) doc.moveTo(mm(4), mm(at)).lineTo(mm(9), mm(at)).stroke();
    if (geometry.punchMark !== null) doc.moveTo(mm(4), mm(geometry.punchMark)).lineTo(mm(11), mm(geometry.punchMark)).stroke();
    doc.restore();
  }

  private letterhead(): void {
    const { doc, geometry, input } = this;
    const organisation = input.organisation;
    const top = mm(geometry.letterheadTop);
    if (organisation.logo) {
      const logo = this.context.image(organisation.logo);
      this.root.add(doc.struct('Figure', { alt: `${organisation.name} logo` }, () => doc.image(logo as PDFKit.Mixins.ImageSrc, this.left, top, { fit: [mm(32), mm(22)] })));
    }
    const small: Style = { weight: 'regular', size: 8 };
    const contacts = [organisation.email, organisation.website, organisation.phone].filter((value): value is string => Boolean(value));
    this.block('P', () =>
      this.lines(
        [
          { text: organisation.name, style: { weight: 'bold', size: 12 } },
          ...organisation.addressLines.map((text) => ({ text, style: small })),
          ...contacts.map((text) => ({ text, style: small })),
        ],
        this.right,
        top - 3,
        'right',
        'letterhead',
      ),
    );
  }

  private address(): void {
    const { doc, geometry, input, texts } = this;
    if (geometry.returnAddress) {
      const box = geometry.returnAddress;
      const { name, addressLines } = input.organisation;
      const style: Style = { weight: 'regular', size: 6.5 };
      const oneLine = this.prepare([name, ...addressLines].join(' · '), style, 'return address');
      // One line when it fits, else the name above the address: a cut-off return address is no use.
      const lines = oneLine.width <= mm(box.width) ? [oneLine] : [name, addressLines.join(' · ')].map((text) => this.prepare(text, style, 'return address'));
      const lineHeight = style.size * 1.25;
      this.block('P', () =>
        lines.forEach((line, index) =>
          this.text.drawLine(this.text.truncate(line, mm(box.width), style), mm(box.x), mm(box.y + box.height) - 2 - (lines.length - 1 - index) * lineHeight, style),
        ),
      );
    }
    const box = geometry.address;
    const lines = addressBlockLines(texts.addressee.filter((line) => line.trim()), input.target.postalAddress, input.organisation.country);
    // Shrink rather than overflow the window: an address must never be cut off by the envelope.
    const size = Math.max(7, Math.min(10, mm(box.height) / (lines.length * 1.3)));
    const style: Style = { weight: 'regular', size };
    this.block('P', () =>
      this.lines(
        lines.map((text) => ({ text, style })),
        mm(box.x),
        mm(box.y),
        'left',
        'address',
        1.3,
      ),
    );
    doc.y = mm(box.y + box.height);
  }

  /** Starts a new page unless `height` points still fit above the bottom margin (keeps a heading with its text, a list label with its item). */
  private keep(height: number): void {
    const { doc } = this;
    if (doc.y + height > doc.page.height - doc.page.margins.bottom) doc.addPage();
  }

  private flow(spans: InlineSpan[], base: Style, where: string): void {
    const pieces = attachClosingPunctuation(spans).map((span) => {
      const style: Style = { weight: span.bold || base.weight === 'bold' ? 'bold' : 'regular', size: base.size, italic: span.italic };
      return { text: this.prepare(span.text, style, where), style };
    });
    if (pieces.length === 0) return;
    this.text.drawFlow(pieces, this.left, this.doc.y, this.right - this.left, bodyLineGap);
  }

  private markdownBlock(block: MarkdownBlock): void {
    const { doc } = this;
    if (block.kind === 'heading') {
      const size = [13, 11.5, 10.5][block.level - 1]!;
      doc.y += 4;
      this.keep(size * 1.5 + bodyStyle.size * 3);
      this.block(`H${block.level + 1}`, () => this.flow(block.spans, { weight: 'bold', size }, 'body'));
      doc.y += 4;
      return;
    }
    if (block.kind === 'paragraph') {
      this.block('P', () => this.flow(block.spans, bodyStyle, 'body'));
      doc.y += 7;
      return;
    }
    const list = doc.struct('L');
    this.root.add(list);
    const indent = 16;
    block.items.forEach((item, index) => {
      const label = block.ordered ? `${block.start + index}.` : '•';
      this.keep(bodyStyle.size * 2 + bodyLineGap);
      const top = doc.y;
      const entry = doc.struct('LI');
      list.add(entry);
      entry.add(
        doc.struct('Lbl', {}, () => {
          const prepared = this.prepare(label, bodyStyle, 'body');
          this.text.drawLine(prepared, this.left + indent - 5, top + bodyStyle.size * 1.07, bodyStyle, 'right');
        }),
      );
      entry.add(
        doc.struct('LBody', {}, () => {
          const pieces = attachClosingPunctuation(item).map((span) => {
            const style: Style = { weight: span.bold ? 'bold' : 'regular', size: bodyStyle.size, italic: span.italic };
            return { text: this.prepare(span.text, style, 'body'), style };
          });
          this.text.drawFlow(pieces, this.left + indent, top, this.right - this.left - indent, bodyLineGap);
        }),
      );
      entry.end();
      doc.y += 3;
    });
    list.end();
    doc.y += 4;
  }

  private closing(): void {
    const { doc, input, texts } = this;
    const align = input.template.closingAlign;
    const x = align === 'right' ? this.right : this.left;
    const representative = input.organisation.representative;
    const sender: Line[] = [
      { text: input.organisation.name, style: { weight: 'bold', size: bodyStyle.size } },
      ...(representative ? [{ text: [representative.title, representative.name].filter(Boolean).join(' '), style: bodyStyle }] : []),
    ];
    const closing = texts.closing.map((text) => ({ text, style: bodyStyle }));
    const needed = 4 + (closing.length + sender.length) * bodyStyle.size * 1.5 + bodyStyle.size;
    // The closing and the sender stay together, on a new page if they would otherwise split.
    this.keep(needed);
    doc.y += 4;
    this.block('P', () => {
      doc.y = this.lines(closing, x, doc.y, align, 'closing', 1.5);
    });
    doc.y += bodyStyle.size;
    this.block('P', () => {
      doc.y = this.lines(sender, x, doc.y, align, 'closing', 1.5);
    });
  }

  footer(page: number, total: number): void {
    const { doc, geometry } = this;
    artifact(doc, 'Pagination', () => {
      const style: Style = { weight: 'regular', size: 8 };
      const prepared = this.text.prepare(`${page} / ${total}`, this.han, style, 'footer');
      this.text.drawLine(prepared, mm(geometry.page.width / 2) - prepared.width / 2, mm(geometry.footerTop), style);
    });
  }
}

type AppendixTexts = ReturnType<typeof appendixTexts>;

/** The summary and the region table's title: a letter routed by jurisdiction says which share of the petition it counts. */
const appendixTexts = (input: LetterDocument, listed: number) => {
  const language = input.template.language;
  const strings = appendixStrings[language];
  const { count, total } = input.signatures;
  const counts = { total: formatCount(total ?? count, language), count: formatCount(count, language), listed: formatCount(listed, language) };
  const named = listed === 0 ? 'none' : listed >= count ? 'all' : 'some';
  if (total === undefined) {
    const summary = { none: strings.summaryNoneNamed, all: strings.summaryAllNamed, some: strings.summary }[named];
    return { strings, regionsTitle: strings.regionsTitle, summary: fillCounts(summary, counts) };
  }
  const summary = count === 0 ? strings.shareSummaryNoneCounted : { none: strings.shareSummaryNoneNamed, all: strings.shareSummaryAllNamed, some: strings.shareSummary }[named];
  return { strings, regionsTitle: strings.regionsTitleShare, summary: fillCounts(summary, counts) };
};

const rowHeight = 4.6;
const rowStyle: Style = { weight: 'regular', size: 8.5 };
const headStyle: Style = { weight: 'bold', size: 8 };
const titleTop = 20;
const columnGap = 6;
const firstRowsTop = 49;
const nextRowsTop = 34;
// Cells are prepared once per distinct text: cities and countries repeat across rows.
const cellCacheLimit = 20_000;

/**
 * The numbered list of named signatories and the totals by region. Every line has the same
 * height and long names are cut to one line, so its page count is known before it is written.
 */
class AppendixComposer {
  readonly pageCount: number;
  private readonly texts: AppendixTexts;
  private readonly language: LetterLanguage;
  private readonly han: HanFace;
  private readonly left: number;
  private readonly width: number;
  private readonly cursor: AppendixCursor;
  private readonly cells = new Map<string, PreparedText>();
  private readonly columns: Record<'number' | 'name' | 'city' | 'country', { x: number; width: number }>;
  private readonly tagRows: boolean;
  private section: Struct | null = null;
  private table: Struct | null = null;
  private pageBlock: { element: Struct; content: PDFKit.PDFStructureContent } | null = null;
  private pageNumber = 0;

  constructor(
    private readonly doc: Doc,
    private readonly text: PdfText,
    private readonly root: Struct,
    private readonly input: LetterDocument,
    private readonly geometry: LetterGeometry,
    private readonly listed: number,
    private readonly feed: SignatoryFeed,
  ) {
    this.texts = appendixTexts(input, listed);
    this.language = input.template.language;
    this.han = hanFaceForLanguage(this.language);
    this.left = mm(geometry.margins.left);
    this.width = mm(geometry.page.width - geometry.margins.left - geometry.margins.right);
    const rowsBottom = geometry.page.height - geometry.margins.bottom;
    const capacity = {
      first: Math.floor((rowsBottom - firstRowsTop) / rowHeight),
      next: Math.floor((rowsBottom - nextRowsTop) / rowHeight),
    };
    this.cursor = new AppendixCursor(capacity);
    this.pageCount = countAppendixPages(listed, input.signatures.byRegion.length, capacity);
    let x = this.left;
    const column = (fraction: number) => {
      const placed = { x, width: this.width * fraction };
      x += placed.width;
      return placed;
    };
    this.columns = { number: column(0.09), name: column(0.45), city: column(0.26), country: column(0.2) };
    this.tagRows = listed <= rowTaggingLimit;
  }

  private cell(text: string, han: HanFace, maxWidth: number, where: string): PreparedText {
    const key = `${han}\u0000${maxWidth}\u0000${text}`;
    let prepared = this.cells.get(key);
    if (prepared) {
      this.text.warnings.add(prepared.missing, where);
      return prepared;
    }
    prepared = this.text.truncate(this.text.prepare(text, han, rowStyle, where), maxWidth, rowStyle);
    if (this.cells.size >= cellCacheLimit) this.cells.clear();
    this.cells.set(key, prepared);
    return prepared;
  }

  private rowTop(slot: number): number {
    return mm((this.pageNumber === 1 ? firstRowsTop : nextRowsTop) + slot * rowHeight);
  }

  async write(flush: () => Promise<void>, bodyPages: number, total: number): Promise<void> {
    const { doc } = this;
    this.text.useDirectLayout();
    this.section = doc.struct('Sect');
    this.root.add(this.section);
    let written = 0;
    for await (const batch of this.feed.batches()) {
      for (const signatory of batch) {
        if (!isListed(signatory)) continue;
        if (++written > this.listed) break;
        const placement = this.cursor.place('name');
        if (placement.newPage) await this.openPage(flush, bodyPages, total, placement.header);
        this.nameRow(written, signatory, placement.slot);
      }
      if (written > this.listed) break;
    }
    if (written !== this.listed) {
      throw new Error(`The signatories changed between the counting and the writing pass (${this.listed} named, then ${written}); pass a stable snapshot.`);
    }
    this.closePageBlock();
    this.endTable();
    const byRegion = this.input.signatures.byRegion;
    let region = 0;
    for (const line of regionLines(byRegion.length)) {
      const placement = this.cursor.place(line);
      if (placement.newPage) await this.openPage(flush, bodyPages, total, placement.header);
      if (line === 'regions-title') this.regionsTitle(placement.slot);
      else if (line === 'regions-header') this.regionsHeader(placement.slot, false);
      else {
        const entry = byRegion[region++];
        this.regionRow(placement.slot, entry ? entry.region : this.texts.strings.total, entry ? entry.count : this.input.signatures.count, !entry);
      }
    }
    this.endTable();
    this.section.end();
  }

  private async openPage(flush: () => Promise<void>, bodyPages: number, total: number, header: PageHeader): Promise<void> {
    const { doc } = this;
    this.closePageBlock();
    await flush();
    doc.addPage();
    this.pageNumber++;
    const page = bodyPages + this.pageNumber;
    const first = this.pageNumber === 1;
    const { strings } = this.texts;
    const titleStyle: Style = { weight: 'bold', size: first ? 13 : 10 };
    const drawTitle = () => this.text.drawLine(this.text.prepare(first ? strings.title : strings.continued, this.han, titleStyle, 'appendix'), this.left, mm(titleTop + 5), titleStyle);
    if (first) {
      this.section!.add(doc.struct('H1', {}, drawTitle));
      this.section!.add(doc.struct('P', {}, () => this.summary()));
    } else {
      artifact(doc, 'Pagination', drawTitle);
    }
    artifact(doc, 'Pagination', () => this.footer(page, total));
    if (header === 'names') this.namesHeader(first && this.tagRows);
    if (header === 'regions') this.regionsHeader(-1, true);
  }

  private summary(): void {
    const style: Style = { weight: 'regular', size: 9 };
    const { summary } = this.texts;
    const prepared = this.text.prepare(summary, this.han, style, 'appendix');
    // The summary box holds three lines; its text is fixed wording around two numbers.
    this.text.drawFlow([{ text: prepared, style }], this.left, mm(titleTop + 8), this.width, 2);
  }

  private footer(page: number, total: number): void {
    const style: Style = { weight: 'regular', size: 8 };
    const prepared = this.text.prepare(`${page} / ${total}`, this.han, style, 'footer');
    this.text.drawLine(prepared, mm(this.geometry.page.width / 2) - prepared.width / 2, mm(this.geometry.footerTop), style);
  }

  private headerRule(y: number): void {
    this.doc.save().lineWidth(0.5).strokeColor('#444444').moveTo(this.left, y).lineTo(this.left + this.width, y).stroke().restore();
  }

  private namesHeader(tagged: boolean): void {
    const { doc } = this;
    const { columns: labels } = this.texts.strings;
    const top = this.rowTop(0) - mm(rowHeight + 1);
    const baseline = top + mm(rowHeight) - 3;
    const cells = (['number', 'name', 'city', 'country'] as const).map((key) => ({ key, label: labels[key] }));
    const draw = (index: number) => {
      const { key, label } = cells[index]!;
      const column = this.columns[key];
      const prepared = this.text.prepare(label, this.han, headStyle, 'appendix');
      if (key === 'number') this.text.drawLine(prepared, column.x + column.width - columnGap, baseline, headStyle, 'right');
      else this.text.drawLine(prepared, column.x, baseline, headStyle);
    };
    if (tagged) {
      this.table = doc.struct('Table');
      this.section!.add(this.table);
      this.table.add(doc.struct('TR', {}, cells.map((_, index) => doc.struct('TH', {}, () => draw(index)))));
    } else {
      // Repeated headers are pagination artifacts: a reader should meet them once, not on every page.
      artifact(doc, 'Pagination', () => cells.forEach((_, index) => draw(index)));
    }
    artifact(doc, 'Layout', () => this.headerRule(this.rowTop(0) - 1));
  }

  private nameRow(number: number, signatory: Signatory, slot: number): void {
    const { doc } = this;
    const baseline = this.rowTop(slot) + mm(rowHeight) - 3.2;
    const han = hanFaceForSignatory(signatory.locale, signatory.country, this.han);
    const where = `appendix row ${number}`;
    const { columns } = this;
    const name = this.text.truncate(this.text.prepare(nameForLetter(signatory), han, rowStyle, where), columns.name.width - columnGap, rowStyle);
    const cells: { text: PreparedText; x: number; align: 'left' | 'right' }[] = [
      { text: this.text.latin(String(number), rowStyle), x: columns.number.x + columns.number.width - columnGap, align: 'right' },
      { text: name, x: columns.name.x, align: 'left' },
      { text: this.cell(cityForLetter(signatory), han, columns.city.width - columnGap, where), x: columns.city.x, align: 'left' },
      { text: this.cell(countryName(signatory.country, this.language), this.han, columns.country.width - columnGap, where), x: columns.country.x, align: 'left' },
    ];
    if (this.tagRows) {
      this.table!.add(doc.struct('TR', {}, cells.map((cell) => doc.struct('TD', {}, () => this.text.drawRow([cell], baseline, rowStyle)))));
      return;
    }
    this.openPageBlock();
    this.text.drawRow(cells, baseline, rowStyle);
  }

  /** Untagged-by-row mode: all rows of a page form one tagged block, opened at its first row. */
  private openPageBlock(): void {
    if (this.pageBlock) return;
    this.pageBlock = { element: this.doc.struct('P'), content: this.doc.markStructureContent('P') };
  }

  private closePageBlock(): void {
    if (!this.pageBlock) return;
    this.doc.endMarkedContent();
    this.pageBlock.element.add(this.pageBlock.content);
    this.section!.add(this.pageBlock.element);
    this.pageBlock.element.end();
    this.pageBlock = null;
  }

  /** Tables span pages; a table ends when its last row is written. */
  private endTable(): void {
    this.table?.end();
    this.table = null;
  }

  private regionsTitle(slot: number): void {
    const style: Style = { weight: 'bold', size: 9.5 };
    const baseline = this.rowTop(slot) + mm(rowHeight) - 3;
    this.section!.add(this.doc.struct('H2', {}, () => this.text.drawLine(this.text.prepare(this.texts.regionsTitle, this.han, style, 'appendix'), this.left, baseline, style)));
  }

  private regionsHeader(slot: number, repeated: boolean): void {
    const { doc } = this;
    const top = slot < 0 ? this.rowTop(0) - mm(rowHeight + 1) : this.rowTop(slot);
    const baseline = top + mm(rowHeight) - 3;
    const labels = this.texts.strings.regionColumns;
    const countRight = this.left + this.width * 0.75;
    const draw = (index: number) => {
      if (index === 0) this.text.drawLine(this.text.prepare(labels.region, this.han, headStyle, 'appendix'), this.left, baseline, headStyle);
      else this.text.drawLine(this.text.prepare(labels.count, this.han, headStyle, 'appendix'), countRight, baseline, headStyle, 'right');
    };
    if (repeated) {
      artifact(doc, 'Pagination', () => [0, 1].forEach(draw));
    } else {
      this.table = doc.struct('Table');
      this.section!.add(this.table);
      this.table.add(doc.struct('TR', {}, [0, 1].map((index) => doc.struct('TH', {}, () => draw(index)))));
    }
    artifact(doc, 'Layout', () => this.headerRule(top + mm(rowHeight) - 1));
  }

  private regionRow(slot: number, region: string, count: number, total: boolean): void {
    const { doc } = this;
    const baseline = this.rowTop(slot) + mm(rowHeight) - 3.2;
    const style: Style = total ? { ...rowStyle, weight: 'bold' } : rowStyle;
    const label = this.text.truncate(this.text.prepare(region, this.han, style, 'appendix regions'), this.width * 0.55, style);
    const value = this.text.prepare(formatCount(count, this.language), this.han, style, 'appendix regions');
    const countRight = this.left + this.width * 0.75;
    const cells = [() => this.text.drawLine(label, this.left, baseline, style), () => this.text.drawLine(value, countRight, baseline, style, 'right')];
    if (!this.table) {
      this.table = doc.struct('Table');
      this.section!.add(this.table);
    }
    this.table.add(doc.struct('TR', {}, cells.map((draw) => doc.struct('TD', {}, draw))));
  }
}
