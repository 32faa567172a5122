import { Hono, type MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { addBlocklistEntry, BlocklistEntryInput, listBlocklist, removeBlocklistEntry } from '../../services/blocklist.js';
import { listCampaigns } from '../../services/campaigns.js';
import { BulkSignatureFilter, endOfHour, invalidateSignatures, listBulkActions, revalidateSignatures, type SignatureSources, signatureSources } from '../../services/signature-review.js';
import type { Scope } from '../../services/tokens.js';
import { type AdminContext, type AdminEnv, can, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, PostButton, SelectField, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, keptValues, missingScopePage, renderPage } from './admin-page.js';

type Values = Record<string, string>;
type FormState = { values: Values; errors: FieldErrors; message?: string | undefined };
type Forms = { block?: FormState; bulk?: FormState };

/** Periods the sources table offers, in hours (the API takes any from/to up to 31 days). */
const periods = [
  { hours: 6, label: 'Last 6 hours' },
  { hours: 24, label: 'Last 24 hours' },
  { hours: 72, label: 'Last 3 days' },
  { hours: 168, label: 'Last 7 days' },
  { hours: 744, label: 'Last 31 days' },
];
const HOUR_MS = 3_600_000;

const kindOptions = [
  { value: 'domain', label: 'Email domain (example.org, or *.example.org for its subdomains)' },
  { value: 'email', label: 'Email address' },
  { value: 'ip', label: 'IP address or range (192.0.2.0/24, 2001:db8::/48; an IPv6 address blocks its /64)' },
];
const blockLabels = { kind: 'Kind', value: 'Value', note: 'Note' };
const bulkLabels = { ipHash: 'IP hash', domain: 'Email domain', from: 'From', to: 'To' };

/** Short fixed notices after a redirect; a count is read as a number, so no link can put words on the page. */
function AbuseNotice(props: { done: string | undefined; count: string | undefined }) {
  const count = /^\d{1,9}$/.test(props.count ?? '') ? Number(props.count) : null;
  const plural = (n: number) => `${n.toLocaleString('en')} signature${n === 1 ? '' : 's'}`;
  const text =
    props.done === 'blocked'
      ? 'Added to the block list.'
      : props.done === 'unblocked'
        ? 'Removed from the block list.'
        : props.done === 'invalidated' && count !== null
          ? `${plural(count)} invalidated.`
          : props.done === 'revalidated' && count !== null
            ? `${plural(count)} confirmed again.`
            : null;
  return text ? (
    <p class="notice" role="status">
      {text}
    </p>
  ) : null;
}

const hourLabel = (iso: string) => `${iso.slice(0, 13).replace('T', ' ')}:00 UTC`;
const utcLabel = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/** A `datetime-local` value read as UTC, or the text as given (an ISO date-time with a zone is accepted too). */
function utcInstant(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00Z` : value;
}

function SourcesTable(props: { title: string; rows: SignatureSources['byIpHash'] | SignatureSources['byDomain']; kind: 'ipHash' | 'domain'; slug: string; hours: number; canInvalidate: boolean }) {
  if (props.rows.length === 0) return <p class="muted">No signing requests in this period.</p>;
  return (
    <table>
      <caption class="muted">{props.title}</caption>
      <thead>
        <tr>
          <th scope="col">Hour</th>
          <th scope="col">{props.kind === 'ipHash' ? 'IP hash' : 'Email domain'}</th>
          <th scope="col" class="num">Total</th>
          <th scope="col" class="num">Unconfirmed</th>
          <th scope="col" class="num">Confirmed</th>
          <th scope="col" class="num">Invalidated</th>
          <th scope="col" class="num">Fraudulent</th>
          {props.canInvalidate ? <th scope="col">Act</th> : null}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => {
          const source = 'ipHash' in row ? row.ipHash : (row as { domain: string }).domain;
          const fill = new URLSearchParams({ campaign: props.slug, hours: String(props.hours), [props.kind]: source });
          return (
            <tr>
              <td>{hourLabel(row.hour)}</td>
              <td>
                <code>{source}</code>
              </td>
              <td class="num">{row.total}</td>
              <td class="num">{row.unconfirmed}</td>
              <td class="num">{row.confirmed}</td>
              <td class="num">{row.invalidated}</td>
              <td class="num">{row.fraudulent}</td>
              {props.canInvalidate ? (
                <td>
                  <a href={`/admin/abuse?${fill.toString()}#bulk`}>Fill in the form</a>
                </td>
              ) : null}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

