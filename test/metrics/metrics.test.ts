import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { campaigns, fraudulentRequests, mailings, signatures } from '../../src/db/schema.js';
import { newId } from '../../src/lib/ids.js';
import { silentLogger } from '../../src/lib/logger.js';
import { OutboxSender } from '../../src/outbox/node/outbox-sender.js';
import { SmtpTransport } from '../../src/mail/node/smtp-transport.js';
import { createPrometheusMetrics } from '../../src/metrics/node/prometheus-metrics.js';
import { ADMIN_TOKEN, createTestApp } from '../helpers/app.js';
import { testLinks } from '../helpers/keys.js';
import { startServerProcess } from '../helpers/server-process.js';
import { latestConfirmToken, openCampaign, signature } from '../helpers/signing.js';
import { startSmtpServer } from '../mail/helpers/smtp-server.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdefghij';

type Family = { name: string; type: string; metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[] };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function appWithMetrics() {
  const t = createTestApp({ metrics: createPrometheusMetrics(), metricsToken: METRICS_TOKEN });
  cleanups.push(t.cleanup);
  return t;
}

async function scrapeText(t: ReturnType<typeof createTestApp>, token: string | null = METRICS_TOKEN) {
  const response = await t.request('GET', '/metrics', { token });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return response.text();
}

function parse(text: string): Map<string, Family> {
  return new Map((parsePrometheusTextFormat(text) as Family[]).map((family) => [family.name, family]));
}

async function scrape(t: ReturnType<typeof createTestApp>, token: string | null = METRICS_TOKEN) {
  return parse(await scrapeText(t, token));
}

/**
 * The buckets of one series of a histogram. The parser folds every series of
 * a histogram family into one (it keeps buckets by `le` only), so it is given
 * the family's TYPE line and the lines of that one series.
 */
function histogramBuckets(text: string, name: string, labels: Record<string, string>): Record<string, string> {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const lines = text.split('\n').filter((line) => line.startsWith(`# TYPE ${name} `) || (line.startsWith(`${name}_bucket{`) && wanted.every((label) => line.includes(label))));
  // The exposition ends with a newline; the parser drops a last line without one.
  const [family] = parsePrometheusTextFormat(`${lines.join('\n')}\n`) as Family[];
  return family?.metrics[0]?.buckets ?? {};
}

/** The value of the sample whose labels include `labels`. */
function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) return undefined;
  return Number(sample.value ?? sample.count);
}

