import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { openCampaign } from '../helpers/signing.js';

type TestApp = ReturnType<typeof createTestApp>;
let t: TestApp;
afterEach(async () => t?.cleanup());

describe('validation messages a script author can act on', () => {
  it('names a field in the wrong place as not a field here, with its path, instead of "Expected never"', async () => {
    t = createTestApp();
    const slug = await openCampaign(t, 'plain-messages');
    // A common mistake: a consent choice at the top level instead of under `consent`.
    const res = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, {
      token: null,
      body: { email: 'hanako@example.jp', name: '山田 花子', locale: 'ja', country: 'JP', nameOnLetter: 'full' },
    });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } };
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details).toEqual([{ path: 'nameOnLetter', message: expect.stringMatching(/^is not a field here/) }]);
    expect(JSON.stringify(error)).not.toContain('Expected never');
  });
});
