import { Hono } from 'hono';
import * as v from 'valibot';
import { formatInZone, localTimeToInstant } from '../../lib/local-time.js';
import { OFFICE_HOURS } from '../../lib/sending-window.js';
import { MailingEventsQuery, streamMailingEvents } from '../../http/mailing-events.js';
import { listCampaigns } from '../../services/campaigns.js';
import type { ServiceContext } from '../../services/context.js';
import { linkedTargets, plannedLetterTargets } from '../../services/letters.js';
import {
  cancelMailing,
  CreateMailingInput,
  finalMailingStatuses,
  getMailing,
  listMailings,
  mailingKinds,
  mailingStatuses,
  mailingWarnings,
  type MailingView,
  type MailingWarning,
  type SkipReason,
  type TargetOutcome,
  pauseMailing,
  resumeMailing,
  scheduleMailing,
} from '../../services/mailings/schedule.js';
import { lastBatchChoices } from './last-batch-choices.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, PostButton, SelectField, StatusBadge, TextField } from './admin-layout.js';
import { readOnlyCampaign, readOnlyCampaignBySlug, ViewerNote } from './viewer-only.js';
import { campaignNames, CampaignLink } from './campaign-names.js';
import { formErrorOf, formatTime, issuesToErrors, keptValues, missingScopePage, Notice, renderPage, timeZoneOptions } from './admin-page.js';
import { interpolate } from '../i18n/index.js';
import { channelTexts, commonTexts, statusTexts } from './i18n/common.js';
import { mailingKindTexts, mailingTexts, weekdayTexts } from './i18n/mailings.js';
import { formatNumber, intlLocale, textsFor, type TextsOf, useTexts } from './i18n/texts.js';
import { serviceContextOf } from '../../http/principal.js';
import { routingTexts } from './i18n/routing.js';
import { routingErrors, routingLabel, RoutingChoice } from './routing-preview.js';
import { letterLanguageTexts } from './i18n/letter-languages.js';
import { languageCombinations, languagesFromForm, languagesLabel, LetterLanguageChoice } from './letter-languages.js';

type Values = Record<string, string>;

const weekdays = [
  { iso: 1, label: 'day1' },
  { iso: 2, label: 'day2' },
  { iso: 3, label: 'day3' },
  { iso: 4, label: 'day4' },
  { iso: 5, label: 'day5' },
  { iso: 6, label: 'day6' },
  { iso: 7, label: 'day7' },
] as const;

/** A new mailing's form starts from the service's default office hours. */
const defaultWindowValues: Values = {
  windowStart: OFFICE_HOURS.start,
  windowEnd: OFFICE_HOURS.end,
  ...Object.fromEntries(OFFICE_HOURS.days.map((day) => [`windowDay${day}`, 'on'])),
};

/** Office hours for letters by email: local to each target (its time zone, else the mailing's). */
function SendingWindowFields(props: { values: Values; errors: FieldErrors }) {
  const t = useTexts(mailingTexts);
  const days = useTexts(weekdayTexts);
  const problems = Object.entries(props.errors)
    .filter(([path]) => path === 'sendingWindow' || path.startsWith('sendingWindow.'))
    .flatMap(([path, messages]) => messages.map((message) => `${path.replace(/^sendingWindow\.?/, '') || t.window}: ${message}`));
  return (
    <fieldset class={problems.length ? 'field invalid' : 'field'} aria-describedby="window-hint">
      <legend>{t.officeHours}</legend>
      <p class="hint" id="window-hint">
        {t.officeHoursHint}
      </p>
      <div class="grid2">
        <TextField name="windowStart" label={t.from} type="time" values={props.values} errors={{}} />
        <TextField name="windowEnd" label={t.until} type="time" values={props.values} errors={{}} />
      </div>
      <p>
        {weekdays.map((day) => (
          <label class="inline">
            <input type="checkbox" name={`windowDay${day.iso}`} checked={props.values[`windowDay${day.iso}`] === 'on'} /> {days[day.label]}{' '}
          </label>
        ))}
      </p>
      <label>
        <input type="checkbox" name="windowAnyTime" checked={props.values.windowAnyTime === 'on'} /> {t.anyTime}
      </label>
      {problems.length ? <p class="field-error">{problems.join('; ')}</p> : null}
    </fieldset>
  );
}

