import type { R2Bucket } from '@cloudflare/workers-types';
import { lettersBundle } from '../../../.wrangler/generated/letters-bundle.js';
import { fontObjectKey, loadR2Fonts, r2Fonts } from '../../../src/letters/worker/r2-fonts.js';
import { createWorkerLetterPorts } from '../../../src/letters/worker/worker-letter-ports.js';
import { probeLetterInput } from './probe-letter.js';

/**
 * A fixture Worker around createWorkerLetterPorts (src/letters/worker/), in workerd:
 *   GET /templates, GET /organisation          the bundled templates as the Worker loads them
 *   POST /render?names=N[&language=ja][&partSize=bytes]   renders the probe letter to R2; JSON with the stored key, the result and timings
 *   GET /stream?names=N[&language=ja]           the same letter as a streamed response
 *   GET /files/<stored key>                     a stored letter, streamed from R2
 *   POST /print-queue  { keys: [...] }          the print queue PDF of stored letters
 *   DELETE /batches/<batchId>                   removes a batch's letters
 *   PUT, DELETE /fonts/<face>                   puts or removes a font object (the test puts back what it removed)
 *   POST /render-fresh-fonts?names=N            renders with the fonts read from R2 again (not the isolate's cached ones)
 * The fonts are read from R2 (`fonts/<face>.ttf`, put there by the test with scripts/upload-fonts.ts).
 */
type Env = { LETTERS: R2Bucket };

const batchId = '01900000-0000-7000-8000-000000000001';
const letterId = (names: number) => `01900000-0000-7000-8000-${String(names).padStart(12, '0')}`;

const errorResponse = (error: unknown) => {
  const { name, message, code, variable, line } = error as { name: string; message: string; code?: string; variable?: string; line?: number };
  return Response.json({ error: { name, message, code, variable, line } }, { status: 500 });
};

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const partSize = url.searchParams.has('partSize') ? Number(url.searchParams.get('partSize')) : undefined;
    const fresh = url.pathname === '/render-fresh-fonts';
    const fonts = fresh ? () => loadR2Fonts(env.LETTERS) : () => r2Fonts(env.LETTERS);
    const ports = createWorkerLetterPorts({ bucket: env.LETTERS, templates: lettersBundle, fonts, partSize });
    const names = Number(url.searchParams.get('names') ?? '1000');
    const language = url.searchParams.get('language') ?? 'ja';
    try {
      if (url.pathname === '/templates') return Response.json(await ports.listTemplates());
      if (url.pathname === '/organisation') return Response.json(await ports.loadOrganisation());
      if ((url.pathname === '/render' || fresh) && request.method === 'POST') {
        const input = probeLetterInput(await ports.loadTemplate('embassy-petition', language), await ports.loadOrganisation(), names);
        const { stored, output } = await ports.files.pathFor(batchId, letterId(names));
        // Both clocks advance only on I/O in workerd (the upload to R2 is the last I/O here), so
        // they bound the render from below; the caller measures wall time from outside.
        const clock = Date.now();
        const performanceClock = performance.now();
        const result = await ports.renderToFile(input, output, { createdAt: input.date });
        const timing = { dateNowMs: Date.now() - clock, performanceNowMs: performance.now() - performanceClock };
        return Response.json({ stored, result, timing, faces: (await r2Fonts(env.LETTERS)).loadedFaces() });
      }
      if (url.pathname === '/stream') {
        const input = probeLetterInput(await ports.loadTemplate('embassy-petition', language), await ports.loadOrganisation(), names);
        const body = await ports.renderToStream(input, { createdAt: input.date });
        return new Response(body as unknown as ConstructorParameters<typeof Response>[0], { headers: { 'content-type': 'application/pdf' } });
      }
      if (url.pathname.startsWith('/files/')) {
        const file = await ports.files.openRead(url.pathname.slice('/files/'.length));
        if (!file) return new Response('not found', { status: 404 });
        return new Response(file.body as unknown as ConstructorParameters<typeof Response>[0], { headers: { 'content-type': 'application/pdf', 'content-length': String(file.bytes) } });
      }
      if (url.pathname === '/print-queue' && request.method === 'POST') {
        const { keys } = (await request.json()) as { keys: string[] };
        const entries = [];
        for (const [index, key] of keys.entries()) {
          const pdf = await ports.files.readBytes(key);
          if (!pdf) return new Response(`no letter ${key}`, { status: 404 });
          entries.push({ deliveryId: `delivery-${index}`, recipient: '呉江浩 特命全権大使', organisation: '中華人民共和国駐日本国大使館', city: '港区', country: 'JP', pdf });
        }
        const composed = await ports.composePrintQueue({ generatedAt: Date.UTC(2027, 8, 22), entries });
        return new Response(composed.pdf, { headers: { 'content-type': 'application/pdf', 'x-cover-pages': String(composed.coverPages), 'x-letter-pages': String(composed.letterPages) } });
      }
      if (url.pathname.startsWith('/batches/') && request.method === 'DELETE') {
        await ports.files.removeBatch(url.pathname.slice('/batches/'.length));
        return new Response(null, { status: 204 });
      }
      if (url.pathname.startsWith('/fonts/')) {
        const key = fontObjectKey(url.pathname.slice('/fonts/'.length) as Parameters<typeof fontObjectKey>[0]);
        if (request.method === 'DELETE') await env.LETTERS.delete(key);
        else if (request.method === 'PUT') await env.LETTERS.put(key, await request.arrayBuffer(), { httpMetadata: { contentType: 'font/ttf' } });
        else return new Response('method not allowed', { status: 405 });
        return new Response(null, { status: 204 });
      }
      return new Response('not found', { status: 404 });
    } catch (error) {
      return errorResponse(error);
    }
  },
};
