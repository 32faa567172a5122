// The API journeys of issue #11, written once and run against every runtime
// (Node: node-journeys.test.ts; Cloudflare Workers: its own runner). They walk
// the public HTTP API with `fetch` only: no src/ imports, no database access,
// since a Worker's D1 is not reachable from the test. Mail is read where a
// supporter would read it: on a real SMTP server on 127.0.0.1.

import { parse as parseCsv } from 'csv-parse/sync';
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { parseMail, partText, type ParsedMail } from '../mail/helpers/mime.js';
import type { ReceivedMail, TestSmtpServer } from '../mail/helpers/smtp-server.js';

export type JourneyRuntime = {
  /** Base URL of the running service, e.g. http://127.0.0.1:8787. */
  url: string;
  /** Its PUBLIC_URL (links in mail start with it). */
  publicUrl: string;
  /** ADMIN_TOKEN it was started with. */
  adminToken: string;
  /** test/mail/helpers/smtp-server.ts: a real SMTP server on 127.0.0.1 the service mails to. */
  smtp: TestSmtpServer;
  /** Runs the periodic work now (due mailings, outbox sweep, count folding): on Node a no-op or short wait, on Workers the cron trigger. */
  tick(): Promise<void>;
  stop(): Promise<void>;
};

/** How long one background step (a mail, a count, a mailing) may take before the journey fails. */
const BACKGROUND_TIMEOUT_MS = 60_000;
/** Per journey step (`it`): generous, for a local workerd as much as for Node. */
const STEP_TIMEOUT_MS = 120_000;

type Supporter = {
  key: string;
  name: string;
  email: string;
  country: string;
  region?: string;
  city?: string;
  locale: 'en' | 'ja' | 'ko' | 'zh';
  consent: { nameOnLetter: 'full' | 'initials' | 'none'; showPublicly?: boolean; updates: boolean };
};

type Letter = { id: string; targetId: string; signatureId: string | null; signatureCount: number; sha256: string; pages: number; bytes: number };

type MailingProgress = { total: number; sent: number; failed: number; skipped: number };
type Mailing = { id: string; campaign: string; kind: string; status: string; template: string | null; subject: string | null; progress: MailingProgress; lastError: string | null };

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Text with whitespace removed: pdf.js splits CJK runs with spaces and line breaks. */
const compact = (text: string) => text.replace(/\s+/g, '');
/** Text with every run of whitespace made one space. */
const spaced = (text: string) => text.replace(/\s+/g, ' ');

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A PDF parsed back with unpdf (pdf.js): its text per page. */
async function pdfPages(bytes: Uint8Array): Promise<string[]> {
  expect(new TextDecoder('latin1').decode(bytes.slice(0, 5))).toBe('%PDF-');
  const pdf = await getDocumentProxy(bytes.slice());
  try {
    const { text } = await extractText(pdf, { mergePages: false });
    return text;
  } finally {
    await pdf.destroy();
  }
}