describe('GET /metrics', () => {
  it('reports requests by route pattern and status, latency, signatures, outbox, mail sent and failed, and mailing progress', async () => {
    const t = appWithMetrics();
    const slug = await openCampaign(t, 'release-the-poets');
    for (const email of ['ana@example.org', 'bo@example.org', 'refused@example.org']) {
      const signed = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature(email) });
      expect(signed.status).toBe(202);
    }
    const confirmToken = await latestConfirmToken(t, 'ana@example.org');
    const confirmed = await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: confirmToken } });
    expect(confirmed.status).toBe(200);
    const boToken = await latestConfirmToken(t, 'bo@example.org');
    expect((await t.request('POST', '/api/v1/signatures/confirm', { token: null, body: { token: boToken } })).status).toBe(200);
    // Then found to be a bot's and invalidated, as the abuse tools would; and a blocked request kept for review.
    await t.database.db.update(signatures).set({ status: 'invalidated' }).where(eq(signatures.emailNormalized, 'bo@example.org'));
    const [signed] = await t.database.db.select({ campaignId: signatures.campaignId }).from(signatures).limit(1);
    await t.database.db.insert(fraudulentRequests).values({
      id: newId(t.clock.now()),
      campaignId: signed!.campaignId,
      ...signature('bot@spam.example'),
      emailNormalized: 'bot@spam.example',
      locale: 'en',
      nameOnLetter: 'none',
      showPublicly: false,
      updates: false,
      blockedBy: 'domain',
      createdAt: t.clock.now(),
    });
    const missing = await t.request('GET', '/api/v1/campaigns/no-such-campaign', {});
    expect(missing.status).toBe(404);
    const unmatched = await t.request('GET', `/no/such/page/${confirmToken}`, { token: null });
    expect(unmatched.status).toBe(404);

    // The confirmation emails go through a real SMTP server, which refuses one address for good.
    const smtp = await startSmtpServer({ replyToRecipient: (address) => (address === 'refused@example.org' ? { code: 550, message: 'no such user' } : undefined) });
    cleanups.push(() => smtp.close());
    const transport = new SmtpTransport({ url: smtp.url });
    cleanups.push(() => transport.close());
    const sender = new OutboxSender({ database: t.database, transport, clock: t.clock, logger: silentLogger, from: 'Signet <no-reply@signet.test>', links: testLinks });
    expect(await sender.drainOnce()).toMatchObject({ sent: 2, failed: 1 });

    // A running mailing, as the runner leaves it mid-way.
    const [campaign] = await t.database.db.select({ id: campaigns.id }).from(campaigns);
    const now = t.clock.now();
    const mailingId = newId(now);
    await t.database.db.insert(mailings).values({
      id: mailingId,
      campaignId: campaign!.id,
      kind: 'update',
      sendAtLocal: '2027-09-01T09:00',
      timeZone: 'Asia/Tokyo',
      sendAt: now,
      status: 'running',
      total: 120,
      sent: 45,
      failed: 2,
      skipped: 3,
      createdAt: now,
      updatedAt: now,
    });

    const text = await scrapeText(t);
    const metrics = parse(text);
    expect(valueOf(metrics, 'signet_http_requests_total', { method: 'POST', route: '/api/v1/campaigns/:slug/signatures', status: '202' })).toBe(3);
    expect(valueOf(metrics, 'signet_http_requests_total', { method: 'POST', route: '/api/v1/signatures/confirm', status: '200' })).toBe(2);
    expect(valueOf(metrics, 'signet_http_requests_total', { method: 'GET', route: '/api/v1/campaigns/:slug', status: '404' })).toBe(1);
    expect(valueOf(metrics, 'signet_http_requests_total', { method: 'GET', route: '(unmatched)', status: '404' })).toBe(1);
    expect(metrics.get('signet_http_request_duration_seconds')!.type).toBe('HISTOGRAM');
    const buckets = histogramBuckets(text, 'signet_http_request_duration_seconds', { method: 'POST', route: '/api/v1/campaigns/:slug/signatures' });
    const bounds = ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
    expect(Object.keys(buckets).sort()).toEqual([...bounds].sort());
    const cumulative = bounds.map((bound) => Number(buckets[bound]));
    expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b));
    expect(cumulative.at(-1)).toBe(3);
    expect(histogramBuckets(text, 'signet_http_request_duration_seconds', { method: 'POST', route: '/api/v1/signatures/confirm' })['+Inf']).toBe('2');

    // No label carries a path: neither the slug asked for nor the token in a path.
    const labelValues = [...metrics.values()].flatMap((family) => family.metrics.flatMap((m) => Object.values(m.labels ?? {})));
    expect(labelValues.filter((value) => value.includes('no-such') || value.includes(confirmToken))).toEqual([]);

    expect(metrics.get('signet_signatures')!.type).toBe('GAUGE');
    expect(valueOf(metrics, 'signet_signatures', { status: 'confirmed' })).toBe(1);
    expect(valueOf(metrics, 'signet_signatures', { status: 'fraudulent' })).toBe(1);
    expect(valueOf(metrics, 'signet_signatures', { status: 'invalidated' })).toBe(1);
    expect(valueOf(metrics, 'signet_outbox_messages', { status: 'sent' })).toBe(2);
    expect(valueOf(metrics, 'signet_outbox_messages', { status: 'failed' })).toBe(1);
    expect(valueOf(metrics, 'signet_outbox_messages', { status: 'pending' })).toBe(0);
    expect(valueOf(metrics, 'signet_outbox_due_messages')).toBe(0);
    expect(metrics.get('signet_mail_sent_total')!.type).toBe('COUNTER');
    expect(valueOf(metrics, 'signet_mail_sent_total')).toBe(2);
    expect(valueOf(metrics, 'signet_mail_failed_total')).toBe(1);
    expect(valueOf(metrics, 'signet_mailings', { status: 'running' })).toBe(1);
    expect(valueOf(metrics, 'signet_mailing_messages', { mailing: mailingId, campaign: slug, kind: 'update', state: 'total' })).toBe(120);
    expect(valueOf(metrics, 'signet_mailing_messages', { mailing: mailingId, state: 'sent' })).toBe(45);
    expect(valueOf(metrics, 'signet_mailing_messages', { mailing: mailingId, state: 'failed' })).toBe(2);
    expect(valueOf(metrics, 'signet_mailing_messages', { mailing: mailingId, state: 'skipped' })).toBe(3);

    // Once the mailing has finished, its series go.
    await t.database.db.update(mailings).set({ status: 'finished' });
    const later = await scrape(t);
    expect(later.get('signet_mailing_messages')?.metrics ?? []).toEqual([]);
    expect(valueOf(later, 'signet_mailings', { status: 'finished' })).toBe(1);
    // The first scrape is counted too, under its own pattern.
    expect(valueOf(later, 'signet_http_requests_total', { method: 'GET', route: '/metrics', status: '200' })).toBe(1);
  });

  it('needs a token with the admin scope or METRICS_TOKEN', async () => {
    const t = appWithMetrics();
    const created = await t.request('POST', '/api/v1/tokens', { body: { name: 'campaign editor', scopes: ['campaigns'] } });
    expect(created.status).toBe(201);
    const campaignsToken = (await created.json()).token as string;

    const none = await t.request('GET', '/metrics', { token: null });
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe('UNAUTHORIZED');
    const wrong = await t.request('GET', '/metrics', { token: `${METRICS_TOKEN.slice(0, -1)}x` });
    expect(wrong.status).toBe(401);
    const scoped = await t.request('GET', '/metrics', { token: campaignsToken });
    expect(scoped.status).toBe(403);
    expect((await scoped.json()).error).toMatchObject({ code: 'FORBIDDEN', message: 'This token lacks the "admin" scope.' });
    // METRICS_TOKEN opens /metrics only.
    const elsewhere = await t.request('GET', '/api/v1/campaigns', { token: METRICS_TOKEN });
    expect(elsewhere.status).toBe(401);

    expect((await scrape(t, METRICS_TOKEN)).has('signet_signatures')).toBe(true);
    expect((await scrape(t, ADMIN_TOKEN)).has('signet_signatures')).toBe(true);
  });

  it('counts per app instance, answers 404 without a metrics port, and is in the OpenAPI document', async () => {
    const first = appWithMetrics();
    const second = appWithMetrics();
    expect((await first.request('GET', '/healthz', { token: null })).status).toBe(200);
    expect(valueOf(await scrape(first), 'signet_http_requests_total', { route: '/healthz' })).toBe(1);
    expect(valueOf(await scrape(second), 'signet_http_requests_total', { route: '/healthz' })).toBeUndefined();

    const plain = createTestApp();
    cleanups.push(plain.cleanup);
    expect((await plain.request('GET', '/metrics')).status).toBe(404);

    const document = await (await first.request('GET', '/api/v1/openapi.json', { token: null })).json();
    expect(document.paths['/metrics'].get).toMatchObject({ tags: ['Operations'], security: [{ bearerAuth: [] }] });
    expect(Object.keys(document.paths['/metrics'].get.responses)).toEqual(['200', '401', '403']);
  });

  it('is served by the real server with METRICS_TOKEN, process metrics included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-metrics-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = await startServerProcess({ DATABASE_PATH: join(dir, 'signet.db'), DATA_DIR: dir, ADMIN_TOKEN: 'metrics-admin-token-0123456789', METRICS_TOKEN });
    cleanups.push(async () => void (await server.stop()));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer not-the-metrics-token-0123456789' } })).status).toBe(401);
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    const families = new Map((parsePrometheusTextFormat(await response.text()) as Family[]).map((family) => [family.name, family]));
    expect(valueOf(families, 'signet_http_requests_total', { method: 'GET', route: '/healthz', status: '200' })).toBe(1);
    expect(valueOf(families, 'signet_http_requests_total', { method: 'GET', route: '/metrics', status: '401' })).toBe(1);
    expect(families.get('process_cpu_user_seconds_total')?.type).toBe('COUNTER');
    expect(families.get('nodejs_eventloop_lag_p99_seconds')?.type).toBe('GAUGE');
  });
});
