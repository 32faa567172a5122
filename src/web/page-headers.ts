import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/env.js';

export type PageHeaderOptions = {
  /**
   * `'none'` for supporter pages; the dashboard allows `'self'` so it can show a letter PDF in a
   * frame; `'embed-origins'` for the embeddable signing form, framed by the EMBED_ORIGINS sites only.
   */
  frameAncestors: "'none'" | "'self'" | 'embed-origins';
};

function contentSecurityPolicy(frameAncestors: string, frameSrc: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
    `frame-src ${frameSrc}`,
  ].join('; ');
}

/**
 * The pages a site in EMBED_ORIGINS may frame: `/c/:slug/embed` and what its form leads to. The
 * app-wide secureHeaders leaves X-Frame-Options off these (src/app.ts): it can name no list of
 * sites, and SAMEORIGIN would refuse them all.
 */
export function isEmbedPath(path: string): boolean {
  return /^\/c\/[^/]+\/embed(\/|$)/.test(path);
}

/**
 * Content-Security-Policy and friends for HTML pages (the app-wide
 * secureHeaders already sets HSTS over https, nosniff and Referrer-Policy).
 * No inline script or style at all: every script and stylesheet is a file
 * served from this origin, so the policy needs neither nonces nor hashes.
 */
export function pageHeaders(options: PageHeaderOptions): MiddlewareHandler<AppEnv> {
  // The dashboard frames its own letter PDFs; supporter pages frame nothing.
  const fixed =
    options.frameAncestors === 'embed-origins'
      ? undefined
      : {
          policy: contentSecurityPolicy(options.frameAncestors, options.frameAncestors === "'self'" ? "'self'" : "'none'"),
          frameOptions: options.frameAncestors === "'none'" ? 'DENY' : 'SAMEORIGIN',
        };
  return async (c, next) => {
    await next();
    if (!c.res.headers.get('content-type')?.startsWith('text/html')) return;
    if (fixed) {
      c.res.headers.set('Content-Security-Policy', fixed.policy);
      c.res.headers.set('X-Frame-Options', fixed.frameOptions);
    } else {
      // Without EMBED_ORIGINS nobody may frame the embed, and then X-Frame-Options can say so too.
      const origins = c.get('services').embedOrigins;
      c.res.headers.set('Content-Security-Policy', contentSecurityPolicy(origins.length > 0 ? origins.join(' ') : "'none'", "'none'"));
      if (origins.length === 0) c.res.headers.set('X-Frame-Options', 'DENY');
    }
    c.res.headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  };
}

/**
 * For Hono's csrf() Origin check on form posts: this request's own origin, or
 * PUBLIC_URL's (behind a proxy the request URL may name an internal host).
 */
export function isOwnOrigin(origin: string, c: Context<AppEnv>): boolean {
  return origin === new URL(c.req.url).origin || origin === new URL(c.get('services').ctx.publicUrl).origin;
}