const mailingLabels = (t: TextsOf<typeof mailingTexts>): Record<string, string> => ({
  campaign: t.campaign,
  kind: t.kind,
  sendAt: t.sendAt,
  timeZone: t.timeZone,
  cutoffAt: t.cutoff,
  channel: t.channel,
  ratePerMinute: t.ratePerMinute,
  subject: t.subject,
  body: t.text,
  template: t.template,
  dryRun: t.dryRun,
});

/** Comma- (or space-) separated values of a text field; none for an empty one. */
// Commas as typed in Japanese too (、，), escaped so the compiled server stays ASCII (test/build/production.test.ts).
const listOf = (text: string | undefined) => (text ?? '').split(/[\s,\u3001\uff0c]+/).filter((item) => item !== '');

/** The segment fields as the API's `segment`, or none when every field is left empty (everyone who consented). */
function segmentOf(form: Values): Record<string, string[]> | undefined {
  const regions = listOf(form['segment.regions']);
  const partners = listOf(form['segment.partners']);
  const sources = (['web', 'paper'] as const).filter((source) => form[`segment.${source}`] === 'on');
  const segment = { ...(regions.length ? { regions } : {}), ...(partners.length ? { partners } : {}), ...(sources.length ? { sources } : {}) };
  return Object.keys(segment).length ? segment : undefined;
}

/** The update's segment fields: regions and partner codes as text, the sources as boxes. */
function SegmentFields(props: { values: Values; errors: FieldErrors }) {
  const t = useTexts(mailingTexts);
  const common = { values: props.values, errors: props.errors };
  const sourceErrors = props.errors['segment.sources'] ?? [];
  return (
    <fieldset class="field" id="segment-fields" aria-describedby="segment-hint">
      <legend>{t.segment}</legend>
      <p class="hint" id="segment-hint">
        {t.segmentHint}
      </p>
      {props.errors.segment ? <p class="field-error">{props.errors.segment.join('; ')}</p> : null}
      <TextField name="segment.regions" label={t.segmentRegions} hint={t.segmentRegionsHint} {...common} />
      <TextField name="segment.partners" label={t.segmentPartners} hint={t.segmentPartnersHint} {...common} />
      <fieldset>
        <legend>{t.segmentSources}</legend>
        {sourceErrors.length ? <p class="field-error">{sourceErrors.join('; ')}</p> : null}
        {(['web', 'paper'] as const).map((source) => (
          <label>
            <input type="checkbox" name={`segment.${source}`} checked={props.values[`segment.${source}`] === 'on'} /> {source === 'web' ? t.segmentWeb : t.segmentPaper}{' '}
          </label>
        ))}
      </fieldset>
    </fieldset>
  );
}

/**
 * The form's text as the API's input: only the fields the kind uses are sent
 * (a letters mailing takes no subject), times are local in the chosen zone.
 */
