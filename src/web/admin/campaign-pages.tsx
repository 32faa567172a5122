import { Hono } from 'hono';
import * as v from 'valibot';
import { isRegionOf, regionName } from '../../lib/regions.js';
import { localTimeToInstant, formatInZone } from '../../mailings/local-time.js';
import {
  campaignStatuses,
  createCampaign,
  CreateCampaignInput,
  getCampaign,
  listCampaigns,
  updateCampaign,
  UpdateCampaignInput,
  type CampaignView,
} from '../../services/campaigns.js';
import { listLetterTemplates } from '../../services/letters.js';
import { locales } from '../../services/schemas.js';
import { campaignStats } from '../../services/signatures.js';
import { createTarget, CreateTargetInput, getTarget, listTargets, targetKinds, type TargetView, updateTarget, UpdateTargetInput } from '../../services/targets.js';
import { type AdminContext, type AdminEnv, can, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, PostButton, SelectField, StatusBadge, TextField } from './admin-layout.js';
import { formatTime, formErrorOf, issuesToErrors, keptValues, missingScopePage, Notice, renderPage, timeZoneOptions } from './admin-page.js';
import { HorizontalBarChart, SignaturesOverTimeChart } from './charts.js';

type Values = Record<string, string>;
type Mode = 'create' | 'edit';

const localeOptions = locales.map((l) => ({ value: l, label: { en: 'English (en)', ja: '日本語 (ja)', ko: '한국어 (ko)', zh: '中文 (zh)' }[l] }));

const campaignLabels: Record<string, string> = {
  title: 'Title',
  slug: 'Slug',
  locale: 'Main language',
  timeZone: 'Time zone',
  summary: 'Summary',
  body: 'Text',
  goal: 'Goal',
  opensAt: 'Opens at',
  closesAt: 'Closes at',
  letterTemplate: 'Letter template',
  status: 'Status',
  targetIds: 'Targets',
};

const multiline = (text: string | undefined) => (text ?? '').replace(/\r\n?/g, '\n');

/** A region of the stats chart: its name and code, or as stored for rows from before the fixed list. */
const regionLabel = (country: string, region: string | null) =>
  region === null ? `— (${country})` : isRegionOf(region, country) ? `${regionName(region, 'en')} (${region})` : `${region} (${country})`;

/** A `datetime-local` value (wall clock in the campaign's zone) as an ISO instant, or an error message. */
function localToIso(value: string, timeZone: string): { iso: string } | { error: string } {
  try {
    return { iso: new Date(localTimeToInstant(value, timeZone)).toISOString() };
  } catch (error) {
    return { error: error instanceof RangeError ? 'needs a valid time zone' : (error as Error).message };
  }
}

/**
 * The form's text as the API's input, so the same valibot schema judges it.
 * Blank optional fields are left out on create and cleared (null) on edit;
 * the goal must be a whole number; dates are read in the chosen time zone.
 */
function campaignInputOf(form: Values, mode: Mode): { input: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const timeZone = form.timeZone || 'UTC';
  const blank = mode === 'create' ? undefined : null;
  const input: Record<string, unknown> = {
    title: form.title ?? '',
    summary: multiline(form.summary),
    body: multiline(form.body),
    locale: form.locale ?? '',
    timeZone,
  };
  if (mode === 'create') input.slug = (form.slug ?? '').trim();
  const goal = (form.goal ?? '').trim();
  if (goal === '') input.goal = blank;
  else if (/^\d{1,10}$/.test(goal)) input.goal = Number(goal);
  else errors.goal = ['must be a whole number'];
  for (const field of ['opensAt', 'closesAt'] as const) {
    const value = (form[field] ?? '').trim();
    if (value === '') input[field] = blank;
    else {
      const result = localToIso(value, timeZone);
      if ('iso' in result) input[field] = result.iso;
      else errors[field] = [result.error];
    }
  }
  input.letterTemplate = form.letterTemplate ? form.letterTemplate : blank;
  for (const key of Object.keys(input)) if (input[key] === undefined) delete input[key];
  return { input, errors };
}

const toLocalInput = (iso: string | null, timeZone: string) => (iso ? formatInZone(Date.parse(iso), timeZone).slice(0, 16) : '');

