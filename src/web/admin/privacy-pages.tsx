import { Hono } from 'hono';
import * as v from 'valibot';
import { attachmentDisposition } from '../../http/content-disposition.js';
import { PageQuery } from '../../services/pagination.js';
import { eraseAddressForOrganiser, exportAddressForOrganiser, listPrivacyRequests, PrivacyAddressInput } from '../../services/privacy.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, StatusBadge, TextField } from './admin-layout.js';
import { issuesToErrors, missingScopePage, Notice, renderPage } from './admin-page.js';

type Forms = { erase?: { values: Record<string, string>; errors: FieldErrors }; export?: { values: Record<string, string>; errors: FieldErrors } };

async function privacyPage(c: AdminContext, forms: Forms = {}, status: 200 | 422 = 200) {
  const parsed = v.safeParse(PageQuery, { cursor: c.req.query('cursor') });
  const page = await listPrivacyRequests(c.get('services').ctx, parsed.success ? parsed.output : { limit: 50 });
  const session = c.var.session;
  return renderPage(
    c,
    { title: 'Privacy', section: 'privacy', status },
    <>
      <h1>Privacy requests</h1>
      <Notice done={c.req.query('done')} />
      <p class="muted">
        Supporters ask for their data, its deletion or a change of their choices on the public page <a href="/privacy">/privacy</a>, and act through the link
        emailed to them. A request received by post or in person is handled here: the address is used for the action and not kept in the record.
      </p>
      <div class="card">
        <h2>Erase an address</h2>
        <p class="muted">
          Every signature of the address loses its name, email, city, postal code, comment and IP hash; the signatures stay counted. Pending signing
          requests, emails waiting to be sent, bounces and suppressions of the address are deleted. Letters already made are kept. This cannot be undone.
        </p>
        <ErrorSummary errors={forms.erase?.errors ?? {}} labels={{ email: 'Email address' }} />
        <form method="post" action="/admin/privacy/erase">
          <CsrfField session={session} />
          <TextField name="email" label="Email address" type="email" required values={forms.erase?.values ?? {}} errors={forms.erase?.errors ?? {}} />
          <button type="submit" class="danger">
            Erase this address
          </button>
        </form>
      </div>
      <div class="card">
        <h2>Export an address</h2>
        <p class="muted">Downloads everything held about the address as a JSON file, to send to the person who asked.</p>
        <ErrorSummary errors={forms.export?.errors ?? {}} labels={{ email: 'Email address' }} />
        <form method="post" action="/admin/privacy/export">
          <CsrfField session={session} />
          <TextField name="email" label="Email address" type="email" required values={forms.export?.values ?? {}} errors={forms.export?.errors ?? {}} />
          <button type="submit" class="secondary">
            Download the data
          </button>
        </form>
      </div>
      <h2>Requests handled</h2>
      {page.items.length === 0 ? (
        <p class="muted">No privacy requests yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Kind</th>
              <th scope="col">Origin</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Signatures
              </th>
              <th scope="col">Completed</th>
              <th scope="col">Handled by</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((request) => (
              <tr>
                <td>{request.createdAt.slice(0, 16).replace('T', ' ')} UTC</td>
                <td>{request.kind}</td>
                <td>{request.origin}</td>
                <td>
                  <StatusBadge status={request.status} />
                </td>
                <td class="num">{request.signatureCount ?? '—'}</td>
                <td>{request.completedAt ? `${request.completedAt.slice(0, 16).replace('T', ' ')} UTC` : '—'}</td>
                <td>{request.handledBy ?? (request.origin === 'supporter' ? 'the supporter, by email link' : '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.nextCursor ? (
        <p>
          <a href={`/admin/privacy?cursor=${encodeURIComponent(page.nextCursor)}`}>Older requests →</a>
        </p>
      ) : null}
    </>,
  );
}

/** Privacy requests and the organisers' erase and export (scope `privacy`). */
export function privacyPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/privacy', requireAdminScope('privacy', missingScopePage));
  routes.use('/privacy/*', requireAdminScope('privacy', missingScopePage));

  routes.get('/privacy', (c) => privacyPage(c));

  routes.post('/privacy/erase', async (c) => {
    const values = { email: c.var.form.email ?? '' };
    const parsed = v.safeParse(PrivacyAddressInput, values);
    if (!parsed.success) return privacyPage(c, { erase: { values, errors: issuesToErrors(parsed.issues) } }, 422);
    await eraseAddressForOrganiser(c.get('services').ctx, c.var.session.principal, parsed.output);
    return c.redirect('/admin/privacy?done=erased', 303);
  });

  // A POST, so the address is in no URL (browser history, proxy logs).
  routes.post('/privacy/export', async (c) => {
    const values = { email: c.var.form.email ?? '' };
    const parsed = v.safeParse(PrivacyAddressInput, values);
    if (!parsed.success) return privacyPage(c, { export: { values, errors: issuesToErrors(parsed.issues) } }, 422);
    const data = await exportAddressForOrganiser(c.get('services').ctx, c.var.session.principal, parsed.output);
    return c.body(JSON.stringify(data, null, 2), 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': attachmentDisposition(`personal-data-${data.generatedAt.slice(0, 10)}.json`),
      'Cache-Control': 'no-store',
    });
  });

  return routes;
}