function mailingInputOf(form: Values, common: TextsOf<typeof commonTexts>): { input: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const kind = form.kind ?? '';
  const input: Record<string, unknown> = { campaign: form.campaign ?? '', kind, sendAt: form.sendAt ?? '', timeZone: form.timeZone ?? '' };
  if (kind === 'letters' && form.channel) input.channel = form.channel;
  if (kind === 'letters' && form.routing) input.routing = form.routing;
  if (kind === 'letters' && form.emptyTargets) input.emptyTargets = form.emptyTargets;
  // Office hours apply to letters by email (also auto's); the service refuses them for print.
  if (kind === 'letters' && (form.channel ?? 'auto') !== 'print') {
    input.sendingWindow =
      form.windowAnyTime === 'on'
        ? null
        : { start: form.windowStart ?? '', end: form.windowEnd ?? '', days: weekdays.filter((day) => form[`windowDay${day.iso}`] === 'on').map((day) => day.iso) };
  }
  if (kind === 'update') {
    const segment = segmentOf(form);
    if (segment) input.segment = segment;
    if (form.template?.trim()) input.template = form.template.trim();
    if (form.subject?.trim()) input.subject = form.subject;
    if (form.body?.trim()) input.body = form.body.replace(/\r\n?/g, '\n');
  }
  const rate = (form.ratePerMinute ?? '').trim();
  if (/^\d{1,9}$/.test(rate)) input.ratePerMinute = Number(rate);
  else if (rate !== '') errors.ratePerMinute = [common.mustBeWholeNumber];
  const cutoff = (form.cutoffAt ?? '').trim();
  if (cutoff !== '') {
    try {
      input.cutoffAt = formatInZone(localTimeToInstant(cutoff, form.timeZone || 'UTC'), form.timeZone || 'UTC');
    } catch (error) {
      errors.cutoffAt = [error instanceof RangeError ? common.needsValidTimeZone : (error as Error).message];
    }
  }
  if (form.dryRun === 'on') input.dryRun = true;
  return { input, errors };
}

/** What the organiser should know before confirming: the targets the mailing will not reach or whose letter counts none of their own. */
function MailingWarnings(props: { warnings: MailingWarning[]; names: ReadonlyMap<string, string>; emptyTargets: string | undefined }) {
  const t = useTexts(mailingTexts);
  if (props.warnings.length === 0) return null;
  const text = (warning: MailingWarning) => {
    const target = props.names.get(warning.targetId) ?? warning.targetId;
    if (warning.code === 'TARGET_UNREACHABLE') return interpolate(t.warning_TARGET_UNREACHABLE, { target });
    return interpolate(props.emptyTargets === 'skip' ? t.warningWithoutSupportersSkip : t.warningWithoutSupportersWrite, { target });
  };
  return (
    <section class="card warnings" role="alert" aria-labelledby="warnings-h" data-warnings>
      <h2 id="warnings-h">{t.warningsTitle}</h2>
      <ul>
        {props.warnings.map((warning) => (
          <li data-code={warning.code} data-target={warning.targetId}>
            {text(warning)}
          </li>
        ))}
      </ul>
      <label>
        <input type="checkbox" name="confirmWarnings" form="mailing-form" /> {t.confirmWarnings}
      </label>
    </section>
  );
}

/**
 * A campaign's own defaults for a new mailing: its time zone, and the routing and languages of its
 * last letter batch (lastBatchChoices). A batch's mode and template are not the mailing's: a letters
 * mailing writes one letter per target, and the form's template is an update's.
 */
async function campaignDefaults(c: AdminContext, slug: string): Promise<Values> {
  const { mode: _mode, template: _template, ...choices } = await lastBatchChoices(c, slug);
  return choices;
}

/** The letter languages the form offers: from the chosen campaign and its targets, or every language before one is chosen. */
async function offeredLanguages(ctx: ServiceContext, campaigns: readonly { id: string; slug: string; locale: string }[], values: Values): Promise<string[]> {
  const campaign = campaigns.find((x) => x.slug === values.campaign);
  if (!campaign) return languageCombinations(undefined, [], values.languages);
  const targets = await linkedTargets(ctx, campaign.id);
  return languageCombinations(campaign.locale, targets.map((target) => target.language), values.languages);
}

