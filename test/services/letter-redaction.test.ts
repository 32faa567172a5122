import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalLetterPorts } from '../../src/letters/node/letter-store.js';
import { runLetterRedactions } from '../../src/services/letter-redaction.js';
import { defaultPrivacySettings } from '../../src/services/context.js';
import { generateLetters } from '../../src/services/letters.js';
import { runRetention } from '../../src/services/retention.js';
import { createTestApp, repoLettersDir } from '../helpers/app.js';
import { openCampaign, signAndConfirm } from '../helpers/signing.js';
import { parsePdfBytes } from '../letters/helpers.js';
import { hiddenFields, latestPrivacyToken, postForm, requestLink } from './privacy/helpers.js';

type TestApp = ReturnType<typeof createTestApp>;
type Letter = { id: string; targetId: string; signatureId: string | null; signatureCount: number; sha256: string };
type Delivery = { id: string; letterId: string; status: string; letterSha256: string };

let t: TestApp;
afterEach(async () => {
  await t?.cleanup();
  t = undefined as unknown as TestApp;
});

const SLUG = 'free-the-detained';
const ERASED = { name: 'Quentin Marchbanks', email: 'Quentin.Marchbanks@example.net' };

/** Text of a PDF with whitespace removed (pdf.js splits runs at line breaks). */
async function pdfText(bytes: Buffer): Promise<string> {
  return (await parsePdfBytes(bytes)).pages.join('').replace(/\s+/g, '');
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** One embassy, a campaign writing to it, and three supporters: two named in full, one by initials. */
async function setup(deps: Parameters<typeof createTestApp>[0] = {}) {
  t = createTestApp(deps);
  const target = await json<{ id: string }>(
    await t.request('POST', '/api/v1/targets', {
      body: { name: 'Embassy of Testland', kind: 'embassy', postalAddress: { lines: ['1 Embassy Row'], city: 'Tokyo', country: 'JP' }, language: 'en' },
    }),
    201,
  );
  await openCampaign(t, SLUG, { targetIds: [target.id] });
  const consent = (nameOnLetter: 'full' | 'initials') => ({ nameOnLetter, showPublicly: false, updates: false });
  await signAndConfirm(t, SLUG, { name: ERASED.name, email: ERASED.email, country: 'JP', region: 'JP-13', city: 'Tokyo', consent: consent('full') });
  await signAndConfirm(t, SLUG, { name: 'Aiko Tanaka', email: 'aiko@example.org', country: 'JP', region: 'JP-13', city: 'Tokyo', consent: consent('full') });
  await signAndConfirm(t, SLUG, { name: 'Xavier Zubrowka', email: 'xz@example.org', country: 'JP', region: 'JP-13', city: 'Tokyo', consent: consent('initials') });
  t.clock.advance(60_000);
  return { targetId: target.id, ports: createLocalLetterPorts({ lettersDir: repoLettersDir, dataDir: t.dataDir }) };
}

async function generate(mode: 'per_target' | 'per_signer') {
  return json<{ batchId: string; letters: Letter[] }>(await t.request('POST', `/api/v1/campaigns/${SLUG}/letters`, { body: { mode } }), 201);
}

async function downloaded(letterId: string): Promise<string> {
  const res = await t.request('GET', `/api/v1/letters/${letterId}.pdf`);
  expect(res.status).toBe(200);
  return pdfText(Buffer.from(await res.arrayBuffer()));
}

const stored = (batchId: string, letterId: string) => join(t.dataDir, 'letters', batchId, `${letterId}.pdf`);

async function deliverByPrint(letterId: string, printed: boolean): Promise<Delivery> {
  const delivery = await json<Delivery>(await t.request('POST', `/api/v1/letters/${letterId}/deliveries`, { body: { channel: 'print' } }), 201);
  if (!printed) return delivery;
  return json<Delivery>(await t.request('PATCH', `/api/v1/deliveries/${delivery.id}`, { body: { status: 'printed' } }), 200);
}

async function eraseThroughTheMailedLink(email: string) {
  expect((await requestLink(t, email, 'erase')).status).toBe(202);
  const token = await latestPrivacyToken(t, email);
  const page = await t.app.request(`/privacy/${token}?lang=en`);
  expect(page.status).toBe(200);
  const done = await postForm(t, `/privacy/${token}`, hiddenFields(await page.text()));
  expect(done.status).toBe(200);
}

describe('an erasure reaches the stored letters', () => {
  it('a supporter named in full erases themselves: the stored per_target PDF is rendered again without them, a delivered copy stays listed by its hash', async () => {
    let woken = 0;
    const { ports } = await setup({ onLettersToRedact: () => woken++ });
    const batch = await generate('per_target');
    const [letter] = batch.letters;
    expect(letter?.signatureCount).toBe(3);
    const before = await downloaded(letter!.id);
    expect(before).toContain('QuentinMarchbanks');
    expect(before).toContain('AikoTanaka');
    expect(before).toContain('X.Z.');
    // One copy printed (gone out, cannot be recalled), one still waiting in the print queue.
    const printed = await deliverByPrint(letter!.id, true);
    const waiting = await deliverByPrint(letter!.id, false);

    t.clock.advance(60_000);
    await eraseThroughTheMailedLink(ERASED.email);
    expect(woken).toBe(1);

    const report = await runLetterRedactions(t.ctx, ports);
    expect(report).toMatchObject({ batches: 1, regenerated: 1, unchanged: 0, withdrawn: 0, deliveredKept: 1, failed: 0 });

    // The file on disk and its download: the erased supporter is gone, the others and the count stay.
    const onDisk = await pdfText(await readFile(stored(batch.batchId, letter!.id)));
    const after = await downloaded(letter!.id);
    for (const text of [onDisk, after]) {
      expect(text).not.toContain('Quentin');
      expect(text).not.toContain('Marchbanks');
      expect(text).toContain('AikoTanaka');
      expect(text).toContain('X.Z.');
    }
    const metadata = await json<Letter & { regeneratedAt: string | null; withdrawnAt: string | null }>(await t.request('GET', `/api/v1/letters/${letter!.id}`), 200);
    expect(metadata).toMatchObject({ signatureCount: 3, regeneratedAt: new Date(t.clock.now()).toISOString(), withdrawnAt: null });
    expect(metadata.sha256).not.toBe(letter!.sha256);

    // The printed copy is still listed, by the hash of what was printed; the waiting one carries the new file.
    const { items } = await json<{ items: Delivery[] }>(await t.request('GET', '/api/v1/deliveries'), 200);
    expect(items.find((d) => d.id === printed.id)).toMatchObject({ status: 'printed', letterId: letter!.id, letterSha256: letter!.sha256 });
    expect(items.find((d) => d.id === waiting.id)).toMatchObject({ status: 'queued', letterSha256: metadata.sha256 });

    // Recorded in the audit log, in counts.
    const audit = await json<{ items: { action: string; actor: { type: string }; object: unknown; details?: Record<string, unknown> }[] }>(
      await t.request('GET', '/api/v1/audit?action=letters.redact'),
      200,
    );
    expect(audit.items).toEqual([
      expect.objectContaining({
        action: 'letters.redact',
        actor: { type: 'system', id: null, name: 'letter-redaction' },
        object: { type: 'letter_batch', id: batch.batchId },
        details: { regenerated: 1, unchanged: 0, withdrawn: 0, deliveredKept: 1 },
      }),
    ]);
    expect(JSON.stringify(audit)).not.toMatch(/quentin|marchbanks/i);

    // Done once: a second run finds nothing queued.
    expect(await runLetterRedactions(t.ctx, ports)).toMatchObject({ batches: 0, regenerated: 0 });
  }, 60_000);

  it('an organiser erases a supporter named by initials: the letter is rendered again; a per-signer letter written for them is withdrawn', async () => {
    const { ports, targetId } = await setup();
    const perTarget = await generate('per_target');
    const perSigner = await generate('per_signer');
    const [signerId] = (await t.database.db.all<{ id: string }>(`SELECT "id" FROM "signatures" WHERE "email_normalized" = 'xz@example.org'`)).map((row) => row.id);
    const theirs = perSigner.letters.find((letter) => letter.signatureId === signerId)!;
    const others = perSigner.letters.filter((letter) => letter.signatureId !== signerId);
    const queued = await deliverByPrint(theirs.id, false);
    // And by email, still in the outbox when the letter is withdrawn.
    expect((await t.request('PATCH', `/api/v1/targets/${targetId}`, { body: { email: 'consular@testland.example' } })).status).toBe(200);
    const emailed = await json<Delivery>(await t.request('POST', `/api/v1/letters/${theirs.id}/deliveries`, { body: { channel: 'email' } }), 201);

    const erased = await t.request('POST', '/api/v1/privacy/erasures', { body: { email: 'xz@example.org' } });
    expect(await json<{ erased: number }>(erased, 200)).toEqual({ erased: 1 });
    const report = await runLetterRedactions(t.ctx, ports);
    expect(report).toMatchObject({ batches: 2, regenerated: 1, withdrawn: 1, failed: 0 });

    expect(await downloaded(perTarget.letters[0]!.id)).not.toContain('X.Z.');

    // Withdrawn: the file is gone, a download says why, it cannot be delivered, and its waiting delivery failed.
    expect(existsSync(stored(perSigner.batchId, theirs.id))).toBe(false);
    const gone = await t.request('GET', `/api/v1/letters/${theirs.id}.pdf`);
    expect(await json<{ error: { code: string; message: string } }>(gone, 410)).toMatchObject({ error: { code: 'LETTER_WITHDRAWN', message: expect.stringContaining('withdrawn') } });
    const refused = await t.request('POST', `/api/v1/letters/${theirs.id}/deliveries`, { body: { channel: 'print' } });
    expect(await json<{ error: { code: string } }>(refused, 410)).toMatchObject({ error: { code: 'LETTER_WITHDRAWN' } });
    const delivery = await json<Delivery & { lastError: string }>(await t.request('GET', `/api/v1/deliveries/${queued.id}`), 200);
    expect(delivery).toMatchObject({ status: 'failed', lastError: expect.stringContaining('withdrawn') });
    const [emailRow] = await t.database.db.all<{ status: string; last_error: string }>(
      `SELECT o."status", o."last_error" FROM "outbox" o JOIN "deliveries" d ON d."outbox_id" = o."id" WHERE d."id" = '${emailed.id}'`,
    );
    expect(emailRow).toMatchObject({ status: 'failed', last_error: expect.stringContaining('letter withdrawn after an erasure') });
    expect((await json<{ items: unknown[] }>(await t.request('GET', '/api/v1/print-queue'), 200)).items).toEqual([]);

    // The other supporters' per-signer letters are as they were.
    for (const letter of others) {
      expect(existsSync(stored(perSigner.batchId, letter.id))).toBe(true);
      expect(await json<Letter>(await t.request('GET', `/api/v1/letters/${letter.id}`), 200)).toMatchObject({ sha256: letter.sha256, withdrawnAt: null });
    }
  }, 60_000);

  it('a batch still being rendered when the erasure is committed is rendered again too', async () => {
    const { ports } = await setup();
    // The renderer has read the signatures and written the PDF, and waits before the batch is recorded.
    let rendered!: () => void;
    const renderedOnce = new Promise<void>((resolve) => (rendered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held: typeof ports = {
      ...ports,
      renderToFile: async (input, output, options) => {
        const result = await ports.renderToFile(input, output, options);
        rendered();
        await released;
        return result;
      },
    };
    const generating = generateLetters(t.ctx, held, SLUG, { mode: 'per_target' });
    await renderedOnce;
    expect(await json(await t.request('POST', '/api/v1/privacy/erasures', { body: { email: ERASED.email } }), 200)).toEqual({ erased: 1 });
    release();
    const batch = await generating;
    expect(await downloaded(batch.letters[0]!.id)).toContain('QuentinMarchbanks');

    expect(await runLetterRedactions(t.ctx, ports)).toMatchObject({ batches: 1, regenerated: 1 });
    expect(await downloaded(batch.letters[0]!.id)).not.toContain('Quentin');
  }, 60_000);

  it('retention anonymising a closed campaign renders its letters again, naming nobody', async () => {
    const { ports } = await setup({ privacy: { ...defaultPrivacySettings, retentionDays: 0 } });
    const batch = await generate('per_target');
    expect(await downloaded(batch.letters[0]!.id)).toContain('AikoTanaka');
    expect((await t.request('PATCH', `/api/v1/campaigns/${SLUG}`, { body: { status: 'closed' } })).status).toBe(200);
    t.clock.advance(60_000);
    expect((await runRetention(t.ctx)).signaturesAnonymised).toBe(3);

    expect(await runLetterRedactions(t.ctx, ports)).toMatchObject({ batches: 1, regenerated: 1 });
    const text = await downloaded(batch.letters[0]!.id);
    for (const name of ['Quentin', 'Aiko', 'X.Z.']) expect(text).not.toContain(name);
    expect(await json(await t.request('GET', `/api/v1/letters/${batch.letters[0]!.id}`), 200)).toMatchObject({ signatureCount: 3 });
  }, 60_000);
});
