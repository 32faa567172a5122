import { Hono } from 'hono';
import * as v from 'valibot';
import type { OrganisationProfileData, PostalAddress } from '../../db/schema.js';
import { serviceContextOf } from '../../http/principal.js';
import { OrganisationInput, readOrganisation, shippedExample, updateOrganisation } from '../../services/organisation.js';
import type { Locale } from '../../services/schemas.js';
import { interpolate, languageName } from '../i18n/index.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, missingScopePage, Notice, renderPage } from './admin-page.js';
import { organisationTexts } from './i18n/organisation.js';
import { type DashboardLanguage, formatDateTime, type TextsOf, textsFor } from './i18n/texts.js';

type Values = Record<string, string>;
type Texts = TextsOf<typeof organisationTexts>;

/** The letters' languages a profile can be given in, the dashboard's own first. */
const translationLocales = ['ja', 'en', 'zh', 'ko'] as const satisfies readonly Locale[];

const addressParts = ['addressLines', 'postalCode', 'city', 'region'] as const;
const translatedParts = ['name', ...addressParts, 'signatoryName', 'signatoryTitle'] as const;
type TranslatedPart = (typeof translatedParts)[number];

/** The form's names for one language's fields (`tr_ja_name`…). */
const translationField = (locale: string, part: TranslatedPart) => `tr_${locale}_${part}`;

const multiline = (text: string | undefined) => (text ?? '').replace(/\r\n?/g, '\n');
const lines = (text: string | undefined) =>
  multiline(text)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

/** The form's text as the API's input, so the same schema (and its messages) judges it. */
function inputOf(form: Values) {
  const country = form.country ?? '';
  const address = (prefix: (part: (typeof addressParts)[number]) => string) => ({
    lines: lines(form[prefix('addressLines')]),
    postalCode: form[prefix('postalCode')] ?? '',
    city: form[prefix('city')] ?? '',
    region: form[prefix('region')] ?? '',
    country,
  });
  const translations: Record<string, Record<string, unknown>> = {};
  for (const locale of translationLocales) {
    const field = (part: TranslatedPart) => form[translationField(locale, part)]?.trim() ?? '';
    const translation: Record<string, unknown> = {};
    if (field('name')) translation.name = field('name');
    // A translated address is the same place written for that language: its country is the main one.
    if (addressParts.some((part) => field(part))) translation.postalAddress = address((part) => translationField(locale, part));
    if (field('signatoryName') || field('signatoryTitle')) translation.signatory = { name: field('signatoryName'), title: field('signatoryTitle') };
    if (Object.keys(translation).length > 0) translations[locale] = translation;
  }
  return {
    name: form.name ?? '',
    postalAddress: address((part) => part),
    email: form.email ?? '',
    phone: form.phone ?? '',
    website: form.website ?? '',
    signatory: { name: form.signatoryName ?? '', title: form.signatoryTitle ?? '' },
    translations,
  };
}

const addressValues = (address: PostalAddress | undefined, prefix: (part: (typeof addressParts)[number]) => string): Values =>
  address
    ? {
        [prefix('addressLines')]: address.lines.join('\n'),
        [prefix('postalCode')]: address.postalCode ?? '',
        [prefix('city')]: address.city ?? '',
        [prefix('region')]: address.region ?? '',
      }
    : {};

/** A stored profile as the form's text fields (the reverse of inputOf). */
function valuesOf(profile: OrganisationProfileData): Values {
  const values: Values = {
    name: profile.name,
    email: profile.email,
    phone: profile.phone ?? '',
    website: profile.website ?? '',
    ...addressValues(profile.postalAddress, (part) => part),
    country: profile.postalAddress.country,
    signatoryName: profile.signatory.name,
    signatoryTitle: profile.signatory.title ?? '',
  };
  for (const locale of translationLocales) {
    const translation = profile.translations[locale];
    if (!translation) continue;
    if (translation.name) values[translationField(locale, 'name')] = translation.name;
    Object.assign(values, addressValues(translation.postalAddress, (part) => translationField(locale, part)));
    if (translation.signatory) {
      values[translationField(locale, 'signatoryName')] = translation.signatory.name;
      values[translationField(locale, 'signatoryTitle')] = translation.signatory.title ?? '';
    }
  }
  return values;
}