async function mailingForm(
  c: AdminContext,
  values: Values,
  errors: FieldErrors,
  status: 200 | 404 | 409 | 422 = 200,
  message?: string,
  warnings: { list: MailingWarning[]; names: ReadonlyMap<string, string> } = { list: [], names: new Map() },
) {
  const ctx = serviceContextOf(c);
  // Only campaigns the user may change: a viewer's campaigns are not offered.
  const campaigns = (await listCampaigns(ctx, { limit: 500 })).items.filter((x) => (x.status === 'open' || x.status === 'closed') && !readOnlyCampaign(c, x.id));
  const common = { values, errors };
  const t = textsFor(c, mailingTexts);
  const kinds = textsFor(c, mailingKindTexts);
  const channels = textsFor(c, channelTexts);
  return renderPage(
    c,
    { title: t.scheduleMailing, section: 'mailings', status },
    <>
      <p>
        <a href="/admin/mailings">{t.backToMailings}</a>
      </p>
      <h1>{t.scheduleMailing}</h1>
      <ErrorSummary errors={errors} message={message} labels={{ ...mailingLabels(t), routing: textsFor(c, routingTexts).routing, emptyTargets: textsFor(c, routingTexts).routing, languages: textsFor(c, letterLanguageTexts).languages }} />
      <MailingWarnings warnings={warnings.list} names={warnings.names} emptyTargets={values.emptyTargets} />
      <form method="post" action="/admin/mailings" class="card" id="mailing-form" novalidate>
        <CsrfField session={c.var.session} />
        <SelectField name="campaign" label={t.campaign} hint={t.campaignHint} options={campaigns.map((x) => ({ value: x.slug, label: `${x.title} (${x.slug})` }))} {...common} />
        <fieldset class="field">
          <legend>{t.kind}</legend>
          {mailingKinds.map((kind) => (
            <label>
              <input type="radio" name="kind" value={kind} checked={(values.kind ?? 'letters') === kind} /> {kinds[`${kind}Long`]}{' '}
            </label>
          ))}
          {errors.kind ? <p class="field-error">{errors.kind.join('; ')}</p> : null}
        </fieldset>
        <div class="grid2">
          <TextField name="sendAt" label={t.sendAt} type="datetime-local" hint={t.sendAtHint} {...common} required />
          <SelectField name="timeZone" label={t.timeZone} options={timeZoneOptions(values.timeZone)} {...common} />
        </div>
        <div class="grid2">
          <SelectField
            name="channel"
            label={t.channelLetters}
            options={[
              { value: 'auto', label: channels.auto },
              { value: 'email', label: channels.email },
              { value: 'print', label: channels.print },
            ]}
            {...common}
          />
          <TextField name="ratePerMinute" label={t.ratePerMinute} type="number" hint={t.ratePerMinuteHint} {...common} />
        </div>
        <RoutingChoice value={values.routing} emptyTargets={values.emptyTargets} errors={routingErrors(errors)} />
        <LetterLanguageChoice values={values} errors={errors} offered={await offeredLanguages(ctx, campaigns, values)} />
        <SendingWindowFields values={values} errors={errors} />
        <TextField name="cutoffAt" label={t.cutoff} type="datetime-local" hint={t.cutoffHint} {...common} />
        <TextField name="template" label={t.templateUpdate} hint={t.templateUpdateHint} {...common} />
        <TextField name="subject" label={t.subjectUpdate} {...common} />
        <TextField name="body" label={t.textUpdate} multiline {...common} />
        <SegmentFields values={values} errors={errors} />
        <div class="field">
          <label>
            <input type="checkbox" name="dryRun" checked={values.dryRun === 'on'} /> {t.dryRunLabel}
          </label>
        </div>
        <button type="submit">{t.schedule}</button>
      </form>
    </>,
  );
}

