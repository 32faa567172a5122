import { expect } from 'vitest';
import type { createTestApp } from '../../helpers/app.js';
import { testOrganisation } from '../../helpers/organisation.js';
import { openCampaign, signAndConfirm, signature } from '../../helpers/signing.js';

export type TestApp = ReturnType<typeof createTestApp>;

export const SLUG = 'save-refugees-2027';
/** The shipped placeholder of letters/organisation.json. */
export const EXAMPLE_NAME = 'Example Human Rights Network Japan';

/** The test organisation with its Japanese and Chinese names, address and signatory, as an organiser fills in the form. */
export const bilingualOrganisation = {
  ...testOrganisation,
  translations: {
    ja: {
      name: '難民の権利ネットワーク東京',
      postalAddress: { lines: ['神田神保町2-4-6'], postalCode: '101-0051', city: '千代田区', region: '東京都', country: 'JP' },
      signatory: { name: '星野さゆり', title: '代表理事' },
    },
    zh: { name: '东京难民权利网络' },
  },
};

/**
 * A Japanese campaign, open, writing to a Japanese-speaking office (with an email address) and an
 * English-speaking one, with one confirmed supporter.
 */
export async function campaignWithTargets(t: TestApp): Promise<{ jaTarget: string; enTarget: string }> {
  const target = async (body: Record<string, unknown>) => {
    const res = await t.request('POST', '/api/v1/targets', { body });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const jaTarget = await target({
    name: '在日本国大使館',
    kind: 'embassy',
    email: 'embassy@example.org',
    language: 'ja',
    postalAddress: { lines: ['元麻布3-4-33'], postalCode: '106-0046', city: '港区', region: '東京都', country: 'JP' },
  });
  const enTarget = await target({ name: 'Consulate General', kind: 'consulate', language: 'en', postalAddress: { lines: ['1 Harbour Road'], city: 'Osaka', country: 'JP' } });
  await openCampaign(t, SLUG, { locale: 'ja', title: '北朝鮮難民を救おう', targetIds: [jaTarget, enTarget] });
  await signAndConfirm(t, SLUG, signature('supporter@example.jp', { name: 'Keiko Watanabe', consent: { nameOnLetter: 'full' } }));
  return { jaTarget, enTarget };
}

export async function putOrganisation(t: TestApp, body: unknown, token?: string) {
  const res = await t.request('PUT', '/api/v1/organisation', { body, ...(token === undefined ? {} : { token }) });
  return { res, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string; details?: { path: string; message: string }[] } } };
}