function valuesOf(campaign: CampaignView): Values {
  return {
    title: campaign.title,
    slug: campaign.slug,
    locale: campaign.locale,
    timeZone: campaign.timeZone,
    summary: campaign.summary,
    body: campaign.body,
    goal: campaign.goal === null ? '' : String(campaign.goal),
    opensAt: toLocalInput(campaign.opensAt, campaign.timeZone),
    closesAt: toLocalInput(campaign.closesAt, campaign.timeZone),
    letterTemplate: campaign.letterTemplate ?? '',
  };
}

async function templateOptions(c: AdminContext) {
  const { items } = await listLetterTemplates(c.get('services').letters);
  return [{ value: '', label: 'Default (embassy-petition)' }, ...items.map((t) => ({ value: t.name, label: `${t.name} (${t.languages.join(', ')})` }))];
}

async function campaignForm(c: AdminContext, mode: Mode, values: Values, errors: FieldErrors, status: 200 | 409 | 422 = 200, message?: string) {
  const session = c.var.session;
  const action = mode === 'create' ? '/admin/campaigns' : `/admin/campaigns/${encodeURIComponent(values.slug ?? '')}`;
  const title = mode === 'create' ? 'New campaign' : 'Edit campaign';
  const common = { values, errors };
  return renderPage(
    c,
    { title, section: 'campaigns', status },
    <>
      <p>
        <a href={mode === 'create' ? '/admin/campaigns' : `/admin/campaigns/${encodeURIComponent(values.slug ?? '')}`}>← Back</a>
      </p>
      <h1>{title}</h1>
      <ErrorSummary errors={errors} message={message} labels={campaignLabels} />
      <form method="post" action={action} class="card" novalidate>
        <CsrfField session={session} />
        <TextField name="title" label="Title" {...common} required />
        {mode === 'create' ? (
          <TextField name="slug" label="Slug" hint="The address of the campaign page (/c/slug): 3–64 characters, a–z, 0–9 and -. It cannot be changed later." {...common} required />
        ) : null}
        <div class="grid2">
          <SelectField name="locale" label="Main language" options={localeOptions} {...common} />
          <SelectField name="timeZone" label="Time zone" hint="Days in the charts and the dates below are in this zone." options={timeZoneOptions(values.timeZone)} {...common} />
        </div>
        <TextField name="summary" label="Summary" multiline {...common} />
        <TextField name="body" label="Text" hint="Markdown." multiline {...common} />
        <div class="grid2">
          <TextField name="goal" label="Goal" hint="Signatures wanted (optional)." type="number" {...common} />
          <SelectField name="letterTemplate" label="Letter template" options={await templateOptions(c)} {...common} />
        </div>
        <div class="grid2">
          <TextField name="opensAt" label="Opens at" hint="Optional; local time in the time zone above." type="datetime-local" {...common} />
          <TextField name="closesAt" label="Closes at" hint="Optional; local time in the time zone above." type="datetime-local" {...common} />
        </div>
        <button type="submit">{mode === 'create' ? 'Create campaign' : 'Save changes'}</button>
      </form>
    </>,
  );
}

/** What the status buttons offer from each status (the service still decides). */
const statusActions: Record<string, { status: string; label: string; variant?: 'secondary' | 'danger' }[]> = {
  draft: [{ status: 'open', label: 'Open for signatures' }],
  open: [{ status: 'closed', label: 'Close', variant: 'secondary' }],
  closed: [
    { status: 'open', label: 'Reopen' },
    { status: 'archived', label: 'Archive', variant: 'danger' },
  ],
  archived: [],
};

async function directoryTargets(c: AdminContext, linkedIds: string[]): Promise<Map<string, TargetView>> {
  const { ctx } = c.get('services');
  const page = await listTargets(ctx, { limit: 500 });
  const byId = new Map(page.items.map((t) => [t.id, t]));
  for (const id of linkedIds) if (!byId.has(id)) byId.set(id, await getTarget(ctx, id));
  return byId;
}

