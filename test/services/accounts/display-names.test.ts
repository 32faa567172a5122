import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox, users } from '../../../src/db/schema.js';
import { inviteUser, issueOwnerSetupLink } from '../../../src/services/accounts.js';
import { ValidationFailed } from '../../../src/lib/service-errors.js';
import { createTestApp } from '../../helpers/app.js';
import { accountClient, lastAccountEmail, type TestApp } from './account-client.js';

let t: TestApp;
afterEach(async () => t?.cleanup());

const OWNER = { name: 'Aiko Owner', email: 'owner@example.org', password: 'owner password 1234' };
/** A name that would add a header (or a line of its own in the email's text) if it reached the message as typed. */
const INJECTED = 'Eve\r\nBcc: x@evil.example';

async function withOwner() {
  t = createTestApp();
  const owner = accountClient(t);
  const res = await owner.request('POST', new URL((await issueOwnerSetupLink(t.ctx))!).pathname, { ...OWNER, locale: 'en' });
  expect(res.status, await res.clone().text()).toBe(303);
  await owner.page('/admin/users');
  return owner;
}

const accountEmails = async () => (await t.database.db.select().from(outbox)).filter((row) => row.kind === 'account');

describe('display names are one line (#17)', () => {
  it('refuses an invitation whose name holds a line break: VALIDATION_FAILED (400) at `name`, nobody created, nothing mailed', async () => {
    const owner = await withOwner();
    const [ownerRow] = await t.database.db.select().from(users).where(eq(users.email, OWNER.email));
    const principal = { kind: 'user' as const, id: ownerRow!.id, name: OWNER.name, scopes: ['admin' as const], access: { kind: 'organisation' as const } };

    const refused = await inviteUser(t.ctx, principal, { email: 'eve@example.org', name: INJECTED, orgRole: 'admin', campaigns: [] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationFailed);
    expect(refused).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'name', message: 'must be one line without control characters' }] });

    // The dashboard's form says so at the field (422, as every dashboard form with invalid fields).
    const page = await owner.post('/admin/users', { email: 'eve@example.org', name: INJECTED, locale: 'en', orgRole: 'admin' });
    expect(page.status).toBe(422);
    expect(await page.text()).toContain('must be one line without control characters');
    expect(await t.database.db.select().from(users).where(eq(users.email, 'eve@example.org'))).toEqual([]);
    expect(await accountEmails()).toEqual([]);
  });

  it('refuses a line break in the name at owner setup, on accepting an invitation and on the own account page', async () => {
    t = createTestApp();
    const setup = accountClient(t);
    const setupPath = new URL((await issueOwnerSetupLink(t.ctx))!).pathname;
    const refusedOwner = await setup.request('POST', setupPath, { ...OWNER, name: 'Aiko\nOwner', locale: 'en' });
    expect(refusedOwner.status).toBe(422);
    expect(await refusedOwner.text()).toContain('must be one line without control characters');
    expect(await t.database.db.select().from(users)).toEqual([]);

    const owner = accountClient(t);
    expect((await owner.request('POST', setupPath, { ...OWNER, locale: 'en' })).status).toBe(303);
    await owner.page('/admin/account');
    const renamed = await owner.post('/admin/account', { name: `Aiko${'\u2028'}Bcc: x@evil.example`, locale: 'en' });
    expect(renamed.status).toBe(422);
    expect(await renamed.text()).toContain('must be one line without control characters');
    expect((await t.database.db.select({ name: users.name }).from(users).where(eq(users.email, OWNER.email)))[0]!.name).toBe(OWNER.name);

    await owner.page('/admin/users');
    expect((await owner.post('/admin/users', { email: 'member@example.org', name: '', locale: 'en', orgRole: 'admin' })).status).toBe(303);
    const mail = await lastAccountEmail(t, 'member@example.org');
    const member = accountClient(t, '192.0.2.20');
    await member.page(mail.path);
    const accepted = await member.request('POST', mail.path, { name: INJECTED, password: 'member password 1234' });
    expect(accepted.status).toBe(422);
    expect(await accepted.text()).toContain('must be one line without control characters');
    expect((await t.database.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.email, 'member@example.org')))[0]!.passwordHash).toBeNull();
  });

  it('mails a name stored before the rule on one line: the inviter\'s name cannot add lines to the invitation', async () => {
    const owner = await withOwner();
    // A row written before names had to be one line.
    await t.database.db.update(users).set({ name: INJECTED }).where(eq(users.email, OWNER.email));
    await owner.page('/admin/users');
    expect((await owner.post('/admin/users', { email: 'new@example.org', name: 'New', locale: 'en', orgRole: 'admin' })).status).toBe(303);
    const { message } = await lastAccountEmail(t, 'new@example.org');
    const lead = message.text!.split('\n').find((line) => line.includes('invited you'));
    expect(lead).toBe('Eve Bcc: x@evil.example invited you to work on campaigns in the organisers\' dashboard.');
    expect(message.text).not.toMatch(/^Bcc:/m);
    expect(message.html).not.toMatch(/Eve\s*\r?\n\s*Bcc/);
  });

  it('keeps API token names to one line too: a token signed in to the dashboard invites under its name', async () => {
    t = createTestApp();
    const refused = await t.request('POST', '/api/v1/tokens', { body: { name: INJECTED, scopes: ['admin'] } });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'name', message: 'must be one line without control characters' }] });
  });
});
