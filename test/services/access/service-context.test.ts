import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Calls that may take the organisation's context (`services.ctx`) in a route or a dashboard
 * handler, and why. Everything else must pass `serviceContextOf(c)`, so the verb answers as
 * the caller may see it (PRODUCT.md §11).
 */
const allowed: Record<string, string> = {
  // Signing in and out: they run before a principal exists, or end the session that names it.
  resolveAdminSession: 'opens the session that yields the principal',
  authenticateToken: 'turns the presented secret into the principal',
  createAdminSession: 'signs in: no session yet',
  deleteAdminSession: 'signs out the session itself',
  // Public routes: no principal, and they show only what anyone may see.
  getPublicCampaign: 'the public view of an open campaign',
  signCampaign: 'a supporter signs',
  confirmSignature: 'a supporter confirms',
  listPublicSignatures: 'the public list of signers',
  requestPrivacyLink: 'a supporter asks for a privacy link',
  unsubscribe: 'a supporter unsubscribes',
  verifyUnsubscribeToken: 'a supporter opens an unsubscribe link',
  // Accounts (src/web/admin/account-pages.tsx): signing in by password, link or TOTP, and the
  // one-time links, run before a principal exists; the own-account page acts on the signed-in
  // user's own row, by its id, and reaches no campaign.
  signInWithPassword: 'signs in',
  completeTotpSignIn: 'signs in',
  signInWithLink: 'signs in',
  requestAccountLink: 'asks for a sign-in or reset link',
  openSignInLink: 'a one-time link',
  openPasswordReset: 'a one-time link',
  openOwnerSetup: 'the first start\'s owner link',
  openInvitation: 'an invitation link',
  createOwner: 'the first start\'s owner',
  hasUsers: 'the sign-in page says whether anyone can sign in yet (the first start\'s owner link)',
  readPendingTotp: 'the second step of a sign-in',
  rememberDevice: 'the device cookie of the user who just signed in (their own row)',
  updateOwnAccount: 'the caller\'s own account',
  changePassword: 'the caller\'s own account',
  startTotpSetup: 'the caller\'s own account',
  confirmTotpSetup: 'the caller\'s own account',
  disableTotp: 'the caller\'s own account',
};

/** Files that may keep the organisation's context in a variable, and why. */
const keepingOrganisationContext: Record<string, string> = {
  'src/web/admin/account-pages.tsx': 'the invitation and reset links (no principal yet) and the own-account page (the caller\'s own row), as above',
  'src/http/audit-trail.ts': 'middleware recording each request\'s outcome in the audit log; it calls no verb for the caller',
};

export type Finding = { file: string; line: number; text: string; problem: string };

/**
 * Where a handler hands the organisation's context to a service verb: a verb called with
 * `services.ctx` or `c.get('services').ctx`, or `ctx` taken out of `c.get('services')`
 * (whatever it is passed to later). Reading a port off it (`services.ctx.clock`) is not a call.
 */
export function findOrganisationContextCalls(file: string, source: string): Finding[] {
  const findings: Finding[] = [];
  source.split('\n').forEach((text, index) => {
    const line = index + 1;
    for (const match of text.matchAll(/(\w+)\(\s*(?:c\.get\('services'\)|services|c\.var\.services)\.ctx\s*[,)]/g)) {
      const verb = match[1]!;
      if (!(verb in allowed)) findings.push({ file, line, text: text.trim(), problem: `${verb} is given the organisation's context` });
    }
    if (!(file in keepingOrganisationContext) && /\{[^}]*\bctx\b[^}]*\}\s*=\s*c\.(?:get\('services'\)|var\.services)/.test(text)) {
      findings.push({ file, line, text: text.trim(), problem: "ctx is taken out of c.get('services')" });
    }
    if (!(file in keepingOrganisationContext) && /=\s*(?:c\.get\('services'\)|services)\.ctx\s*;/.test(text)) {
      findings.push({ file, line, text: text.trim(), problem: 'the organisation\'s context is kept in a variable' });
    }
  });
  return findings;
}

function sources(dir: string, extension: string): { file: string; source: string }[] {
  return readdirSync(join(root, dir))
    .filter((name) => name.endsWith(extension))
    .map((name) => ({ file: `${dir}/${name}`, source: readFileSync(join(root, dir, name), 'utf8') }));
}

describe('routes and dashboard pages call services with the caller\'s access (serviceContextOf)', () => {
  it('no handler in src/routes or src/web/admin passes the organisation\'s context to a verb, but the documented exceptions', () => {
    const files = [...sources('src/routes', '.ts'), ...sources('src/web/admin', '.tsx'), ...sources('src/web/admin', '.ts'), ...sources('src/http', '.ts')];
    expect(files.length).toBeGreaterThan(25);
    const findings = files.flatMap(({ file, source }) => findOrganisationContextCalls(file, source));
    expect(findings).toEqual([]);
    // The check reads real handlers: serviceContextOf is what they use.
    expect(files.filter(({ source }) => source.includes('serviceContextOf(c)')).length).toBeGreaterThan(15);
  });

  it('finds each way a handler could hand over the organisation\'s context', () => {
    const handler = [
      "    async (c) => c.json(await getCampaign(c.get('services').ctx, c.req.param('slug'))),",
      '      const queue = await buildPrintQueuePdf(services.ctx, services.letters);',
      "  const { ctx, letters: ports } = c.get('services');",
      "  const ctx = c.get('services').ctx;",
      "    if (secret && (await resolveAdminSession(services.ctx, secret, services.adminToken))) return c.redirect(next, 303);",
      '    const now = services.ctx.clock.now();',
      '    async (c) => c.json(await getCampaign(serviceContextOf(c), slug)),',
    ].join('\n');
    expect(findOrganisationContextCalls('example.ts', handler).map((finding) => finding.line)).toEqual([1, 2, 3, 4]);
  });
});
