import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsPort, OperationalFigures } from '../metrics-port.js';

export type PrometheusMetricsOptions = {
  /** prom-client's process and Node.js metrics (CPU, memory, event loop lag); once per process, so not in tests that build many apps. */
  processMetrics?: boolean;
};

/** Latency buckets in seconds: a signature takes about a millisecond, a letter PDF or an export can take seconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A MetricsPort on prom-client with a registry of its own, so every app instance counts apart. */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): MetricsPort {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'signet_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'signet_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (until the response starts), by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const signatures = new Gauge({ name: 'signet_signatures', help: 'Signatures by status (pending: only rows from versions before 0.2; requests awaiting confirmation are not signatures yet; fraudulent: requests the block list matched, kept for review).', labelNames: ['status'] as const, registers });
  const outbox = new Gauge({ name: 'signet_outbox_messages', help: 'Outbox messages by status (pending is the depth still to send).', labelNames: ['status'] as const, registers });
  const outboxDue = new Gauge({ name: 'signet_outbox_due_messages', help: 'Pending outbox messages due now.', registers });
  // Counted from the outbox table, so they cover every sending process (servers and `signet worker`) and survive restarts.
  const mailSent = new Counter({ name: 'signet_mail_sent_total', help: 'Messages sent (outbox rows marked sent).', registers });
  const mailFailed = new Counter({ name: 'signet_mail_failed_total', help: 'Messages given up on (outbox rows marked failed); falls when one is retried.', registers });
  const mailings = new Gauge({ name: 'signet_mailings', help: 'Mailings by status.', labelNames: ['status'] as const, registers });
  const mailingMessages = new Gauge({
    name: 'signet_mailing_messages',
    help: 'Progress of each running mailing: recipients in total, sent, failed and skipped.',
    labelNames: ['mailing', 'campaign', 'kind', 'state'] as const,
    registers,
  });

  const setCounter = (counter: Counter, value: number) => {
    counter.reset();
    counter.inc(value);
  };

  return {
    observeRequest({ method, route, status, seconds }) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },

    async exposition(figures: OperationalFigures) {
      for (const [status, n] of Object.entries(figures.signaturesByStatus)) signatures.set({ status }, n);
      for (const [status, n] of Object.entries(figures.outboxByStatus)) outbox.set({ status }, n);
      outboxDue.set(figures.outboxDue);
      setCounter(mailSent, figures.outboxByStatus.sent);
      setCounter(mailFailed, figures.outboxByStatus.failed);
      for (const [status, n] of Object.entries(figures.mailingsByStatus)) mailings.set({ status }, n);
      // Only mailings running now: one that finished leaves the exposition.
      mailingMessages.reset();
      for (const m of figures.runningMailings) {
        for (const state of ['total', 'sent', 'failed', 'skipped'] as const) mailingMessages.set({ mailing: m.id, campaign: m.campaign, kind: m.kind, state }, m[state]);
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
