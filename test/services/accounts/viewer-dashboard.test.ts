import { afterEach, describe, expect, it } from 'vitest';
import { campaigns, campaignTargets, letterBatches, letters, mailings, replies } from '../../../src/db/schema.js';
import { createTestApp } from '../../helpers/app.js';
import type { accountClient, TestApp } from './account-client.js';
import { invitedMember, organisationWithCampaigns } from './team-fixture.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

type Client = ReturnType<typeof accountClient>;

/** The organisation, a viewer and an editor of both its campaigns. */
async function viewerAndEditor() {
  t = createTestApp();
  const org = await organisationWithCampaigns(t);
  const roles = (role: string) => ({ [`role:${org.campaignIds.current}`]: role, [`role:${org.campaignIds.cloned}`]: role });
  const viewer = await invitedMember(t, org.owner, 'viewer@example.org', roles('viewer'), '192.0.2.21');
  const editor = await invitedMember(t, org.owner, 'editor@example.org', roles('editor'), '192.0.2.22');
  return { ...org, viewer, editor };
}

/** Every page of a campaign a member can open, by what it is. */
function campaignPages(org: Awaited<ReturnType<typeof viewerAndEditor>>) {
  return {
    campaign: '/admin/campaigns/forced-returns',
    cloned: '/admin/campaigns/forced-returns-2028',
    letters: '/admin/campaigns/forced-returns/letters?routing=jurisdiction',
    letter: `/admin/letters/${org.letterId}`,
    mailing: `/admin/mailings/${org.mailingId}`,
    replies: '/admin/campaigns/forced-returns/replies',
  };
}

/** The forms a page offers that POST anywhere but sign-out (every one of them would change something). */
function changingForms(html: string): string[] {
  return [...html.matchAll(/<form\b[^>]*\bmethod="post"[^>]*\baction="([^"]*)"/g)].map((m) => m[1]!).filter((action) => action !== '/admin/logout');
}

/** The links that lead to a form that changes the campaign (edit, schedule a mailing, new target, edit a target). */
function changingLinks(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&')).filter((href) => /\/edit(?:\?|$)|\/admin\/mailings\/new|\/admin\/targets\/new/.test(href));
}

async function everything() {
  const db = t.database.db;
  return {
    campaigns: await db.select().from(campaigns),
    campaignTargets: await db.select().from(campaignTargets),
    letterBatches: await db.select().from(letterBatches),
    letters: await db.select().from(letters),
    mailings: await db.select().from(mailings),
    replies: await db.select().from(replies),
  };
}

async function pageOf(client: Client, path: string) {
  const { res, html } = await client.page(path);
  expect(res.status, `${path}: ${html.slice(0, 300)}`).toBe(200);
  return html;
}