async function campaignDetail(c: AdminContext, slug: string, problem?: { status: 400 | 403 | 404 | 409 | 410 | 422 | 429; message: string }) {
  const { ctx } = c.get('services');
  const session = c.var.session;
  const campaign = await getCampaign(ctx, slug);
  const directory = await directoryTargets(c, campaign.targetIds);
  const linked = campaign.targetIds.map((id) => directory.get(id)).filter((t): t is TargetView => t !== undefined);
  const unlinked = [...directory.values()].filter((t) => !campaign.targetIds.includes(t.id));
  const stats = can(c, 'signatures:read') ? await campaignStats(ctx, slug) : null;
  const base = `/admin/campaigns/${encodeURIComponent(slug)}`;
  return renderPage(
    c,
    { title: campaign.title, section: 'campaigns', status: problem?.status ?? 200 },
    <>
      <p>
        <a href="/admin/campaigns">← Campaigns</a>
      </p>
      <h1 lang={campaign.locale}>{campaign.title}</h1>
      <Notice done={c.req.query('done')} />
      {problem ? (
        <p class="error" role="alert">
          {problem.message}
        </p>
      ) : null}
      <div class="card">
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={campaign.status} />
          </dd>
          <dt>Slug</dt>
          <dd>{campaign.slug}</dd>
          <dt>Confirmed signatures</dt>
          <dd>
            {campaign.signatureCount.toLocaleString('en')}
            {campaign.goal ? ` of ${campaign.goal.toLocaleString('en')}` : ''}
          </dd>
          <dt>Language, time zone</dt>
          <dd>
            {campaign.locale}, {campaign.timeZone}
          </dd>
          <dt>Opens</dt>
          <dd>{campaign.opensAt ? formatTime(campaign.opensAt, campaign.timeZone) : 'when opened'}</dd>
          <dt>Closes</dt>
          <dd>{campaign.closesAt ? formatTime(campaign.closesAt, campaign.timeZone) : 'when closed'}</dd>
          <dt>Letter template</dt>
          <dd>{campaign.letterTemplate ?? 'embassy-petition (default)'}</dd>
        </dl>
        <div class="actions">
          {statusActions[campaign.status]!.map((a) => (
            <PostButton session={session} action={`${base}/status`} label={a.label} variant={a.variant} fields={{ status: a.status }} />
          ))}
          <a class="button secondary" href={`${base}/edit`}>
            Edit
          </a>
          <a class="button secondary" href={`${base}/letters`}>
            Letters
          </a>
          <a class="button secondary" href={`/admin/mailings/new?campaign=${encodeURIComponent(slug)}`}>
            Schedule a mailing
          </a>
          <a class="button secondary" href={`/admin/mailings?campaign=${encodeURIComponent(slug)}`}>
            Mailings
          </a>
        </div>
      </div>

      <h2>Signatures</h2>
      {stats ? (
        <div class="card">
          <SignaturesOverTimeChart id="chart-days" byDay={stats.byDay} timeZone={stats.timeZone} />
          <div class="grid2">
            <HorizontalBarChart id="chart-countries" caption="By country" labelHeading="Country" rows={stats.byCountry.map((r) => ({ label: r.country, count: r.count }))} />
            <HorizontalBarChart
              id="chart-regions"
              caption="By region"
              labelHeading="Region"
              rows={stats.byRegion.map((r) => ({ label: regionLabel(r.country, r.region), count: r.count }))}
            />
          </div>
          <p class="muted">
            By status: {Object.entries(stats.byStatus).map(([status, count]) => `${status} ${count}`).join(' · ')}
          </p>
        </div>
      ) : (
        <p class="muted">The charts need a token with the “signatures:read” scope.</p>
      )}

      <h2>Targets</h2>
      <div class="card">
        {linked.length === 0 ? <p class="muted">No targets yet: letters need at least one.</p> : null}
        {linked.length > 0 ? (
          <table id="campaign-targets">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Email</th>
                <th scope="col">Address</th>
                <th scope="col">
                  <span class="skip">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {linked.map((t) => (
                <tr>
                  <td>
                    {t.name}
                    {t.organisation ? <div class="muted">{t.organisation}</div> : null}
                  </td>
                  <td>{t.kind}</td>
                  <td>{t.email ?? '—'}</td>
                  <td>{[...t.postalAddress.lines, t.postalAddress.postalCode, t.postalAddress.city, t.postalAddress.region, t.postalAddress.country].filter(Boolean).join(', ')}</td>
                  <td class="actions">
                    <a class="button secondary" href={`/admin/targets/${t.id}/edit?campaign=${encodeURIComponent(campaign.slug)}`}>
                      Edit
                    </a>
                    <PostButton session={session} action={`${base}/targets/${t.id}/detach`} label="Remove" variant="secondary" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {unlinked.length > 0 ? (
          <form method="post" action={`${base}/targets`} class="actions">
            <CsrfField session={session} />
            <label for="f-targetId">Attach a target from the directory</label>
            <select id="f-targetId" name="targetId">
              {unlinked.map((t) => (
                <option value={t.id}>{t.organisation ? `${t.name} — ${t.organisation}` : t.name}</option>
              ))}
            </select>
            <button type="submit">Attach</button>
          </form>
        ) : (
          <p class="muted">Every target in the directory is attached.</p>
        )}
        <p>
          <a href={`/admin/targets/new?campaign=${encodeURIComponent(slug)}`}>Create a new target</a>
        </p>
      </div>
    </>,
  );
}

const targetLabels: Record<string, string> = {
  name: 'Name',
  title: 'Title',
  organisation: 'Organisation',
  kind: 'Kind',
  email: 'Email',
  addressLines: 'Address lines',
  postalCode: 'Postal code',
  city: 'City',
  region: 'Region',
  country: 'Country',
  language: 'Letter language',
  salutation: 'Salutation',
  timeZone: 'Time zone',
};

/** The target form's fields as the API's input (address lines one per line). */
function targetInputOf(form: Values) {
  return {
    name: form.name ?? '',
    title: form.title ?? '',
    organisation: form.organisation ?? '',
    kind: form.kind ?? '',
    email: form.email ?? '',
    postalAddress: {
      lines: multiline(form.addressLines).split('\n').map((l) => l.trim()).filter(Boolean),
      postalCode: form.postalCode ?? '',
      city: form.city ?? '',
      region: form.region ?? '',
      country: form.country ?? '',
    },
    language: form.language || 'en',
    salutation: form.salutation ?? '',
    // Empty: none of its own, so letters follow the mailing's zone.
    timeZone: form.timeZone ?? '',
  };
}

/** A stored target as the form's text fields (the reverse of targetInputOf). */
function targetValues(target: TargetView): Values {
  return {
    name: target.name,
    title: target.title ?? '',
    organisation: target.organisation ?? '',
    kind: target.kind,
    email: target.email ?? '',
    addressLines: target.postalAddress.lines.join('\n'),
    postalCode: target.postalAddress.postalCode ?? '',
    city: target.postalAddress.city ?? '',
    region: target.postalAddress.region ?? '',
    country: target.postalAddress.country,
    language: target.language,
    salutation: target.salutation ?? '',
    timeZone: target.timeZone ?? '',
  };
}

/** `postalAddress.lines` → `addressLines`, `postalAddress.city` → `city`: the form's own field names. */
function targetErrors(errors: FieldErrors): FieldErrors {
  const renamed: FieldErrors = {};
  for (const [path, messages] of Object.entries(errors)) {
    const field = path === 'postalAddress.lines' || path === 'postalAddress' ? 'addressLines' : path.replace(/^postalAddress\./, '');
    (renamed[field] ??= []).push(...messages);
  }
  return renamed;
}

/** Creating a target (and attaching it to `values.campaign`), or editing the target `editing`. */
function targetForm(c: AdminContext, values: Values, errors: FieldErrors, status: 200 | 422 = 200, message?: string, editing?: string) {
  const common = { values, errors };
  const back = values.campaign ? `/admin/campaigns/${encodeURIComponent(values.campaign)}` : '/admin/campaigns';
  const heading = editing ? 'Edit target' : 'New target';
  return renderPage(
    c,
    { title: heading, section: 'campaigns', status },
    <>
      <p>
        <a href={back}>← Back</a>
      </p>
      <h1>{heading}</h1>
      <ErrorSummary errors={errors} message={message} labels={targetLabels} />
      <form method="post" action={editing ? `/admin/targets/${encodeURIComponent(editing)}` : '/admin/targets'} class="card" novalidate>
        <CsrfField session={c.var.session} />
        <input type="hidden" name="campaign" value={values.campaign ?? ''} />
        <TextField name="name" label="Name" {...common} required />
        <div class="grid2">
          <TextField name="title" label="Title" {...common} />
          <TextField name="organisation" label="Organisation" {...common} />
        </div>
        <div class="grid2">
          <SelectField name="kind" label="Kind" options={targetKinds.map((k) => ({ value: k, label: k }))} {...common} />
          <SelectField name="language" label="Letter language" options={localeOptions} {...common} />
        </div>
        <TextField name="email" label="Email" type="email" {...common} />
        <TextField name="addressLines" label="Address lines" hint="One line per line, 1 to 6." multiline {...common} />
        <div class="grid2">
          <TextField name="postalCode" label="Postal code" {...common} />
          <TextField name="city" label="City" {...common} />
          <TextField name="region" label="Region" {...common} />
          <TextField name="country" label="Country" hint="ISO code, e.g. JP." {...common} required />
        </div>
        <div class="grid2">
          <TextField name="salutation" label="Salutation" {...common} />
          <SelectField
            name="timeZone"
            label="Time zone"
            hint="Office hours of letters by email follow this zone."
            options={[{ value: '', label: "None (the mailing's zone)" }, ...timeZoneOptions(values.timeZone || undefined)]}
            {...common}
          />
        </div>
        <button type="submit">{editing ? 'Save target' : values.campaign ? 'Create and attach' : 'Create target'}</button>
      </form>
    </>,
  );
}

/** Campaigns: list, create, edit, open/close, targets, charts (scope `campaigns`; charts also `signatures:read`). */
export function campaignPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/campaigns/*', requireAdminScope('campaigns', missingScopePage));
  routes.use('/campaigns', requireAdminScope('campaigns', missingScopePage));
  routes.use('/targets/*', requireAdminScope('campaigns', missingScopePage));

  routes.get('/campaigns', async (c) => {
    const { ctx } = c.get('services');
    const status = v.safeParse(v.picklist(campaignStatuses), c.req.query('status'));
    const cursor = c.req.query('cursor');
    const page = await listCampaigns(ctx, { limit: 50, cursor, status: status.success ? status.output : undefined });
    return renderPage(
      c,
      { title: 'Campaigns', section: 'campaigns' },
      <>
        <h1>Campaigns</h1>
        <Notice done={c.req.query('done')} />
        <div class="actions">
          <a class="button" href="/admin/campaigns/new">
            New campaign
          </a>
          <span class="muted">Show:</span>
          <a href="/admin/campaigns">all</a>
          {campaignStatuses.map((s) => (
            <a href={`/admin/campaigns?status=${s}`}>{s}</a>
          ))}
        </div>
        {page.items.length === 0 ? (
          <p class="muted">No campaigns yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Signatures
                </th>
                <th scope="col" class="num">
                  Goal
                </th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((campaign) => (
                <tr>
                  <td>
                    <a href={`/admin/campaigns/${encodeURIComponent(campaign.slug)}`} lang={campaign.locale}>
                      {campaign.title}
                    </a>
                    <div class="muted">{campaign.slug}</div>
                  </td>
                  <td>
                    <StatusBadge status={campaign.status} />
                  </td>
                  <td class="num">{campaign.signatureCount.toLocaleString('en')}</td>
                  <td class="num">{campaign.goal?.toLocaleString('en') ?? '—'}</td>
                  <td>{formatTime(campaign.createdAt, campaign.timeZone)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {page.nextCursor ? (
          <p>
            <a href={`/admin/campaigns?cursor=${encodeURIComponent(page.nextCursor)}${status.success ? `&status=${status.output}` : ''}`}>Older campaigns →</a>
          </p>
        ) : null}
      </>,
    );
  });

  routes.get('/campaigns/new', (c) => campaignForm(c, 'create', { locale: 'ja', timeZone: 'Asia/Tokyo' }, {}));

  routes.post('/campaigns', async (c) => {
    const form = c.var.form;
    const values = keptValues(form);
    const { input, errors } = campaignInputOf(form, 'create');
    const parsed = v.safeParse(CreateCampaignInput, input);
    const allErrors = { ...(parsed.success ? {} : issuesToErrors(parsed.issues)), ...errors };
    if (!parsed.success || Object.keys(errors).length > 0) return campaignForm(c, 'create', values, allErrors, 422);
    try {
      const created = await createCampaign(c.get('services').ctx, parsed.output);
      return c.redirect(`/admin/campaigns/${encodeURIComponent(created.slug)}?done=created`, 303);
    } catch (error) {
      const problem = formErrorOf(error);
      if (!problem) throw error;
      return campaignForm(c, 'create', values, problem.errors, 422, problem.message);
    }
  });

  routes.get('/campaigns/:slug', (c) => campaignDetail(c, c.req.param('slug')));

  routes.get('/campaigns/:slug/edit', async (c) => {
    const campaign = await getCampaign(c.get('services').ctx, c.req.param('slug'));
    return campaignForm(c, 'edit', valuesOf(campaign), {});
  });

  routes.post('/campaigns/:slug', async (c) => {
    const slug = c.req.param('slug');
    const form = c.var.form;
    const values = { ...keptValues(form), slug };
    const { input, errors } = campaignInputOf(form, 'edit');
    const parsed = v.safeParse(UpdateCampaignInput, input);
    const allErrors = { ...(parsed.success ? {} : issuesToErrors(parsed.issues)), ...errors };
    if (!parsed.success || Object.keys(errors).length > 0) return campaignForm(c, 'edit', values, allErrors, 422);
    try {
      await updateCampaign(c.get('services').ctx, slug, parsed.output);
      return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}?done=saved`, 303);
    } catch (error) {
      const problem = formErrorOf(error);
      if (!problem || problem.status === 404) throw error;
      return campaignForm(c, 'edit', values, problem.errors, 422, problem.message);
    }
  });

  const changeCampaign = async (c: AdminContext, slug: string, input: Record<string, unknown>, done: string) => {
    const parsed = v.safeParse(UpdateCampaignInput, input);
    if (!parsed.success) {
      return campaignDetail(c, slug, { status: 422, message: parsed.issues.map((i) => `${campaignLabels[v.getDotPath(i)?.split('.')[0] ?? ''] ?? 'Value'}: ${i.message}`).join('; ') });
    }
    try {
      await updateCampaign(c.get('services').ctx, slug, parsed.output);
    } catch (error) {
      const problem = formErrorOf(error);
      if (!problem || problem.status === 404) throw error;
      const message = problem.message ?? Object.values(problem.errors).flat().join('; ');
      return campaignDetail(c, slug, { status: problem.status === 422 ? 422 : 409, message });
    }
    return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}?done=${done}`, 303);
  };

  routes.post('/campaigns/:slug/status', (c) => {
    const status = c.var.form.status ?? '';
    const done = status === 'open' ? 'opened' : status;
    return changeCampaign(c, c.req.param('slug'), { status }, done);
  });

  routes.post('/campaigns/:slug/targets', async (c) => {
    const slug = c.req.param('slug');
    const campaign = await getCampaign(c.get('services').ctx, slug);
    return changeCampaign(c, slug, { targetIds: [...campaign.targetIds, (c.var.form.targetId ?? '').toLowerCase()] }, 'attached');
  });

  routes.post('/campaigns/:slug/targets/:targetId/detach', async (c) => {
    const slug = c.req.param('slug');
    const campaign = await getCampaign(c.get('services').ctx, slug);
    const targetId = c.req.param('targetId');
    return changeCampaign(c, slug, { targetIds: campaign.targetIds.filter((id) => id !== targetId) }, 'detached');
  });

  routes.get('/targets/new', async (c) => {
    const slug = c.req.query('campaign');
    if (slug) await getCampaign(c.get('services').ctx, slug);
    return targetForm(c, { campaign: slug ?? '', kind: 'embassy', language: 'ja', country: 'JP' }, {});
  });

  routes.post('/targets', async (c) => {
    const { ctx } = c.get('services');
    const form = c.var.form;
    const values = keptValues(form);
    const parsed = v.safeParse(CreateTargetInput, targetInputOf(form));
    if (!parsed.success) return targetForm(c, values, targetErrors(issuesToErrors(parsed.issues)), 422);
    const slug = form.campaign || undefined;
    const campaign = slug ? await getCampaign(ctx, slug) : undefined;
    const target = await createTarget(ctx, parsed.output);
    if (!campaign) return c.redirect('/admin/campaigns?done=created', 303);
    await updateCampaign(ctx, campaign.slug, { targetIds: [...campaign.targetIds, target.id] });
    return c.redirect(`/admin/campaigns/${encodeURIComponent(campaign.slug)}?done=target-created`, 303);
  });

  routes.get('/targets/:id/edit', async (c) => {
    const target = await getTarget(c.get('services').ctx, c.req.param('id'));
    return targetForm(c, { ...targetValues(target), campaign: c.req.query('campaign') ?? '' }, {}, 200, undefined, target.id);
  });

  routes.post('/targets/:id', async (c) => {
    const { ctx } = c.get('services');
    const id = c.req.param('id');
    const form = c.var.form;
    const values = keptValues(form);
    const parsed = v.safeParse(UpdateTargetInput, targetInputOf(form));
    if (!parsed.success) return targetForm(c, values, targetErrors(issuesToErrors(parsed.issues)), 422, undefined, id);
    await updateTarget(ctx, id, parsed.output);
    const back = form.campaign ? `/admin/campaigns/${encodeURIComponent(form.campaign)}` : '/admin/campaigns';
    return c.redirect(`${back}?done=target-saved`, 303);
  });

  return routes;
}