async function mailingDetail(c: AdminContext, id: string, problem?: { status: 409 | 422; message: string }) {
  const ctx = serviceContextOf(c);
  const mailing = await getMailing(ctx, id);
  const campaignShown = await campaignNames(ctx, [mailing.campaign]);
  const session = c.var.session;
  // A viewer of the mailing's campaign watches it but is offered no pause, resume or cancel.
  const readOnly = await readOnlyCampaignBySlug(c, mailing.campaign);
  const p = mailing.progress;
  // Skipped recipients are in neither the total nor what is done, so the share never passes 100 %.
  const done = Math.min(p.sent + p.failed, p.total);
  const final = finalMailingStatuses.includes(mailing.status);
  // A finished mailing is complete even when nothing was sent (a dry run only counts).
  const finished = mailing.status === 'finished';
  const percent = finished ? '100%' : p.total > 0 ? `${Math.round((done / p.total) * 100)}%` : '—';
  const tm = textsFor(c, mailingTexts);
  const base = `/admin/mailings/${mailing.id}`;
  const t = textsFor(c, mailingTexts);
  const common = textsFor(c, commonTexts);
  const statuses = textsFor(c, statusTexts);
  const channels = textsFor(c, channelTexts);
  const days = textsFor(c, weekdayTexts);
  const language = c.var.language;
  const campaignLink = <CampaignLink slug={mailing.campaign} title={campaignShown.title(mailing.campaign, language)} />;
  return renderPage(
    c,
    { title: t.mailing, section: 'mailings', status: problem?.status ?? 200 },
    <>
      <p>
        <a href="/admin/mailings">{t.backToMailings}</a>
      </p>
      <h1>{interpolate(mailing.kind === 'letters' ? t.lettersFor : t.updateFor, { campaign: campaignLink })}</h1>
      {readOnly ? <ViewerNote /> : null}
      <Notice done={c.req.query('done')} />
      {problem ? (
        <p class="error" role="alert">
          {problem.message}
        </p>
      ) : null}
      <section
        class="card progress-box"
        data-events={`${base}/events`}
        data-text-live={t.liveNote}
        data-text-ended={t.endedNote}
        data-status-labels={JSON.stringify(statuses)}
        data-text-skipped-one={tm.finishedWithSkip}
        data-text-skipped-many={tm.finishedWithSkips}
        data-outcome-labels={JSON.stringify(outcomeLabels(tm))}
        data-time-zone={mailing.timeZone}
        data-intl-locale={intlLocale[language]}
        aria-labelledby="progress-h"
      >
        <h2 id="progress-h">{t.progress}</h2>
        <p>
          {t.statusLabel} <span data-field="status" class={`status status-${mailing.status}`}>{statusText(tm, statuses[mailing.status], mailing)}</span>
        </p>
        <label for="progress-bar">{t.done}</label>{' '}
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
            {t.sent} <b data-field="sent">{formatNumber(language, p.sent)}</b>
          </div>
          <div>
            {t.failed} <b data-field="failed">{formatNumber(language, p.failed)}</b>
          </div>
          <div>
            {t.skipped} <b data-field="skipped">{formatNumber(language, p.skipped)}</b>
          </div>
          <div>
            {t.total} <b data-field="total">{formatNumber(language, p.total)}</b>
          </div>
        </div>
        {mailing.kind === 'letters' ? <OutcomeTable targets={mailing.targets} when={(iso) => formatTime(language, iso, mailing.timeZone)} /> : null}
        <p class="muted">
          <span data-live-note>{t.numbersAtLoad}</span> <a href={base}>{t.refresh}</a>
        </p>
        <div class="actions" data-actions>
          {!readOnly && (mailing.status === 'scheduled' || mailing.status === 'running') ? <PostButton session={session} action={`${base}/pause`} label={t.pause} variant="secondary" /> : null}
          {!readOnly && mailing.status === 'paused' ? <PostButton session={session} action={`${base}/resume`} label={t.resume} /> : null}
          {!readOnly && !final ? <PostButton session={session} action={`${base}/cancel`} label={t.cancelMailing} variant="danger" /> : null}
        </div>
      </section>
      <div class="card">
        <dl class="facts">
          <dt>{t.sendAt}</dt>
          <dd>
            {mailing.sendAtLocal.replace('T', ' ')} ({mailing.timeZone}) = {mailing.sendAt.slice(0, 16).replace('T', ' ')} UTC
          </dd>
          <dt>{t.cutoff}</dt>
          <dd>{formatTime(language, mailing.cutoffAt, mailing.timeZone)}</dd>
          <dt>{t.channel}</dt>
          <dd>{channels[mailing.channel ?? 'email']}</dd>
          {mailing.routing ? (
            <>
              <dt>{textsFor(c, routingTexts).routing}</dt>
              <dd>
                {routingLabel(textsFor(c, routingTexts), mailing.routing)}
                {mailing.emptyTargets === 'skip' ? ` · ${textsFor(c, routingTexts).skippingEmptyTargets}` : ''}
              </dd>
            </>
          ) : null}
          {mailing.languages ? (
            <>
              <dt>{textsFor(c, letterLanguageTexts).languages}</dt>
              <dd>{languagesLabel(c, mailing.languages)}</dd>
            </>
          ) : null}
          {mailing.kind === 'letters' && mailing.channel !== 'print' ? (
            <>
              <dt>{t.officeHoursShort}</dt>
              <dd>
                {mailing.sendingWindow
                  ? interpolate(t.officeHoursValue, {
                      start: mailing.sendingWindow.start,
                      end: mailing.sendingWindow.end,
                      days: mailing.sendingWindow.days.map((iso) => days[`day${iso}` as keyof typeof days] ?? String(iso)).join(' '),
                    })
                  : t.anyTimeShort}
              </dd>
            </>
          ) : null}
          {mailing.template ? (
            <>
              <dt>{t.template}</dt>
              <dd>{mailing.template}</dd>
            </>
          ) : null}
          <dt>{t.rate}</dt>
          <dd>{mailing.ratePerMinute ? interpolate(t.ratePerMinuteValue, { rate: formatNumber(language, mailing.ratePerMinute) }) : t.asFastAsSender}</dd>
          {mailing.kind === 'update' ? (
            <>
              <dt>{t.segment}</dt>
              <dd id="mailing-segment">
                {mailing.segment
                  ? [
                      mailing.segment.regions ? `${t.segmentRegions}: ${mailing.segment.regions.join(', ')}` : null,
                      mailing.segment.partners ? `${t.segmentPartners}: ${mailing.segment.partners.join(', ')}` : null,
                      mailing.segment.sources ? `${t.segmentSources}: ${mailing.segment.sources.map((source) => (source === 'web' ? t.segmentWeb : t.segmentPaper)).join(', ')}` : null,
                    ]
                      .filter((line) => line !== null)
                      .join(' · ')
                  : t.segmentNone}
              </dd>
            </>
          ) : null}
          <dt>{t.dryRun}</dt>
          <dd>{mailing.dryRun ? t.dryRunYes : common.no}</dd>
          <dt>{t.started}</dt>
          <dd data-field="startedAt">{mailing.startedAt ? formatTime(language, mailing.startedAt, mailing.timeZone) : common.notYet}</dd>
          <dt>{t.finished}</dt>
          <dd data-field="finishedAt">{mailing.finishedAt ? formatTime(language, mailing.finishedAt, mailing.timeZone) : common.notYet}</dd>
          {mailing.lastError ? (
            <>
              <dt>{t.lastError}</dt>
              <dd>{mailing.lastError}</dd>
            </>
          ) : null}
          {mailing.subject ? (
            <>
              <dt>{t.subject}</dt>
              <dd>{mailing.subject}</dd>
            </>
          ) : null}
        </dl>
        {mailing.body ? <pre class="body">{mailing.body}</pre> : null}
      </div>
    </>,
  );
}

