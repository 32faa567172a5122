import { raw } from 'hono/html';
import type { getPublicCampaign } from '../../services/campaigns.js';
import type { Organisation } from '../../letters/template/types.js';
import { IP_HASH_RETENTION_DAYS, type PrivacySettings } from '../../services/context.js';
import { countryName, countryOptionsHtml } from '../i18n/countries.js';
import { regionCountries, regionOptgroupsHtml } from '../i18n/region-options.js';
import { htmlLang, interpolate, isPageLanguage, languageName, type Messages, type PageLanguage } from '../i18n/index.js';
import { CampaignMarkdown } from './markdown.js';
import { ShareLinks } from './share-links.js';
import { PublicReplies } from './public-replies.js';
import type { PublicReply } from '../../services/replies.js';
import type { SupportMap as SupportMapData } from '../../services/support-map.js';
import { SupportMap } from '../support-map.js';
import {
  FORM_TOKEN_FIELD,
  HONEYPOT_FIELD,
  LANGUAGE_FIELD,
  PARTNER_FIELD,
  PARTNER_OPT_IN_FIELD,
  signFormFieldOrder,
  type SignFormErrors,
  type SignFormField,
  type SignFormValues,
} from './sign-form.js';

export type PublicCampaign = Awaited<ReturnType<typeof getPublicCampaign>>;

/**
 * Whether the campaign takes signatures now: open, or a notice instead of the form. While the
 * organisation profile is still the shipped example nobody could be named as responsible for the
 * supporters' data, so the form waits for it (`organisation-not-set`).
 */
export type SigningState = 'open' | 'closed' | 'not-yet-open' | 'organisation-not-set';

export function signingState(campaign: PublicCampaign, now: number, organisation: Organisation | undefined): SigningState {
  if (campaign.status !== 'open') return 'closed';
  if (campaign.closesAt !== null && now >= Date.parse(campaign.closesAt)) return 'closed';
  if (campaign.opensAt !== null && now < Date.parse(campaign.opensAt)) return 'not-yet-open';
  if (!organisation) return 'organisation-not-set';
  return 'open';
}

/** What stands in for the form when the campaign takes no signatures. */
export function signingNotice(t: Messages, state: Exclude<SigningState, 'open'>): string {
  return state === 'closed' ? t.closedNotice : state === 'not-yet-open' ? t.notYetOpenNotice : t.organisationNotSetNotice;
}

/** The campaign's texts in the page language when the organiser translated them, else as written (and in which language). */
export function campaignTexts(campaign: PublicCampaign, language: PageLanguage) {
  const translated = campaign.translations[language];
  if (translated) return { title: translated.title, summary: translated.summary ?? '', body: translated.body ?? '', language };
  return { title: campaign.title, summary: campaign.summary, body: campaign.body, language: campaign.locale };
}

export type SignFormState = { values: SignFormValues; errors: SignFormErrors; token: string };

export type CampaignPageProps = {
  t: Messages;
  language: PageLanguage;
  campaign: PublicCampaign;
  /** `signedAt` is a day (YYYY-MM-DD): the public list shows no time finer than that. */
  recent: { name: string; country: string; signedAt: string | null }[];
  state: SigningState;
  /** The organisation as the page language names it; undefined while its profile is the shipped example. */
  organisation: Organisation | undefined;
  form: SignFormState;
  /** The retention periods the privacy notice states (RETENTION_DAYS, PENDING_TTL_DAYS). */
  privacy: Pick<PrivacySettings, 'retentionDays' | 'pendingTtlDays'>;
  /** The campaign page in this language, as the share links carry it. */
  shareUrl: string;
  /** Replies from the targets that the organisers made public (src/services/replies.ts). */
  replies?: readonly PublicReply[];
  /** Confirmed supporters by prefecture and country, small ones merged (src/services/support-map.ts); the page only. */
  supportMap?: SupportMapData | undefined;
  /** The form inside `/c/:slug/embed`: it posts to the embed's own route, and its links open outside the frame. */
  embedded?: boolean;
  /** The coalition partner whose link (`?ref=`) brought the visitor, looked up among the campaign's: never the raw query. */
  partner?: PagePartner | null;
};

