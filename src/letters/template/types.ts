import { type Locale, locales } from '../../lib/locales.js';

/** Languages a letter template may be written in (PRODUCT.md §3: a campaign's locales). */
export const letterLanguages = locales;
export type LetterLanguage = Locale;

export const pageSizes = ['A4', 'Letter'] as const;
export type PageSize = (typeof pageSizes)[number];

/**
 * Where the recipient's address is printed so that it shows through an envelope window.
 * `none` prints it top left for envelopes addressed by hand or by label.
 */
export const envelopeWindows = ['din5008-b', 'jp-naga3', 'us-10', 'none'] as const;
export type EnvelopeWindow = (typeof envelopeWindows)[number];

export type Alignment = 'left' | 'right';

/** A letter template after its front matter was validated and every variable it names was checked. */
export type LetterTemplate = {
  name: string;
  language: LetterLanguage;
  /** Mustache (plain text, not Markdown). */
  subject: string;
  pageSize: PageSize;
  envelopeWindow: EnvelopeWindow;
  /** Mustache; the line(s) naming the addressee above the postal address. */
  addressee: string;
  /** Mustache; printed before the body. */
  salutation: string;
  /** Mustache; printed after the body, one line per line. */
  closing: string;
  closingAlign: Alignment;
  /** Print the organisation's letterhead (name, address, contacts, logo) at the top of page 1. */
  letterhead: boolean;
  /** Mustache over Markdown. */
  body: string;
  /** 1-based line of the template file on which `body` starts, so errors found later can still name a file line. */
  bodyLine: number;
  /** Every variable the template names, dotted (e.g. `target.name`), sorted. */
  variables: string[];
};

export type PostalAddress = {
  lines: string[];
  postalCode?: string;
  city?: string;
  region?: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
};

/**
 * The sending organisation as a letter in one language shows it: from the organisation profile
 * (src/services/organisation.ts), which `letters/organisation.json` seeds and whose logo it keeps.
 */
export type Organisation = {
  name: string;
  /** The sender block: the address as its country writes it, without the country. */
  addressLines: string[];
  /** ISO 3166-1 alpha-2; decides whether the recipient's country is printed. */
  country: string;
  /** The address by field, for templates (`organisation.postalAddress.*`); absent for `organisation.json` as read. */
  postalAddress?: PostalAddress;
  email?: string;
  website?: string;
  phone?: string;
  /** PNG or JPEG file: relative to the letters directory in `organisation.json`, absolute once loaded. */
  logo?: string;
  representative?: { name: string; title?: string };
};

export type LetterCampaign = {
  slug: string;
  title: string;
  summary: string;
  /** IANA zone in which the letter's date is given. */
  timeZone: string;
  locale: LetterLanguage;
  /** Public campaign page, when the caller knows `PUBLIC_URL`. */
  url?: string;
};

export type LetterTarget = {
  name: string;
  title: string;
  organisation: string;
  salutation: string;
  language: LetterLanguage;
  postalAddress: PostalAddress;
};

export type NameOnLetter = 'full' | 'initials' | 'none';

/**
 * A supporter as a letter may show them. The city is printed only for `full` and the country for
 * `full` and `initials` (PRODUCT.md §8); no region travels with a name, since region totals say
 * all a letter may say about regions.
 */
export type Signatory = {
  name: string;
  nameOnLetter: NameOnLetter;
  city?: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** BCP 47; picks Traditional or Simplified Han glyphs for the name (e.g. `zh-TW`). */
  locale?: string;
};

export type RegionCount = { region: string; count: number };

/**
 * Rows for the signature appendix. The renderer reads them twice (a counting pass so that every
 * page can print "n / N", then the writing pass), so pass an array or a function that opens a
 * fresh iteration each time (e.g. the same query with the same cut-off), never a generator object.
 */
export type SignatorySource =
  | Iterable<Signatory>
  | AsyncIterable<Signatory>
  | (() => Iterable<Signatory> | AsyncIterable<Signatory>);

export type LetterSignatures = {
  /** The signatures this letter speaks for, counted at the cut-off (confirmed, or erased after confirming), named or not. */
  count: number;
  /**
   * Set when the letter speaks for a share of the petition (routed by jurisdiction): every
   * signature the petition counts. Templates see it as `signatures.total` (else `count`), and the
   * appendix then says how many of them this letter counts.
   */
  total?: number;
  /** Printed as given: build it with `publicRegionTotals` so small regions are merged. */
  byRegion: RegionCount[];
  signatories: SignatorySource;
};

/** What a letter says in one language: its template and the campaign, target and sender as named in that language. */
export type LetterPart = {
  template: LetterTemplate;
  campaign: LetterCampaign;
  target: LetterTarget;
  organisation: Organisation;
};

/**
 * Everything one letter is made from. Plain data apart from `signatures.signatories`. The top-level
 * part is the letter in its first language; `translations` follow it in the same PDF, each from a
 * new page, with the same date and counts.
 */
export type LetterInput = LetterPart & {
  /**
   * The same letter in further languages, in order (the original first, then these). The paper
   * size and envelope window of the first part hold for the whole PDF (one sheet size, one
   * envelope); the appendix comes once, after the last part, in the first part's language.
   */
  translations?: LetterPart[];
  /** Instant the letter is dated, ms since the epoch (UTC); shown in the campaign's time zone. */
  date: number;
  signatures: LetterSignatures;
  /** Per-signer mode: the one supporter this letter is from; the appendix is then left out. */
  recipientSignature?: Signatory;
};

/** A letter's input without its signatory rows (what crosses to a render worker; the rows follow in batches). */
export type LetterDocument = Omit<LetterInput, 'signatures'> & { signatures: Omit<LetterSignatures, 'signatories'> };

export type RenderOptions = {
  /** PDF creation date (ms). Defaults to `input.date`, so the same input yields the same bytes. */
  createdAt?: number;
};

export type RenderWarning = {
  code: 'MISSING_GLYPH';
  /** e.g. `U+1F600`. */
  codePoint: string;
  char: string;
  /** How many times it was met in the whole letter. */
  occurrences: number;
  /** First place met, without personal data: e.g. `body`, `appendix row 12`. */
  firstSeen: string;
};

export type RenderResult = {
  pages: number;
  bytes: number;
  sha256: string;
  warnings: RenderWarning[];
};