const outcomeLabels = (t: TextsOf<typeof mailingTexts>): Record<string, string> => ({
  emailed: t.outcome_emailed,
  queued_for_print: t.outcome_queued_for_print,
  skipped: t.outcome_skipped,
  TARGET_HAS_NO_EMAIL: t.reason_TARGET_HAS_NO_EMAIL,
  NO_SUPPORTERS_ROUTED: t.reason_NO_SUPPORTERS_ROUTED,
  because: t.outcomeBecause,
  emailState: t.emailState,
  email_queued: t.email_queued,
  email_sending: t.email_sending,
  email_sent: t.email_sent,
  email_failed: t.email_failed,
  email_bounced: t.email_bounced,
  emailWaitsUntil: t.emailWaitsUntil,
});

/** A target's outcome as the table shows it: an email's state beside "by email", the time a queued one waits for. */
function outcomeText(labels: Record<string, string>, target: TargetOutcome, when: (iso: string) => string): string {
  const outcome = labels[target.outcome] ?? target.outcome;
  if (target.reason) return interpolate(labels.because!, { outcome, reason: labels[target.reason] ?? target.reason });
  if (!target.email) return outcome;
  const state = target.email.notBefore ? interpolate(labels.emailWaitsUntil!, { time: when(target.email.notBefore) }) : (labels[`email_${target.email.status}`] ?? target.email.status);
  return interpolate(labels.emailState!, { outcome, state });
}