/** What the form shows of a partner: its code (carried in a hidden field), name, and the wording of its box (null: no box). */
export type PagePartner = { code: string; name: string; optInText: string | null };

/**
 * The partner's own box: a separate checkbox, unticked unless the supporter ticks it, worded
 * exactly as the partner gave it (in whatever language that is), with the page's own words on
 * what ticking it does.
 */
function PartnerOptIn(props: { t: Messages; partner: PagePartner & { optInText: string }; checked: boolean }) {
  const { t, partner } = props;
  return (
    <fieldset class="partner-opt-in" aria-describedby="hint-partnerOptIn">
      <legend>{interpolate(t.partnerOptInLegend, { partner: partner.name })}</legend>
      <span class="hint" id="hint-partnerOptIn">
        {interpolate(t.partnerOptInHelp, { partner: partner.name })}
      </span>
      <div class="choice">
        <input type="checkbox" id="field-partnerOptIn" name={PARTNER_OPT_IN_FIELD} value="yes" checked={props.checked} />
        <label for="field-partnerOptIn">{partner.optInText}</label>
      </div>
    </fieldset>
  );
}

const fieldId = (field: SignFormField) => `field-${field}`;
const errorId = (field: SignFormField) => `error-${field}`;
const hintId = (field: SignFormField) => `hint-${field}`;

