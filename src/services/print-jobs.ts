import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { campaigns, deliveries, letters, targets } from '../db/schema.js';
import type { LetterFiles } from '../letters/letter-ports.js';
import { errorKind, positiveInteger } from '../lib/errors.js';
import { finalPrintJobStates, PrinterError, type Printer, type PrintJobState } from '../printing/printer.js';
import { assertCampaignAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { getDelivery, type DeliveryView } from './deliveries.js';
import { Conflict } from '../lib/service-errors.js';

/**
 * What `deliveries.print_job_state` holds: null (waiting to be sent, or to be
 * retried after `lastError`), `sending` (claimed by a dispatcher, Print-Job in
 * flight), the printer's job state, `failed` (the printer refused the
 * document itself, or its file is gone) or `unknown` (sending was cut off, or
 * the printer forgot the job, so nobody can say whether it printed).
 */
export type PrintJobStatus = PrintJobState | 'sending' | 'failed' | 'unknown';

/** Job states that are still the printer's business: checked until they end. */
const activeStates: readonly PrintJobState[] = ['pending', 'pending-held', 'processing', 'processing-stopped'];

/** The printer and where the letters are: the dispatcher needs nothing else. */
export type PrintPorts = { printer: Printer; files: LetterFiles };

export type PrintJobOptions = {
  /** Most jobs sent, and most jobs checked, per run. */
  batchSize?: number;
  /** How long a job is left before its state is asked again. */
  checkIntervalMs?: number;
  /**
   * How long a `sending` claim may last. Past it the dispatcher is taken to
   * have died mid-request; the delivery becomes `unknown` rather than being
   * sent again, since the printer may have the job already.
   */
  leaseMs?: number;
  /** Wait before sending again after a failure: doubling from baseMs, at most maxMs. */
  backoff?: { baseMs: number; maxMs: number };
};

export type PrintRunResult = { sent: number; retried: number; failed: number; checked: number; printed: number; interrupted: number };

const maxErrorLength = 1000;

/**
 * One round of the print dispatcher: sends queued print deliveries that have
 * no job yet to the printer, one claim at a time, then asks the printer about
 * jobs not finished. A job `completed` marks its delivery `printed`;
 * `aborted` or `canceled` is recorded with `lastError` and left to the
 * organiser (`resendPrintDelivery`). Printer failures are recorded on the
 * delivery and retried with a backoff; nothing here throws for them.
 *
 * Any number of dispatchers can share a database: a delivery is claimed by
 * setting `print_job_state = 'sending'` in the one UPDATE that picks it, and
 * every later write is conditional on that state, so no delivery is sent twice.
 */
export async function runPrintJobs(ctx: ServiceContext, ports: PrintPorts, options: PrintJobOptions = {}): Promise<PrintRunResult> {
  const batchSize = positiveInteger('batchSize', options.batchSize ?? 20);
  const leaseMs = positiveInteger('leaseMs', options.leaseMs ?? 10 * 60_000);
  const checkIntervalMs = options.checkIntervalMs ?? 5_000;
  const backoff = options.backoff ?? { baseMs: 30_000, maxMs: 30 * 60_000 };
  const result: PrintRunResult = { sent: 0, retried: 0, failed: 0, checked: 0, printed: 0, interrupted: 0 };

  result.interrupted = await markInterruptedSends(ctx, leaseMs);
  for (let i = 0; i < batchSize; i++) {
    const claimed = await claimNext(ctx, backoff);
    if (!claimed) break;
    const { outcome, printed } = await sendClaimed(ctx, ports, claimed.id);
    result[outcome]++;
    if (printed) result.printed++;
  }
  const checked = await checkActiveJobs(ctx, ports.printer, batchSize, checkIntervalMs);
  result.checked = checked.checked;
  result.printed += checked.printed;
  return result;
}

/** Picks the oldest due print delivery and marks it `sending`, in one statement. */
async function claimNext(ctx: ServiceContext, backoff: { baseMs: number; maxMs: number }): Promise<{ id: string } | undefined> {
  const { db } = ctx.db;
  const now = ctx.clock.now();
  // After a failure, attempts - 1 doublings of baseMs (capped) since the last try.
  const due = or(
    isNull(deliveries.printJobCheckedAt),
    sql`${deliveries.printJobCheckedAt} + min(${backoff.maxMs}, ${backoff.baseMs} * (1 << min(max(${deliveries.attempts} - 1, 0), 30))) <= ${now}`,
  );
  const waiting = and(eq(deliveries.channel, 'print'), eq(deliveries.status, 'queued'), isNull(deliveries.printJobState));
  const next = db.select({ id: deliveries.id }).from(deliveries).where(and(waiting, due)).orderBy(asc(deliveries.createdAt), asc(deliveries.id)).limit(1);
  const [claimed] = await db
    .update(deliveries)
    .set({ printJobState: 'sending', printJobUri: null, printJobCheckedAt: now, attempts: sql`${deliveries.attempts} + 1`, updatedAt: now })
    .where(and(inArray(deliveries.id, next), waiting))
    .returning({ id: deliveries.id });
  return claimed;
}

/** Sends one claimed delivery and records the outcome; `printed` when the printer finished the job at once. */
async function sendClaimed(ctx: ServiceContext, ports: PrintPorts, id: string): Promise<{ outcome: 'sent' | 'retried' | 'failed'; printed: boolean }> {
  const { db } = ctx.db;
  const [letter] = await db
    .select({ path: letters.path, campaign: campaigns.slug, target: targets.name })
    .from(deliveries)
    .innerJoin(letters, eq(letters.id, deliveries.letterId))
    .innerJoin(campaigns, eq(campaigns.id, deliveries.campaignId))
    .innerJoin(targets, eq(targets.id, deliveries.targetId))
    .where(eq(deliveries.id, id));
  const pdf = letter ? await ports.files.readBytes(letter.path) : null;
  if (!letter || !pdf) {
    await settleSend(ctx, id, { printJobState: 'failed', lastError: 'The letter\'s PDF is no longer stored, so it cannot be printed; generate the letter again and make a new delivery.' });
    return { outcome: 'failed', printed: false };
  }
  try {
    // The delivery id's end tells two letters to one target apart in the printer's queue.
    const job = await ports.printer.printPdf({ pdf, jobName: `${letter.campaign} ${letter.target} ${id.slice(-8)}` });
    return { outcome: 'sent', printed: await recordJobState(ctx, id, 'sending', job.jobUri, job.state) };
  } catch (error) {
    const failure = asPrinterError(error);
    ctx.logger.warn('print job not sent', { deliveryId: id, code: failure.code, retryable: failure.retryable, ...errorKind(failure.cause ?? failure) });
    await settleSend(ctx, id, { printJobState: failure.retryable ? null : 'failed', lastError: failure.message });
    return { outcome: failure.retryable ? 'retried' : 'failed', printed: false };
  }
}

function asPrinterError(error: unknown): PrinterError {
  if (error instanceof PrinterError) return error;
  return new PrinterError('PRINTER_BAD_RESPONSE', `Unexpected ${errorKind(error).error} while printing.`, { retryable: true, cause: error });
}

/** Ends a claim that sent nothing: retried later when the state goes back to null. */
async function settleSend(ctx: ServiceContext, id: string, outcome: { printJobState: 'failed' | null; lastError: string }) {
  const now = ctx.clock.now();
  await ctx.db.atomic([
    ctx.db.db
      .update(deliveries)
      .set({ printJobState: outcome.printJobState, lastError: outcome.lastError.slice(0, maxErrorLength), printJobCheckedAt: now, updatedAt: now })
      .where(and(eq(deliveries.id, id), eq(deliveries.status, 'queued'), eq(deliveries.printJobState, 'sending'))),
  ]);
}

/**
 * Records a job's state if the delivery is still where `from` says (so a
 * resend or a hand-made change in between wins); `completed` marks it
 * printed. True when this made the delivery printed.
 */
async function recordJobState(ctx: ServiceContext, id: string, from: PrintJobStatus, jobUri: string, state: PrintJobState): Promise<boolean> {
  const now = ctx.clock.now();
  const ended = state === 'aborted' || state === 'canceled';
  const completed = state === 'completed';
  await ctx.db.atomic([
    ctx.db.db
      .update(deliveries)
      .set({
        printJobUri: jobUri,
        printJobState: state,
        printJobCheckedAt: now,
        updatedAt: now,
        lastError: ended
          ? `Print job ${jobUri} was ${state === 'aborted' ? 'aborted by the printer' : 'canceled'}; check the printer, then resend the delivery (POST /api/v1/deliveries/${id}/print).`
          : null,
        ...(completed ? { status: 'printed' as const, printedAt: now } : {}),
      })
      .where(
        and(
          eq(deliveries.id, id),
          eq(deliveries.status, 'queued'),
          eq(deliveries.printJobState, from),
          from === 'sending' ? undefined : eq(deliveries.printJobUri, jobUri),
        ),
      ),
  ]);
  if (!completed) return false;
  const [row] = await ctx.db.db.select({ status: deliveries.status, printedAt: deliveries.printedAt }).from(deliveries).where(eq(deliveries.id, id));
  return row?.status === 'printed' && row.printedAt === now;
}

/** Asks the printer about jobs not finished that were last looked at over `intervalMs` ago. */
async function checkActiveJobs(ctx: ServiceContext, printer: Printer, limit: number, intervalMs: number): Promise<{ checked: number; printed: number }> {
  const { db } = ctx.db;
  const now = ctx.clock.now();
  const rows = await db
    .select({ id: deliveries.id, jobUri: deliveries.printJobUri, state: deliveries.printJobState })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.channel, 'print'),
        eq(deliveries.status, 'queued'),
        inArray(deliveries.printJobState, [...activeStates]),
        or(isNull(deliveries.printJobCheckedAt), lte(deliveries.printJobCheckedAt, now - intervalMs)),
      ),
    )
    .orderBy(asc(deliveries.printJobCheckedAt))
    .limit(limit);
  let checked = 0;
  let printed = 0;
  for (const row of rows) {
    if (!row.jobUri || !row.state) continue;
    const from = row.state as PrintJobStatus;
    try {
      const state = await printer.jobState(row.jobUri);
      checked++;
      if (await recordJobState(ctx, row.id, from, row.jobUri, state)) printed++;
    } catch (error) {
      const failure = asPrinterError(error);
      const lost = failure.code === 'PRINT_JOB_NOT_FOUND';
      ctx.logger.warn('print job not checked', { deliveryId: row.id, code: failure.code });
      await ctx.db.atomic([
        db
          .update(deliveries)
          .set({
            ...(lost ? { printJobState: 'unknown' } : {}),
            lastError: (lost ? `${failure.message} Check whether it printed, then mark the delivery printed or resend it.` : failure.message).slice(0, maxErrorLength),
            printJobCheckedAt: ctx.clock.now(),
          })
          .where(and(eq(deliveries.id, row.id), eq(deliveries.status, 'queued'), eq(deliveries.printJobState, from), eq(deliveries.printJobUri, row.jobUri))),
      ]);
    }
  }
  return { checked, printed };
}

