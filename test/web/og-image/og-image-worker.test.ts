import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerDevProcess, type WorkerDevProcess } from '../../helpers/worker-dev-process.js';

// The share card and the embed on Cloudflare Workers (wrangler dev --local, real workerd): resvg's
// .wasm as a CompiledWasm module, the fonts from the local letters bucket (worker:dev uploads them).
const adminToken = 'og-worker-admin-token-0123456789abcdef';
const blog = 'https://blog.example.org';
let worker: WorkerDevProcess;

beforeAll(async () => {
  worker = await startWorkerDevProcess({
    ADMIN_TOKEN: adminToken,
    SMTP_URL: 'smtp://127.0.0.1:2525',
    PUBLIC_URL: 'http://signet.example',
    EMBED_ORIGINS: blog,
  });
  const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const created = await fetch(`${worker.url}/api/v1/campaigns`, {
    method: 'POST',
    headers: organiser,
    body: JSON.stringify({ slug: 'worker-card', title: '北朝鮮難民の強制送還をやめてください', locale: 'ja', timeZone: 'Asia/Tokyo', goal: 100 }),
  });
  expect(created.status).toBe(201);
  expect((await fetch(`${worker.url}/api/v1/campaigns/worker-card`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ status: 'open' }) })).status).toBe(200);
}, 150_000);

afterAll(async () => {
  await worker?.stop();
});

describe('on Workers', () => {
  it('renders the share card as a 1200×630 PNG and names it on the campaign page', { timeout: 60_000 }, async () => {
    const page = await (await fetch(`${worker.url}/c/worker-card?lang=ja`)).text();
    expect(page).toContain('<meta property="og:image" content="http://signet.example/c/worker-card/og.png?lang=ja&amp;v=0"/>');
    const response = await fetch(`${worker.url}/c/worker-card/og.png?lang=ja`);
    expect(response.status, await response.clone().text().catch(() => '')).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await response.arrayBuffer());
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1200, 630]);
    // Japanese glyphs make a card far larger than one of replacement marks would be.
    expect(png.length).toBeGreaterThan(20_000);
  });

  it('lets the EMBED_ORIGINS site frame the embed, and no other', async () => {
    const response = await fetch(`${worker.url}/c/worker-card/embed?lang=en`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain(`frame-ancestors ${blog};`);
    expect(response.headers.get('x-frame-options')).toBeNull();
    expect((await fetch(`${worker.url}/c/worker-card`)).headers.get('x-frame-options')).toBe('DENY');
  });

  it('renders the campaign body (Markdown, escaped; linear and cached, issue #17) in workerd, view after view', async () => {
    const organiser = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const body = `## 届けます\n\n**9月22日**に <script>x</script> ${'*a'.repeat(20_000)}`;
    expect((await fetch(`${worker.url}/api/v1/campaigns/worker-card`, { method: 'PATCH', headers: organiser, body: JSON.stringify({ body }) })).status).toBe(200);
    for (let view = 0; view < 2; view++) {
      const page = await (await fetch(`${worker.url}/c/worker-card?lang=ja`)).text();
      expect(page).toContain('<h3>届けます</h3>');
      expect(page).toContain('<strong>9月22日</strong>に &lt;script&gt;x&lt;/script&gt; <em>a</em>a<em>a</em>');
      expect(page.match(/<em>a<\/em>/g)).toHaveLength(10_000);
    }
  });
});
