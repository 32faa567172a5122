import { Hono } from 'hono';
import * as v from 'valibot';
import { formatInZone, localTimeToInstant } from '../../mailings/local-time.js';
import { OFFICE_HOURS } from '../../mailings/sending-window.js';
import { MailingEventsQuery, streamMailingEvents } from '../../http/mailing-events.js';
import { listCampaigns } from '../../services/campaigns.js';
import {
  cancelMailing,
  CreateMailingInput,
  finalMailingStatuses,
  getMailing,
  listMailings,
  mailingKinds,
  mailingStatuses,
  pauseMailing,
  resumeMailing,
  scheduleMailing,
} from '../../services/mailings.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, PostButton, SelectField, StatusBadge, TextField } from './admin-layout.js';
import { formErrorOf, formatTime, issuesToErrors, keptValues, missingScopePage, Notice, renderPage, timeZoneOptions } from './admin-page.js';

type Values = Record<string, string>;

const weekdays = [
  { iso: 1, label: 'Mon' },
  { iso: 2, label: 'Tue' },
  { iso: 3, label: 'Wed' },
  { iso: 4, label: 'Thu' },
  { iso: 5, label: 'Fri' },
  { iso: 6, label: 'Sat' },
  { iso: 7, label: 'Sun' },
];

/** A new mailing's form starts from the service's default office hours. */
const defaultWindowValues: Values = {
  windowStart: OFFICE_HOURS.start,
  windowEnd: OFFICE_HOURS.end,
  ...Object.fromEntries(OFFICE_HOURS.days.map((day) => [`windowDay${day}`, 'on'])),
};

/** Office hours for letters by email: local to each target (its time zone, else the mailing's). */
function SendingWindowFields(props: { values: Values; errors: FieldErrors }) {
  const problems = Object.entries(props.errors)
    .filter(([path]) => path === 'sendingWindow' || path.startsWith('sendingWindow.'))
    .flatMap(([path, messages]) => messages.map((message) => `${path.replace(/^sendingWindow\.?/, '') || 'window'}: ${message}`));
  return (
    <fieldset class={problems.length ? 'field invalid' : 'field'} aria-describedby="window-hint">
      <legend>Office hours (letters by email)</legend>
      <p class="hint" id="window-hint">
        Each letter goes out inside these hours in the target's own time zone (else the mailing's); outside them it waits for the next opening.
      </p>
      <div class="grid2">
        <TextField name="windowStart" label="From" type="time" values={props.values} errors={{}} />
        <TextField name="windowEnd" label="Until" type="time" values={props.values} errors={{}} />
      </div>
      <p>
        {weekdays.map((day) => (
          <label class="inline">
            <input type="checkbox" name={`windowDay${day.iso}`} checked={props.values[`windowDay${day.iso}`] === 'on'} /> {day.label}{' '}
          </label>
        ))}
      </p>
      <label>
        <input type="checkbox" name="windowAnyTime" checked={props.values.windowAnyTime === 'on'} /> Any time (no office hours)
      </label>
      {problems.length ? <p class="field-error">{problems.join('; ')}</p> : null}
    </fieldset>
  );
}

const mailingLabels: Record<string, string> = {
  campaign: 'Campaign',
  kind: 'Kind',
  sendAt: 'Send at',
  timeZone: 'Time zone',
  cutoffAt: 'Cut-off',
  channel: 'Channel',
  ratePerMinute: 'Messages per minute',
  subject: 'Subject',
  body: 'Text',
  template: 'Template',
  dryRun: 'Dry run',
};

/**
 * The form's text as the API's input: only the fields the kind uses are sent
 * (a letters mailing takes no subject), times are local in the chosen zone.
 */