function describedBy(field: SignFormField, errors: SignFormErrors, hasHint: boolean): string | undefined {
  const ids = [errors[field] ? errorId(field) : '', hasHint ? hintId(field) : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

function FieldError(props: { field: SignFormField; errors: SignFormErrors; t: Messages }) {
  const key = props.errors[props.field];
  return key ? (
    <span class="field-error" id={errorId(props.field)}>
      {props.t[key]}
    </span>
  ) : null;
}

function TextField(props: {
  field: 'name' | 'email' | 'city' | 'postalCode';
  label: string;
  hint?: string;
  optional?: boolean;
  type?: 'text' | 'email';
  autocomplete: string;
  maxlength: number;
  form: SignFormState;
  t: Messages;
}) {
  const { field, form, t } = props;
  return (
    <div class="field">
      <label for={fieldId(field)}>
        {props.label}
        {props.optional ? <span class="optional"> {t.optional}</span> : null}
      </label>
      {props.hint ? (
        <span class="hint" id={hintId(field)}>
          {props.hint}
        </span>
      ) : null}
      <FieldError field={field} errors={form.errors} t={t} />
      <input
        type={props.type ?? 'text'}
        id={fieldId(field)}
        name={field}
        value={form.values[field]}
        autocomplete={props.autocomplete}
        maxlength={props.maxlength}
        required={!props.optional}
        aria-invalid={form.errors[field] ? 'true' : undefined}
        aria-describedby={describedBy(field, form.errors, Boolean(props.hint))}
        spellcheck={field === 'email' ? false : undefined}
      />
    </div>
  );
}

function Choices<V extends string>(props: {
  field: 'nameOnLetter' | 'showPublicly' | 'updates';
  legend: string;
  help: string;
  options: { value: V; label: string }[];
  checked: V;
  form: SignFormState;
  t: Messages;
}) {
  const { field, form, t } = props;
  return (
    <fieldset aria-describedby={describedBy(field, form.errors, true)}>
      <legend>{props.legend}</legend>
      <span class="hint" id={hintId(field)}>
        {props.help}
      </span>
      <FieldError field={field} errors={form.errors} t={t} />
      {props.options.map((option, index) => (
        <div class="choice">
          <input type="radio" id={index === 0 ? fieldId(field) : `${fieldId(field)}-${option.value}`} name={field} value={option.value} checked={option.value === props.checked} />
          <label for={index === 0 ? fieldId(field) : `${fieldId(field)}-${option.value}`}>{option.label}</label>
        </div>
      ))}
    </fieldset>
  );
}

export function ErrorSummary(props: { errors: SignFormErrors; t: Messages; labels: Record<SignFormField, string> }) {
  const fields = signFormFieldOrder.filter((field) => props.errors[field]);
  if (fields.length === 0) return null;
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1} id="error-summary">
      <h2 id="error-summary-title">{props.t.errorSummaryTitle}</h2>
      <ul>
        {fields.map((field) => (
          <li>
            <a href={`#${fieldId(field)}`}>
              {props.labels[field]}: {props.t[props.errors[field]!]}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Who is responsible for the supporter's data and what becomes of it: only ever the organisation's own profile, never the shipped example. */
function PrivacyNotice(props: { t: Messages; language: PageLanguage; organisation: Organisation; privacy: CampaignPageProps['privacy']; embedded: boolean; partner: PagePartner | null | undefined }) {
  const { t, organisation, privacy } = props;
  const name = organisation.name;
  const contact = organisation.email ? <a href={`mailto:${organisation.email}`}>{organisation.email}</a> : (organisation.website ?? name);
  return (
    <section class="privacy" aria-labelledby="privacy-title">
      <h3 id="privacy-title">{t.privacyHeading}</h3>
      <p>
        {interpolate(t.privacyController, { organisation: name })}
        {organisation.addressLines.length ? (
          <>
            <br />
            {[organisation.name, ...organisation.addressLines].join(', ')}
          </>
        ) : null}
      </p>
      <p>{t.privacyPurpose}</p>
      {props.partner?.optInText ? <p>{interpolate(t.privacyPartner, { partner: props.partner.name })}</p> : null}
      <p>{interpolate(t.privacyIp, { ipDays: IP_HASH_RETENTION_DAYS })}</p>
      <p>
        {interpolate(privacy.retentionDays === 0 ? t.privacyRetentionAtClose : t.privacyRetention, {
          days: privacy.retentionDays,
          pendingDays: privacy.pendingTtlDays,
        })}
      </p>
      <p>{interpolate(t.privacyRights, { contact, link: <a href={`/privacy?lang=${props.language}`} target={props.embedded ? '_blank' : undefined}>
            {t.privacyRightsLink}
          </a> })}</p>
    </section>
  );
}

export function fieldLabels(t: Messages): Record<SignFormField, string> {
  return {
    name: t.fieldName,
    email: t.fieldEmail,
    country: t.fieldCountry,
    region: t.fieldRegion,
    city: t.fieldCity,
    postalCode: t.fieldPostalCode,
    comment: t.fieldComment,
    nameOnLetter: t.consentNameLegend,
    showPublicly: t.consentPublicLegend,
    updates: t.consentUpdatesLegend,
  };
}

/**
 * The region as one of the fixed ISO 3166-2 codes. The page has no JavaScript, so the list cannot
 * follow the country picked above: it offers the regions of the countries that matter here (the
 * country preselected or chosen, the targets' countries), and the check on submit catches a region
 * of another country.
 */
function RegionField(props: CampaignPageProps) {
  const { t, language, campaign, form } = props;
  const countries = regionCountries(form.values, campaign.targets.map((target) => target.country));
  if (countries.length === 0 && !form.errors.region) return null;
  return (
    <div class="field">
      <label for={fieldId('region')}>
        {t.fieldRegion}
        <span class="optional"> {t.optional}</span>
      </label>
      <span class="hint" id={hintId('region')}>
        {t.fieldRegionHint}
      </span>
      <FieldError field="region" errors={form.errors} t={t} />
      <select
        id={fieldId('region')}
        name="region"
        autocomplete="address-level1"
        aria-invalid={form.errors.region ? 'true' : undefined}
        aria-describedby={describedBy('region', form.errors, true)}
      >
        <option value="" selected={form.values.region.trim() === ''}>
          {t.regionNotStated}
        </option>
        {raw(regionOptgroupsHtml(language, countries, form.values.region))}
      </select>
    </div>
  );
}

/** The signing form, on the campaign page and (`embedded`) in `/c/:slug/embed`: the same fields, consents and hidden inputs. */
export function SignForm(props: CampaignPageProps) {
  const { t, language, campaign, form } = props;
  return (
    <section class="sign" aria-labelledby="sign-title">
      <h2 id="sign-title">{t.formHeading}</h2>
      <form method="post" action={`/c/${campaign.slug}/${props.embedded ? 'embed/sign' : 'sign'}`} novalidate>
        <input type="hidden" name={FORM_TOKEN_FIELD} value={form.token} />
        <input type="hidden" name={LANGUAGE_FIELD} value={language} />
        <TextField field="name" label={t.fieldName} hint={t.fieldNameHint} autocomplete="name" maxlength={200} form={form} t={t} />
        <TextField field="email" type="email" label={t.fieldEmail} hint={t.fieldEmailHint} autocomplete="email" maxlength={254} form={form} t={t} />
        <div class="field">
          <label for={fieldId('country')}>{t.fieldCountry}</label>
          <FieldError field="country" errors={form.errors} t={t} />
          <select
            id={fieldId('country')}
            name="country"
            autocomplete="country"
            required
            aria-invalid={form.errors.country ? 'true' : undefined}
            aria-describedby={describedBy('country', form.errors, false)}
          >
            <option value="" selected={form.values.country === ''}>
              {t.countryChoose}
            </option>
            {raw(countryOptionsHtml(language, form.values.country))}
          </select>
        </div>
        <RegionField {...props} />
        <TextField field="city" label={t.fieldCity} hint={t.fieldCityHint} optional autocomplete="address-level2" maxlength={100} form={form} t={t} />
        <TextField field="postalCode" label={t.fieldPostalCode} optional autocomplete="postal-code" maxlength={20} form={form} t={t} />
        <div class="field">
          <label for={fieldId('comment')}>
            {t.fieldComment}
            <span class="optional"> {t.optional}</span>
          </label>
          <span class="hint" id={hintId('comment')}>
            {t.fieldCommentHint}
          </span>
          <FieldError field="comment" errors={form.errors} t={t} />
          <textarea
            id={fieldId('comment')}
            name="comment"
            rows={4}
            maxlength={1000}
            aria-invalid={form.errors.comment ? 'true' : undefined}
            aria-describedby={describedBy('comment', form.errors, true)}
          >
            {form.values.comment}
          </textarea>
        </div>
        <Choices
          field="nameOnLetter"
          legend={t.consentNameLegend}
          help={t.consentNameHelp}
          options={[
            { value: 'full', label: t.consentNameFull },
            { value: 'initials', label: t.consentNameInitials },
            { value: 'none', label: t.consentNameNone },
          ]}
          checked={form.values.nameOnLetter}
          form={form}
          t={t}
        />
        <Choices
          field="showPublicly"
          legend={t.consentPublicLegend}
          help={t.consentPublicHelp}
          options={[
            { value: 'yes', label: t.consentPublicYes },
            { value: 'no', label: t.consentPublicNo },
          ]}
          checked={form.values.showPublicly ? 'yes' : 'no'}
          form={form}
          t={t}
        />
        <Choices
          field="updates"
          legend={t.consentUpdatesLegend}
          help={t.consentUpdatesHelp}
          options={[
            { value: 'yes', label: t.consentUpdatesYes },
            { value: 'no', label: t.consentUpdatesNo },
          ]}
          checked={form.values.updates ? 'yes' : 'no'}
          form={form}
          t={t}
        />
        {props.partner ? <input type="hidden" name={PARTNER_FIELD} value={props.partner.code} /> : null}
        {props.partner?.optInText ? <PartnerOptIn t={t} partner={{ ...props.partner, optInText: props.partner.optInText }} checked={form.values.partnerOptIn} /> : null}
        {/* For bots only: people never see it (off-screen), screen readers skip it, the keyboard cannot reach it. */}
        <div class="hp" aria-hidden="true">
          <label for="field-website">{t.honeypotLabel}</label>
          <input type="text" id="field-website" name={HONEYPOT_FIELD} value="" tabindex={-1} autocomplete="off" />
        </div>
        {props.organisation ? <PrivacyNotice t={t} language={language} organisation={props.organisation} privacy={props.privacy} embedded={props.embedded ?? false} partner={props.partner} /> : null}
        <button type="submit">{t.submit}</button>
      </form>
    </section>
  );
}

/** A day of the public list (YYYY-MM-DD, already in the campaign's time zone) as the page language writes dates. */
function signedOn(day: string, language: PageLanguage): string {
  // Read and written at UTC midnight, so no zone can move it to another day.
  return new Intl.DateTimeFormat(htmlLang[language], { dateStyle: 'medium', timeZone: 'UTC' }).format(Date.parse(`${day}T00:00:00Z`));
}

/** "12,345 signatures", or "12,345 of 20,000 signatures" with a goal, in the page language (the page and the share card). */
export function progressText(t: Messages, language: PageLanguage, campaign: Pick<PublicCampaign, 'signatureCount' | 'goal'>): string {
  const count = campaign.signatureCount.toLocaleString(htmlLang[language]);
  return campaign.goal
    ? interpolate(t.signatureProgress, { count, goal: campaign.goal.toLocaleString(htmlLang[language]) })
    : interpolate(t.signatureCount, { count });
}

/** The count, and the progress bar when there is a goal. */
export function CampaignProgress(props: { t: Messages; language: PageLanguage; campaign: PublicCampaign }) {
  const { campaign } = props;
  return (
    <div class="progress">
      <p id="progress-text">{progressText(props.t, props.language, campaign)}</p>
      {campaign.goal ? (
        <progress max={campaign.goal} value={Math.min(campaign.signatureCount, campaign.goal)} aria-labelledby="progress-text">
          {Math.floor((100 * campaign.signatureCount) / campaign.goal)}%
        </progress>
      ) : null}
    </div>
  );
}

/** `/c/:slug`: the campaign, its progress and targets, recent supporters, and the signing form (or why there is none). */
export function CampaignPage(props: CampaignPageProps) {
  const { t, language, campaign, state } = props;
  const texts = campaignTexts(campaign, language);
  const textLang = isPageLanguage(texts.language) ? htmlLang[texts.language] : texts.language;
  return (
    <>
      {/* At the top of the page, where a refused form lands; each entry links to its field. */}
      {state === 'open' ? <ErrorSummary errors={props.form.errors} t={t} labels={fieldLabels(t)} /> : null}
      <h1 lang={textLang}>{texts.title}</h1>
      {texts.language !== language ? <p class="note">{interpolate(t.campaignLanguageNote, { language: languageName(texts.language, language) })}</p> : null}
      {texts.summary ? (
        <p class="summary" lang={textLang}>
          {texts.summary}
        </p>
      ) : null}
      <CampaignProgress t={t} language={language} campaign={campaign} />
      {state !== 'open' ? <p class="notice">{signingNotice(t, state)}</p> : null}
      {campaign.targets.length > 0 ? (
        <section class="targets" aria-labelledby="targets-title">
          <h2 id="targets-title">{t.targetsHeading}</h2>
          <ul>
            {campaign.targets.map((target) => (
              <li>{[target.name, target.title, target.organisation].filter(Boolean).join(' · ')}</li>
            ))}
          </ul>
        </section>
      ) : null}
      {texts.body ? (
        <div class="campaign-body" lang={textLang}>
          <CampaignMarkdown source={texts.body} />
        </div>
      ) : null}
      {state === 'open' ? <SignForm {...props} /> : null}
      <ShareLinks t={t} url={props.shareUrl} title={texts.title} />
      <PublicReplies replies={props.replies} t={t} language={language} />
      {props.supportMap ? <SupportMap map={props.supportMap} language={language} /> : null}
      {props.recent.length > 0 ? (
        <section class="recent" aria-labelledby="recent-title">
          <h2 id="recent-title">{t.recentHeading}</h2>
          <ul>
            {props.recent.map((supporter) => (
              <li>
                {supporter.name} · {countryName(supporter.country, language)}
                {supporter.signedAt ? (
                  <>
                    {' · '}
                    <time datetime={supporter.signedAt}>{signedOn(supporter.signedAt, language)}</time>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}