/** The API's field paths (`postalAddress.lines`, `translations.ja.signatory.name`) as the form's fields. */
function formField(path: string): string {
  const part = (rest: string): string => {
    if (rest === 'postalAddress' || rest.startsWith('postalAddress.lines')) return 'addressLines';
    if (rest.startsWith('postalAddress.')) return rest.slice('postalAddress.'.length).split('.')[0]!;
    if (rest === 'signatory' || rest === 'signatory.name') return 'signatoryName';
    if (rest === 'signatory.title') return 'signatoryTitle';
    return rest.split('.')[0]!;
  };
  const translated = /^translations\.(\w+)(?:\.(.+))?$/.exec(path);
  if (translated) {
    const field = part(translated[2] ?? 'name');
    // A translation takes the country from above (the form says so): its error is that field's.
    if (field === 'country') return 'country';
    return translationField(translated[1]!, (translatedParts as readonly string[]).includes(field) ? (field as TranslatedPart) : 'name');
  }
  return part(path);
}

function formErrors(errors: FieldErrors): FieldErrors {
  const renamed: FieldErrors = {};
  for (const [path, messages] of Object.entries(errors)) {
    const list = (renamed[formField(path)] ??= []);
    for (const message of messages) if (!list.includes(message)) list.push(message);
  }
  return renamed;
}

const mainLabels = (t: Texts): Record<string, string> => ({
  name: t.name,
  email: t.email,
  phone: t.phone,
  website: t.website,
  addressLines: t.addressLines,
  postalCode: t.postalCode,
  city: t.city,
  region: t.region,
  country: t.country,
  signatoryName: t.signatoryName,
  signatoryTitle: t.signatoryTitle,
});

/** Field names → labels for the error summary, a translation's named with its language. */
function labelsOf(t: Texts, language: DashboardLanguage): Record<string, string> {
  const labels = mainLabels(t);
  for (const locale of translationLocales) {
    for (const part of translatedParts) labels[translationField(locale, part)] = `${labels[part]} (${languageName(locale, language)})`;
  }
  return labels;
}

type PageState = { values: Values; errors: FieldErrors; message?: string | undefined; status?: 200 | 422; isExample: boolean; exampleName?: string; updatedAt: string | null };