/** A letters mailing that left targets out never reads as simply finished. */
function statusText(t: TextsOf<typeof mailingTexts>, statusName: string, mailing: Pick<MailingView, 'status' | 'kind' | 'progress'>): string {
  if (mailing.status !== 'finished' || mailing.kind !== 'letters' || mailing.progress.skipped === 0) return statusName;
  return mailing.progress.skipped === 1 ? t.finishedWithSkip : interpolate(t.finishedWithSkips, { count: mailing.progress.skipped });
}

/** What became of each target, filled in live by the page's script as the mailing runs. */
function OutcomeTable(props: { targets: TargetOutcome[]; when: (iso: string) => string }) {
  const t = useTexts(mailingTexts);
  const labels = outcomeLabels(t);
  return (
    <>
      <h3>{t.outcomes}</h3>
      <p class="muted" data-no-outcomes hidden={props.targets.length > 0}>
        {t.noOutcomesYet}
      </p>
      <table data-outcomes>
        <thead>
          <tr>
            <th scope="col">{t.target}</th>
            <th scope="col">{t.outcome}</th>
          </tr>
        </thead>
        <tbody>
          {props.targets.map((target) => (
            <tr data-target={target.targetId} data-outcome={target.outcome}>
              <td>{target.name}</td>
              <td>
                {outcomeText(labels, target, props.when)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Target names by id for the warnings, from the campaign's letters as planned now. */
async function plannedNames(ctx: ReturnType<typeof serviceContextOf>, campaign: string) {
  const planned = await plannedLetterTargets(ctx, campaign, { routing: 'all', emptyTargets: 'write', cutoffAt: ctx.clock.now() });
  return { written: planned.written.map((target) => [target.id, target.name] as const), skipped: planned.skipped.map((target) => [target.id, target.name] as const) };
}

/** Mailings: list, schedule, detail with live progress, pause/resume/cancel (scope `deliveries`). */
export function mailingPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/mailings', requireAdminScope('deliveries', missingScopePage));
  routes.use('/mailings/*', requireAdminScope('deliveries', missingScopePage));

  routes.get('/mailings', async (c) => {
    const ctx = serviceContextOf(c);
    const campaign = c.req.query('campaign') || undefined;
    const status = v.safeParse(v.picklist(mailingStatuses), c.req.query('status'));
    const page = await listMailings(ctx, { limit: 50, cursor: c.req.query('cursor'), campaign, status: status.success ? status.output : undefined });
    const campaignsShown = await campaignNames(ctx, [...page.items.map((m) => m.campaign), ...(campaign ? [campaign] : [])]);
    const t = textsFor(c, mailingTexts);
    const kinds = textsFor(c, mailingKindTexts);
    const channels = textsFor(c, channelTexts);
    const language = c.var.language;
    return renderPage(
      c,
      { title: t.mailings, section: 'mailings' },
      <>
        <h1>{campaign ? interpolate(t.mailingsOf, { campaign: campaignsShown.title(campaign, language).text }) : t.mailings}</h1>
        <Notice done={c.req.query('done')} />
        <div class="actions">
          <a class="button" href={`/admin/mailings/new${campaign ? `?campaign=${encodeURIComponent(campaign)}` : ''}`}>
            {t.scheduleMailing}
          </a>
        </div>
        {page.items.length === 0 ? (
          <p class="muted">{t.noMailings}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t.sendAt}</th>
                <th scope="col">{t.campaign}</th>
                <th scope="col">{t.kind}</th>
                <th scope="col">{t.status}</th>
                <th scope="col" class="num">
                  {t.sentOfTotal}
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
                  <td>
                    <CampaignLink slug={m.campaign} title={campaignsShown.title(m.campaign, language)} />
                  </td>
                  <td>
                    {kinds[m.kind]}
                    {m.channel ? ` · ${channels[m.channel]}` : ''}
                    {m.dryRun ? ` · ${t.dryRunShort}` : ''}
                  </td>
                  <td>
                    {m.kind === 'letters' && m.status === 'finished' && m.progress.skipped > 0 ? (
                      <span class="status status-finished-skipped">{statusText(t, '', m)}</span>
                    ) : (
                      <StatusBadge status={m.status} />
                    )}
                  </td>
                  <td class="num">
                    {formatNumber(language, m.progress.sent)} / {formatNumber(language, m.progress.total)}
                    {m.kind === 'letters' && m.progress.skipped > 0 ? (
                      <span class="skipped-note">
                        {' · '}
                        {interpolate(t.skippedInList, {
                          count: formatNumber(language, m.progress.skipped),
                          reasons: m.skipReasons.map((reason: SkipReason) => outcomeLabels(t)[reason]).join(t.reasonSeparator),
                        })}
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {page.nextCursor ? (
          <p>
            <a href={`/admin/mailings?cursor=${encodeURIComponent(page.nextCursor)}${campaign ? `&campaign=${encodeURIComponent(campaign)}` : ''}`}>{t.olderMailings}</a>
          </p>
        ) : null}
      </>,
    );
  });

  routes.get('/mailings/new', async (c) => {
    const slug = c.req.query('campaign') ?? '';
    return mailingForm(c, { campaign: slug, kind: 'letters', timeZone: 'Asia/Tokyo', channel: 'auto', ...defaultWindowValues, ...(await campaignDefaults(c, slug)) }, {});
  });

  routes.post('/mailings', async (c) => {
    const form = c.var.form;
    const values = keptValues(form);
    const { input, errors } = mailingInputOf(form, textsFor(c, commonTexts));
    const languages = languagesFromForm(form);
    if (input.kind === 'letters' && languages) input.languages = languages;
    const parsed = v.safeParse(CreateMailingInput, input);
    if (!parsed.success || Object.keys(errors).length) {
      return mailingForm(c, values, { ...(parsed.success ? {} : issuesToErrors(parsed.issues, c)), ...errors }, 422);
    }
    try {
      const services = c.get('services');
      const ctx = serviceContextOf(c);
      // The form stops once to show what the mailing will not do; the organiser confirms with the box ticked.
      if (form.confirmWarnings !== 'on') {
        const warnings = await mailingWarnings(ctx, parsed.output);
        if (warnings.length > 0) {
          const { written, skipped } = await plannedNames(ctx, parsed.output.campaign);
          return mailingForm(c, values, {}, 200, undefined, { list: warnings, names: new Map([...written, ...skipped]) });
        }
      }
      const mailing = await scheduleMailing(ctx, parsed.output, services.letters);
      return c.redirect(`/admin/mailings/${mailing.id}?done=scheduled`, 303);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem) throw error;
      return mailingForm(c, values, problem.errors, problem.status === 404 || problem.status === 409 ? problem.status : 422, problem.message);
    }
  });

  routes.get('/mailings/:id', (c) => mailingDetail(c, c.req.param('id')));

  const change = (verb: typeof pauseMailing, done: string) => async (c: AdminContext) => {
    const id = c.req.param('id')!;
    try {
      await verb(serviceContextOf(c), id);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem || problem.status === 404) throw error;
      return mailingDetail(c, id, { status: 409, message: problem.message ?? textsFor(c, mailingTexts).changedMeanwhile });
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
