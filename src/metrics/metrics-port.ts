import type { mailings, outbox, signatures } from '../db/schema.js';

/** A status of `signatures`, or `fraudulent` for the requests the block list matched (which are never signatures). */
export type SignatureStatus = (typeof signatures.$inferSelect)['status'] | 'fraudulent';
export type OutboxStatus = (typeof outbox.$inferSelect)['status'];
export type MailingStatus = (typeof mailings.$inferSelect)['status'];

/** What `/metrics` reports from the database, read at scrape time (src/services/operational-figures.ts). */
export type OperationalFigures = {
  /**
   * Rows of `signatures` by status; `pending` only counts rows left by versions
   * before 0.2. Requests awaiting confirmation are not here: counting them
   * reads a row per request made within a link's lifetime (README: Metrics).
   * `fraudulent` counts the fraudulent requests kept for review.
   */
  signaturesByStatus: Record<SignatureStatus, number>;
  /** Rows of the outbox by status; `sent` and `failed` only grow (rows are kept once sent), except when a failed one is retried. */
  outboxByStatus: Record<OutboxStatus, number>;
  /** Pending messages due now: what the sender has yet to work through. */
  outboxDue: number;
  mailingsByStatus: Record<MailingStatus, number>;
  /** Progress of each running mailing. */
  runningMailings: { id: string; campaign: string; kind: string; total: number; sent: number; failed: number; skipped: number }[];
};

/** One answered HTTP request. `route` is the pattern that matched (never the path, which can carry tokens). */
export type RequestObservation = { method: string; route: string; status: number; seconds: number };

/**
 * The metrics of one app instance: request counts and latencies recorded as
 * requests are answered, and an exposition in the Prometheus text format
 * with the figures read at scrape time. On Node: src/metrics/node/prometheus-metrics.ts
 * (prom-client, which needs Node's modules, so it stays behind this port).
 */
export interface MetricsPort {
  observeRequest(observation: RequestObservation): void;
  exposition(figures: OperationalFigures): Promise<{ contentType: string; body: string }>;
}
