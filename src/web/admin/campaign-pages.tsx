import { Hono } from 'hono';
import * as v from 'valibot';
import { isRegionOf, regionName } from '../../lib/regions.js';
import { localTimeToInstant, formatInZone } from '../../lib/local-time.js';
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
import { AttachCampaignTargetsInput, changeCampaignTargets } from '../../services/campaign-targets.js';
import { listLetterTemplates } from '../../services/letter-templates.js';
import { locales } from '../../lib/locales.js';
import { campaignStats } from '../../services/signatures.js';
import { TargetTranslationFields, translationsFromForm, translationValues } from './letter-languages.js';
import { campaignSupportMap } from '../../services/support-map.js';
import { exportSignaturesCsv, SignatureExportQuery } from '../../services/signature-export.js';
import { ValidationFailed } from '../../lib/service-errors.js';
import { exportTexts } from './i18n/exports.js';
import { SupportMap } from '../support-map.js';
import { createTarget, CreateTargetInput, getTarget, listTargets, targetKinds, type TargetView, updateTarget, UpdateTargetInput } from '../../services/targets.js';
import { OfficialName, targetNamesFor } from './target-names.js';
import { targetDirectoryTexts } from './i18n/targets.js';
import { type AdminContext, type AdminEnv, can, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, PostButton, SelectField, StatusBadge, TextField } from './admin-layout.js';
import { forbiddenPage, formatTime, formErrorOf, issuesToErrors, keptValues, missingScopePage, Notice, renderPage, timeZoneOptions } from './admin-page.js';
import { ConfirmationRateChart, HorizontalBarChart, SignaturesOverTimeChart } from './charts.js';
import { interpolate, languageName } from '../i18n/index.js';
import { commonTexts, statusTexts } from './i18n/common.js';
import { campaignTexts, signatureStatusTexts, targetKindTexts } from './i18n/campaigns.js';
import { type DashboardLanguage, formatNumber, textsFor, type TextsOf, useDashboardLanguage, useTexts } from './i18n/texts.js';
import { serviceContextOf } from '../../http/principal.js';
import { RepliesCard } from './reply-pages.js';
import { InvitePreviousCard } from './invite-previous.js';
import { paperTexts } from './i18n/paper.js';
import { partnerTexts } from './i18n/partners.js';
import { PartnerCounts } from './partner-pages.js';
import { listPartners } from '../../services/partners.js';
import { readOnlyCampaign, ViewerNote } from './viewer-only.js';
import { viewerTexts } from './i18n/viewer.js';
import { cloneTexts } from './i18n/clone.js';
import { addressOnOneLine } from '../../letters/template/postal-address.js';
import { letterPostalAddress } from '../../services/organisation.js';
import { countryName } from '../i18n/countries.js';
import { campaignTitle, CampaignLink } from './campaign-names.js';
import { CampaignSharing } from './campaign-sharing.js';
import { JurisdictionNames } from './routing-preview.js';
import { NextStepFields, nextStepFieldOf, nextStepInputOf, nextStepLabels, nextStepValues } from './next-step-fields.js';
import { nextStepTexts } from './i18n/next-step.js';

type Values = Record<string, string>;
type Mode = 'create' | 'edit';
type CampaignTexts = TextsOf<typeof campaignTexts>;
type CommonTexts = TextsOf<typeof commonTexts>;

const localeOptions = locales.map((l) => ({ value: l, label: { en: 'English (en)', ja: '日本語 (ja)', ko: '한국어 (ko)', zh: '中文 (zh)' }[l] }));

/** The languages a campaign can be translated into: every one but its main language. */
const translationLocales = (main: string | undefined) => locales.filter((locale) => locale !== main);

/** The form's names for one translation's fields (`tr_ja_title`…). */
const translationField = (locale: string, part: 'title' | 'summary' | 'body') => `tr_${locale}_${part}`;

/** Field names → labels, for the error summary (the translations' fields named with their language). */
function campaignLabels(t: CampaignTexts, language: DashboardLanguage): Record<string, string> {
  const labels: Record<string, string> = {
    title: t.title,
    slug: t.slug,
    locale: t.mainLanguage,
    timeZone: t.timeZone,
    summary: t.summary,
    body: t.text,
    goal: t.goal,
    opensAt: t.opensAt,
    closesAt: t.closesAt,
    letterTemplate: t.letterTemplate,
    status: t.status,
    targetIds: t.targets,
  };
  for (const locale of locales) {
    const name = { language: languageName(locale, language) };
    labels[translationField(locale, 'title')] = interpolate(t.translationTitle, name);
    labels[translationField(locale, 'summary')] = interpolate(t.translationSummary, name);
    labels[translationField(locale, 'body')] = interpolate(t.translationBody, name);
  }
  return { ...labels, ...nextStepLabels(nextStepTexts[language], language) };
}

