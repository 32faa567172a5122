import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { campaigns } from '../../../src/db/schema.js';
import { issueOwnerSetupLink } from '../../../src/services/accounts.js';
import { accountClient } from '../accounts/account-client.js';
import { invitedMember, OWNER } from '../accounts/team-fixture.js';
import { auditLog } from '../audit/helpers.js';
import { createTestApp } from '../../helpers/app.js';
import { campaignWithTargets, EXAMPLE_NAME, SLUG, type TestApp } from './helpers.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

/** A new installation's owner, signed in through the first-start link; where the setup sent them. */
async function newOwner() {
  t = createTestApp({ organisation: 'example' });
  const owner = accountClient(t);
  const created = await owner.request('POST', new URL((await issueOwnerSetupLink(t.ctx))!).pathname, { ...OWNER, locale: 'en' });
  expect(created.status, await created.clone().text()).toBe(303);
  return { t, owner, next: created.headers.get('location') };
}

/** The form as an organiser fills it in: the main details, and the Japanese ones. */
const filledForm = {
  name: 'Refugee Rights Network Tokyo',
  email: 'office@refugee-rights.test',
  phone: '',
  website: 'https://refugee-rights.test',
  addressLines: '2-4-6 Kanda-Jimbocho, Chiyoda-ku\r\nRoom 5',
  postalCode: '101-0051',
  city: 'Tokyo',
  region: '',
  country: 'JP',
  signatoryName: 'Sayuri Hoshino',
  signatoryTitle: 'Director',
  tr_ja_name: '難民の権利ネットワーク東京',
  tr_ja_addressLines: '神田神保町2-4-6',
  tr_ja_postalCode: '101-0051',
  tr_ja_city: '千代田区',
  tr_ja_region: '東京都',
  tr_ja_signatoryName: '星野さゆり',
  tr_ja_signatoryTitle: '代表理事',
};

