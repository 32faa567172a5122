import { Hono } from 'hono';
import * as v from 'valibot';
import { auditedRoutes } from '../../http/audit-actions.js';
import { AuditQuery, listAuditEvents } from '../../services/audit.js';
import { ENV_ADMIN_TOKEN_ID, listTokens } from '../../services/tokens.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { ErrorSummary, type FieldErrors, SelectField, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, missingScopePage, renderPage } from './admin-page.js';

const filterNames = ['action', 'actor', 'from', 'to'] as const;

const actionNames = [...new Set(Object.values(auditedRoutes).flatMap((entry) => (entry ? [entry.action, ...(entry.pdfAction ? [entry.pdfAction] : [])] : [])))].sort();

/** A `datetime-local` value has no zone; the page says the times are UTC, so it is read as UTC. */
function asUtc(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value;
}

function utc(iso: string): string {
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}

async function auditPage(c: AdminContext) {
  const { ctx } = c.get('services');
  const values: Record<string, string> = {};
  for (const name of filterNames) {
    const value = c.req.query(name)?.trim();
    if (value) values[name] = value;
  }
  const query = { ...values, ...(values.from ? { from: asUtc(values.from) } : {}), ...(values.to ? { to: asUtc(values.to) } : {}), cursor: c.req.query('cursor'), limit: '50' };
  const parsed = v.safeParse(AuditQuery, query);
  const errors: FieldErrors = parsed.success ? {} : issuesToErrors(parsed.issues);
  let page: Awaited<ReturnType<typeof listAuditEvents>> = { items: [], nextCursor: null };
  let message: string | undefined;
  if (parsed.success) {
    try {
      page = await listAuditEvents(ctx, parsed.output);
    } catch (error) {
      // A `to` before `from`, a cursor from elsewhere: shown on the form like any invalid filter.
      const refused = formErrorOf(error);
      if (!refused) throw error;
      Object.assign(errors, refused.errors);
      message = refused.message;
    }
  }
  const tokens = await listTokens(ctx);
  const actors = [
    { value: '', label: 'Anyone' },
    { value: ENV_ADMIN_TOKEN_ID, label: 'ADMIN_TOKEN (from the settings)' },
    ...tokens.map((token) => ({ value: token.id, label: `${token.name} (${token.prefix}${token.revokedAt ? ', revoked' : ''})` })),
  ];
  const actions = [{ value: '', label: 'Any action' }, ...actionNames.map((name) => ({ value: name, label: name }))];
  const filterParams = new URLSearchParams(values).toString();
  const failed = Object.keys(errors).length > 0 || message !== undefined;

  return renderPage(
    c,
    { title: 'Audit log', section: 'audit', status: failed ? 422 : 200 },
    <>
      <h1>Audit log</h1>
      <p class="muted">
        Every organiser action through the API and this dashboard: who (the token, or the dashboard session opened with it), what, on which object, when,
        and how it ended. Reading supporters' data counts as an action. No supporter's personal data is recorded here, so events are kept for good.
      </p>
      <ErrorSummary errors={errors} message={message} labels={{ action: 'Action', actor: 'Who', from: 'From', to: 'Until' }} />
      <form method="get" action="/admin/audit" class="card">
        <SelectField name="action" label="Action" values={values} errors={errors} options={actions} />
        <SelectField name="actor" label="Who" values={values} errors={errors} options={actors} />
        <TextField name="from" label="From (UTC)" type="datetime-local" values={values} errors={errors} />
        <TextField name="to" label="Until (UTC, not included)" type="datetime-local" values={values} errors={errors} />
        <button type="submit">Show</button> <a href="/admin/audit">Clear the filters</a>
      </form>
      {page.items.length === 0 ? (
        <p class="muted">{failed ? 'Correct the filters to see events.' : 'No events match.'}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Object</th>
              <th scope="col">Via</th>
              <th scope="col" class="num">
                Status
              </th>
              <th scope="col">Request</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((event) => (
              <tr>
                <td>{utc(event.at)}</td>
                <td>
                  {event.actor.type === 'anonymous' ? (
                    <span class="muted">unknown (failed sign-in)</span>
                  ) : (
                    <>
                      {event.actor.name} <span class="muted">{event.actor.id}</span>
                    </>
                  )}
                </td>
                <td>
                  <code>{event.action}</code>
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
          <a href={`/admin/audit?${filterParams ? `${filterParams}&` : ''}cursor=${encodeURIComponent(page.nextCursor)}`}>Older events →</a>
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
