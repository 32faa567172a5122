import { Hono } from 'hono';
import * as v from 'valibot';
import { auditedRoutes } from '../../http/audit-actions.js';
import { AuditQuery, listAuditEvents } from '../../services/audit.js';
import { ENV_ADMIN_TOKEN_ID, listTokens } from '../../services/tokens.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { ErrorSummary, type FieldErrors, SelectField, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, missingScopePage, renderPage } from './admin-page.js';
import { auditTexts } from './i18n/audit.js';
import { textsFor } from './i18n/texts.js';
import { serviceContextOf } from '../../http/principal.js';

const filterNames = ['action', 'actor', 'from', 'to'] as const;

const actionNames = [...new Set(Object.values(auditedRoutes).flatMap((entry) => (entry ? [entry.action, ...(entry.pdfAction ? [entry.pdfAction] : [])] : [])))].sort();

/** A `datetime-local` value has no zone; the page says the times are UTC, so it is read as UTC. */
function asUtc(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value;
}

/** A log's time in every language: ISO order to the second, so rows compare and sort at a glance and match the API's `at`. */
function utc(iso: string): string {
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}

async function auditPage(c: AdminContext) {
  const ctx = serviceContextOf(c);
  const values: Record<string, string> = {};
  for (const name of filterNames) {
    const value = c.req.query(name)?.trim();
    if (value) values[name] = value;
  }
  const query = { ...values, ...(values.from ? { from: asUtc(values.from) } : {}), ...(values.to ? { to: asUtc(values.to) } : {}), cursor: c.req.query('cursor'), limit: '50' };
  const parsed = v.safeParse(AuditQuery, query);
  const errors: FieldErrors = parsed.success ? {} : issuesToErrors(parsed.issues, c);
  let page: Awaited<ReturnType<typeof listAuditEvents>> = { items: [], nextCursor: null };
  let message: string | undefined;
  if (parsed.success) {
    try {
      page = await listAuditEvents(ctx, parsed.output);
    } catch (error) {
      // A `to` before `from`, a cursor from elsewhere: shown on the form like any invalid filter.
      const refused = formErrorOf(error, c);
      if (!refused) throw error;
      Object.assign(errors, refused.errors);
      message = refused.message;
    }
  }
  const tokens = await listTokens(ctx);
  const t = textsFor(c, auditTexts);
  const actors = [
    { value: '', label: t.anyone },
    { value: ENV_ADMIN_TOKEN_ID, label: t.adminTokenSetting },
    ...tokens.map((token) => ({ value: token.id, label: `${token.name} (${token.prefix}${token.revokedAt ? `, ${t.revoked}` : ''})` })),
  ];
  const actions = [{ value: '', label: t.anyAction }, ...actionNames.map((name) => ({ value: name, label: name }))];
  const filterParams = new URLSearchParams(values).toString();
  const failed = Object.keys(errors).length > 0 || message !== undefined;

  return renderPage(
    c,
    { title: t.auditLog, section: 'audit', status: failed ? 422 : 200 },
    <>
      <h1>{t.auditLog}</h1>
      <p class="muted">{t.intro}</p>
      <ErrorSummary errors={errors} message={message} labels={{ action: t.action, actor: t.who, from: t.from, to: t.until }} />
      <form method="get" action="/admin/audit" class="card">
        <SelectField name="action" label={t.action} values={values} errors={errors} options={actions} />
        <SelectField name="actor" label={t.who} values={values} errors={errors} options={actors} />
        <TextField name="from" label={t.fromUtc} type="datetime-local" values={values} errors={errors} />
        <TextField name="to" label={t.untilUtc} type="datetime-local" values={values} errors={errors} />
        <button type="submit">{t.show}</button> <a href="/admin/audit">{t.clearFilters}</a>
      </form>
      {page.items.length === 0 ? (
        <p class="muted">{failed ? t.correctFilters : t.noEvents}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t.when}</th>
              <th scope="col">{t.who}</th>
              <th scope="col">{t.action}</th>
              <th scope="col">{t.object}</th>
              <th scope="col">{t.via}</th>
              <th scope="col" class="num">
                {t.status}
              </th>
              <th scope="col">{t.request}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((event) => (
              <tr>
                <td>{utc(event.at)}</td>
                <td>
                  {event.actor.type === 'anonymous' ? (
                    <span class="muted">{t.unknownActor}</span>
                  ) : event.actor.type === 'system' ? (
                    <>
                      {t.systemActor} <span class="muted">{event.actor.name}</span>
                    </>
                  ) : (
                    <>
                      {event.actor.name} <span class="muted">{event.actor.id}</span>
                    </>
                  )}
                </td>
                <td>
                  <code>{event.action}</code>
                  {event.details ? (
                    <div class="muted">
                      {Object.entries(event.details)
                        .map(([name, value]) => `${name} ${value}`)
                        .join(' · ')}
                    </div>
                  ) : null}
                </td>
                <td>{event.object ? `${event.object.type}${event.object.id ? ` ${event.object.id}` : ''}` : '—'}</td>
                <td>{event.via}</td>
                <td class="num">{event.status}</td>
                <td>
                  <code>{event.requestId}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.nextCursor ? (
        <p>
          <a href={`/admin/audit?${filterParams ? `${filterParams}&` : ''}cursor=${encodeURIComponent(page.nextCursor)}`}>{t.olderEvents}</a>
        </p>
      ) : null}
    </>,
  );
}

/** The audit log (scope `admin`, as `GET /api/v1/audit`). */
export function auditPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/audit', requireAdminScope('admin', missingScopePage));
  routes.get('/audit', (c) => auditPage(c));
  return routes;
}
