import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../helpers/app.js';
import { openCampaign, signature } from '../../helpers/signing.js';

// Issue #9, finding 2: regions were free text, so totals by region could carry anything a
// signer typed. A region is now one of the ISO 3166-2 codes, and one of the signer's country.

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

const sign = (slug: string, body: unknown) => t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { body, token: null });

describe('POST /api/v1/campaigns/:slug/signatures: region', () => {
  it('takes an ISO 3166-2 code of the given country, trimmed and in either case, or no region', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    for (const [email, extra] of [
      ['tokyo@example.org', { country: 'JP', region: 'JP-13' }],
      ['osaka@example.org', { country: 'jp', region: ' jp-27 ' }],
      ['seoul@example.org', { country: 'KR', region: 'KR-11' }],
      ['nowhere@example.org', { country: 'JP', region: undefined }],
    ] as const) {
      const res = await sign(slug, signature(email, extra));
      expect(res.status, email).toBe(202);
      expect(await res.json()).toEqual({ status: 'pending' });
    }
  });

  it('refuses free text, unknown codes and a region of another country with 400 on the path `region`', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    for (const region of ['Tokyo', '東京都', 'XX-99', 'JP-48', 'US-CA', 'JP13', '', '=HYPERLINK("x")']) {
      const res = await sign(slug, signature('jane@example.org', { country: 'JP', region }));
      expect(res.status, region).toBe(400);
      const body = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } };
      expect(body.error.code, region).toBe('VALIDATION_FAILED');
      expect(body.error.details.map((detail) => detail.path), region).toEqual(['region']);
    }
    const mismatch = await sign(slug, signature('jane@example.org', { country: 'JP', region: 'US-CA' }));
    expect(await mismatch.json()).toMatchObject({ error: { details: [{ path: 'region', message: 'must be a region (ISO 3166-2 code) of the given country' }] } });
  });

  it('reports the country alone when the country is wrong, rather than the region as well', async () => {
    t = createTestApp();
    const slug = await openCampaign(t);
    const res = await sign(slug, signature('jane@example.org', { country: 'Japan', region: 'JP-13' }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { details: { path: string }[] } }).error.details.map((detail) => detail.path)).toEqual(['country']);
  });
});
