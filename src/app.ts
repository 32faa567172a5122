import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { openAPIRouteHandler } from 'hono-openapi';
import type { Database } from './db/database.js';
import type { AppEnv, AppServices } from './http/env.js';
import { handleError, handleNotFound } from './http/errors.js';
import { requestContext } from './http/middleware.js';
import { StreamSlots } from './http/stream-slots.js';
import { requestMetrics } from './http/request-metrics.js';
import { limitBody } from './http/body-limit.js';
import type { MetricsPort } from './metrics/metrics-port.js';
import { metricsRoutes } from './routes/metrics.js';
import { auditTrail } from './http/audit-trail.js';
import type { Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import type { LetterPorts } from './letters/letter-ports.js';
import type { Keyring } from './lib/keyring.js';
import type { PasswordHasher } from './lib/passwords.js';
import { TtlCache } from './lib/ttl-cache.js';
import { PublicPageCache } from './web/public/page-cache.js';
import { blocklistRoutes } from './routes/blocklist.js';
import { webhookRoutes } from './routes/webhooks.js';
import { bounceRoutes } from './routes/bounces.js';
import { campaignRoutes } from './routes/campaigns.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { templateRoutes } from './routes/templates.js';
import { letterRoutes } from './routes/letters.js';
import { mailingRoutes } from './routes/mailings.js';
import { printJobRoutes } from './routes/print-jobs.js';
import { privacyRoutes } from './routes/privacy.js';
import { auditRoutes } from './routes/audit.js';
import { isReplyUpload, replyRoutes } from './routes/replies.js';
import { REPLY_UPLOAD_MAX_BODY_BYTES } from './http/reply-file-response.js';
import { invitePreviousRoutes } from './routes/invite-previous.js';
import { BatchingAuditSink } from './services/audit.js';
import { outboxRoutes } from './routes/outbox.js';
import { organisationRoutes } from './routes/organisation.js';
import { signatureRoutes } from './routes/signatures.js';
import { isPaperImport, PAPER_IMPORT_MAX_BODY_BYTES, paperSignatureRoutes } from './routes/paper-signatures.js';
import { partnerRoutes } from './routes/partners.js';
import { signatureReviewRoutes } from './routes/signature-review.js';
import { BLOCKLIST_CACHE_TTL_MS } from './services/blocklist.js';
import type { Blocklist } from './services/blocklist-rules.js';
import { ORGANISATION_CACHE_TTL_MS } from './services/organisation.js';
import { targetRoutes } from './routes/targets.js';
import { tokenRoutes } from './routes/tokens.js';
import { unsubscribeApiRoutes, unsubscribePageRoutes } from './routes/unsubscribe.js';
import { publicPageRoutes } from './web/public/routes.js';
import { isEmbedPath } from './web/page-headers.js';
import type { OgImageRenderer } from './web/og-image/og-image-port.js';
import { OgImages } from './web/og-image/og-images.js';
import { privacyPageRoutes } from './web/public/privacy-routes.js';
import { adminRoutes } from './web/admin/admin-routes.js';
import { apiDocsRoutes, type ApiReferenceScript } from './web/api-docs.js';
import type { AuditSink, OrganisationState, PrivacySettings, ServiceContext } from './services/context.js';
import type { ErasureLedger } from './services/erasure-ledger.js';
import { ServiceError } from './lib/service-errors.js';
import { MemoryRateLimiter, type RateLimiter } from './services/rate-limiter.js';
import type { SignLimits } from './services/signatures.js';
import { organisationAccess } from './services/access.js';
import { newPublicPagesVersion, publicPagesVersion } from './services/public-pages.js';
import { useReadableValidationMessages } from './lib/validation-messages.js';

export type AppDeps = {
  database: Database;
  clock: Clock;
  logger: Logger;
  publicUrl: string;
  mailFrom: string;
  confirmTokenTtlMs: number;
  /** The ADMIN_TOKEN setting, if any. */
  adminToken?: string | undefined;
  /** Sign requests per IP hash and campaign; null disables the limit. */
  signRateLimit: { limit: number; windowMs: number } | null;
  /** Take the client address from X-Forwarded-For (only behind a known proxy). */
  trustProxy: boolean;
  /** Every key, derived from the root secret (SECRET_KEY); raw IPs and tokens are never stored. */
  keys: Keyring;
  /** RETENTION_DAYS, PENDING_TTL_DAYS, PUBLIC_REGION_MIN, CONFIRM_EMAIL_LIMIT, CONFIRM_EMAILS_PER_MINUTE (the last two pace the sender's confirmation lane). */
  privacy: PrivacySettings;
  /** Where the per-client limits count (signing, privacy requests, dashboard sign-in): by default this process's memory (Node); on Workers D1 (src/services/database-rate-limiter.ts), shared by every isolate. */
  rateLimiter?: RateLimiter;
  /** Where organiser actions are recorded; by default batched into the database. The entry flushes it on shutdown. */
  audit?: AuditSink;
  /** The runtime's view of the peer address (e.g. the Node socket). */
  clientAddress?: (c: Context) => string | undefined;
  /** Told when mail was queued, so the sender need not wait for its next poll. */
  onMailQueued?: () => void;
  /** Letter templates, the renderer and the file store (on Node: src/letters/node/letter-store.ts; on Workers: src/letters/worker/). */
  letters: LetterPorts;
  /** Request metrics and the /metrics exposition (on Node: src/metrics/node/prometheus-metrics.ts); without it /metrics answers 404. */
  metrics?: MetricsPort;
  /** METRICS_TOKEN: a bearer token that opens /metrics and nothing else. */
  metricsToken?: string | undefined;
  /** The API reference's script for /docs, served from this origin (on Node: src/entry/api-reference-script.ts). */
  apiReferenceScript: ApiReferenceScript;
  /** How organisers' passwords are hashed: scrypt on Node (src/entry/node-passwords.ts); by default WebCrypto PBKDF2 (Workers). */
  passwords?: PasswordHasher;
  /** EMBED_ORIGINS: the sites that may frame the signing form of `/c/:slug/embed`; none by default. */
  embedOrigins?: readonly string[];
  /** Where erasures are recorded outside the database (Node: DATA_DIR/erasures.ledger); none on Workers. */
  erasureLedger?: ErasureLedger;
  /** Told when an erasure queued letters to be rendered again, so the redaction job need not wait for its next round. */
  onLettersToRedact?: () => void;
  /** Renders the campaigns' Open Graph cards (Node: src/entry/og-image-node.ts; Workers: src/entry/og-image-worker.ts); without it there is none. */
  ogImageRenderer?: OgImageRenderer;
  /**
   * Other processes serve the public pages from the same database (the isolates of a Worker): each
   * page served checks the version of the public pages first (src/services/public-pages.ts). They
   * are then not gzipped here either: Cloudflare compresses at its edge.
   */
  publicPagesAcrossIsolates?: boolean;
  /** Told whenever the built public pages are dropped (a change they show), so a cache in front of the app drops its copies too (Node: src/http/node/front-cache.ts). */
  onPublicPagesChanged?: () => void;
  /** WEBHOOK_ALLOW_PRIVATE: webhooks may point to the loopback and private networks. */
  webhookAllowPrivate?: boolean;
};

/** What handlers reach through `c.get('services')`. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * With TRUST_PROXY, the address our proxy appended last to X-Forwarded-For
 * (earlier entries are whatever the client claimed and can be forged).
 */
function clientIpResolver(deps: AppDeps) {
  return (c: Context) => {
    if (deps.trustProxy) {
      const forwarded = c.req.header('x-forwarded-for');
      const last = forwarded?.split(',').map((part) => part.trim()).filter(Boolean).pop();
      if (last) return last;
    }
    return deps.clientAddress?.(c);
  };
}

/** The API's body limit: a 413 in the one error shape. */
function limitApiBody(maxSize: number): MiddlewareHandler<AppEnv> {
  return limitBody<AppEnv>(maxSize, () => {
    throw new ServiceError('PAYLOAD_TOO_LARGE', `The request body is larger than ${maxSize / 1024 / 1024} MB.`);
  });
}

/** The one Hono app that every runtime (Node, Workers, tests) serves. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  useReadableValidationMessages();
  const services: AppServices = {
    ctx: {
      db: deps.database,
      clock: deps.clock,
      logger: deps.logger,
      publicUrl: deps.publicUrl.replace(/\/+$/, ''),
      mailFrom: deps.mailFrom,
      confirmTokenTtlMs: deps.confirmTokenTtlMs,
      keys: deps.keys,
      privacy: deps.privacy,
      signingCampaigns: new TtlCache(1000),
      blocklist: new TtlCache<Promise<Blocklist>>(BLOCKLIST_CACHE_TTL_MS, 1),
      organisation: new TtlCache<Promise<OrganisationState>>(ORGANISATION_CACHE_TTL_MS, 1),
      audit: deps.audit ?? new BatchingAuditSink(deps.database, deps.logger),
      access: organisationAccess,
      ...(deps.passwords ? { passwords: deps.passwords } : {}),
      ...(deps.erasureLedger ? { erasureLedger: deps.erasureLedger } : {}),
      ...(deps.onLettersToRedact ? { onLettersToRedact: deps.onLettersToRedact } : {}),
      ...(deps.webhookAllowPrivate ? { webhookAllowPrivate: true } : {}),
    },
    adminToken: deps.adminToken,
    signLimits: {
      rateLimiter: deps.rateLimiter ?? new MemoryRateLimiter(),
      rateLimit: deps.signRateLimit,
    },
    clientIp: clientIpResolver(deps),
    onMailQueued: deps.onMailQueued ?? (() => {}),
    letters: deps.letters,
    eventStreams: new StreamSlots(),
    embedOrigins: deps.embedOrigins ?? [],
    ogImages: deps.ogImageRenderer ? new OgImages(deps.ogImageRenderer, deps.clock) : undefined,
    publicPages: new PublicPageCache({
      sharedVersion: deps.publicPagesAcrossIsolates ? () => publicPagesVersion(services.ctx) : undefined,
      renewVersion: () => newPublicPagesVersion(services.ctx),
      gzip: !deps.publicPagesAcrossIsolates,
      onInvalidate: deps.onPublicPagesChanged,
    }),
  };

  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set('services', services);
    await next();
  });
  // Outermost after the services, so the latency covers every other middleware.
  if (deps.metrics) app.use(requestMetrics(deps.metrics));
  app.use(requestContext());
  app.use(auditTrail());
  // An organiser's write may change what a public page shows (a title, a status, a target, the
  // organisation's name…): the pages built from before it are dropped. Supporters' signatures
  // and confirmations do not (the count may be a few seconds stale); anonymous requests never do,
  // so nobody can make every view render the page again.
  app.use(async (c, next) => {
    await next();
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.get('principal') && c.res.status < 400) await services.publicPages.changed();
  });
  const baseHeaders = {
    referrerPolicy: 'strict-origin-when-cross-origin',
    strictTransportSecurity: deps.publicUrl.startsWith('https:') ? 'max-age=31536000; includeSubDomains' : false,
    // Pages set stricter values of their own (src/web/page-headers.ts: X-Frame-Options DENY); keep them.
    overwrite: false,
  } as const;
  const headers = secureHeaders(baseHeaders);
  // The embed's frame-ancestors names the sites that may frame it; a default X-Frame-Options SAMEORIGIN would refuse them all.
  const embedHeaders = secureHeaders({ ...baseHeaders, xFrameOptions: false });
  app.use((c, next) => (isEmbedPath(c.req.path) ? embedHeaders : headers)(c, next));
  const apiBodyLimit = limitApiBody(MAX_BODY_BYTES);
  const replyUploadLimit = limitApiBody(REPLY_UPLOAD_MAX_BODY_BYTES);
  const paperImportLimit = limitApiBody(PAPER_IMPORT_MAX_BODY_BYTES);
  app.use('/api/*', (c, next) => {
    if (isReplyUpload(c.req.method, c.req.path)) return replyUploadLimit(c, next);
    if (isPaperImport(c.req.method, c.req.path)) return paperImportLimit(c, next);
    return apiBodyLimit(c, next);
  });
  app.onError(handleError);
  app.notFound(handleNotFound);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Where a newcomer lands after the first start (README: Quick start); the dashboard sends strangers on to its sign-in.
  app.get('/', (c) => c.redirect('/admin', 302));

  const api = new Hono<AppEnv>();
  api.route('/', campaignRoutes());
  api.route('/', signatureRoutes());
  api.route('/', paperSignatureRoutes());
  api.route('/', partnerRoutes());
  api.route('/', signatureReviewRoutes());
  api.route('/', blocklistRoutes());
  api.route('/', webhookRoutes());
  api.route('/', targetRoutes());
  api.route('/', tokenRoutes());
  api.route('/', letterRoutes());
  api.route('/', templateRoutes());
  api.route('/', deliveryRoutes());
  api.route('/', printJobRoutes());
  api.route('/', mailingRoutes());
  api.route('/', unsubscribeApiRoutes());
  api.route('/', bounceRoutes());
  api.route('/', outboxRoutes());
  api.route('/', privacyRoutes());
  api.route('/', auditRoutes());
  api.route('/', replyRoutes());
  api.route('/', invitePreviousRoutes());
  api.route('/', organisationRoutes());
  app.route('/api/v1', api);
  app.route('/', unsubscribePageRoutes());
  app.route('/', publicPageRoutes());
  app.route('/', privacyPageRoutes());
  app.route('/admin', adminRoutes());
  if (deps.metrics) app.route('/', metricsRoutes(deps.metrics, deps.metricsToken));

  app.get(
    '/api/v1/openapi.json',
    openAPIRouteHandler(app, {
      // By default a path whose last segment has a dot is taken for a static file and left out, which
      // dropped /api/v1/print-queue.pdf (an organiser route with its own scopes) from the document.
      excludeStaticFile: false,
      documentation: {
        openapi: '3.1.0',
        info: {
          title: 'Signet API',
          version: '1',
          description:
            'Petitions and letter campaigns. Organiser routes need `Authorization: Bearer <token>`. Every error is `{ error: { code, message, details?, requestId } }`.',
          license: { name: 'GNU Affero General Public License v3.0 or later', identifier: 'AGPL-3.0-or-later' },
        },
        servers: [{ url: services.ctx.publicUrl, description: 'This Signet installation (PUBLIC_URL)' }],
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      },
    }),
  );
  app.route('/', apiDocsRoutes(deps.apiReferenceScript));
  return app;
}