/**
 * `translations.ja.title` (the API's path) → `tr_ja_title` (the form's field); an error on a whole
 * translation goes to its title. The next step's paths likewise (next-step-fields.tsx).
 */
function translationErrors(errors: FieldErrors): FieldErrors {
  const renamed: FieldErrors = {};
  for (const [path, messages] of Object.entries(errors)) {
    const match = /^translations\.(\w+)(?:\.(title|summary|body))?/.exec(path);
    const field = match ? translationField(match[1]!, (match[2] ?? 'title') as 'title') : (nextStepFieldOf(path) ?? path);
    (renamed[field] ??= []).push(...messages);
  }
  return renamed;
}

const multiline = (text: string | undefined) => (text ?? '').replace(/\r\n?/g, '\n');

/** A region of the stats chart: its name and code, or as stored for rows from before the fixed list. */
const regionLabel = (country: string, region: string | null, language: DashboardLanguage) =>
  region === null ? `— (${country})` : isRegionOf(region, country) ? `${regionName(region, language)} (${region})` : `${region} (${country})`;

/** A `datetime-local` value (wall clock in the campaign's zone) as an ISO instant, or an error message. */
function localToIso(value: string, timeZone: string, common: CommonTexts): { iso: string } | { error: string } {
  try {
    return { iso: new Date(localTimeToInstant(value, timeZone)).toISOString() };
  } catch (error) {
    return { error: error instanceof RangeError ? common.needsValidTimeZone : (error as Error).message };
  }
}

/**
 * The translation fieldsets as the API's `translations`: the whole set, so a
 * language whose title was emptied loses its translation. A summary or text
 * without a title is refused rather than dropped. Left out (translations
 * untouched) when the form had no translation fields at all.
 */
function translationsInputOf(form: Values, main: string, t: CampaignTexts, errors: FieldErrors): Record<string, Record<string, string>> | undefined {
  if (!Object.keys(form).some((name) => name.startsWith('tr_'))) return undefined;
  const translations: Record<string, Record<string, string>> = {};
  for (const locale of translationLocales(main)) {
    const title = form[translationField(locale, 'title')] ?? '';
    const summary = multiline(form[translationField(locale, 'summary')]);
    const body = multiline(form[translationField(locale, 'body')]);
    if (title.trim() === '') {
      if (summary.trim() || body.trim()) errors[translationField(locale, 'title')] = [t.translationNeedsTitle];
      continue;
    }
    translations[locale] = { title, ...(summary.trim() ? { summary } : {}), ...(body.trim() ? { body } : {}) };
  }
  return translations;
}

/**
 * The form's text as the API's input, so the same valibot schema judges it.
 * Blank optional fields are left out on create and cleared (null) on edit;
 * the goal must be a whole number; dates are read in the chosen time zone.
 */
function campaignInputOf(form: Values, mode: Mode, t: CampaignTexts, common: CommonTexts, nextStepT: TextsOf<typeof nextStepTexts>): { input: Record<string, unknown>; errors: FieldErrors } {
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
  else errors.goal = [common.mustBeWholeNumber];
  for (const field of ['opensAt', 'closesAt'] as const) {
    const value = (form[field] ?? '').trim();
    if (value === '') input[field] = blank;
    else {
      const result = localToIso(value, timeZone, common);
      if ('iso' in result) input[field] = result.iso;
      else errors[field] = [result.error];
    }
  }
  input.letterTemplate = form.letterTemplate ? form.letterTemplate : blank;
  input.translations = translationsInputOf(form, String(input.locale), t, errors);
  input.nextStep = nextStepInputOf(form, nextStepT, errors);
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
    ...Object.fromEntries(
      Object.entries(campaign.translations).flatMap(([locale, text]) => [
        [translationField(locale, 'title'), text.title],
        [translationField(locale, 'summary'), text.summary ?? ''],
        [translationField(locale, 'body'), text.body ?? ''],
      ]),
    ),
    ...nextStepValues(campaign.nextStep),
  };
}

/** One fieldset per language other than the main one: title, summary and text of the campaign page in it. */
function TranslationFields(props: { main: string | undefined; values: Values; errors: FieldErrors }) {
  const t = useTexts(campaignTexts);
  const language = useDashboardLanguage();
  const common = { values: props.values, errors: props.errors };
  return (
    <section class="translations" aria-labelledby="translations-h">
      <h2 id="translations-h">{t.translations}</h2>
      <p class="hint">{t.translationsHint}</p>
      {translationLocales(props.main).map((locale) => {
        const name = { language: languageName(locale, language) };
        return (
          <fieldset class="field translation" id={`translation-${locale}`}>
            <legend>{interpolate(t.translationLegend, name)}</legend>
            <TextField name={translationField(locale, 'title')} label={interpolate(t.translationTitle, name)} {...common} />
            <TextField name={translationField(locale, 'summary')} label={interpolate(t.translationSummary, name)} multiline {...common} />
            <TextField name={translationField(locale, 'body')} label={interpolate(t.translationBody, name)} multiline {...common} />
          </fieldset>
        );
      })}
    </section>
  );
}