describe('the organisation page', () => {
  it('follows owner setup, tells a new owner what to do, and keeps a banner on every page until the organisation is saved', async () => {
    const { t, owner, next } = await newOwner();
    expect(next).toBe('/admin/organisation?setup=1');

    const setup = await owner.page(next!);
    expect(setup.res.status).toBe(200);
    expect(setup.html).toContain('<h1>Organisation</h1>');
    expect(setup.html).toContain('Next step: tell Signet who your organisation is.');
    expect(setup.html).toContain(`This is still the example organisation shipped with Signet (“${EXAMPLE_NAME}”)`);
    expect(setup.html).toContain('href="/admin/campaigns">Skip for now');
    // The example is not offered as values to keep.
    expect(setup.html).not.toMatch(new RegExp(`value="${EXAMPLE_NAME}"`));
    expect(setup.html).toMatch(/id="f-country" name="country" type="text" value="JP"/);

    // Skipped: every page says it, with the way there.
    const campaignsPage = await owner.page('/admin/campaigns');
    expect(campaignsPage.html).toContain('id="organisation-not-set"');
    expect(campaignsPage.html).toContain('Your organisation is not set up yet');
    expect(campaignsPage.html).toContain('<a href="/admin/organisation">Set up your organisation</a>');
    const japanese = await owner.page('/admin/campaigns?lang=ja');
    expect(japanese.html).toContain('団体情報がまだ登録されていません。');

    // Saved: letters use it, and the banner is gone.
    await owner.page('/admin/organisation?lang=en');
    const saved = await owner.post('/admin/organisation', { ...filledForm, setup: '1' });
    expect(saved.status, await saved.clone().text()).toBe(303);
    expect(saved.headers.get('location')).toBe('/admin/campaigns?done=organisation-saved');
    const profile = await (await t.request('GET', '/api/v1/organisation')).json();
    expect(profile).toMatchObject({
      name: 'Refugee Rights Network Tokyo',
      email: 'office@refugee-rights.test',
      phone: null,
      postalAddress: { lines: ['2-4-6 Kanda-Jimbocho, Chiyoda-ku', 'Room 5'], postalCode: '101-0051', city: 'Tokyo', region: null, country: 'JP' },
      signatory: { name: 'Sayuri Hoshino', title: 'Director' },
      translations: {
        ja: {
          name: '難民の権利ネットワーク東京',
          postalAddress: { lines: ['神田神保町2-4-6'], postalCode: '101-0051', city: '千代田区', region: '東京都', country: 'JP' },
          signatory: { name: '星野さゆり', title: '代表理事' },
        },
      },
      isExample: false,
    });
    const after = await owner.page('/admin/campaigns?done=organisation-saved&lang=en');
    expect(after.html).not.toContain('id="organisation-not-set"');
    expect(after.html).toContain('Your organisation is saved');
    const audited = await auditLog(t, 'action=organisation.update');
    expect(audited.items[0]).toMatchObject({ action: 'organisation.update', via: 'dashboard', status: 303, actor: { type: 'user', name: OWNER.name } });

    // Shown again as saved, in Japanese too.
    const ja = await owner.page('/admin/organisation?lang=ja');
    expect(ja.html).toContain('<h1>団体情報</h1>');
    expect(ja.html).toContain('value="難民の権利ネットワーク東京"');
    expect(ja.html).toContain('value="Refugee Rights Network Tokyo"');
    expect(ja.html).toContain('2-4-6 Kanda-Jimbocho, Chiyoda-ku\nRoom 5</textarea>');
    expect(ja.html).not.toContain('id="organisation-example"');
  });

  it('shows what to correct by field, in the page language, and saves nothing', async () => {
    const { t, owner } = await newOwner();
    await owner.page('/admin/organisation?lang=ja');
    const refused = await owner.post('/admin/organisation', { ...filledForm, name: '', email: 'not-an-address', tr_ja_addressLines: '', tr_ja_city: '千代田区', country: 'Japan' });
    expect(refused.status).toBe(422);
    const html = await refused.text();
    expect(html).toContain('<h1>団体情報</h1>');
    expect(html).toMatch(/<a href="#f-name">団体名<\/a>: 入力してください/);
    expect(html).toMatch(/<a href="#f-email">メールアドレス<\/a>: メールアドレスの形式で入力してください/);
    // The translation takes the country from above: its error is said once, at the country.
    expect(html).not.toContain('href="#f-tr_ja_name"');
    expect(html).toMatch(/<a href="#f-country">国（ISO コード）<\/a>:/);
    expect(html).toMatch(/<a href="#f-tr_ja_addressLines">番地など \(日本語\)<\/a>:/);
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain('value="not-an-address"');
    // The shipped example's details are refused by field too.
    const example = await owner.post('/admin/organisation', { ...filledForm, name: EXAMPLE_NAME, email: 'letters@example.org' });
    expect(example.status).toBe(422);
    const exampleHtml = await example.text();
    expect(exampleHtml).toMatch(/<a href="#f-name">団体名<\/a>: Signet に同梱された例のままです/);
    expect(exampleHtml).toMatch(/<a href="#f-email">メールアドレス<\/a>: Signet に同梱された例のままです/);
    expect(await (await t.request('GET', '/api/v1/organisation')).json()).toMatchObject({ isExample: true, name: EXAMPLE_NAME });
  });

  it('sends an owner straight to the campaigns when the organisation was set before they signed up', async () => {
    t = createTestApp();
    const owner = accountClient(t);
    const created = await owner.request('POST', new URL((await issueOwnerSetupLink(t.ctx))!).pathname, { ...OWNER, locale: 'en' });
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/admin/campaigns');
    expect((await owner.page('/admin/campaigns')).html).not.toContain('id="organisation-not-set"');
  });

  it('is for owners and admins: a campaign editor sees neither the page nor the banner', async () => {
    const { t, owner } = await newOwner();
    await campaignWithTargets(t);
    await owner.page('/admin/users');
    const [campaign] = await t.database.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.slug, SLUG));
    const editor = await invitedMember(t, owner, 'editor@example.org', { [`role:${campaign!.id}`]: 'editor' });
    const page = await editor.page('/admin/organisation');
    expect(page.res.status).toBe(403);
    expect((await editor.post('/admin/organisation', filledForm)).status).toBe(403);
    const list = await editor.page('/admin/campaigns');
    expect(list.res.status).toBe(200);
    expect(list.html).not.toContain('id="organisation-not-set"');
    expect(list.html).not.toContain('href="/admin/organisation"');
  });
});
