import type { Context } from 'hono';
import type { Clock } from '../../lib/clock.js';
import { toBase64Url } from '../../lib/secrets.js';

/**
 * How long a built public page (the campaign page, the embed, the thanks pages, the public
 * campaign JSON) is served before it is built again: its count and recent supporters may be this
 * stale; everything else a write in this process changes shows at once (PublicPageCache.invalidate).
 */
export const PUBLIC_PAGE_FRESH_MS = 5_000;

/** What a shared cache (a CDN, the Workers Cache API) may keep a public page for, and serve stale while it fetches a new one. */
export const SHARED_MAX_AGE_SECONDS = 10;
export const STALE_WHILE_REVALIDATE_SECONDS = 30;

/** One public response as every visitor gets it: nothing in it is per visitor. */
export type BuiltPage = {
  /** UTF-8, encoded once rather than on every view. */
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** Strong: the SHA-256 of the body. */
  etag: string;
  /** The body gzipped once, where the runtime does not compress answers itself (Node; Cloudflare does at its edge). */
  gzipped?: Uint8Array<ArrayBuffer>;
  builtAt: number;
  /** Served from memory until then (at most PUBLIC_PAGE_FRESH_MS). */
  freshUntil: number;
  /**
   * When what the page says changes by time alone (the campaign opens or closes, the form token
   * of the hour is renewed); no cache may keep it past then. Infinity: nothing scheduled.
   */
  changesAt: number;
};

const encoder = new TextEncoder();

/** A strong validator of `body`: the same bytes, the same tag, on every server and runtime. */
export async function strongEtag(body: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  return `"${toBase64Url(digest.slice(0, 18))}"`;
}

