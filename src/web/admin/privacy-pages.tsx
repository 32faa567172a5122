import { Hono } from 'hono';
import * as v from 'valibot';
import { attachmentDisposition } from '../../http/content-disposition.js';
import { PageQuery } from '../../services/pagination.js';
import { eraseAddressForOrganiser, exportAddressForOrganiser, listPrivacyRequests, PrivacyAddressInput } from '../../services/privacy.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, StatusBadge, TextField } from './admin-layout.js';
import { issuesToErrors, missingScopePage, Notice, renderPage } from './admin-page.js';
import { interpolate } from '../i18n/index.js';
import { privacyRequestTexts, privacyTexts } from './i18n/privacy.js';
import { formatDateTime, formatNumber, textsFor } from './i18n/texts.js';
import { serviceContextOf } from '../../http/principal.js';

type Forms = { erase?: { values: Record<string, string>; errors: FieldErrors }; export?: { values: Record<string, string>; errors: FieldErrors } };

async function privacyPage(c: AdminContext, forms: Forms = {}, status: 200 | 422 = 200) {
  const parsed = v.safeParse(PageQuery, { cursor: c.req.query('cursor') });
  const page = await listPrivacyRequests(serviceContextOf(c), parsed.success ? parsed.output : { limit: 50 });
  const session = c.var.session;
  const t = textsFor(c, privacyTexts);
  const requestWords = textsFor(c, privacyRequestTexts);
  const language = c.var.language;
  const emailLabels = { email: t.emailAddress };
  return renderPage(
    c,
    { title: t.privacy, section: 'privacy', status },
    <>
      <h1>{t.privacyRequests}</h1>
      <Notice done={c.req.query('done')} />
      <p class="muted">{interpolate(t.intro, { link: <a href="/privacy">/privacy</a> })}</p>
      <div class="card">
        <h2>{t.eraseAddress}</h2>
        <p class="muted">{t.eraseHelp}</p>
        <ErrorSummary errors={forms.erase?.errors ?? {}} labels={emailLabels} />
        <form method="post" action="/admin/privacy/erase">
          <CsrfField session={session} />
          <TextField name="email" label={t.emailAddress} type="email" required values={forms.erase?.values ?? {}} errors={forms.erase?.errors ?? {}} />
          <button type="submit" class="danger">
            {t.eraseThisAddress}
          </button>
        </form>
      </div>
      <div class="card">
        <h2>{t.exportAddress}</h2>
        <p class="muted">{t.exportHelp}</p>
        <ErrorSummary errors={forms.export?.errors ?? {}} labels={emailLabels} />
        <form method="post" action="/admin/privacy/export">
          <CsrfField session={session} />
          <TextField name="email" label={t.emailAddress} type="email" required values={forms.export?.values ?? {}} errors={forms.export?.errors ?? {}} />
          <button type="submit" class="secondary">
            {t.downloadData}
          </button>
        </form>
      </div>
      <h2>{t.requestsHandled}</h2>
      {page.items.length === 0 ? (
        <p class="muted">{t.noRequests}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t.received}</th>
              <th scope="col">{t.kind}</th>
              <th scope="col">{t.origin}</th>
              <th scope="col">{t.status}</th>
              <th scope="col" class="num">
                {t.signatures}
              </th>
              <th scope="col">{t.completed}</th>
              <th scope="col">{t.handledBy}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((request) => (
              <tr>
                <td>{formatDateTime(language, request.createdAt)}</td>
                <td>{requestWords[request.kind]}</td>
                <td>{requestWords[request.origin]}</td>
                <td>
                  <StatusBadge status={request.status} />
                </td>
                <td class="num">{request.signatureCount === null ? '—' : formatNumber(language, request.signatureCount)}</td>
                <td>{request.completedAt ? formatDateTime(language, request.completedAt) : '—'}</td>
                <td>{request.handledBy ?? (request.origin === 'supporter' ? t.bySupporter : '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.nextCursor ? (
        <p>
          <a href={`/admin/privacy?cursor=${encodeURIComponent(page.nextCursor)}`}>{t.olderRequests}</a>
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
    if (!parsed.success) return privacyPage(c, { erase: { values, errors: issuesToErrors(parsed.issues, c) } }, 422);
    await eraseAddressForOrganiser(serviceContextOf(c), c.var.session.principal, parsed.output);
    return c.redirect('/admin/privacy?done=erased', 303);
  });

  // A POST, so the address is in no URL (browser history, proxy logs).
  routes.post('/privacy/export', async (c) => {
    const values = { email: c.var.form.email ?? '' };
    const parsed = v.safeParse(PrivacyAddressInput, values);
    if (!parsed.success) return privacyPage(c, { export: { values, errors: issuesToErrors(parsed.issues, c) } }, 422);
    const data = await exportAddressForOrganiser(serviceContextOf(c), c.var.session.principal, parsed.output);
    return c.body(JSON.stringify(data, null, 2), 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': attachmentDisposition(`personal-data-${data.generatedAt.slice(0, 10)}.json`),
      'Cache-Control': 'no-store',
    });
  });

  return routes;
}