/** Claims older than the lease belong to a dispatcher that stopped mid-request: `unknown`, never sent again by itself. */
async function markInterruptedSends(ctx: ServiceContext, leaseMs: number): Promise<number> {
  const now = ctx.clock.now();
  const stale = and(eq(deliveries.channel, 'print'), eq(deliveries.status, 'queued'), eq(deliveries.printJobState, 'sending'), lte(deliveries.printJobCheckedAt, now - leaseMs));
  const rows = await ctx.db.db
    .update(deliveries)
    .set({
      printJobState: 'unknown',
      lastError: 'Sending to the printer was cut off, so the printer may or may not have the job; check it, then mark the delivery printed or resend it.',
      updatedAt: now,
    })
    .where(stale)
    .returning({ id: deliveries.id });
  return rows.length;
}

/** States from which a resend cannot print the letter twice. */
const resendable: readonly (PrintJobStatus | null)[] = [null, 'failed', 'unknown', ...finalPrintJobStates.filter((state) => state !== 'completed')];

/**
 * Puts a queued print delivery back in line for the printer (after an
 * aborted or canceled job, a refused document, an interrupted send, or
 * at once after a failure instead of waiting out the backoff). 409
 * NOT_A_PRINT_DELIVERY for email; 409 INVALID_TRANSITION when it is no
 * longer queued (already printed) or the printer still has its job.
 */
