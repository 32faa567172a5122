import { afterEach, describe, expect, it } from 'vitest';
import { targets } from '../../../src/db/schema.js';
import { issueOwnerSetupLink } from '../../../src/services/accounts.js';
import { accountClient } from '../../services/accounts/account-client.js';
import { OWNER } from '../../services/accounts/team-fixture.js';
import { auditLog } from '../../services/audit/helpers.js';
import { createTestApp } from '../../helpers/app.js';

let t: ReturnType<typeof createTestApp> | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

/** The owner of a new installation, signed in, working in Japanese. */
async function japaneseOwner() {
  t = createTestApp();
  const owner = accountClient(t);
  const created = await owner.request('POST', new URL((await issueOwnerSetupLink(t.ctx))!).pathname, { ...OWNER, locale: 'ja' });
  expect(created.status, await created.clone().text()).toBe(303);
  return { t, owner };
}

/** A file posted through the page's upload form, as a browser sends it (multipart, with the form token). */
async function upload(owner: ReturnType<typeof accountClient>, html: string, name: string, type: string, text: string) {
  const form = new FormData();
  form.set('_csrf', /name="_csrf" value="([^"]+)"/.exec(html)![1]!);
  form.set('file', new File([text], name, { type }));
  const headers = { origin: 'http://localhost', cookie: [...owner.jar].map(([k, v]) => `${k}=${v}`).join('; '), 'x-forwarded-for': '192.0.2.10' };
  return t!.app.request('/admin/targets/import', { method: 'POST', headers, body: form });
}

const rowCount = async () => (await t!.database.db.select({ id: targets.id }).from(targets)).length;

describe('the target directory page', () => {
  it('imports the shipped directory of China’s missions in one step, twice without duplicates, and says where each letter goes', async () => {
    const { owner } = await japaneseOwner();
    const empty = await owner.page('/admin/targets');
    expect(empty.res.status).toBe(200);
    expect(empty.html).toContain('<h1>宛先</h1>');
    expect(empty.html).toContain('aria-current="page">宛先</a>');
    // The count once, and the file's note in the dashboard's language.
    expect(empty.html).toContain('<strong>在日中国大使館・総領事館</strong>（7件）');
    expect(empty.html).toContain('未確認の一覧です。');
    expect(empty.html).not.toContain('UNVERIFIED');

    for (const [created, unchanged] of [
      [7, 0],
      [0, 7],
    ]) {
      const imported = await owner.post('/admin/targets/import-shipped', { name: 'china-missions-japan' });
      expect(imported.status).toBe(303);
      const after = await owner.page(imported.headers.get('location')!);
      expect(after.html).toContain(`新規 ${created}件、更新 0件、変更なし ${unchanged}件`);
    }
    expect(await rowCount()).toBe(7);

    const list = (await owner.page('/admin/targets')).html;
    expect(list).toContain('登録済みの宛先（7件）');
    // The embassy has no email address: the page says its letter goes by post, and names the prefectures it serves.
    const embassyRow = list.slice(list.indexOf('中华人民共和国驻日本国大使馆') - 400, list.indexOf('</tr>', list.indexOf('中华人民共和国驻日本国大使馆')));
    // Named in the dashboard's language, with the names its letters use (Chinese) beneath, marked as Chinese.
    expect(embassyRow).toContain('>中華人民共和国駐日本国大使館</a><div class="muted">特命全権大使</div>');
    expect(embassyRow).toContain('書簡での表記: <span lang="zh">中华人民共和国驻日本国大使馆 · 驻日本国特命全权大使</span>');
    expect(embassyRow).toContain('郵送（印刷待ち）');
    expect(embassyRow).toContain('茨城県');
    expect(embassyRow).toContain('〒106-0046 東京都港区元麻布3-4-33');
    expect(list).toContain('メール（chinaconsul_osa_jp@mfa.gov.cn）');

    const log = (await auditLog(t!, 'action=targets.import')).items;
    expect(log.filter((entry) => entry.action === 'targets.import')).toHaveLength(2);
  });

  it('imports an uploaded CSV or JSON file, and a file with a bad row imports nothing and names the row', async () => {
    const { owner } = await japaneseOwner();
    const page = (await owner.page('/admin/targets')).html;

    const bad = await upload(owner, page, 'missions.csv', 'text/csv', 'name,kind,address_lines,country\n駐大阪総領事館,consulate,靱本町3-9-2,JP\n駐福岡総領事館,castle,地行浜1-3-3,JP\n');
    expect(bad.status).toBe(422);
    const badHtml = await bad.text();
    expect(badHtml).toContain('取り込みませんでした');
    expect(badHtml).toMatch(/3行目、kind：/);
    expect(await rowCount()).toBe(0);

    const json = JSON.stringify([{ name: '駐大阪総領事館', kind: 'consulate', postalAddress: { lines: ['靱本町3-9-2'], country: 'JP' }, externalId: 'osaka' }]);
    const good = await upload(owner, page, 'missions.json', 'application/json', json);
    expect(good.status).toBe(303);
    expect((await owner.page(good.headers.get('location')!)).html).toContain('新規 1件、更新 0件、変更なし 0件');
    expect(await rowCount()).toBe(1);

    const notText = await upload(owner, page, 'missions.pdf', 'application/pdf', '%PDF-1.7');
    expect(notText.status).toBe(422);
    expect(await notText.text()).toContain('.json または .csv');
  });

  it('refuses a name that is not a shipped directory, without reading anything else from letters/', async () => {
    const { owner } = await japaneseOwner();
    await owner.page('/admin/targets');
    for (const name of ['../../organisation', 'organisation', 'no-such-directory']) {
      const res = await owner.post('/admin/targets/import-shipped', { name });
      expect(res.status, name).toBe(404);
    }
    expect(await rowCount()).toBe(0);
  });
});