async function templateOptions(c: AdminContext) {
  const { items } = await listLetterTemplates(serviceContextOf(c), c.get('services').letters);
  return [{ value: '', label: textsFor(c, campaignTexts).defaultTemplate }, ...items.map((t) => ({ value: t.name, label: `${t.name} (${t.languages.join(', ')})` }))];
}

/** The open campaigns a next step may offer: every one the caller sees but this one. */
async function otherOpenCampaigns(c: AdminContext, slug: string | undefined) {
  const { items } = await listCampaigns(serviceContextOf(c), { limit: 100, status: 'open' });
  return items.filter((campaign) => campaign.slug !== slug).map((campaign) => ({ slug: campaign.slug, title: campaign.title }));
}

async function campaignForm(c: AdminContext, mode: Mode, values: Values, errors: FieldErrors, status: 200 | 409 | 422 = 200, message?: string) {
  const session = c.var.session;
  const action = mode === 'create' ? '/admin/campaigns' : `/admin/campaigns/${encodeURIComponent(values.slug ?? '')}`;
  const t = textsFor(c, campaignTexts);
  const back = textsFor(c, commonTexts).back;
  const title = mode === 'create' ? t.newCampaign : t.editCampaign;
  const common = { values, errors };
  return renderPage(
    c,
    { title, section: 'campaigns', status },
    <>
      <p>
        <a href={mode === 'create' ? '/admin/campaigns' : `/admin/campaigns/${encodeURIComponent(values.slug ?? '')}`}>{back}</a>
      </p>
      <h1>{title}</h1>
      <ErrorSummary errors={errors} message={message} labels={campaignLabels(t, c.var.language)} />
      <form method="post" action={action} class="card" novalidate>
        <CsrfField session={session} />
        <TextField name="title" label={t.title} {...common} required />
        {mode === 'create' ? <TextField name="slug" label={t.slug} hint={t.slugHint} {...common} required /> : null}
        <div class="grid2">
          <SelectField name="locale" label={t.mainLanguage} options={localeOptions} {...common} />
          <SelectField name="timeZone" label={t.timeZone} hint={t.timeZoneHint} options={timeZoneOptions(values.timeZone)} {...common} />
        </div>
        <TextField name="summary" label={t.summary} multiline {...common} />
        <TextField name="body" label={t.text} hint={t.markdownHint} multiline {...common} />
        <div class="grid2">
          <TextField name="goal" label={t.goal} hint={t.goalHint} type="number" {...common} />
          <SelectField name="letterTemplate" label={t.letterTemplate} options={await templateOptions(c)} {...common} />
        </div>
        <div class="grid2">
          <TextField name="opensAt" label={t.opensAt} hint={t.localTimeHint} type="datetime-local" {...common} />
          <TextField name="closesAt" label={t.closesAt} hint={t.localTimeHint} type="datetime-local" {...common} />
        </div>
        <TranslationFields main={values.locale} {...common} />
        <NextStepFields {...common} campaigns={await otherOpenCampaigns(c, values.slug)} />
        <button type="submit">{mode === 'create' ? t.createCampaign : t.saveChanges}</button>
      </form>
    </>,
  );
}

/** What the status buttons offer from each status (the service still decides). */
const statusActions: Record<string, { status: string; label: keyof CampaignTexts; variant?: 'secondary' | 'danger' }[]> = {
  draft: [{ status: 'open', label: 'openForSignatures' }],
  open: [{ status: 'closed', label: 'close', variant: 'secondary' }],
  closed: [
    { status: 'open', label: 'reopen' },
    { status: 'archived', label: 'archive', variant: 'danger' },
  ],
  archived: [],
};

async function directoryTargets(c: AdminContext, linkedIds: string[]): Promise<Map<string, TargetView>> {
  const ctx = serviceContextOf(c);
  const page = await listTargets(ctx, { limit: 500 });
  // The directory answers newest first; offered in the order it was made, an imported list reads
  // as its file does (the embassy before its consulates) and is attached in that order.
  const byId = new Map(page.items.toReversed().map((t) => [t.id, t]));
  for (const id of linkedIds) if (!byId.has(id)) byId.set(id, await getTarget(ctx, id));
  return byId;
}