export async function resendPrintDelivery(ctx: ServiceContext, idParam: string): Promise<DeliveryView> {
  const current = await getDelivery(ctx, idParam);
  assertCampaignAccess(ctx.access, current.campaignId, 'write', 'Delivery');
  if (current.channel !== 'print') throw new Conflict('NOT_A_PRINT_DELIVERY', 'Only print deliveries are sent to the printer.');
  if (current.status !== 'queued') {
    throw new Conflict('INVALID_TRANSITION', `The delivery is already ${current.status}; make a new delivery to print the letter again.`, { status: current.status });
  }
  const state = current.printJobState as PrintJobStatus | null;
  if (!resendable.includes(state)) {
    throw new Conflict('INVALID_TRANSITION', `The printer still has this delivery's job (${state}); cancel it at the printer first, or wait for it to end.`, {
      status: current.status,
      printJobState: state,
    });
  }
  const now = ctx.clock.now();
  await ctx.db.atomic([
    ctx.db.db
      .update(deliveries)
      .set({ printJobState: null, printJobUri: null, printJobCheckedAt: null, lastError: null, updatedAt: now })
      .where(and(eq(deliveries.id, current.id), eq(deliveries.status, 'queued'), state === null ? isNull(deliveries.printJobState) : eq(deliveries.printJobState, state))),
  ]);
  const updated = await getDelivery(ctx, current.id);
  if (updated.updatedAt !== new Date(now).toISOString() || updated.printJobState !== null) {
    throw new Conflict('INVALID_TRANSITION', 'The delivery changed meanwhile; look at it again.', { status: updated.status, printJobState: updated.printJobState });
  }
  return updated;
}