describe('a viewer on the dashboard', () => {
  it('is shown every campaign page without a form or link that would change it, and told why; an editor gets them all', async () => {
    const org = await viewerAndEditor();
    const pages = campaignPages(org);

    for (const [what, path] of Object.entries(pages)) {
      const html = await pageOf(org.viewer, path);
      expect(changingForms(html), `${what} for the viewer`).toEqual([]);
      expect(changingLinks(html), `${what} for the viewer`).toEqual([]);
      expect(html, what).toContain('You can view this campaign; your role is viewer.');
    }
    // Reading is untouched: the reply, the batch of letters and the routing preview are all there.
    expect(await pageOf(org.viewer, pages.replies)).toContain('The embassy acknowledged the letter');
    expect(await pageOf(org.viewer, pages.letters)).toContain('id="routing-preview"');
    expect(await pageOf(org.viewer, pages.cloned)).not.toContain('id="invite-previous"');
    // The note is in the viewer's language too.
    expect((await org.viewer.page(`${pages.campaign}?lang=ja`)).html).toContain('このキャンペーンは閲覧のみできます（あなたの役割は閲覧者です）。');

    const offered = {
      campaign: ['/admin/campaigns/forced-returns/status', `/admin/campaigns/forced-returns/targets/${org.targetId}/detach`],
      cloned: ['/admin/campaigns/forced-returns-2028/status', '/admin/campaigns/forced-returns-2028/invite-previous'],
      letters: ['/admin/campaigns/forced-returns/letters'],
      letter: [`/admin/letters/${org.letterId}/deliveries`],
      mailing: [`/admin/mailings/${org.mailingId}/pause`, `/admin/mailings/${org.mailingId}/cancel`],
      replies: [`/admin/replies/${org.replyId}`, `/admin/replies/${org.replyId}/delete`, '/admin/campaigns/forced-returns/replies'],
    };
    for (const [what, path] of Object.entries(pages)) {
      const html = await pageOf(org.editor, path);
      expect(changingForms(html), `${what} for the editor`).toEqual(expect.arrayContaining(offered[what as keyof typeof offered]));
      expect(html, what).not.toContain('your role is viewer');
    }
    // Attaching offers the directory's other targets, which only the organisation's people see.
    expect(changingForms(await pageOf(org.owner, pages.campaign))).toContain('/admin/campaigns/forced-returns/targets');
    const editorCampaign = await pageOf(org.editor, pages.campaign);
    expect(changingLinks(editorCampaign)).toEqual(expect.arrayContaining(['/admin/campaigns/forced-returns/edit', '/admin/mailings/new?campaign=forced-returns']));
    // The new-mailing form offers only the campaigns the user may change.
    expect((await org.viewer.page('/admin/mailings/new')).html).not.toContain('value="forced-returns"');
    expect((await org.editor.page('/admin/mailings/new')).html).toContain('value="forced-returns"');
    // Nor is the edit form served at its address.
    const editPage = await org.viewer.page('/admin/campaigns/forced-returns/edit');
    expect(editPage.res.status).toBe(403);
    expect(editPage.html).not.toContain('name="title"');
    expect((await org.editor.page('/admin/campaigns/forced-returns/edit')).res.status).toBe(200);
  });

  it('still gets 403 for every forged form, and nothing changes', async () => {
    const org = await viewerAndEditor();
    // A page first, for the session's form token: the forgery is as good as a real form.
    await pageOf(org.viewer, '/admin/campaigns/forced-returns');
    const before = await everything();
    const forged: [string, Record<string, string>][] = [
      ['/admin/campaigns/forced-returns/status', { status: 'closed' }],
      ['/admin/campaigns/forced-returns', { title: 'Changed by the viewer', locale: 'en', timeZone: 'UTC', summary: '', body: 'Text.' }],
      ['/admin/campaigns/forced-returns/targets', { [`target-${org.spareTargetId}`]: 'on' }],
      [`/admin/campaigns/forced-returns/targets/${org.targetId}/detach`, {}],
      ['/admin/campaigns/forced-returns/letters', { mode: 'per_target', routing: 'all' }],
      [`/admin/letters/${org.letterId}/deliveries`, { channel: 'print', idempotencyKey: 'forged-by-viewer' }],
      [`/admin/mailings/${org.mailingId}/pause`, {}],
      [`/admin/mailings/${org.mailingId}/cancel`, {}],
      ['/admin/mailings', { campaign: 'forced-returns', kind: 'update', sendAt: '2027-12-24T10:00', timeZone: 'Asia/Tokyo', subject: 'Forged', body: 'Forged' }],
      ['/admin/campaigns/forced-returns/replies', { targetId: org.targetId, receivedAt: '2027-08-21', channel: 'email', summary: 'Forged reply.' }],
      [`/admin/replies/${org.replyId}`, { public: 'false' }],
      [`/admin/replies/${org.replyId}/delete`, {}],
      ['/admin/campaigns/forced-returns-2028/invite-previous', {}],
    ];
    for (const [path, form] of forged) {
      const res = await org.viewer.post(path, form);
      expect(res.status, `${path}: ${(await res.text()).slice(0, 300)}`).toBe(403);
    }
    expect(await everything()).toEqual(before);

    // The same form from the editor goes through (the refusal above was the role, not the form).
    await pageOf(org.editor, '/admin/campaigns/forced-returns');
    const closed = await org.editor.post('/admin/campaigns/forced-returns/status', { status: 'closed' });
    expect(closed.status).toBe(303);
  });
});