/** `ms` as a wall-clock time `YYYY-MM-DDTHH:mm:ss` in `timeZone`, as the mailings API takes it. */
export function localDateTime(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}`;
}

/**
 * Declares the API journeys against one runtime: create and open a campaign
 * with a target, sign, confirmation mail over SMTP, confirm, count, CSV
 * export, the organisation profile, letters (templates, preview, generation, download), a scheduled
 * update mailing that completes, one-click unsubscribe and a second mailing
 * that leaves the unsubscribed supporter out. The steps run in order and
 * share state; slugs and addresses are unique per run, so one runtime
 * instance may serve other journey files too.
 */
export function defineApiJourneys(runtimeName: string, start: () => Promise<JourneyRuntime>): void {
  describe(`API journeys on ${runtimeName}`, () => {
    let runtime: JourneyRuntime | undefined;
    const run = `${runtimeName.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 20)}-${Date.now().toString(36)}`;
    const slug = `journey-${run}`;
    const title = `Journey petition ${run}`;
    const timeZone = 'Asia/Tokyo';

    const supporters = {
      misaki: {
        key: 'misaki',
        name: '佐藤 美咲',
        email: `misaki.${run}@example.jp`,
        country: 'JP',
        region: 'JP-13',
        city: '東京',
        locale: 'ja',
        consent: { nameOnLetter: 'full', showPublicly: true, updates: true },
      },
      marie: {
        key: 'marie',
        name: 'Marie Dubois',
        email: `marie.${run}@example.fr`,
        country: 'FR',
        city: 'Lyon',
        locale: 'en',
        consent: { nameOnLetter: 'full', updates: true },
      },
      kwame: {
        key: 'kwame',
        name: 'Kwame Mensah',
        email: `kwame.${run}@example.com.gh`,
        country: 'GH',
        city: 'Accra',
        locale: 'en',
        consent: { nameOnLetter: 'full', updates: false },
      },
      // A name a spreadsheet would run as a formula; not to be named on the letter.
      formula: {
        key: 'formula',
        name: '=HYPERLINK("http://evil.example","click") Mallory',
        email: `mallory.${run}@example.org`,
        country: 'GB',
        locale: 'en',
        consent: { nameOnLetter: 'none', updates: false },
      },
    } satisfies Record<string, Supporter>;

    /** The organisation the letters speak for (PUT /api/v1/organisation). */
    const organisation = {
      name: 'Refugee Rights Network Tokyo',
      postalAddress: { lines: ['2-4-6 Kanda-Jimbocho, Chiyoda-ku'], postalCode: '101-0051', city: 'Tokyo', region: null, country: 'JP' },
      email: 'letters@refugee-rights.test',
      phone: null,
      website: 'https://refugee-rights.test',
      signatory: { name: 'Sayuri Hoshino', title: 'Director' },
      translations: {},
    };

    let targetId: string | undefined;
    let storedLetter: Letter | undefined;
    let firstMailing: Mailing | undefined;
    const confirmed = new Set<string>();
    /** The List-Unsubscribe URL of each supporter's first update, by supporter key. */
    const unsubscribeUrls = new Map<string, string>();

    const rt = (): JourneyRuntime => {
      if (!runtime) throw new Error(`the ${runtimeName} runtime did not start`);
      return runtime;
    };
    const api = (path: string) => `${rt().url}/api/v1${path}`;
    const organiser = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${rt().adminToken}`, ...extra });
    const organiserJson = () => organiser({ 'content-type': 'application/json' });

    async function json<T = unknown>(response: Response, status: number): Promise<T> {
      const text = await response.text();
      expect(response.status, `${response.url}: ${text}`).toBe(status);
      return JSON.parse(text) as T;
    }

    /** Polls `probe`, running the periodic work before each look. */
    function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
      return waitFor(
        what,
        async () => {
          await rt().tick();
          return probe();
        },
        BACKGROUND_TIMEOUT_MS,
        200,
      );
    }

    const mailsTo = (email: string): ReceivedMail[] => rt().smtp.received.filter((mail) => mail.rcptTo.includes(email));
    const isUpdate = (mail: ReceivedMail) => parseMail(mail.raw).header('list-unsubscribe') !== undefined;

    async function publicCampaign() {
      return json<{ slug: string; status: string; signatureCount: number; title: string; targets: { name: string; kind: string; country: string }[] }>(
        await fetch(api(`/campaigns/${slug}`)),
        200,
      );
    }

    function requireStep<T>(value: T | undefined, what: string): T {
      if (value === undefined) throw new Error(`an earlier journey step did not leave ${what}`);
      return value;
    }

    /** Signs, reads the confirmation mail off the SMTP server, checks it, and returns the confirmation token. */
    async function sign(supporter: Supporter): Promise<{ token: string; mail: ParsedMail }> {
      const before = mailsTo(supporter.email).length;
      const { key: _key, ...body } = supporter;
      const signed = await fetch(api(`/campaigns/${slug}/signatures`), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(await json(signed, 202)).toEqual({ status: 'pending' });

      const received = await eventually(`the confirmation email to ${supporter.email}`, () => mailsTo(supporter.email)[before]);
      expect(received.rcptTo).toEqual([supporter.email]);
      const mail = parseMail(received.raw);
      expect(mail.header('message-id')).toMatch(/^<[^<>@\s]+@[^<>@\s]+>$/);
      // Nothing the submitter typed is mailed before the address is confirmed: not the name, in To or the body.
      expect(mail.decodedHeader('to')).toBe(supporter.email);
      const text = partText(mail, 'text/plain');
      expect(mail.leaves.some((leaf) => leaf.contentType === 'text/html')).toBe(true);
      expect(text).not.toContain(supporter.name);
      expect(text).toContain(title);
      const link = new RegExp(`${escapeRegExp(rt().publicUrl)}/confirm/([A-Za-z0-9_-]{16,128})`).exec(text);
      expect(link, `a confirmation link under ${rt().publicUrl} in:\n${text}`).not.toBeNull();
      return { token: link![1]!, mail };
    }

    async function confirm(supporter: Supporter, token: string) {
      const response = await fetch(api('/signatures/confirm'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
      expect(await json(response, 200)).toEqual({ status: 'confirmed', campaign: slug });
      confirmed.add(supporter.key);
    }

    async function countBecomes(n: number) {
      return eventually(`signatureCount ${n}`, async () => ((await publicCampaign()).signatureCount === n ? true : undefined));
    }

    async function scheduleUpdate(body: Record<string, unknown>): Promise<Mailing> {
      // A couple of seconds ahead, as a wall-clock time in Tokyo; updates have no sending window.
      const sendAt = localDateTime(Date.now() + 3_000, timeZone);
      const response = await fetch(api('/mailings'), {
        method: 'POST',
        headers: organiserJson(),
        body: JSON.stringify({ campaign: slug, kind: 'update', sendAt, timeZone, ...body }),
      });
      const mailing = await json<Mailing & { sendAtLocal: string; timeZone: string; channel: string | null }>(response, 201);
      expect(mailing).toMatchObject({ campaign: slug, kind: 'update', status: 'scheduled', sendAtLocal: sendAt, timeZone, channel: null });
      expect(mailing.progress).toEqual({ total: 0, sent: 0, failed: 0, skipped: 0 });
      return mailing;
    }

    async function finished(mailing: Mailing): Promise<{ mailing: Mailing; tookMs: number }> {
      const started = Date.now();
      const done = await eventually(`mailing ${mailing.id} to finish`, async () => {
        const current = await json<Mailing>(await fetch(api(`/mailings/${mailing.id}`), { headers: organiser() }), 200);
        if (current.status === 'failed' || current.status === 'cancelled') throw new Error(`mailing ${current.status}: ${current.lastError}`);
        return current.status === 'finished' ? current : undefined;
      });
      return { mailing: done, tookMs: Date.now() - started };
    }

    beforeAll(async () => {
      runtime = await start();
    }, 180_000);

    afterAll(async () => {
      await runtime?.stop();
    }, 60_000);

    it('a. creates an embassy target and a campaign writing to it, opens it, and the public read shows it open', { timeout: STEP_TIMEOUT_MS }, async () => {
      const createdTarget = await json<{ id: string; name: string; kind: string; email: string; postalAddress: unknown; language: string }>(
        await fetch(api('/targets'), {
          method: 'POST',
          headers: organiserJson(),
          body: JSON.stringify({
            name: 'Ambassador Extraordinary and Plenipotentiary',
            title: 'H.E.',
            organisation: `Embassy of the Republic of Journeys ${run}`,
            kind: 'embassy',
            email: `embassy.${run}@example.org`,
            postalAddress: { lines: ['3-4-33 Moto-Azabu'], postalCode: '106-0046', city: 'Minato-ku', region: 'Tokyo', country: 'JP' },
            language: 'en',
            salutation: 'Your Excellency,',
          }),
        }),
        201,
      );
      expect(createdTarget).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        kind: 'embassy',
        email: `embassy.${run}@example.org`,
        language: 'en',
        postalAddress: { lines: ['3-4-33 Moto-Azabu'], postalCode: '106-0046', city: 'Minato-ku', region: 'Tokyo', country: 'JP' },
      });
      targetId = createdTarget.id;

      const campaign = await json(
        await fetch(api('/campaigns'), {
          method: 'POST',
          headers: organiserJson(),
          body: JSON.stringify({ slug, title, summary: 'Fair treatment of refugees.', locale: 'en', timeZone, targetIds: [targetId] }),
        }),
        201,
      );
      expect(campaign).toMatchObject({ slug, title, status: 'draft', targetIds: [targetId], signatureCount: 0, timeZone });

      // A draft is not public yet, and cannot be signed.
      expect((await fetch(api(`/campaigns/${slug}`))).status).toBe(404);
      // Without a token, organiser routes are closed.
      expect((await fetch(api(`/campaigns/${slug}`), { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"status":"open"}' })).status).toBe(401);

      const opened = await json(
        await fetch(api(`/campaigns/${slug}`), { method: 'PATCH', headers: organiserJson(), body: JSON.stringify({ status: 'open' }) }),
        200,
      );
      expect(opened).toMatchObject({ slug, status: 'open' });

      const shown = await publicCampaign();
      expect(shown).toMatchObject({ slug, title, status: 'open', signatureCount: 0, timeZone });
      expect(shown.targets).toEqual([expect.objectContaining({ kind: 'embassy', country: 'JP', name: 'Ambassador Extraordinary and Plenipotentiary' })]);
      // The public view carries no target ids, email or address.
      expect(JSON.stringify(shown)).not.toContain(targetId);
      expect(JSON.stringify(shown)).not.toContain(`embassy.${run}@example.org`);
      expect(JSON.stringify(shown)).not.toContain('Moto-Azabu');
    });

    it('b. signs in Japanese, mails the confirmation over SMTP, confirms with its token, and the count rises; three more sign', { timeout: STEP_TIMEOUT_MS }, async () => {
      const { token, mail } = await sign(supporters.misaki);
      // The confirmation is written in the supporter's language.
      expect(partText(mail, 'text/plain')).toMatch(/[\u3040-\u30ff]/);
      expect((await publicCampaign()).signatureCount).toBe(0);
      await confirm(supporters.misaki, token);
      await countBecomes(1);
      // Confirming again is harmless and counts nothing twice.
      await confirm(supporters.misaki, token);
      const unknown = await fetch(api('/signatures/confirm'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'x'.repeat(43) }) });
      expect(unknown.status).toBe(404);

      for (const supporter of [supporters.marie, supporters.kwame, supporters.formula]) {
        const signed = await sign(supporter);
        await confirm(supporter, signed.token);
      }
      await countBecomes(4);
      // Still 4 a moment later (after periodic work such as count folding), nothing counted twice.
      await rt().tick();
      expect((await publicCampaign()).signatureCount).toBe(4);

      // The public list shows only who chose to be shown, by a shortened name, the country and the day: no email, no full name.
      const shown = await json<{ items: { name: string; country: string; signedAt: string }[] }>(await fetch(api(`/campaigns/${slug}/signatures/public`)), 200);
      expect(shown.items).toEqual([{ name: expect.any(String), country: 'JP', signedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) }]);
      expect(shown.items[0]!.name).not.toBe(supporters.misaki.name);
      expect(JSON.stringify(shown)).not.toContain('@');
    });

    it('c. exports the signatures as spreadsheet-safe CSV for the organiser', { timeout: STEP_TIMEOUT_MS }, async () => {
      expect((await fetch(api(`/campaigns/${slug}/signatures.csv`))).status).toBe(401);

      const response = await fetch(api(`/campaigns/${slug}/signatures.csv`), { headers: organiser() });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8$/i);
      expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${slug}-signatures.csv"`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      // A UTF-8 byte order mark, so Excel reads the Japanese name.
      expect(Array.from(bytes.slice(0, 3))).toEqual([0xef, 0xbb, 0xbf]);
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      const rows = parseCsv(text, { bom: true, columns: false, skip_empty_lines: true }) as string[][];
      const [header, ...records] = rows;
      expect(header).toEqual([
        'id', 'status', 'name', 'email', 'country', 'region', 'city', 'postal_code', 'comment', 'locale',
        'name_on_letter', 'show_publicly', 'updates', 'created_at', 'confirmed_at', 'unsubscribed_at', 'source',
      ]);
      expect(records).toHaveLength(4);
      const column = (name: string) => header!.indexOf(name);
      const byEmail = new Map(records.map((record) => [record[column('email')], record]));
      for (const supporter of [supporters.misaki, supporters.marie, supporters.kwame]) {
        const record = byEmail.get(supporter.email);
        expect(record, supporter.email).toBeDefined();
        expect(record![column('name')]).toBe(supporter.name);
        expect(record![column('status')]).toBe('confirmed');
        expect(record![column('country')]).toBe(supporter.country);
        expect(record![column('confirmed_at')]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      }
      expect(byEmail.get(supporters.misaki.email)![column('region')]).toBe('JP-13');
      expect(byEmail.get(supporters.misaki.email)![column('updates')]).toBe('true');
      expect(byEmail.get(supporters.kwame.email)![column('updates')]).toBe('false');
      // The formula is shown as text: an apostrophe before the '='.
      const formula = byEmail.get(supporters.formula.email)!;
      expect(formula[column('name')]).toBe(`'${supporters.formula.name}`);
      expect(text).not.toMatch(/(^|,)=HYPERLINK/m);
    });

    it('d0. sets the organisation profile (letters are refused while it is the shipped example) and reads it back', { timeout: STEP_TIMEOUT_MS }, async () => {
      const current = await json<{ isExample: boolean }>(await fetch(api('/organisation'), { headers: organiser() }), 200);
      // The runtime may serve other journey files, which may have set it already.
      if (current.isExample) {
        const refused = await json<{ error: { code: string; message: string } }>(
          await fetch(api(`/campaigns/${slug}/letters`), { method: 'POST', headers: organiserJson(), body: JSON.stringify({ mode: 'per_target' }) }),
          409,
        );
        expect(refused.error).toMatchObject({ code: 'ORGANISATION_NOT_SET', message: expect.stringContaining('dashboard (Organisation)') });
      }
      const saved = await json(await fetch(api('/organisation'), { method: 'PUT', headers: organiserJson(), body: JSON.stringify(organisation) }), 200);
      expect(saved).toMatchObject({ ...organisation, isExample: false });
      expect(await json(await fetch(api('/organisation'), { headers: organiser() }), 200)).toEqual(saved);
    });

    it('d. lists templates, previews a letter as a PDF, generates one letter per target and downloads it', { timeout: STEP_TIMEOUT_MS }, async () => {
      const target = requireStep(targetId, 'a target');
      const templates = await json<{ items: { name: string; languages: string[]; variables: string[] }[] }>(
        await fetch(api('/templates'), { headers: organiser() }),
        200,
      );
      const petition = templates.items.find((item) => item.name === 'embassy-petition');
      expect(petition, JSON.stringify(templates)).toBeDefined();
      expect(petition!.languages).toContain('en');
      expect(petition!.variables).toEqual(expect.arrayContaining(['signatures.total', 'target.name']));

      const named = [supporters.misaki, supporters.marie, supporters.kwame];
      const checkLetterText = (pages: string[]) => {
        const all = pages.join('\n');
        expect(spaced(all)).toMatch(/\b4 people who have signed/);
        expect(spaced(all)).toContain('Ambassador Extraordinary and Plenipotentiary');
        for (const supporter of named) expect(compact(all)).toContain(compact(supporter.name));
        // The organisation's letterhead and signature, never the shipped example's.
        expect(all).toContain(organisation.name);
        expect(all).toContain(`${organisation.signatory.title} ${organisation.signatory.name}`);
        expect(all).not.toContain('Example Human Rights Network Japan');
        // Named only with consent: the supporter who chose 'none' is counted, not named.
        expect(all).not.toContain('Mallory');
        expect(all).not.toContain('HYPERLINK');
        // Never an email address of a supporter.
        for (const supporter of Object.values(supporters)) expect(all).not.toContain(supporter.email);
      };

      const preview = await fetch(api(`/campaigns/${slug}/letters/preview.pdf?target=${target}`), { headers: organiser() });
      expect(preview.status, preview.status === 200 ? '' : await preview.clone().text()).toBe(200);
      expect(preview.headers.get('content-type')).toBe('application/pdf');
      expect(preview.headers.get('content-disposition')).toMatch(/^attachment; filename="[^"]+\.pdf"/);
      const previewPages = await pdfPages(new Uint8Array(await preview.arrayBuffer()));
      expect(previewPages.length).toBeGreaterThanOrEqual(1);
      checkLetterText(previewPages);

      const generated = await json<{ batchId: string; mode: string; template: string; cutoffAt: string; letters: Letter[] }>(
        await fetch(api(`/campaigns/${slug}/letters`), { method: 'POST', headers: organiserJson(), body: JSON.stringify({ mode: 'per_target' }) }),
        201,
      );
      expect(generated).toMatchObject({ mode: 'per_target', template: 'embassy-petition', cutoffAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
      expect(generated.letters).toHaveLength(1);
      const [letter] = generated.letters;
      expect(letter).toMatchObject({ targetId: target, signatureId: null, signatureCount: 4, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(letter!.pages).toBeGreaterThanOrEqual(1);

      const meta = await json(await fetch(api(`/letters/${letter!.id}`), { headers: organiser() }), 200);
      expect(meta).toMatchObject({
        id: letter!.id,
        batchId: generated.batchId,
        mode: 'per_target',
        campaign: slug,
        targetId: target,
        template: 'embassy-petition',
        language: 'en',
        signatureCount: 4,
        sha256: letter!.sha256,
        pages: letter!.pages,
        bytes: letter!.bytes,
        pdf: `/api/v1/letters/${letter!.id}.pdf`,
      });

      const download = await fetch(`${rt().url}/api/v1/letters/${letter!.id}.pdf`, { headers: organiser() });
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('application/pdf');
      const bytes = new Uint8Array(await download.arrayBuffer());
      expect(bytes.length).toBe(letter!.bytes);
      expect(await sha256Hex(bytes)).toBe(letter!.sha256);
      const pages = await pdfPages(bytes);
      expect(pages).toHaveLength(letter!.pages);
      checkLetterText(pages);
      storedLetter = letter;

      // Letters are the organiser's: no token, no letter.
      expect((await fetch(`${rt().url}/api/v1/letters/${letter!.id}.pdf`)).status).toBe(401);
    });

    it('e. a scheduled update mailing completes and reaches the supporters who opted into news, with one-click unsubscribe', { timeout: STEP_TIMEOUT_MS }, async () => {
      const scheduled = await scheduleUpdate({ template: 'thank-you' });
      expect(scheduled.template).toBe('thank-you');
      const { mailing, tookMs } = await finished(scheduled);
      console.info(`[journeys:${runtimeName}] update mailing finished ${tookMs} ms after scheduling (send time 3 s ahead)`);
      firstMailing = mailing;
      // Misaki and Marie asked for news; Kwame and Mallory did not.
      expect(mailing.progress).toEqual({ total: 2, sent: 2, failed: 0, skipped: 0 });
      expect(mailing.lastError).toBeNull();

      const subjects = { ja: `書簡をお届けしました：${title}`, en: `Your letters were delivered: ${title}` };
      for (const supporter of [supporters.misaki, supporters.marie]) {
        const received = await eventually(`the update to ${supporter.email}`, () => mailsTo(supporter.email).find(isUpdate));
        expect(received.rcptTo).toEqual([supporter.email]);
        const mail = parseMail(received.raw);
        expect(mail.decodedHeader('subject')).toBe(subjects[supporter.locale as 'ja' | 'en']);
        // From the organisation (set in d0), at the address MAIL_FROM gives.
        expect(mail.decodedHeader('from')).toMatch(new RegExp(`^"?${escapeRegExp(organisation.name)}"? <no-reply@signet\\.example>$`));
        expect(mail.header('message-id')).toMatch(/^<[^<>@\s]+@[^<>@\s]+>$/);
        expect(mail.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
        const listUnsubscribe = mail.header('list-unsubscribe');
        const url = new RegExp(`^<(${escapeRegExp(rt().publicUrl)}/unsubscribe/[^<>\\s]+)>$`).exec(listUnsubscribe ?? '');
        expect(url, `List-Unsubscribe: ${listUnsubscribe}`).not.toBeNull();
        expect(url![1]).toMatch(/^https?:\/\//);
        const text = partText(mail, 'text/plain');
        // Addressed by name now that the address is confirmed, the same link in the footer.
        expect(text).toContain(supporter.name);
        expect(text).toContain(url![1]);
        expect(text).toContain(title);
        unsubscribeUrls.set(supporter.key, url![1]!);
      }
      // Each got exactly one update, and nobody else did.
      for (const supporter of [supporters.misaki, supporters.marie]) expect(mailsTo(supporter.email).filter(isUpdate)).toHaveLength(1);
      for (const supporter of [supporters.kwame, supporters.formula]) expect(mailsTo(supporter.email)).toHaveLength(1); // the confirmation only
      expect(unsubscribeUrls.get('misaki')).not.toBe(unsubscribeUrls.get('marie'));
    });

    it('f. one-click unsubscribe from the List-Unsubscribe URL, and the next update leaves that supporter out', { timeout: STEP_TIMEOUT_MS }, async () => {
      requireStep(firstMailing, 'a finished first mailing');
      const link = requireStep(unsubscribeUrls.get('marie'), "Marie's List-Unsubscribe URL");
      // The link is under PUBLIC_URL; the mail client's POST reaches the service there.
      const path = link.slice(rt().publicUrl.length);
      expect(path).toMatch(/^\/unsubscribe\/[^/]+$/);

      // RFC 8058: what a mail provider sends, form-encoded, no Origin, no cookie.
      const response = await fetch(`${rt().url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(response.status).toBeGreaterThanOrEqual(200);
      expect(response.status).toBeLessThan(300);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      await response.body?.cancel();
      // Repeating is harmless.
      expect((await fetch(`${rt().url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })).status).toBe(200);
      // A forged token unsubscribes nobody.
      const forged = await fetch(`${rt().url}/unsubscribe/01a2212b-d384-7c41-a300-4ef26b334fe5.0123456789abcdef0123456789abcdef`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(forged.status).toBe(404);

      // The organiser sees it.
      const listed = await json<{ items: { email: string; unsubscribedAt: string | null; consent: { updates: boolean } }[] }>(
        await fetch(api(`/campaigns/${slug}/signatures`), { headers: organiser() }),
        200,
      );
      const byEmail = new Map(listed.items.map((item) => [item.email, item]));
      expect(byEmail.get(supporters.marie.email)?.unsubscribedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(byEmail.get(supporters.misaki.email)?.unsubscribedAt).toBeNull();

      const subject = `Second update ${run}`;
      const scheduled = await scheduleUpdate({ subject, body: `# Still going\n\nThe campaign **${title}** carries on.` });
      expect(scheduled).toMatchObject({ subject, template: null });
      const { mailing, tookMs } = await finished(scheduled);
      console.info(`[journeys:${runtimeName}] second update mailing finished ${tookMs} ms after scheduling`);
      // Misaki still gets it; Marie is counted as left out.
      expect(mailing.progress).toEqual({ total: 1, sent: 1, failed: 0, skipped: 1 });

      const received = await eventually(`the second update to ${supporters.misaki.email}`, () =>
        mailsTo(supporters.misaki.email).find((mail) => parseMail(mail.raw).decodedHeader('subject') === subject),
      );
      const mail = parseMail(received.raw);
      expect(mail.header('list-unsubscribe')).toBe(`<${unsubscribeUrls.get('misaki')}>`);
      expect(partText(mail, 'text/plain')).toContain('Still going');
      // The mailing finished, so everything it sent has arrived: nothing new for Marie.
      expect(mailsTo(supporters.marie.email).filter(isUpdate)).toHaveLength(1);
      expect(rt().smtp.received.filter((m) => parseMail(m.raw).decodedHeader('subject') === subject).map((m) => m.rcptTo)).toEqual([[supporters.misaki.email]]);
    });

    it('g. an organiser erases a supporter named on the stored letter, and the background work renders it again without them', { timeout: STEP_TIMEOUT_MS }, async () => {
      const letter = requireStep(storedLetter, 'a stored letter');
      const erased = await fetch(api('/privacy/erasures'), { method: 'POST', headers: organiserJson(), body: JSON.stringify({ email: supporters.kwame.email }) });
      expect(await json(erased, 200)).toEqual({ erased: 1 });
      const meta = await eventually('the stored letter rendered again', async () => {
        const current = await json<Letter & { regeneratedAt: string | null }>(await fetch(api(`/letters/${letter.id}`), { headers: organiser() }), 200);
        return current.regeneratedAt ? current : undefined;
      });
      expect(meta.sha256).not.toBe(letter.sha256);
      const download = await fetch(api(`/letters/${letter.id}.pdf`), { headers: organiser() });
      expect(download.status).toBe(200);
      const bytes = new Uint8Array(await download.arrayBuffer());
      expect(await sha256Hex(bytes)).toBe(meta.sha256);
      const all = (await pdfPages(bytes)).join('\n');
      expect(all).not.toContain('Kwame');
      expect(all).not.toContain('Mensah');
      expect(compact(all)).toContain(compact(supporters.marie.name));
      // Still counted: an erasure removes the person, not their support.
      expect(spaced(all)).toMatch(/\b4 people who have signed/);
    });
  });
}
