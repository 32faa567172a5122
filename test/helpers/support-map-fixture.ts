import type { createTestApp } from './app.js';
import { openCampaign, signAndConfirm, signature } from './signing.js';

type TestApp = ReturnType<typeof createTestApp>;

/**
 * A campaign with confirmed supporters in three prefectures and two other countries, at the
 * default PUBLIC_REGION_MIN of 5: Tokyo 7 and Osaka 5 are shown; Tottori's 2 (and its 3 who never
 * confirmed) are below the minimum and merged, with 1 in Japan who named no prefecture, into
 * "other prefectures" (3); Korea 6 is shown, the United States' 2 merged into "other countries".
 */
export async function campaignWithSupportAcrossJapan(t: TestApp, slug: string): Promise<void> {
  await openCampaign(t, slug, { translations: { ja: { title: '北朝鮮難民の強制送還をやめてください', summary: '中国から送還された難民は収容所に送られます。' } } });
  const supporters: { email: string; country: string; region?: string }[] = [
    ...Array.from({ length: 7 }, (_, i) => ({ email: `tokyo${i}@example.jp`, country: 'JP', region: 'JP-13' })),
    ...Array.from({ length: 5 }, (_, i) => ({ email: `osaka${i}@example.jp`, country: 'JP', region: 'JP-27' })),
    ...Array.from({ length: 2 }, (_, i) => ({ email: `tottori${i}@example.jp`, country: 'JP', region: 'JP-31' })),
    { email: 'somewhere@example.jp', country: 'JP' },
    ...Array.from({ length: 6 }, (_, i) => ({ email: `seoul${i}@example.kr`, country: 'KR', region: 'KR-11' })),
    ...Array.from({ length: 2 }, (_, i) => ({ email: `ny${i}@example.com`, country: 'US', region: 'US-NY' })),
  ];
  for (const { email, country, region } of supporters) {
    const { region: _tokyo, city: _city, ...body } = signature(email, { country });
    await signAndConfirm(t, slug, region ? { ...body, region } : body);
  }
  for (let i = 0; i < 3; i++) {
    const pending = await t.request('POST', `/api/v1/campaigns/${slug}/signatures`, { token: null, body: signature(`tottori-pending${i}@example.jp`, { region: 'JP-31', city: 'Tottori' }) });
    if (pending.status !== 202) throw new Error(`sign failed: ${await pending.text()}`);
  }
}