function organisationPage(c: AdminContext, state: PageState) {
  const t = textsFor(c, organisationTexts);
  const language = c.var.language;
  const setup = c.req.query('setup') === '1' || c.var.form?.setup === '1';
  const common = { values: state.values, errors: state.errors };
  const labels = mainLabels(t);
  return renderPage(
    c,
    { title: t.title, section: 'organisation', status: state.status ?? 200 },
    <>
      <h1>{t.title}</h1>
      {setup ? (
        <p class="notice" role="status">
          {t.setupWelcome}
        </p>
      ) : null}
      <Notice done={c.req.query('done')} />
      {state.isExample ? (
        <p class="warning" id="organisation-example">
          {interpolate(t.stillExample, { name: state.exampleName ?? shippedExample.name })}
        </p>
      ) : null}
      <p class="muted">{t.lead}</p>
      {state.updatedAt && !state.isExample ? <p class="muted">{interpolate(t.savedAt, { time: formatDateTime(language, state.updatedAt) })}</p> : null}
      <ErrorSummary errors={state.errors} message={state.message} labels={labelsOf(t, language)} />
      <form method="post" action="/admin/organisation" class="card" novalidate>
        <CsrfField session={c.var.session} />
        {setup ? <input type="hidden" name="setup" value="1" /> : null}
        <h2>{t.sectionContacts}</h2>
        <TextField name="name" label={labels.name!} {...common} required />
        <div class="grid2">
          <TextField name="email" label={labels.email!} hint={t.emailHint} type="email" {...common} required />
          <TextField name="phone" label={labels.phone!} type="tel" {...common} />
        </div>
        <TextField name="website" label={labels.website!} hint={t.websiteHint} type="url" {...common} />
        <h2>{t.sectionAddress}</h2>
        <TextField name="addressLines" label={labels.addressLines!} hint={t.addressLinesHint} multiline {...common} required />
        <div class="grid2">
          <TextField name="postalCode" label={labels.postalCode!} {...common} />
          <TextField name="city" label={labels.city!} {...common} />
          <TextField name="region" label={labels.region!} {...common} />
          <TextField name="country" label={labels.country!} hint={t.countryHint} {...common} required />
        </div>
        <h2>{t.sectionSignatory}</h2>
        <div class="grid2">
          <TextField name="signatoryName" label={labels.signatoryName!} {...common} required />
          <TextField name="signatoryTitle" label={labels.signatoryTitle!} hint={t.signatoryTitleHint} {...common} />
        </div>
        <h2>{t.translationsHeading}</h2>
        <p class="muted">{t.translationsLead}</p>
        {translationLocales.map((locale) => {
          const field = (part: TranslatedPart) => translationField(locale, part);
          // Closed while empty, so a new organiser meets one short form; open once it holds anything to see or correct.
          const used = translatedParts.some((part) => (state.values[field(part)] ?? '').trim() !== '' || state.errors[field(part)] !== undefined);
          const heading = interpolate(t.translationIn, { language: languageName(locale, language) });
          return (
            <details class="translation" id={`translation-${locale}`} open={used}>
              <summary id={`translation-${locale}-title`}>{heading}</summary>
              <fieldset class="field" aria-labelledby={`translation-${locale}-title`}>
                <TextField name={field('name')} label={labels.name!} {...common} />
                <TextField name={field('addressLines')} label={labels.addressLines!} multiline {...common} />
                <div class="grid2">
                  <TextField name={field('postalCode')} label={labels.postalCode!} {...common} />
                  <TextField name={field('city')} label={labels.city!} {...common} />
                  <TextField name={field('region')} label={labels.region!} {...common} />
                </div>
                <div class="grid2">
                  <TextField name={field('signatoryName')} label={labels.signatoryName!} {...common} />
                  <TextField name={field('signatoryTitle')} label={labels.signatoryTitle!} {...common} />
                </div>
              </fieldset>
            </details>
          );
        })}
        <div class="actions">
          <button type="submit">{t.save}</button>
          {setup ? <a href="/admin/campaigns">{t.skipForNow}</a> : null}
        </div>
      </form>
    </>,
  );
}

/**
 * The organisation profile (PRODUCT.md §12): owners and admins (scope `admin`, whole
 * organisation) read and save it; the owner is sent here right after setting up the account.
 */
export function organisationPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/organisation', requireAdminScope('admin', missingScopePage));

  routes.get('/organisation', async (c) => {
    const view = await readOrganisation(serviceContextOf(c), c.get('services').letters);
    const { isExample, updatedAt, ...profile } = view;
    // The example's details are not offered as values to keep: the form starts empty, with the country.
    const values = isExample ? { country: profile.postalAddress.country } : valuesOf(profile);
    return organisationPage(c, { values, errors: {}, isExample, exampleName: profile.name || undefined, updatedAt });
  });

  routes.post('/organisation', async (c) => {
    const ctx = serviceContextOf(c);
    const { _csrf: _token, setup: _setup, ...values } = c.var.form;
    const setup = c.var.form.setup === '1';
    const parsed = v.safeParse(OrganisationInput, inputOf(values));
    const current = async () => {
      const { isExample, updatedAt, name } = await readOrganisation(ctx, c.get('services').letters);
      return { isExample, updatedAt, exampleName: name || undefined };
    };
    if (!parsed.success) return organisationPage(c, { values, errors: formErrors(issuesToErrors(parsed.issues, c)), status: 422, ...(await current()) });
    try {
      await updateOrganisation(ctx, parsed.output);
    } catch (error) {
      const mapped = formErrorOf(error, c);
      if (!mapped) throw error;
      return organisationPage(c, { values, errors: formErrors(mapped.errors), message: mapped.message, status: 422, ...(await current()) });
    }
    return c.redirect(setup ? '/admin/campaigns?done=organisation-saved' : '/admin/organisation?done=saved', 303);
  });

  return routes;
}