async function abusePage(c: AdminContext, forms: Forms = {}, status: 200 | 409 | 422 = 200) {
  const { ctx } = c.get('services');
  const session = c.var.session;
  const canAdmin = can(c, 'admin');
  const canRead = can(c, 'signatures:read');
  const canWrite = can(c, 'campaigns');
  const slug = forms.bulk?.values.campaign ?? c.req.query('campaign') ?? '';
  const hoursQuery = Number(c.req.query('hours'));
  const hours = periods.some((p) => p.hours === hoursQuery) ? hoursQuery : 24;

  const entries = canAdmin ? await listBlocklist(ctx) : [];
  const campaignList = (await listCampaigns(ctx, { limit: 200 })).items;
  const campaign = campaignList.find((item) => item.slug === slug);
  const end = endOfHour(ctx.clock.now());
  const sources = campaign && canRead ? await signatureSources(ctx, campaign.slug, { from: end - hours * HOUR_MS, to: end, limit: 50 }) : null;
  const actions = campaign && canWrite ? await listBulkActions(ctx, campaign.slug) : [];
  const bulkValues = forms.bulk?.values ?? { ipHash: c.req.query('ipHash') ?? '', domain: c.req.query('domain') ?? '' };
  const bulkErrors = forms.bulk?.errors ?? {};

  return renderPage(
    c,
    { title: 'Abuse', section: 'abuse', status },
    <>
      <h1>Abuse</h1>
      <AbuseNotice done={c.req.query('done')} count={c.req.query('count')} />
      <p class="muted">
        Signatures from a blocked address, domain or network are answered exactly like any other and stored as <b>fraudulent</b>: never counted, never
        mailed, so whoever sends them cannot tell. A burst shows in the sources per hour below; invalidating it takes those signatures out of the count, and
        revalidating puts them back.
      </p>

      {canAdmin ? (
        <div class="card">
          <h2>Block list</h2>
          <p class="muted">Applies to every campaign. Entries are kept in a normal form: addresses in lower case, domains in ASCII (punycode), networks with their prefix.</p>
          {entries.length === 0 ? (
            <p class="muted">The block list is empty.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Value</th>
                  <th scope="col">Note</th>
                  <th scope="col">Added</th>
                  <th scope="col">Remove</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr>
                    <td>{entry.kind}</td>
                    <td>
                      <code>{entry.value}</code>
                    </td>
                    <td>{entry.note ?? '—'}</td>
                    <td>
                      {utcLabel(entry.createdAt)}
                      <div class="muted">{entry.createdBy}</div>
                    </td>
                    <td>
                      <PostButton session={session} action={`/admin/abuse/blocklist/${encodeURIComponent(entry.id)}/delete`} label="Remove" variant="secondary" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>Add an entry</h3>
          <ErrorSummary errors={forms.block?.errors ?? {}} message={forms.block?.message} labels={blockLabels} />
          <form method="post" action="/admin/abuse/blocklist">
            <CsrfField session={session} />
            <SelectField name="kind" label="Kind" values={forms.block?.values ?? { kind: 'domain' }} errors={forms.block?.errors ?? {}} options={kindOptions} />
            <TextField name="value" label="Value" required values={forms.block?.values ?? {}} errors={forms.block?.errors ?? {}} />
            <TextField name="note" label="Note (optional)" hint="Why, for whoever reads the list later." values={forms.block?.values ?? {}} errors={forms.block?.errors ?? {}} />
            <button type="submit" class="danger">
              Block
            </button>
          </form>
        </div>
      ) : null}

      <div class="card">
        <h2>Sources of a campaign's signatures</h2>
        <form method="get" action="/admin/abuse" class="actions">
          <SelectField
            name="campaign"
            label="Campaign"
            values={{ campaign: campaign?.slug ?? '' }}
            errors={{}}
            options={[{ value: '', label: 'Choose a campaign' }, ...campaignList.map((item) => ({ value: item.slug, label: `${item.title} (${item.slug})` }))]}
          />
          <SelectField name="hours" label="Period" values={{ hours: String(hours) }} errors={{}} options={periods.map((p) => ({ value: String(p.hours), label: p.label }))} />
          <button type="submit" class="secondary">
            Show
          </button>
        </form>
        {!campaign ? (
          <p class="muted">Choose a campaign to see where its signatures came from.</p>
        ) : sources ? (
          <>
            <p class="muted">
              Per UTC hour, busiest first, from {utcLabel(sources.from)} to {utcLabel(sources.to)}. An IP hash stands for one IPv4 address or one IPv6 /64 on one day;
              the same client has another hash the next day. {sources.truncated ? 'Only the busiest sources are listed.' : ''}
            </p>
            <h3>By IP hash</h3>
            <SourcesTable title="Requests by IP hash and hour" rows={sources.byIpHash} kind="ipHash" slug={campaign.slug} hours={hours} canInvalidate={canWrite} />
            <h3>By email domain</h3>
            <SourcesTable title="Requests by email domain and hour" rows={sources.byDomain} kind="domain" slug={campaign.slug} hours={hours} canInvalidate={canWrite} />
          </>
        ) : (
          <p class="muted">Seeing the sources needs the “signatures:read” scope.</p>
        )}
      </div>

      {campaign && canWrite ? (
        <div class="card" id="bulk">
          <h2>Invalidate or revalidate signatures</h2>
          <p class="muted">
            Invalidating moves the confirmed signatures that match out of the count, the letters and mailings; revalidating moves back those an invalidation
            moved (never the ones marked fraudulent). Give an IP hash or a domain, a time range (UTC, on when the request was made; the end is not included), or
            both.
          </p>
          <ErrorSummary errors={bulkErrors} message={forms.bulk?.message} labels={bulkLabels} />
          <form method="post" action="/admin/abuse/invalidate">
            <CsrfField session={session} />
            <input type="hidden" name="campaign" value={campaign.slug} />
            <div class="grid2">
              <TextField name="ipHash" label="IP hash" values={bulkValues} errors={bulkErrors} />
              <TextField name="domain" label="Email domain" hint="example.org, or *.example.org for its subdomains" values={bulkValues} errors={bulkErrors} />
              <TextField name="from" label="From (UTC)" type="datetime-local" values={bulkValues} errors={bulkErrors} />
              <TextField name="to" label="To (UTC)" type="datetime-local" values={bulkValues} errors={bulkErrors} />
            </div>
            <div class="actions">
              <button type="submit" class="danger">
                Invalidate
              </button>
              <button type="submit" class="secondary" formaction="/admin/abuse/revalidate">
                Revalidate
              </button>
            </div>
          </form>
          {actions.length > 0 ? (
            <table>
              <caption class="muted">Recent bulk actions on this campaign</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Filter</th>
                  <th scope="col" class="num">Signatures</th>
                  <th scope="col">By</th>
                </tr>
              </thead>
              <tbody>
                {actions.map((action) => (
                  <tr>
                    <td>{utcLabel(action.createdAt)}</td>
                    <td>{action.action}</td>
                    <td>
                      <code>
                        {Object.entries(action.filter)
                          .map(([name, value]) => `${name}=${value}`)
                          .join(' ')}
                      </code>
                    </td>
                    <td class="num">{action.signatureCount}</td>
                    <td>{action.actor}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </>,
  );
}

/** The filter fields of the bulk form as the API's input: empty fields left out, `datetime-local` values read as UTC. */
function bulkInput(form: Values) {
  const input: Record<string, string> = {};
  for (const name of ['ipHash', 'domain', 'from', 'to'] as const) {
    const value = form[name]?.trim();
    if (value) input[name] = name === 'from' || name === 'to' ? utcInstant(value) : value;
  }
  return input;
}

async function bulkAction(c: AdminContext, act: typeof invalidateSignatures | typeof revalidateSignatures, done: 'invalidated' | 'revalidated') {
  const form = keptValues(c.var.form);
  const slug = form.campaign ?? '';
  const parsed = v.safeParse(BulkSignatureFilter, bulkInput(form));
  if (!parsed.success) {
    // A check on the whole filter (one of ipHash, domain or a range) has no field: it is shown at the top.
    const { _: root, ...errors } = issuesToErrors(parsed.issues);
    return abusePage(c, { bulk: { values: form, errors, message: root?.join('; ') } }, 422);
  }
  const result = await act(c.get('services').ctx, c.var.session.principal, slug, parsed.output);
  const count = 'invalidated' in result ? result.invalidated : result.revalidated;
  return c.redirect(`/admin/abuse?campaign=${encodeURIComponent(slug)}&done=${done}&count=${count}#bulk`, 303);
}

/** The page shows what the token may see: a session needs one of these scopes (`admin` holds them all). */
function requireAnyScope(scopes: [Scope, ...Scope[]]): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    if (!scopes.some((scope) => can(c, scope))) return missingScopePage(c, scopes[0]);
    await next();
  };
}

/** The abuse page: the block list (scope `admin`), sources (`signatures:read`), bulk invalidation (`campaigns`), as in the API. */
export function abusePages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/abuse', requireAnyScope(['signatures:read', 'campaigns']));
  routes.use('/abuse/blocklist', requireAdminScope('admin', missingScopePage));
  routes.use('/abuse/blocklist/*', requireAdminScope('admin', missingScopePage));
  routes.use('/abuse/invalidate', requireAdminScope('campaigns', missingScopePage));
  routes.use('/abuse/revalidate', requireAdminScope('campaigns', missingScopePage));

  routes.get('/abuse', (c) => abusePage(c));

  routes.post('/abuse/blocklist', async (c) => {
    const values = keptValues(c.var.form);
    const input = { kind: values.kind ?? '', value: values.value ?? '', ...(values.note?.trim() ? { note: values.note } : {}) };
    const parsed = v.safeParse(BlocklistEntryInput, input);
    if (!parsed.success) return abusePage(c, { block: { values, errors: issuesToErrors(parsed.issues) } }, 422);
    try {
      await addBlocklistEntry(c.get('services').ctx, c.var.session.principal, parsed.output);
    } catch (error) {
      const shown = formErrorOf(error);
      if (!shown) throw error;
      return abusePage(c, { block: { values, errors: shown.errors, message: shown.message } }, shown.status === 409 ? 409 : 422);
    }
    return c.redirect('/admin/abuse?done=blocked', 303);
  });

  routes.post('/abuse/blocklist/:id/delete', async (c) => {
    await removeBlocklistEntry(c.get('services').ctx, c.req.param('id'));
    return c.redirect('/admin/abuse?done=unblocked', 303);
  });

  routes.post('/abuse/invalidate', (c) => bulkAction(c, invalidateSignatures, 'invalidated'));
  routes.post('/abuse/revalidate', (c) => bulkAction(c, revalidateSignatures, 'revalidated'));

  return routes;
}
