import type { Context } from 'hono';
import type { LetterPorts } from '../letters/letter-ports.js';
import type { Logger } from '../lib/logger.js';
import type { ServiceContext } from '../services/context.js';
import type { SignLimits } from '../services/signatures.js';
import type { Principal } from '../services/tokens.js';
import type { OgImages } from '../web/og-image/og-images.js';
import type { PublicPageCache } from '../web/public/page-cache.js';
import type { StreamSlots } from './stream-slots.js';

/**
 * What handlers reach through `c.get('services')`, built once by createApp
 * (src/app.ts). Defined here, at the leaf, so routes, pages and middleware
 * depend on this type and not on the module that assembles the app.
 */
export type AppServices = {
  ctx: ServiceContext;
  adminToken: string | undefined;
  signLimits: SignLimits;
  clientIp: (c: Context) => string | undefined;
  onMailQueued: () => void;
  letters: LetterPorts;
  /** Open mailing progress streams per token (src/http/stream-slots.ts). */
  eventStreams: StreamSlots;
  /** EMBED_ORIGINS: the sites that may frame `/c/:slug/embed`; empty: none. */
  embedOrigins: readonly string[];
  /** The campaigns' Open Graph cards (`/c/:slug/og.png`); undefined where no renderer is wired (the pages then name no image). */
  ogImages: OgImages | undefined;
  /** The public pages and the public campaign JSON, built once and served from memory (src/web/public/page-cache.ts). */
  publicPages: PublicPageCache;
};

/** Hono context variables set by the middleware in src/http. */
export type AppEnv = {
  Variables: {
    requestId: string;
    services: AppServices;
    logger: Logger;
    principal?: Principal;
  };
};
