import { Hono, type MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { addBlocklistEntry, BlocklistEntryInput, listBlocklist, removeBlocklistEntry } from '../../services/blocklist.js';
import { listCampaigns } from '../../services/campaigns.js';
import { clearFraudulentRequests, ClearFraudulentRequestsInput, type FraudulentRequestView, listFraudulentRequests } from '../../services/fraudulent-requests.js';
import { ValidationFailed } from '../../lib/service-errors.js';
import { decodeCursor, type Page } from '../../services/pagination.js';
import { BulkSignatureFilter, endOfHour, invalidateSignatures, listBulkActions, revalidateSignatures, type SignatureSources, signatureSources } from '../../services/signature-review.js';
import type { Scope } from '../../services/tokens.js';
import { type AdminContext, type AdminEnv, can, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, PostButton, SelectField, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, keptValues, missingScopePage, renderPage } from './admin-page.js';
import { interpolate } from '../i18n/index.js';
import { abuseTexts } from './i18n/abuse.js';
import { type DashboardLanguage, formatDateTime, formatNumber, textsFor, type TextsOf, useDashboardLanguage, useTexts } from './i18n/texts.js';

type AbuseTexts = TextsOf<typeof abuseTexts>;
import { serviceContextOf } from '../../http/principal.js';

type Values = Record<string, string>;
type FormState = { values: Values; errors: FieldErrors; message?: string | undefined };
type Forms = { block?: FormState; bulk?: FormState; clear?: FormState };

/** Periods the sources table offers, in hours (the API takes any from/to up to 31 days). */
const periods = [
  { hours: 6, label: 'last6Hours' },
  { hours: 24, label: 'last24Hours' },
  { hours: 72, label: 'last3Days' },
  { hours: 168, label: 'last7Days' },
  { hours: 744, label: 'last31Days' },
] as const;
const HOUR_MS = 3_600_000;

const kindOptions = (t: AbuseTexts) => [
  { value: 'domain', label: t.kindDomain },
  { value: 'email', label: t.kindEmail },
  { value: 'ip', label: t.kindIp },
];
const entryKinds = (t: AbuseTexts): Record<string, string> => ({ domain: t.entryDomain, email: t.entryEmail, ip: t.entryIp });
const blockLabels = (t: AbuseTexts) => ({ kind: t.kind, value: t.value, note: t.note });
const bulkLabels = (t: AbuseTexts) => ({ ipHash: t.ipHash, domain: t.emailDomain, from: t.from, to: t.to });

/** Short fixed notices after a redirect; a count is read as a number, so no link can put words on the page. */
function AbuseNotice(props: { done: string | undefined; count: string | undefined }) {
  const t = useTexts(abuseTexts);
  const language = useDashboardLanguage();
  const count = /^\d{1,9}$/.test(props.count ?? '') ? Number(props.count) : null;
  const counted = (one: string, many: string, n: number) => interpolate(n === 1 ? one : many, { count: formatNumber(language, n) });
  const text =
    props.done === 'blocked'
      ? t.blocked
      : props.done === 'unblocked'
        ? t.unblocked
        : props.done === 'invalidated' && count !== null
          ? counted(t.invalidatedOne, t.invalidatedMany, count)
          : props.done === 'revalidated' && count !== null
            ? counted(t.revalidatedOne, t.revalidatedMany, count)
            : props.done === 'cleared' && count !== null
              ? counted(t.clearedOne, t.clearedMany, count)
              : null;
  return text ? (
    <p class="notice" role="status">
      {text}
    </p>
  ) : null;
}

/** An hour's start, in the viewer's language and in UTC (the sources are counted per UTC hour). */
const hourLabel = (language: DashboardLanguage, iso: string) => formatDateTime(language, `${iso.slice(0, 13)}:00:00Z`);
const utcLabel = (language: DashboardLanguage, iso: string) => formatDateTime(language, iso);

/** A `datetime-local` value read as UTC, or the text as given (an ISO date-time with a zone is accepted too). */
function utcInstant(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00Z` : value;
}

function SourcesTable(props: { title: string; rows: SignatureSources['byIpHash'] | SignatureSources['byDomain']; kind: 'ipHash' | 'domain'; slug: string; hours: number; canInvalidate: boolean }) {
  const t = useTexts(abuseTexts);
  const language = useDashboardLanguage();
  const count = (n: number) => formatNumber(language, n);
  if (props.rows.length === 0) return <p class="muted">{t.noRequestsInPeriod}</p>;
  return (
    <table>
      <caption class="muted">{props.title}</caption>
      <thead>
        <tr>
          <th scope="col">{t.hour}</th>
          <th scope="col">{props.kind === 'ipHash' ? t.ipHash : t.emailDomain}</th>
          <th scope="col" class="num">{t.total}</th>
          <th scope="col" class="num">{t.unconfirmed}</th>
          <th scope="col" class="num">{t.confirmed}</th>
          <th scope="col" class="num">{t.invalidated}</th>
          <th scope="col" class="num">{t.fraudulentColumn}</th>
          {props.canInvalidate ? <th scope="col">{t.act}</th> : null}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => {
          const source = 'ipHash' in row ? row.ipHash : (row as { domain: string }).domain;
          const fill = new URLSearchParams({ campaign: props.slug, hours: String(props.hours), [props.kind]: source });
          return (
            <tr>
              <td>{hourLabel(language, row.hour)}</td>
              <td>
                <code>{source}</code>
              </td>
              <td class="num">{count(row.total)}</td>
              <td class="num">{count(row.unconfirmed)}</td>
              <td class="num">{count(row.confirmed)}</td>
              <td class="num">{count(row.invalidated)}</td>
              <td class="num">{count(row.fraudulent)}</td>
              {props.canInvalidate ? (
                <td>
                  <a href={`/admin/abuse?${fill.toString()}#bulk`}>{t.fillInForm}</a>
                </td>
              ) : null}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** A cursor from the link, or the first page for one this list did not make: this is one card of several, not a page to refuse. */
