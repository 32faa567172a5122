import { Scalar } from '@scalar/hono-api-reference';
import { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';

/**
 * The API reference's browser bundle, served from this origin so `/docs`
 * loads nothing from another one. On Node it is read from the pinned package
 * in node_modules (src/entry/api-reference-script.ts); on Workers it would be an asset.
 */
export type ApiReferenceScript = {
  /** The package version: it names the file in its URL, so the file can be cached for a year. */
  version: string;
  /** The bundle's bytes (read once, on the first request for it). */
  read(): Promise<Uint8Array>;
};

export const API_DOCS_PATH = '/docs';
const OPENAPI_PATH = '/api/v1/openapi.json';

/**
 * Scalar's defaults reach other origins: fonts from its CDN, telemetry, an AI
 * agent, and (on localhost) a toolbar that shares the document with Scalar's
 * services; all off here.
 */
function referenceConfiguration(scriptPath: string) {
  return {
    url: OPENAPI_PATH,
    pageTitle: 'Signet API',
    cdn: scriptPath,
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    showDeveloperTools: 'never' as const,
  };
}

const inlineScript = /<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi;

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The policy of the docs page, measured in Debian chromium (test/web/api-docs-browser.test.ts
 * records every violation):
 * - scripts: the bundle from this origin and Scalar's one inline start-up script, allowed by its hash.
 *   The bundle's validation library probes `new Function` once and falls back when refused, so no `'unsafe-eval'`;
 * - styles: `'unsafe-inline'`, because the bundle injects `<style>` elements and sets `style="…"`
 *   attributes at run time (Vue components), which no hash or nonce can cover; a style cannot run code;
 * - images, fonts and the API client's requests: this origin only, so "try it" reaches only this server.
 */
function docsPolicy(scriptHashes: string[]): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${scriptHashes.map((hash) => `'sha256-${hash}'`).join(' ')}`.trim(),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

type DocsPage = { html: string; policy: string };

/** Gzip once (the bundle is 4.9 MB, 1.4 MB compressed); CompressionStream exists on Node and Workers alike. */
async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `/docs` (the interactive API reference) and the reference's script under a versioned, immutable URL. */
export function apiDocsRoutes(script: ApiReferenceScript) {
  if (!/^[0-9A-Za-z.+-]{1,64}$/.test(script.version)) throw new RangeError(`Not a package version: ${script.version}`);
  const scriptPath = `${API_DOCS_PATH}/assets/api-reference-${script.version}.js`;
  let page: Promise<DocsPage> | null = null;
  let bundle: Promise<{ plain: Uint8Array; gzipped: Uint8Array }> | null = null;

  // The page is the same for every request, so its HTML (rendered by Scalar's own Hono handler)
  // and the hashes of its inline script are made once.
  const docsPage = () =>
    (page ??= (async () => {
      const rendered = await new Hono().get('/', Scalar(referenceConfiguration(scriptPath))).request('/');
      const html = await rendered.text();
      const hashes = await Promise.all([...html.matchAll(inlineScript)].map((match) => sha256Base64(match[1]!)));
      return { html, policy: docsPolicy(hashes) };
    })().catch((error: unknown) => {
      page = null;
      throw error;
    }));

  const readBundle = () =>
    (bundle ??= (async () => {
      const plain = await script.read();
      return { plain, gzipped: await gzip(plain) };
    })().catch((error: unknown) => {
      bundle = null;
      throw error;
    }));

  const routes = new Hono<AppEnv>();
  routes.get(API_DOCS_PATH, async (c) => {
    const { html, policy } = await docsPage();
    c.header('Content-Security-Policy', policy);
    c.header('X-Frame-Options', 'DENY');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cache-Control', 'no-cache');
    return c.html(html);
  });
  routes.get(scriptPath, async (c) => {
    const { plain, gzipped } = await readBundle();
    const acceptsGzip = /\bgzip\b/i.test(c.req.header('accept-encoding') ?? '');
    const body = acceptsGzip ? gzipped : plain;
    return c.body(body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=31536000, immutable',
      Vary: 'Accept-Encoding',
      ...(acceptsGzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
  });
  return routes;
}