/** The signatures as Signet's own CSV and as the upload files of Action Network and ActionKit. */
function SignatureDownloads(props: { slug: string; texts: TextsOf<typeof exportTexts> }) {
  const href = (format: string) => `/admin/campaigns/${encodeURIComponent(props.slug)}/signatures.csv?format=${format}`;
  return (
    <>
      <h3>{props.texts.heading}</h3>
      <ul>
        <li>
          <a href={href('signet')}>{props.texts.signet}</a>
        </li>
        <li>
          <a href={href('action-network')}>{props.texts.actionNetwork}</a>
        </li>
        <li>
          <a href={href('actionkit')}>{props.texts.actionKit}</a>
        </li>
      </ul>
      <p class="muted">{props.texts.presetsNote}</p>
    </>
  );
}

/** Attaching is by checkboxes `target-<id>` (a repeated field name would keep only its last value). */
const ATTACH_FIELD = /^target-(.+)$/;

/**
 * The directory's other targets, each with a box, and one button to attach every ticked one in
 * one request. "Select all" needs the script, so it stays hidden until the script shows it.
 */
function AttachTargetsForm(props: { action: string; session: AdminContext['var']['session']; targets: TargetView[] }) {
  const texts = useTexts(campaignTexts);
  const kinds = useTexts(targetKindTexts);
  const directoryTexts = useTexts(targetDirectoryTexts);
  const language = useDashboardLanguage();
  return (
    <form method="post" action={props.action} id="attach-targets">
      <CsrfField session={props.session} />
      <fieldset>
        <legend>{texts.attachFromDirectory}</legend>
        <p hidden data-select-all-box>
          <label>
            <input type="checkbox" data-select-all="target-" /> {texts.selectAll}
          </label>
        </p>
        <ul class="choices">
          {props.targets.map((t) => {
            const shown = targetNamesFor(t, language);
            return (
              <li>
                <label>
                  <input type="checkbox" name={`target-${t.id}`} value="on" /> {shown.name}
                  <span class="muted">
                    {' — '}
                    {shown.organisation ? `${shown.organisation}, ` : ''}
                    {kinds[t.kind]}
                  </span>
                  <OfficialName official={shown.official} lang={t.language} label={directoryTexts.asInLetters} />
                </label>
              </li>
            );
          })}
        </ul>
      </fieldset>
      <button type="submit">{texts.attach}</button>
    </form>
  );
}

