import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/env.js';

export type PageHeaderOptions = {
  /** `'none'` for supporter pages; the dashboard allows `'self'` so it can show a letter PDF in a frame. */
  frameAncestors: "'none'" | "'self'";
};

/**
 * Content-Security-Policy and friends for HTML pages (the app-wide
 * secureHeaders already sets HSTS over https, nosniff and Referrer-Policy).
 * No inline script or style at all: every script and stylesheet is a file
 * served from this origin, so the policy needs neither nonces nor hashes.
 */
export function pageHeaders(options: PageHeaderOptions): MiddlewareHandler<AppEnv> {
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${options.frameAncestors}`,
    // The dashboard frames its own letter PDFs; supporter pages frame nothing.
    `frame-src ${options.frameAncestors === "'self'" ? "'self'" : "'none'"}`,
  ].join('; ');
  const frameOptions = options.frameAncestors === "'none'" ? 'DENY' : 'SAMEORIGIN';
  return async (c, next) => {
    await next();
    if (!c.res.headers.get('content-type')?.startsWith('text/html')) return;
    c.res.headers.set('Content-Security-Policy', policy);
    c.res.headers.set('X-Frame-Options', frameOptions);
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
