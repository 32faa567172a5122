import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';

let t: ReturnType<typeof createTestApp>;
afterEach(async () => t?.cleanup());

const PAGE = 'http://localhost/docs';

/** The bundle as installed, found without the app's code. */
function installedBundle() {
  const folder = dirname(dirname(createRequire(import.meta.url).resolve('@scalar/api-reference')));
  const { version } = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version: string };
  return { version, bytes: readFileSync(join(folder, 'dist', 'browser', 'standalone.js')) };
}

/** Every src= and href= in the HTML. */
function attributeUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)].map((match) => match[1] ?? match[2] ?? match[3]!);
}

function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map((match) => match[1]!);
}

/** The configuration object Scalar's start-up script passes to createApiReference. */
function referenceConfig(script: string): Record<string, unknown> {
  const start = script.indexOf('{');
  const end = script.lastIndexOf('}');
  expect(script.slice(0, start)).toMatch(/Scalar\.createApiReference\('#app',\s*$/);
  return JSON.parse(script.slice(start, end + 1)) as Record<string, unknown>;
}

/** Every string anywhere in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

describe('/docs: self-contained', () => {
  it('links only to this origin, in the HTML and in the reference configuration, with CDN fonts and telemetry off', async () => {
    t = createTestApp();
    const res = await t.app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<title>Signet API</title>');

    const urls = attributeUrls(html);
    const { version } = installedBundle();
    expect(urls).toEqual([`/docs/assets/api-reference-${version}.js`]);

    const scripts = inlineScripts(html);
    expect(scripts).toHaveLength(1);
    const config = referenceConfig(scripts[0]!);
    expect(config).toMatchObject({ url: '/api/v1/openapi.json', withDefaultFonts: false, telemetry: false, agent: { disabled: true }, showDeveloperTools: 'never' });
    expect(config).not.toHaveProperty('proxyUrl');

    for (const url of [...urls, config.url as string]) expect(new URL(url, PAGE).origin, url).toBe(new URL(PAGE).origin);
    // Nothing in the page names another origin at all, not even in CSS.
    for (const text of [...strings(config), html]) expect(text).not.toMatch(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
  });

  it('sends a policy that allows this origin only, and the start-up script by its hash', async () => {
    t = createTestApp();
    const res = await t.app.request('/docs');
    const html = await res.text();
    const policy = directives(res.headers.get('content-security-policy') ?? '');
    expect(policy.get('default-src')).toEqual(["'none'"]);
    const scriptHash = createHash('sha256').update(inlineScripts(html)[0]!).digest('base64');
    expect(policy.get('script-src')).toEqual(["'self'", `'sha256-${scriptHash}'`]);
    expect(policy.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    for (const name of ['img-src', 'font-src', 'connect-src']) expect(policy.get(name), name).toEqual(["'self'"]);
    for (const name of ['base-uri', 'form-action', 'frame-ancestors']) expect(policy.get(name), name).toEqual(["'none'"]);
    for (const [name, sources] of policy) {
      for (const source of sources) expect(source, `${name} ${source}`).toMatch(/^'(self|none|unsafe-inline|sha256-[A-Za-z0-9+/]+=*)'$/);
    }
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    // The same page (and so the same hash) every time.
    const again = await t.app.request('/docs');
    expect(again.headers.get('content-security-policy')).toBe(res.headers.get('content-security-policy'));
    expect(await again.text()).toBe(html);
  });
});

describe('/docs/assets: the pinned bundle from the installed package', () => {
  it('serves the bundle under its version, cached for a year, gzipped when asked', async () => {
    t = createTestApp();
    const { version, bytes } = installedBundle();
    const path = `/docs/assets/api-reference-${version}.js`;

    const plain = await t.app.request(path);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(Buffer.from(await plain.arrayBuffer()).equals(bytes)).toBe(true);

    const gzipped = await t.app.request(path, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(gzipped.headers.get('vary')).toBe('Accept-Encoding');
    const compressed = Buffer.from(await gzipped.arrayBuffer());
    expect(compressed.length).toBeLessThan(bytes.length / 2);
    expect(gunzipSync(compressed).equals(bytes)).toBe(true);
  });

  it('answers 404 for another version and reads the bundle through the port it is given', async () => {
    let reads = 0;
    t = createTestApp({ apiReferenceScript: { version: '9.9.9', read: async () => (reads++, new TextEncoder().encode('window.Scalar = {};')) } });
    expect((await t.app.request('/docs/assets/api-reference-1.0.0.js')).status).toBe(404);
    const html = await (await t.app.request('/docs')).text();
    expect(attributeUrls(html)).toEqual(['/docs/assets/api-reference-9.9.9.js']);
    expect(reads).toBe(0);
    for (let i = 0; i < 2; i++) {
      const res = await t.app.request('/docs/assets/api-reference-9.9.9.js');
      expect(await res.text()).toBe('window.Scalar = {};');
    }
    expect(reads).toBe(1);
  });
});