async function campaignDetail(c: AdminContext, slug: string, problem?: { status: 400 | 403 | 404 | 409 | 410 | 422 | 429; message: string }) {
  const ctx = serviceContextOf(c);
  const session = c.var.session;
  const campaign = await getCampaign(ctx, slug);
  const directory = await directoryTargets(c, campaign.targetIds);
  const linked = campaign.targetIds.map((id) => directory.get(id)).filter((t): t is TargetView => t !== undefined);
  const unlinked = [...directory.values()].filter((t) => !campaign.targetIds.includes(t.id));
  const stats = can(c, 'signatures:read') ? await campaignStats(ctx, slug) : null;
  // The map shows only what the campaign page may show (small regions merged), so any reader of the campaign sees it.
  const supportMap = await campaignSupportMap(ctx, slug);
  const partners = can(c, 'campaigns') ? await listPartners(ctx, slug) : null;
  const base = `/admin/campaigns/${encodeURIComponent(slug)}`;
  const texts = textsFor(c, campaignTexts);
  const kinds = textsFor(c, targetKindTexts);
  const signatureStatuses = textsFor(c, signatureStatusTexts);
  const language = c.var.language;
  const translated = Object.keys(campaign.translations).filter((locale) => locale !== campaign.locale);
  const { listSeparator } = textsFor(c, commonTexts);
  // A viewer is offered nothing that changes the campaign (the services refuse it anyway).
  const readOnly = readOnlyCampaign(c, campaign.id);
  const title = campaignTitle(campaign, language);
  return renderPage(
    c,
    { title: title.text, section: 'campaigns', status: problem?.status ?? 200 },
    <>
      <p>
        <a href="/admin/campaigns">{texts.backToCampaigns}</a>
      </p>
      <h1 lang={title.lang}>{title.text}</h1>
      {readOnly ? <ViewerNote /> : null}
      <Notice done={c.req.query('done')} />
      {problem ? (
        <p class="error" role="alert">
          {problem.message}
        </p>
      ) : null}
      <div class="card">
        <dl class="facts">
          <dt>{texts.status}</dt>
          <dd>
            <StatusBadge status={campaign.status} />
          </dd>
          <dt>{texts.slug}</dt>
          <dd>{campaign.slug}</dd>
          <dt>{texts.confirmedSignatures}</dt>
          <dd>
            {campaign.goal
              ? interpolate(texts.countOfGoal, { count: formatNumber(language, campaign.signatureCount), goal: formatNumber(language, campaign.goal) })
              : formatNumber(language, campaign.signatureCount)}
          </dd>
          <dt>{texts.languageAndTimeZone}</dt>
          <dd>
            {languageName(campaign.locale, language)}
            {listSeparator}
            {campaign.timeZone}
          </dd>
          <dt>{texts.translations}</dt>
          <dd>{translated.length ? translated.map((locale) => languageName(locale, language)).join(listSeparator) : '—'}</dd>
          <dt>{texts.opens}</dt>
          <dd>{campaign.opensAt ? formatTime(language, campaign.opensAt, campaign.timeZone) : texts.whenOpened}</dd>
          <dt>{texts.closes}</dt>
          <dd>{campaign.closesAt ? formatTime(language, campaign.closesAt, campaign.timeZone) : texts.whenClosed}</dd>
          <dt>{texts.letterTemplate}</dt>
          <dd>{campaign.letterTemplate ?? texts.defaultTemplateShort}</dd>
        </dl>
        <div class="actions">
          {readOnly
            ? null
            : statusActions[campaign.status]!.map((a) => (
                <PostButton session={session} action={`${base}/status`} label={texts[a.label]} variant={a.variant} fields={{ status: a.status }} />
              ))}
          {readOnly ? null : (
            <a class="button secondary" href={`${base}/edit`}>
              {texts.edit}
            </a>
          )}
          <a class="button secondary" href={`${base}/letters`}>
            {texts.letters}
          </a>
          {readOnly ? null : (
            <a class="button secondary" href={`/admin/mailings/new?campaign=${encodeURIComponent(slug)}`}>
              {texts.scheduleMailing}
            </a>
          )}
          <a class="button secondary" href={`/admin/mailings?campaign=${encodeURIComponent(slug)}`}>
            {texts.mailings}
          </a>
          {can(c, 'campaigns') ? (
            <a class="button secondary" href={`${base}/paper`}>
              {textsFor(c, paperTexts).button}
            </a>
          ) : null}
          {can(c, 'campaigns') ? (
            <a class="button secondary" href={`${base}/partners`}>
              {textsFor(c, partnerTexts).button}
            </a>
          ) : null}
          {/* A copy is a new campaign: only who reaches the whole organisation may make one (the service says the same). */}
          {session.principal.access.kind === 'organisation' && can(c, 'campaigns') ? (
            <a class="button secondary" href={`${base}/clone`}>
              {textsFor(c, cloneTexts).button}
            </a>
          ) : null}
        </div>
      </div>
      <CampaignSharing campaign={campaign} publicUrl={ctx.publicUrl} embedOrigins={c.get('services').embedOrigins} />
      {readOnly ? null : <InvitePreviousCard ctx={ctx} slug={campaign.slug} session={session} canSchedule={can(c, 'deliveries')} />}

      <h2>{texts.signatures}</h2>
      {stats ? (
        <div class="card">
          <SignaturesOverTimeChart id="chart-days" byDay={stats.byDay} timeZone={stats.timeZone} />
          <ConfirmationRateChart id="chart-rate" since={stats.confirmationRate.since} byDay={stats.confirmationRate.byDay} timeZone={stats.timeZone} />
          <div class="grid2">
            <HorizontalBarChart id="chart-countries" caption={texts.byCountry} labelHeading={texts.country} rows={stats.byCountry.map((r) => ({ label: r.country, count: r.count }))} />
            <HorizontalBarChart
              id="chart-regions"
              caption={texts.byRegion}
              labelHeading={texts.region}
              rows={stats.byRegion.map((r) => ({ label: regionLabel(r.country, r.region, language), count: r.count }))}
            />
          </div>
          <SignatureDownloads slug={slug} texts={textsFor(c, exportTexts)} />
          <p class="muted">
            {interpolate(texts.byStatus, {
              counts: Object.entries(stats.byStatus)
                .map(([status, count]) => `${signatureStatuses[status as keyof typeof signatureStatuses] ?? status} ${formatNumber(language, count)}`)
                .join(' · '),
            })}
          </p>
        </div>
      ) : (
        <p class="muted">{texts.chartsNeedScope}</p>
      )}
      <SupportMap map={supportMap} language={language} boxClass="card" />
      {partners ? <PartnerCounts partners={partners} base={base} /> : null}

      <h2>{texts.targets}</h2>
      <div class="card">
        {linked.length === 0 ? <p class="muted">{texts.noTargets}</p> : null}
        {linked.length > 0 ? (
          <table id="campaign-targets">
            <thead>
              <tr>
                <th scope="col">{texts.name}</th>
                <th scope="col">{texts.kind}</th>
                <th scope="col">{texts.email}</th>
                <th scope="col">{texts.address}</th>
                <th scope="col">{texts.jurisdiction}</th>
                {readOnly ? null : (
                  <th scope="col">
                    <span class="skip">{textsFor(c, commonTexts).actions}</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {linked.map((t) => {
                const shown = targetNamesFor(t, language);
                return (
                  <tr>
                    <td>
                      {shown.name}
                      {shown.organisation ? <div class="muted">{shown.organisation}</div> : null}
                      <OfficialName official={shown.official} lang={t.language} label={textsFor(c, targetDirectoryTexts).asInLetters} />
                    </td>
                    <td>{kinds[t.kind]}</td>
                    <td>{t.email ?? '—'}</td>
                    <td>{addressOnOneLine(letterPostalAddress(t.postalAddress), (code) => countryName(code, language))}</td>
                    <td>
                      <JurisdictionNames codes={t.jurisdiction} />
                    </td>
                    {readOnly ? null : (
                      <td class="actions">
                        <a class="button secondary" href={`/admin/targets/${t.id}/edit?campaign=${encodeURIComponent(campaign.slug)}`}>
                          {texts.edit}
                        </a>
                        <PostButton session={session} action={`${base}/targets/${t.id}/detach`} label={texts.remove} variant="secondary" />
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : null}
        {readOnly ? null : unlinked.length > 0 ? (
          <AttachTargetsForm action={`${base}/targets`} session={session} targets={unlinked} />
        ) : (
          <p class="muted">{texts.everyTargetAttached}</p>
        )}
        {readOnly ? null : (
          <p>
            <a href={`/admin/targets/new?campaign=${encodeURIComponent(slug)}`}>{texts.createNewTarget}</a>
          </p>
        )}
      </div>
      <RepliesCard ctx={ctx} slug={campaign.slug} />
    </>,
  );
}

const targetLabels = (t: CampaignTexts): Record<string, string> => ({
  name: t.name,
  title: t.title,
  organisation: t.organisation,
  kind: t.kind,
  email: t.email,
  addressLines: t.addressLines,
  postalCode: t.postalCode,
  city: t.city,
  region: t.region,
  country: t.country,
  language: t.letterLanguage,
  salutation: t.salutation,
  timeZone: t.timeZone,
});

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
    translations: translationsFromForm(form),
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
    ...translationValues(target.translations),
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
  const t = textsFor(c, campaignTexts);
  const kinds = textsFor(c, targetKindTexts);
  const heading = editing ? t.editTarget : t.newTarget;
  return renderPage(
    c,
    { title: heading, section: 'campaigns', status },
    <>
      <p>
        <a href={back}>{textsFor(c, commonTexts).back}</a>
      </p>
      <h1>{heading}</h1>
      <ErrorSummary errors={errors} message={message} labels={targetLabels(t)} />
      <form method="post" action={editing ? `/admin/targets/${encodeURIComponent(editing)}` : '/admin/targets'} class="card" novalidate>
        <CsrfField session={c.var.session} />
        <input type="hidden" name="campaign" value={values.campaign ?? ''} />
        <TextField name="name" label={t.name} {...common} required />
        <div class="grid2">
          <TextField name="title" label={t.title} {...common} />
          <TextField name="organisation" label={t.organisation} {...common} />
        </div>
        <div class="grid2">
          <SelectField name="kind" label={t.kind} options={targetKinds.map((k) => ({ value: k, label: kinds[k] }))} {...common} />
          <SelectField name="language" label={t.letterLanguage} options={localeOptions} {...common} />
        </div>
        <TextField name="email" label={t.email} type="email" {...common} />
        <TextField name="addressLines" label={t.addressLines} hint={t.addressLinesHint} multiline {...common} />
        <div class="grid2">
          <TextField name="postalCode" label={t.postalCode} {...common} />
          <TextField name="city" label={t.city} {...common} />
          <TextField name="region" label={t.region} {...common} />
          <TextField name="country" label={t.country} hint={t.countryHint} {...common} required />
        </div>
        <div class="grid2">
          <TextField name="salutation" label={t.salutation} {...common} />
          <SelectField
            name="timeZone"
            label={t.timeZone}
            hint={t.targetTimeZoneHint}
            options={[{ value: '', label: t.noTimeZone }, ...timeZoneOptions(values.timeZone || undefined)]}
            {...common}
          />
        </div>
        <TargetTranslationFields values={values} errors={errors} inLanguage={c.var.language} />
        <button type="submit">{editing ? t.saveTarget : values.campaign ? t.createAndAttach : t.createTarget}</button>
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
    const ctx = serviceContextOf(c);
    const status = v.safeParse(v.picklist(campaignStatuses), c.req.query('status'));
    const cursor = c.req.query('cursor');
    const page = await listCampaigns(ctx, { limit: 50, cursor, status: status.success ? status.output : undefined });
    const t = textsFor(c, campaignTexts);
    const statusNames = textsFor(c, statusTexts);
    const language = c.var.language;
    return renderPage(
      c,
      { title: t.campaigns, section: 'campaigns' },
      <>
        <h1>{t.campaigns}</h1>
        <Notice done={c.req.query('done')} />
        <div class="actions">
          <a class="button" href="/admin/campaigns/new">
            {t.newCampaign}
          </a>
          <span class="muted">{t.show}</span>
          <a href="/admin/campaigns">{t.all}</a>
          {campaignStatuses.map((s) => (
            <a href={`/admin/campaigns?status=${s}`}>{statusNames[s]}</a>
          ))}
        </div>
        {page.items.length === 0 ? (
          <p class="muted">{t.noCampaigns}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t.title}</th>
                <th scope="col">{t.status}</th>
                <th scope="col" class="num">
                  {t.signatures}
                </th>
                <th scope="col" class="num">
                  {t.goal}
                </th>
                <th scope="col">{t.created}</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((campaign) => (
                <tr>
                  <td>
                    <CampaignLink slug={campaign.slug} title={campaignTitle(campaign, language)} />
                    <div class="muted">{campaign.slug}</div>
                  </td>
                  <td>
                    <StatusBadge status={campaign.status} />
                  </td>
                  <td class="num">{formatNumber(language, campaign.signatureCount)}</td>
                  <td class="num">{campaign.goal ? formatNumber(language, campaign.goal) : '—'}</td>
                  <td>{formatTime(language, campaign.createdAt, campaign.timeZone)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {page.nextCursor ? (
          <p>
            <a href={`/admin/campaigns?cursor=${encodeURIComponent(page.nextCursor)}${status.success ? `&status=${status.output}` : ''}`}>{t.olderCampaigns}</a>
          </p>
        ) : null}
      </>,
    );
  });

  routes.get('/campaigns/new', (c) => campaignForm(c, 'create', { locale: 'ja', timeZone: 'Asia/Tokyo', ...nextStepValues(undefined) }, {}));

  routes.post('/campaigns', async (c) => {
    const form = c.var.form;
    const values = keptValues(form);
    const { input, errors } = campaignInputOf(form, 'create', textsFor(c, campaignTexts), textsFor(c, commonTexts), textsFor(c, nextStepTexts));
    const parsed = v.safeParse(CreateCampaignInput, input);
    const allErrors = { ...(parsed.success ? {} : translationErrors(issuesToErrors(parsed.issues, c))), ...errors };
    if (!parsed.success || Object.keys(errors).length > 0) return campaignForm(c, 'create', values, allErrors, 422);
    try {
      const created = await createCampaign(serviceContextOf(c), parsed.output);
      return c.redirect(`/admin/campaigns/${encodeURIComponent(created.slug)}?done=created`, 303);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem) throw error;
      return campaignForm(c, 'create', values, translationErrors(problem.errors), 422, problem.message);
    }
  });

  routes.get('/campaigns/:slug', (c) => campaignDetail(c, c.req.param('slug')));

  // The same export as the API's, with the session: a download the browser saves.
  routes.get('/campaigns/:slug/signatures.csv', requireAdminScope('signatures:read', missingScopePage), async (c) => {
    const slug = c.req.param('slug');
    const query = v.safeParse(SignatureExportQuery, c.req.query());
    if (!query.success) throw new ValidationFailed(query.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message })));
    const stream = await exportSignaturesCsv(serviceContextOf(c), slug, query.output);
    const name = query.output.format === 'signet' ? `${slug}-signatures.csv` : `${slug}-${query.output.format}.csv`;
    return c.body(stream, 200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' });
  });

  routes.get('/campaigns/:slug/edit', async (c) => {
    const campaign = await getCampaign(serviceContextOf(c), c.req.param('slug'));
    // A form whose saving would be refused is not offered, even at its address.
    if (readOnlyCampaign(c, campaign.id)) return forbiddenPage(c, textsFor(c, viewerTexts).viewerNote);
    return campaignForm(c, 'edit', valuesOf(campaign), {});
  });

  routes.post('/campaigns/:slug', async (c) => {
    const slug = c.req.param('slug');
    const form = c.var.form;
    const values = { ...keptValues(form), slug };
    const { input, errors } = campaignInputOf(form, 'edit', textsFor(c, campaignTexts), textsFor(c, commonTexts), textsFor(c, nextStepTexts));
    const parsed = v.safeParse(UpdateCampaignInput, input);
    const allErrors = { ...(parsed.success ? {} : translationErrors(issuesToErrors(parsed.issues, c))), ...errors };
    if (!parsed.success || Object.keys(errors).length > 0) return campaignForm(c, 'edit', values, allErrors, 422);
    try {
      await updateCampaign(serviceContextOf(c), slug, parsed.output);
      return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}?done=saved`, 303);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem || problem.status === 404) throw error;
      return campaignForm(c, 'edit', values, translationErrors(problem.errors), 422, problem.message);
    }
  });

  const changeCampaign = async (c: AdminContext, slug: string, input: Record<string, unknown>, done: string) => {
    const parsed = v.safeParse(UpdateCampaignInput, input);
    if (!parsed.success) {
      const t = textsFor(c, campaignTexts);
      const labels = campaignLabels(t, c.var.language);
      return campaignDetail(c, slug, { status: 422, message: parsed.issues.map((i) => `${labels[v.getDotPath(i)?.split('.')[0] ?? ''] ?? t.value}: ${i.message}`).join('; ') });
    }
    try {
      await updateCampaign(serviceContextOf(c), slug, parsed.output);
    } catch (error) {
      const problem = formErrorOf(error, c);
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
    const targetIds = Object.entries(c.var.form).flatMap(([name, value]) => {
      const match = ATTACH_FIELD.exec(name);
      return match && value === 'on' ? [match[1]!.toLowerCase()] : [];
    });
    if (targetIds.length === 0) return campaignDetail(c, slug, { status: 422, message: textsFor(c, campaignTexts).tickTargets });
    const parsed = v.safeParse(AttachCampaignTargetsInput, { targetIds });
    if (!parsed.success) return campaignDetail(c, slug, { status: 422, message: parsed.issues.map((issue) => issue.message).join('; ') });
    try {
      await changeCampaignTargets(serviceContextOf(c), slug, 'add', parsed.output);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem || problem.status === 404) throw error;
      return campaignDetail(c, slug, { status: problem.status === 422 ? 422 : 409, message: problem.message ?? Object.values(problem.errors).flat().join('; ') });
    }
    return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}?done=attached`, 303);
  });

  routes.post('/campaigns/:slug/targets/:targetId/detach', async (c) => {
    const slug = c.req.param('slug');
    const campaign = await getCampaign(serviceContextOf(c), slug);
    const targetId = c.req.param('targetId');
    return changeCampaign(c, slug, { targetIds: campaign.targetIds.filter((id) => id !== targetId) }, 'detached');
  });

  routes.get('/targets/new', async (c) => {
    const slug = c.req.query('campaign');
    if (slug) await getCampaign(serviceContextOf(c), slug);
    return targetForm(c, { campaign: slug ?? '', kind: 'embassy', language: 'ja', country: 'JP' }, {});
  });

  routes.post('/targets', async (c) => {
    const ctx = serviceContextOf(c);
    const form = c.var.form;
    const values = keptValues(form);
    const parsed = v.safeParse(CreateTargetInput, targetInputOf(form));
    if (!parsed.success) return targetForm(c, values, targetErrors(issuesToErrors(parsed.issues, c)), 422);
    const slug = form.campaign || undefined;
    const campaign = slug ? await getCampaign(ctx, slug) : undefined;
    const target = await createTarget(ctx, parsed.output);
    if (!campaign) return c.redirect('/admin/campaigns?done=created', 303);
    await updateCampaign(ctx, campaign.slug, { targetIds: [...campaign.targetIds, target.id] });
    return c.redirect(`/admin/campaigns/${encodeURIComponent(campaign.slug)}?done=target-created`, 303);
  });

  routes.get('/targets/:id/edit', async (c) => {
    const target = await getTarget(serviceContextOf(c), c.req.param('id'));
    return targetForm(c, { ...targetValues(target), campaign: c.req.query('campaign') ?? '' }, {}, 200, undefined, target.id);
  });

  routes.post('/targets/:id', async (c) => {
    const ctx = serviceContextOf(c);
    const id = c.req.param('id');
    const form = c.var.form;
    const values = keptValues(form);
    const parsed = v.safeParse(UpdateTargetInput, targetInputOf(form));
    if (!parsed.success) return targetForm(c, values, targetErrors(issuesToErrors(parsed.issues, c)), 422, undefined, id);
    await updateTarget(ctx, id, parsed.output);
    const back = form.campaign ? `/admin/campaigns/${encodeURIComponent(form.campaign)}` : '/admin/campaigns';
    return c.redirect(`${back}?done=target-saved`, 303);
  });

  return routes;
}