function mailingInputOf(form: Values): { input: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const kind = form.kind ?? '';
  const input: Record<string, unknown> = { campaign: form.campaign ?? '', kind, sendAt: form.sendAt ?? '', timeZone: form.timeZone ?? '' };
  if (kind === 'letters' && form.channel) input.channel = form.channel;
  // Office hours apply to letters by email only; the service refuses them elsewhere.
  if (kind === 'letters' && (form.channel ?? 'email') === 'email') {
    input.sendingWindow =
      form.windowAnyTime === 'on'
        ? null
        : { start: form.windowStart ?? '', end: form.windowEnd ?? '', days: weekdays.filter((day) => form[`windowDay${day.iso}`] === 'on').map((day) => day.iso) };
  }
  if (kind === 'update') {
    if (form.template?.trim()) input.template = form.template.trim();
    if (form.subject?.trim()) input.subject = form.subject;
    if (form.body?.trim()) input.body = form.body.replace(/\r\n?/g, '\n');
  }
  const rate = (form.ratePerMinute ?? '').trim();
  if (/^\d{1,9}$/.test(rate)) input.ratePerMinute = Number(rate);
  else if (rate !== '') errors.ratePerMinute = ['must be a whole number'];
  const cutoff = (form.cutoffAt ?? '').trim();
  if (cutoff !== '') {
    try {
      input.cutoffAt = formatInZone(localTimeToInstant(cutoff, form.timeZone || 'UTC'), form.timeZone || 'UTC');
    } catch (error) {
      errors.cutoffAt = [error instanceof RangeError ? 'needs a valid time zone' : (error as Error).message];
    }
  }
  if (form.dryRun === 'on') input.dryRun = true;
  return { input, errors };
}

async function mailingForm(c: AdminContext, values: Values, errors: FieldErrors, status: 200 | 404 | 409 | 422 = 200, message?: string) {
  const { ctx } = c.get('services');
  const campaigns = (await listCampaigns(ctx, { limit: 500 })).items.filter((x) => x.status === 'open' || x.status === 'closed');
  const common = { values, errors };
  return renderPage(
    c,
    { title: 'Schedule a mailing', section: 'mailings', status },
    <>
      <p>
        <a href="/admin/mailings">← Mailings</a>
      </p>
      <h1>Schedule a mailing</h1>
      <ErrorSummary errors={errors} message={message} labels={mailingLabels} />
      <form method="post" action="/admin/mailings" class="card" novalidate>
        <CsrfField session={c.var.session} />
        <SelectField name="campaign" label="Campaign" hint="Open or closed campaigns." options={campaigns.map((x) => ({ value: x.slug, label: `${x.title} (${x.slug})` }))} {...common} />
        <fieldset class="field">
          <legend>Kind</legend>
          {mailingKinds.map((kind) => (
            <label>
              <input type="radio" name="kind" value={kind} checked={(values.kind ?? 'letters') === kind} />{' '}
              {kind === 'letters' ? 'Letters to the targets' : 'An update email to supporters who agreed to updates'}{' '}
            </label>
          ))}
          {errors.kind ? <p class="field-error">{errors.kind.join('; ')}</p> : null}
        </fieldset>
        <div class="grid2">
          <TextField name="sendAt" label="Send at" type="datetime-local" hint="Local date and time in the zone beside." {...common} required />
          <SelectField name="timeZone" label="Time zone" options={timeZoneOptions(values.timeZone)} {...common} />
        </div>
        <div class="grid2">
          <SelectField
            name="channel"
            label="Channel (letters)"
            options={[
              { value: 'email', label: 'email' },
              { value: 'print', label: 'print' },
            ]}
            {...common}
          />
          <TextField name="ratePerMinute" label="Messages per minute" type="number" hint="Optional pacing." {...common} />
        </div>
        <SendingWindowFields values={values} errors={errors} />
        <TextField name="cutoffAt" label="Cut-off" type="datetime-local" hint="Optional: signatures confirmed up to this local time; not after the send time." {...common} />
        <TextField name="template" label="Template (update)" hint="Optional: a folder under letters/updates (e.g. thank-you), sent in each supporter's language; instead of subject and text." {...common} />
        <TextField name="subject" label="Subject (update)" {...common} />
        <TextField name="body" label="Text (update, Markdown)" multiline {...common} />
        <div class="field">
          <label>
            <input type="checkbox" name="dryRun" checked={values.dryRun === 'on'} /> Dry run: count the recipients, send nothing
          </label>
        </div>
        <button type="submit">Schedule</button>
      </form>
    </>,
  );
}

