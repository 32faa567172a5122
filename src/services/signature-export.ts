import { csvRow } from '../lib/csv.js';
import type { ServiceContext } from './context.js';
import { iterateSignatures, signatureStatuses, type SignatureView } from './signatures.js';

const columns: [string, (s: SignatureView) => unknown][] = [
  ['id', (s) => s.id],
  ['status', (s) => s.status],
  ['name', (s) => s.name],
  ['email', (s) => s.email],
  ['country', (s) => s.country],
  ['region', (s) => s.region],
  ['city', (s) => s.city],
  ['postal_code', (s) => s.postalCode],
  ['comment', (s) => s.comment],
  ['locale', (s) => s.locale],
  ['name_on_letter', (s) => s.consent.nameOnLetter],
  ['show_publicly', (s) => s.consent.showPublicly],
  ['updates', (s) => s.consent.updates],
  ['created_at', (s) => s.createdAt],
  ['confirmed_at', (s) => s.confirmedAt],
  ['unsubscribed_at', (s) => s.unsubscribedAt],
  ['source', (s) => s.source],
];

/**
 * The signatures of a campaign as CSV, streamed page by page so a campaign
 * of any size exports in flat memory. A BOM lets Excel read UTF-8 names.
 */
export async function exportSignaturesCsv(
  ctx: ServiceContext,
  slug: string,
  status?: (typeof signatureStatuses)[number],
): Promise<ReadableStream<Uint8Array>> {
  const rows = iterateSignatures(ctx, slug, status);
  // Fails here with NotFound for an unknown campaign, before any byte is sent.
  const first = await rows.next();
  const encoder = new TextEncoder();
  let header = true;
  let pending: IteratorResult<SignatureView> | null = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (header) {
        header = false;
        controller.enqueue(encoder.encode(`\uFEFF${csvRow(columns.map(([name]) => name))}`));
        return;
      }
      let chunk = '';
      for (let i = 0; i < 200; i++) {
        const next: IteratorResult<SignatureView> = pending ?? (await rows.next());
        pending = null;
        if (next.done) {
          if (chunk) controller.enqueue(encoder.encode(chunk));
          controller.close();
          return;
        }
        chunk += csvRow(columns.map(([, get]) => get(next.value)));
      }
      controller.enqueue(encoder.encode(chunk));
    },
  });
}