function cursorOrFirstPage(cursor: string | undefined): string | undefined {
  try {
    decodeCursor(cursor);
    return cursor;
  } catch (error) {
    if (error instanceof ValidationFailed) return undefined;
    throw error;
  }
}

/** Fraudulent requests are named by checkboxes `request-<id>` (a repeated field name would keep only its last value). */
const REQUEST_FIELD = /^request-(.+)$/;

/**
 * A campaign's fraudulent requests, newest first: what the sources show (time, IP hash,
 * domain) and the kind of entry matched; with `campaigns`, boxes to clear them.
 */
function FraudulentRequests(props: { page: Page<FraudulentRequestView>; slug: string; hours: number; canClear: boolean; session: AdminContext['var']['session']; message: string | undefined }) {
  const t = useTexts(abuseTexts);
  const language = useDashboardLanguage();
  if (props.page.items.length === 0) return <p class="muted">{t.noFraudulentRequests}</p>;
  const kinds = entryKinds(t);
  const table = (
    <table>
      <caption class="muted">{t.fraudulentCaption}</caption>
      <thead>
        <tr>
          {props.canClear ? <th scope="col">{t.select}</th> : null}
          <th scope="col">{t.when}</th>
          <th scope="col">{t.ipHash}</th>
          <th scope="col">{t.emailDomain}</th>
          <th scope="col">{t.blockedBy}</th>
        </tr>
      </thead>
      <tbody>
        {props.page.items.map((item) => {
          const when = utcLabel(language, item.createdAt);
          return (
            <tr>
              {props.canClear ? (
                <td>
                  <input type="checkbox" name={`request-${item.id}`} value="on" aria-label={interpolate(t.selectRequest, { when, domain: item.domain })} />
                </td>
              ) : null}
              <td>{when}</td>
              <td>{item.ipHash ? <code>{item.ipHash}</code> : '—'}</td>
              <td>
                <code>{item.domain}</code>
              </td>
              <td>{item.blockedBy ? kinds[item.blockedBy] : t.blockedByUnknown}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
  const older = props.page.nextCursor ? (
    <p>
      <a href={`/admin/abuse?${new URLSearchParams({ campaign: props.slug, hours: String(props.hours), fraudulentCursor: props.page.nextCursor }).toString()}#fraudulent`}>{t.olderFraudulentRequests}</a>
    </p>
  ) : null;
  if (!props.canClear) {
    return (
      <>
        {table}
        {older}
      </>
    );
  }
  return (
    <>
      <ErrorSummary errors={{}} message={props.message} />
      <form method="post" action="/admin/abuse/fraudulent-requests/clear">
        <CsrfField session={props.session} />
        <input type="hidden" name="campaign" value={props.slug} />
        {table}
        <div class="actions">
          <button type="submit" class="danger">
            {t.clearSelected}
          </button>
        </div>
      </form>
      {older}
    </>
  );
}

async function abusePage(c: AdminContext, forms: Forms = {}, status: 200 | 409 | 422 = 200) {
  const ctx = serviceContextOf(c);
  const session = c.var.session;
  // The block list is the organisation's: a token limited to campaigns does not see it, whatever its scopes.
  const canAdmin = can(c, 'admin') && session.principal.access.kind === 'organisation';
  const canRead = can(c, 'signatures:read');
  const canWrite = can(c, 'campaigns');
  const slug = forms.bulk?.values.campaign ?? forms.clear?.values.campaign ?? c.req.query('campaign') ?? '';
  const hoursQuery = Number(c.req.query('hours'));
  const hours = periods.some((p) => p.hours === hoursQuery) ? hoursQuery : 24;

  const entries = canAdmin ? await listBlocklist(ctx) : [];
  const campaignList = (await listCampaigns(ctx, { limit: 200 })).items;
  const campaign = campaignList.find((item) => item.slug === slug);
  const end = endOfHour(ctx.clock.now());
  const sources = campaign && canRead ? await signatureSources(ctx, campaign.slug, { from: end - hours * HOUR_MS, to: end, limit: 50 }) : null;
  const actions = campaign && canWrite ? await listBulkActions(ctx, campaign.slug) : [];
  const fraudulent = campaign && canRead ? await listFraudulentRequests(ctx, campaign.slug, { limit: 50, cursor: cursorOrFirstPage(c.req.query('fraudulentCursor')) }) : null;
  const bulkValues = forms.bulk?.values ?? { ipHash: c.req.query('ipHash') ?? '', domain: c.req.query('domain') ?? '' };
  const bulkErrors = forms.bulk?.errors ?? {};
  const t = textsFor(c, abuseTexts);
  const language = c.var.language;
  const kinds = entryKinds(t);

  return renderPage(
    c,
    { title: t.abuse, section: 'abuse', status },
    <>
      <h1>{t.abuse}</h1>
      <AbuseNotice done={c.req.query('done')} count={c.req.query('count')} />
      <p class="muted">{interpolate(t.intro, { fraudulent: <b>{t.fraudulent}</b> })}</p>

      {canAdmin ? (
        <div class="card">
          <h2>{t.blockList}</h2>
          <p class="muted">{t.blockListHelp}</p>
          {entries.length === 0 ? (
            <p class="muted">{t.blockListEmpty}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.kind}</th>
                  <th scope="col">{t.value}</th>
                  <th scope="col">{t.note}</th>
                  <th scope="col">{t.added}</th>
                  <th scope="col">{t.remove}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr>
                    <td>{kinds[entry.kind] ?? entry.kind}</td>
                    <td>
                      <code>{entry.value}</code>
                    </td>
                    <td>{entry.note ?? '—'}</td>
                    <td>
                      {utcLabel(language, entry.createdAt)}
                      <div class="muted">{entry.createdBy}</div>
                    </td>
                    <td>
                      <PostButton session={session} action={`/admin/abuse/blocklist/${encodeURIComponent(entry.id)}/delete`} label={t.remove} variant="secondary" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t.addEntry}</h3>
          <ErrorSummary errors={forms.block?.errors ?? {}} message={forms.block?.message} labels={blockLabels(t)} />
          <form method="post" action="/admin/abuse/blocklist">
            <CsrfField session={session} />
            <SelectField name="kind" label={t.kind} values={forms.block?.values ?? { kind: 'domain' }} errors={forms.block?.errors ?? {}} options={kindOptions(t)} />
            <TextField name="value" label={t.value} required values={forms.block?.values ?? {}} errors={forms.block?.errors ?? {}} />
            <TextField name="note" label={t.noteOptional} hint={t.noteHint} values={forms.block?.values ?? {}} errors={forms.block?.errors ?? {}} />
            <button type="submit" class="danger">
              {t.block}
            </button>
          </form>
        </div>
      ) : null}

      <div class="card">
        <h2>{t.sourcesHeading}</h2>
        <form method="get" action="/admin/abuse" class="actions">
          <SelectField
            name="campaign"
            label={t.campaign}
            values={{ campaign: campaign?.slug ?? '' }}
            errors={{}}
            options={[{ value: '', label: t.chooseCampaign }, ...campaignList.map((item) => ({ value: item.slug, label: `${item.title} (${item.slug})` }))]}
          />
          <SelectField name="hours" label={t.period} values={{ hours: String(hours) }} errors={{}} options={periods.map((p) => ({ value: String(p.hours), label: t[p.label] }))} />
          <button type="submit" class="secondary">
            {t.show}
          </button>
        </form>
        {!campaign ? (
          <p class="muted">{t.chooseCampaignHelp}</p>
        ) : sources ? (
          <>
            <p class="muted">
              {interpolate(t.sourcesHelp, { from: utcLabel(language, sources.from), to: utcLabel(language, sources.to) })} {sources.truncated ? t.truncated : ''}
            </p>
            <h3>{t.byIpHash}</h3>
            <SourcesTable title={t.byIpHashCaption} rows={sources.byIpHash} kind="ipHash" slug={campaign.slug} hours={hours} canInvalidate={canWrite} />
            <h3>{t.byDomain}</h3>
            <SourcesTable title={t.byDomainCaption} rows={sources.byDomain} kind="domain" slug={campaign.slug} hours={hours} canInvalidate={canWrite} />
          </>
        ) : (
          <p class="muted">{t.sourcesNeedScope}</p>
        )}
      </div>

      {campaign ? (
        <div class="card" id="fraudulent">
          <h2>{t.fraudulentHeading}</h2>
          <p class="muted">{t.fraudulentHelp}</p>
          {fraudulent ? (
            <FraudulentRequests page={fraudulent} slug={campaign.slug} hours={hours} canClear={canWrite} session={session} message={forms.clear?.message} />
          ) : (
            <p class="muted">{t.fraudulentNeedScope}</p>
          )}
        </div>
      ) : null}

      {campaign && canWrite ? (
        <div class="card" id="bulk">
          <h2>{t.bulkHeading}</h2>
          <p class="muted">{t.bulkHelp}</p>
          <ErrorSummary errors={bulkErrors} message={forms.bulk?.message} labels={bulkLabels(t)} />
          <form method="post" action="/admin/abuse/invalidate">
            <CsrfField session={session} />
            <input type="hidden" name="campaign" value={campaign.slug} />
            <div class="grid2">
              <TextField name="ipHash" label={t.ipHash} values={bulkValues} errors={bulkErrors} />
              <TextField name="domain" label={t.emailDomain} hint={t.domainHint} values={bulkValues} errors={bulkErrors} />
              <TextField name="from" label={t.fromUtc} type="datetime-local" values={bulkValues} errors={bulkErrors} />
              <TextField name="to" label={t.toUtc} type="datetime-local" values={bulkValues} errors={bulkErrors} />
            </div>
            <div class="actions">
              <button type="submit" class="danger">
                {t.invalidate}
              </button>
              <button type="submit" class="secondary" formaction="/admin/abuse/revalidate">
                {t.revalidate}
              </button>
            </div>
          </form>
          {actions.length > 0 ? (
            <table>
              <caption class="muted">{t.recentActions}</caption>
              <thead>
                <tr>
                  <th scope="col">{t.when}</th>
                  <th scope="col">{t.action}</th>
                  <th scope="col">{t.filter}</th>
                  <th scope="col" class="num">{t.signatures}</th>
                  <th scope="col">{t.by}</th>
                </tr>
              </thead>
              <tbody>
                {actions.map((action) => (
                  <tr>
                    <td>{utcLabel(language, action.createdAt)}</td>
                    <td>{action.action === 'invalidate' ? t.actionInvalidate : t.actionRevalidate}</td>
                    <td>
                      <code>
                        {Object.entries(action.filter)
                          .map(([name, value]) => `${name}=${value}`)
                          .join(' ')}
                      </code>
                    </td>
                    <td class="num">{formatNumber(language, action.signatureCount)}</td>
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
    const { _: root, ...errors } = issuesToErrors(parsed.issues, c);
    return abusePage(c, { bulk: { values: form, errors, message: root?.join('; ') } }, 422);
  }
  const result = await act(serviceContextOf(c), c.var.session.principal, slug, parsed.output);
  const count = 'invalidated' in result ? result.invalidated : result.revalidated;
  return c.redirect(`/admin/abuse?campaign=${encodeURIComponent(slug)}&done=${done}&count=${count}#bulk`, 303);
}

/** Clears the fraudulent requests whose boxes were ticked; none ticked is shown on the page. */
async function clearAction(c: AdminContext) {
  const form = keptValues(c.var.form);
  const slug = form.campaign ?? '';
  const ids = Object.keys(form).flatMap((name) => {
    const id = REQUEST_FIELD.exec(name)?.[1];
    return id !== undefined && form[name] === 'on' ? [id] : [];
  });
  const parsed = v.safeParse(ClearFraudulentRequestsInput, { ids });
  if (!parsed.success) {
    const message = ids.length === 0 ? textsFor(c, abuseTexts).chooseRequests : Object.values(issuesToErrors(parsed.issues, c)).flat().join('; ');
    return abusePage(c, { clear: { values: { campaign: slug }, errors: {}, message } }, 422);
  }
  const { cleared } = await clearFraudulentRequests(serviceContextOf(c), slug, parsed.output);
  return c.redirect(`/admin/abuse?campaign=${encodeURIComponent(slug)}&done=cleared&count=${cleared}#fraudulent`, 303);
}

/** The page shows what the token may see: a session needs one of these scopes (`admin` holds them all). */
function requireAnyScope(scopes: [Scope, ...Scope[]]): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    if (!scopes.some((scope) => can(c, scope))) return missingScopePage(c, scopes[0]);
    await next();
  };
}

/** The abuse page: the block list (scope `admin`), sources and fraudulent requests (`signatures:read`), bulk invalidation and clearing fraud marks (`campaigns`), as in the API. */
export function abusePages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/abuse', requireAnyScope(['signatures:read', 'campaigns']));
  routes.use('/abuse/blocklist', requireAdminScope('admin', missingScopePage));
  routes.use('/abuse/blocklist/*', requireAdminScope('admin', missingScopePage));
  routes.use('/abuse/invalidate', requireAdminScope('campaigns', missingScopePage));
  routes.use('/abuse/revalidate', requireAdminScope('campaigns', missingScopePage));
  routes.use('/abuse/fraudulent-requests/clear', requireAdminScope('campaigns', missingScopePage));

  routes.get('/abuse', (c) => abusePage(c));

  routes.post('/abuse/blocklist', async (c) => {
    const values = keptValues(c.var.form);
    const input = { kind: values.kind ?? '', value: values.value ?? '', ...(values.note?.trim() ? { note: values.note } : {}) };
    const parsed = v.safeParse(BlocklistEntryInput, input);
    if (!parsed.success) return abusePage(c, { block: { values, errors: issuesToErrors(parsed.issues, c) } }, 422);
    try {
      await addBlocklistEntry(serviceContextOf(c), c.var.session.principal, parsed.output);
    } catch (error) {
      const shown = formErrorOf(error, c);
      if (!shown) throw error;
      return abusePage(c, { block: { values, errors: shown.errors, message: shown.message } }, shown.status === 409 ? 409 : 422);
    }
    return c.redirect('/admin/abuse?done=blocked', 303);
  });

  routes.post('/abuse/blocklist/:id/delete', async (c) => {
    await removeBlocklistEntry(serviceContextOf(c), c.req.param('id'));
    return c.redirect('/admin/abuse?done=unblocked', 303);
  });

  routes.post('/abuse/invalidate', (c) => bulkAction(c, invalidateSignatures, 'invalidated'));
  routes.post('/abuse/revalidate', (c) => bulkAction(c, revalidateSignatures, 'revalidated'));
  routes.post('/abuse/fraudulent-requests/clear', (c) => clearAction(c));

  return routes;
}