async function mailingDetail(c: AdminContext, id: string, problem?: { status: 409 | 422; message: string }) {
  const mailing = await getMailing(c.get('services').ctx, id);
  const session = c.var.session;
  const p = mailing.progress;
  const done = p.sent + p.failed + p.skipped;
  const final = finalMailingStatuses.includes(mailing.status);
  // A finished mailing is complete even when nothing was sent (a dry run only counts).
  const finished = mailing.status === 'finished';
  const percent = finished ? '100%' : p.total > 0 ? `${Math.round((done / p.total) * 100)}%` : '—';
  const base = `/admin/mailings/${mailing.id}`;
  return renderPage(
    c,
    { title: 'Mailing', section: 'mailings', status: problem?.status ?? 200 },
    <>
      <p>
        <a href="/admin/mailings">← Mailings</a>
      </p>
      <h1>
        {mailing.kind === 'letters' ? 'Letters' : 'Update'} for <a href={`/admin/campaigns/${encodeURIComponent(mailing.campaign)}`}>{mailing.campaign}</a>
      </h1>
      <Notice done={c.req.query('done')} />
      {problem ? (
        <p class="error" role="alert">
          {problem.message}
        </p>
      ) : null}
      <section class="card progress-box" data-events={`${base}/events`} aria-labelledby="progress-h">
        <h2 id="progress-h">Progress</h2>
        <p>
          Status: <span data-field="status" class={`status status-${mailing.status}`}>{mailing.status}</span>
        </p>
        <label for="progress-bar">Done</label>{' '}
        {finished ? (
          <progress id="progress-bar" max={1} value={1}>
            {percent}
          </progress>
        ) : p.total > 0 || final ? (
          <progress id="progress-bar" max={Math.max(p.total, 1)} value={done}>
            {percent}
          </progress>
        ) : (
          <progress id="progress-bar">{percent}</progress>
        )}{' '}
        <output for="progress-bar" aria-live="polite">
          {percent}
        </output>
        <div class="counters">
          <div>
            Sent <b data-field="sent">{p.sent}</b>
          </div>
          <div>
            Failed <b data-field="failed">{p.failed}</b>
          </div>
          <div>
            Skipped <b data-field="skipped">{p.skipped}</b>
          </div>
          <div>
            Total <b data-field="total">{p.total}</b>
          </div>
        </div>
        <p class="muted">
          <span data-live-note>These are the numbers when the page was loaded.</span> <a href={base}>Refresh</a>
        </p>
        <div class="actions" data-actions>
          {mailing.status === 'scheduled' || mailing.status === 'running' ? <PostButton session={session} action={`${base}/pause`} label="Pause" variant="secondary" /> : null}
          {mailing.status === 'paused' ? <PostButton session={session} action={`${base}/resume`} label="Resume" /> : null}
          {!final ? <PostButton session={session} action={`${base}/cancel`} label="Cancel mailing" variant="danger" /> : null}
        </div>
      </section>
      <div class="card">
        <dl class="facts">
          <dt>Send at</dt>
          <dd>
            {mailing.sendAtLocal.replace('T', ' ')} ({mailing.timeZone}) = {mailing.sendAt.slice(0, 16).replace('T', ' ')} UTC
          </dd>
          <dt>Cut-off</dt>
          <dd>{formatTime(mailing.cutoffAt, mailing.timeZone)}</dd>
          <dt>Channel</dt>
          <dd>{mailing.channel ?? 'email'}</dd>
          {mailing.kind === 'letters' && (mailing.channel ?? 'email') === 'email' ? (
            <>
              <dt>Office hours</dt>
              <dd>
                {mailing.sendingWindow
                  ? `${mailing.sendingWindow.start}–${mailing.sendingWindow.end}, ${mailing.sendingWindow.days.map((iso) => weekdays[iso - 1]?.label).join(' ')} (each target's time zone)`
                  : 'any time'}
              </dd>
            </>
          ) : null}
          {mailing.template ? (
            <>
              <dt>Template</dt>
              <dd>{mailing.template}</dd>
            </>
          ) : null}
          <dt>Rate</dt>
          <dd>{mailing.ratePerMinute ? `${mailing.ratePerMinute} a minute` : 'as fast as the sender goes'}</dd>
          <dt>Dry run</dt>
          <dd>{mailing.dryRun ? 'yes: nothing is sent' : 'no'}</dd>
          <dt>Started</dt>
          <dd>{mailing.startedAt ? formatTime(mailing.startedAt, mailing.timeZone) : 'not yet'}</dd>
          <dt>Finished</dt>
          <dd>{mailing.finishedAt ? formatTime(mailing.finishedAt, mailing.timeZone) : 'not yet'}</dd>
          {mailing.lastError ? (
            <>
              <dt>Last error</dt>
              <dd>{mailing.lastError}</dd>
            </>
          ) : null}
          {mailing.subject ? (
            <>
              <dt>Subject</dt>
              <dd>{mailing.subject}</dd>
            </>
          ) : null}
        </dl>
        {mailing.body ? <pre class="body">{mailing.body}</pre> : null}
      </div>
    </>,
  );
}