/** Compressed once per built page rather than per view: a quarter of the bytes to write for the price of one build. */
async function gzip(body: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A built page from its text: fresh for PUBLIC_PAGE_FRESH_MS, and never past `changesAt`. */
export async function builtPage(text: string, contentType: string, now: number, changesAt = Infinity): Promise<BuiltPage> {
  const body = encoder.encode(text);
  return { body, contentType, etag: await strongEtag(body), builtAt: now, freshUntil: Math.min(now + PUBLIC_PAGE_FRESH_MS, changesAt), changesAt };
}

/**
 * The public pages built once and served to every visitor, by key (view, campaign, language…).
 * A page is built by one request while the others that want it at the same moment wait for it,
 * so a surge arriving as an entry goes stale builds it once. `changed` (every organiser write
 * and every change a supporter makes to their consent, src/app.ts) drops them all: a page built
 * from data read before the write is not kept.
 */
export class PublicPageCache {
  private readonly entries = new Map<string, BuiltPage>();
  private readonly building = new Map<string, Promise<BuiltPage | null>>();
  private generation = 0;
  private seenVersion: string | undefined;

  /**
   * `sharedVersion`: where other processes change the data too (the isolates of a Worker), the
   * version every change renews (src/services/public-pages.ts), read before each page is served:
   * a page built before a change made elsewhere is not served after it. `gzip`: keep a gzipped
   * copy of each page for the visitors that accept it.
   */
  constructor(
    private readonly options: {
      maxEntries?: number;
      sharedVersion?: (() => Promise<string>) | undefined;
      renewVersion?: () => Promise<void>;
      gzip?: boolean;
      /** Told whenever the pages are dropped, so a cache in front of the app (Node's front cache) drops its copies too. */
      onInvalidate?: (() => void) | undefined;
    } = {},
  ) {}

  /** What the pages show has changed: they are built again here, and every other process and shared cache keyed by the version sees it at once. */
  async changed(): Promise<void> {
    this.invalidate();
    await this.options.renewVersion?.();
  }

  private invalidate(): void {
    this.generation++;
    this.entries.clear();
    this.building.clear();
    this.options.onInvalidate?.();
  }

  /** The page under `key`, built by `build` when there is none fresh; `build` answers null for what must not be kept (a 404). */
  async get(key: string, now: number, build: () => Promise<BuiltPage | null>): Promise<BuiltPage | null> {
    if (this.options.sharedVersion) {
      const version = await this.options.sharedVersion();
      if (version !== this.seenVersion) {
        this.invalidate();
        this.seenVersion = version;
      }
    }
    const entry = this.entries.get(key);
    if (entry && entry.freshUntil > now) return entry;
    const pending = this.building.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const made = build().then(
      async (built) => {
        const page = built && this.options.gzip ? { ...built, gzipped: await gzip(built.body) } : built;
        if (this.building.get(key) === made) this.building.delete(key);
        if (page && this.generation === generation) this.keep(key, page);
        return page;
      },
      (error: unknown) => {
        if (this.building.get(key) === made) this.building.delete(key);
        throw error;
      },
    );
    this.building.set(key, made);
    return made;
  }

  private keep(key: string, page: BuiltPage): void {
    this.entries.delete(key);
    if (this.entries.size >= (this.options.maxEntries ?? 2_000)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, page);
  }
}

/**
 * Cache-Control for a page every visitor shares: a browser keeps it briefly, a shared cache a
 * little longer and may serve it stale while it fetches a new one, but none past the moment the
 * page changes by time alone (the campaign closes), so a closed campaign is never served as open.
 */
export function sharedCacheControl(page: BuiltPage, now: number): string {
  const untilChange = Math.max(0, Math.floor((page.changesAt - now) / 1000));
  const browser = Math.min(Math.floor(PUBLIC_PAGE_FRESH_MS / 1000), untilChange);
  const shared = Math.min(SHARED_MAX_AGE_SECONDS, untilChange);
  const stale = Math.min(STALE_WHILE_REVALIDATE_SECONDS, untilChange - shared);
  return `public, max-age=${browser}, s-maxage=${shared}, stale-while-revalidate=${stale}`;
}

/** Either representation's tag: the same content, gzipped or not. */
function matches(ifNoneMatch: string | undefined, etags: string[]): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => etags.includes(tag.trim().replace(/^W\//, '')));
}

export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  return (acceptEncoding ?? '').split(',').some((coding) => {
    const [name, ...parameters] = coding.split(';').map((part) => part.trim().toLowerCase());
    return name === 'gzip' && !parameters.some((parameter) => /^q=0(\.0*)?$/.test(parameter));
  });
}

/**
 * A built page as the answer: 304 when the visitor holds it already (If-None-Match), else its
 * body. `shared`: every visitor of this URL gets it (public); otherwise it depends on the
 * visitor's language negotiation and only their browser may keep it.
 */
/** What serving a page reads from the request's context: only the clock (not the whole AppEnv, which names this module's cache). */
type PageServingEnv = { Variables: { services: { ctx: { clock: Clock } } } };

export function serveBuiltPage<E extends PageServingEnv>(c: Context<E>, page: BuiltPage, options: { shared: boolean; vary?: string }): Response {
  // E extends PageServingEnv, so the caller's services carry a clock; Hono's get() loses that under a generic E.
  const services = c.get('services') as PageServingEnv['Variables']['services'];
  const gzipped = page.gzipped && acceptsGzip(c.req.header('accept-encoding')) ? page.gzipped : undefined;
  // A strong tag names one representation: the gzipped bytes have their own.
  const gzippedEtag = page.etag.replace(/"$/, '-gz"');
  const headers: Record<string, string> = {
    'Cache-Control': options.shared ? sharedCacheControl(page, services.ctx.clock.now()) : 'private, no-cache',
    ETag: gzipped ? gzippedEtag : page.etag,
  };
  const vary = [options.vary, page.gzipped ? 'Accept-Encoding' : undefined].filter((name) => name !== undefined).join(', ');
  if (vary) headers.Vary = vary;
  if (matches(c.req.header('if-none-match'), [page.etag, gzippedEtag])) return c.body(null, 304, headers);
  if (gzipped) return c.body(gzipped, 200, { ...headers, 'Content-Type': page.contentType, 'Content-Encoding': 'gzip' });
  return c.body(page.body, 200, { ...headers, 'Content-Type': page.contentType });
}