/** Mailings: list, schedule, detail with live progress, pause/resume/cancel (scope `deliveries`). */
export function mailingPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/mailings', requireAdminScope('deliveries', missingScopePage));
  routes.use('/mailings/*', requireAdminScope('deliveries', missingScopePage));

  routes.get('/mailings', async (c) => {
    const { ctx } = c.get('services');
    const campaign = c.req.query('campaign') || undefined;
    const status = v.safeParse(v.picklist(mailingStatuses), c.req.query('status'));
    const page = await listMailings(ctx, { limit: 50, cursor: c.req.query('cursor'), campaign, status: status.success ? status.output : undefined });
    return renderPage(
      c,
      { title: 'Mailings', section: 'mailings' },
      <>
        <h1>Mailings{campaign ? ` · ${campaign}` : ''}</h1>
        <Notice done={c.req.query('done')} />
        <div class="actions">
          <a class="button" href={`/admin/mailings/new${campaign ? `?campaign=${encodeURIComponent(campaign)}` : ''}`}>
            Schedule a mailing
          </a>
        </div>
        {page.items.length === 0 ? (
          <p class="muted">No mailings.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Send at</th>
                <th scope="col">Campaign</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Sent / total
                </th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((m) => (
                <tr>
                  <td>
                    <a href={`/admin/mailings/${m.id}`}>
                      {m.sendAtLocal.replace('T', ' ')} ({m.timeZone})
                    </a>
                  </td>
                  <td>{m.campaign}</td>
                  <td>
                    {m.kind}
                    {m.channel ? ` · ${m.channel}` : ''}
                    {m.dryRun ? ' · dry run' : ''}
                  </td>
                  <td>
                    <StatusBadge status={m.status} />
                  </td>
                  <td class="num">
                    {m.progress.sent} / {m.progress.total}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {page.nextCursor ? (
          <p>
            <a href={`/admin/mailings?cursor=${encodeURIComponent(page.nextCursor)}${campaign ? `&campaign=${encodeURIComponent(campaign)}` : ''}`}>Older mailings →</a>
          </p>
        ) : null}
      </>,
    );
  });

  routes.get('/mailings/new', (c) =>
    mailingForm(c, { campaign: c.req.query('campaign') ?? '', kind: 'letters', timeZone: 'Asia/Tokyo', channel: 'email', ...defaultWindowValues }, {}),
  );

  routes.post('/mailings', async (c) => {
    const form = c.var.form;
    const values = keptValues(form);
    const { input, errors } = mailingInputOf(form);
    const parsed = v.safeParse(CreateMailingInput, input);
    if (!parsed.success || Object.keys(errors).length) {
      return mailingForm(c, values, { ...(parsed.success ? {} : issuesToErrors(parsed.issues)), ...errors }, 422);
    }
    try {
      const services = c.get('services');
      const mailing = await scheduleMailing(services.ctx, parsed.output, services.letters);
      return c.redirect(`/admin/mailings/${mailing.id}?done=scheduled`, 303);
    } catch (error) {
      const problem = formErrorOf(error);
      if (!problem) throw error;
      return mailingForm(c, values, problem.errors, problem.status === 404 || problem.status === 409 ? problem.status : 422, problem.message);
    }
  });

  routes.get('/mailings/:id', (c) => mailingDetail(c, c.req.param('id')));

  const change = (verb: typeof pauseMailing, done: string) => async (c: AdminContext) => {
    const id = c.req.param('id')!;
    try {
      await verb(c.get('services').ctx, id);
    } catch (error) {
      const problem = formErrorOf(error);
      if (!problem || problem.status === 404) throw error;
      return mailingDetail(c, id, { status: 409, message: problem.message ?? 'The mailing changed meanwhile.' });
    }
    return c.redirect(`/admin/mailings/${encodeURIComponent(id)}?done=${done}`, 303);
  };
  routes.post('/mailings/:id/pause', change(pauseMailing, 'paused'));
  routes.post('/mailings/:id/resume', change(resumeMailing, 'resumed'));
  routes.post('/mailings/:id/cancel', change(cancelMailing, 'cancelled'));

  // The API's progress stream, opened with the session cookie (EventSource sends no Authorization header).
  routes.get('/mailings/:id/events', async (c) => {
    const query = v.safeParse(MailingEventsQuery, c.req.query());
    return streamMailingEvents(c, c.req.param('id'), query.success ? query.output.pollMs : 1000);
  });

  return routes;
}
