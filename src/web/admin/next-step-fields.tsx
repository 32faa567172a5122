import { locales } from '../../lib/locales.js';
import type { CampaignView } from '../../services/campaigns.js';
import { interpolate, languageName } from '../i18n/index.js';
import { type FieldErrors, SelectField, TextField } from './admin-layout.js';
import { nextStepTexts } from './i18n/next-step.js';
import { type DashboardLanguage, type TextsOf, useDashboardLanguage, useTexts } from './i18n/texts.js';

type Values = Record<string, string>;
type Part = 'donationUrl' | 'donationLabel' | 'campaign' | 'sharing';

/** The form's name of one language's field (`ns_ja_donationUrl`…). */
const fieldName = (locale: string, part: Part) => `ns_${locale}_${part}`;
/** Present in every form with the section, so unticked "sharing" boxes (which send nothing) still mean off. */
const SECTION_FIELD = 'ns_section';

/**
 * The section's fields as the API's `nextStep` (the whole set), or undefined
 * when the form had no such section (the next step is then left as it is).
 * A language left at its default (no link, no campaign, sharing on) is left
 * out; a link without its text (or the reverse) is refused.
 */
export function nextStepInputOf(form: Values, t: TextsOf<typeof nextStepTexts>, errors: FieldErrors): Record<string, unknown> | undefined {
  if (form[SECTION_FIELD] === undefined) return undefined;
  const nextStep: Record<string, unknown> = {};
  for (const locale of locales) {
    const url = (form[fieldName(locale, 'donationUrl')] ?? '').trim();
    const label = (form[fieldName(locale, 'donationLabel')] ?? '').trim();
    const campaign = form[fieldName(locale, 'campaign')] ?? '';
    const sharing = form[fieldName(locale, 'sharing')] === 'on';
    if ((url === '') !== (label === '')) errors[fieldName(locale, url === '' ? 'donationUrl' : 'donationLabel')] = [t.donationNeedsBoth];
    if (url === '' && label === '' && campaign === '' && sharing) continue;
    nextStep[locale] = { donation: url || label ? { url, label } : null, campaign: campaign || null, sharing };
  }
  return nextStep;
}

/** The form's values for a campaign's next step: sharing ticked where nothing was set. */
export function nextStepValues(nextStep: CampaignView['nextStep'] | undefined): Values {
  const values: Values = { [SECTION_FIELD]: '1' };
  for (const locale of locales) {
    const step = nextStep?.[locale];
    values[fieldName(locale, 'donationUrl')] = step?.donation?.url ?? '';
    values[fieldName(locale, 'donationLabel')] = step?.donation?.label ?? '';
    values[fieldName(locale, 'campaign')] = step?.campaign ?? '';
    values[fieldName(locale, 'sharing')] = step === undefined || step.sharing ? 'on' : '';
  }
  return values;
}

/** `nextStep.ja.donation.url` (the API's path) → `ns_ja_donationUrl`; an error on a whole donation goes to its link. */
export function nextStepFieldOf(path: string): string | null {
  const match = /^nextStep\.(\w+)\.(donation|campaign|sharing)(?:\.(url|label))?/.exec(path);
  if (!match) return null;
  const [, locale, part, sub] = match;
  return fieldName(locale!, part === 'donation' ? (sub === 'label' ? 'donationLabel' : 'donationUrl') : (part as Part));
}

/** The section's field names → labels, for the error summary. */
export function nextStepLabels(t: TextsOf<typeof nextStepTexts>, language: DashboardLanguage): Values {
  const labels: Values = {};
  for (const locale of locales) {
    const name = { language: languageName(locale, language) };
    labels[fieldName(locale, 'donationUrl')] = interpolate(t.donationUrl, name);
    labels[fieldName(locale, 'donationLabel')] = interpolate(t.donationLabel, name);
    labels[fieldName(locale, 'campaign')] = interpolate(t.campaign, name);
    labels[fieldName(locale, 'sharing')] = interpolate(t.sharing, name);
  }
  return labels;
}

/** One fieldset per page language: a donation link and its text, another open campaign, the share links on or off. */
export function NextStepFields(props: { values: Values; errors: FieldErrors; campaigns: { slug: string; title: string }[] }) {
  const t = useTexts(nextStepTexts);
  const language = useDashboardLanguage();
  const common = { values: props.values, errors: props.errors };
  const options = [{ value: '', label: t.noCampaign }, ...props.campaigns.map((c) => ({ value: c.slug, label: `${c.title} (${c.slug})` }))];
  return (
    <section class="next-step" aria-labelledby="next-step-h">
      <h2 id="next-step-h">{t.heading}</h2>
      <p class="hint">{t.hint}</p>
      <input type="hidden" name={SECTION_FIELD} value="1" />
      {locales.map((locale) => {
        const name = { language: languageName(locale, language) };
        const sharing = fieldName(locale, 'sharing');
        return (
          <fieldset class="field translation" id={`next-step-${locale}`}>
            <legend>{interpolate(t.legend, name)}</legend>
            <div class="grid2">
              <TextField name={fieldName(locale, 'donationUrl')} label={interpolate(t.donationUrl, name)} hint={t.donationUrlHint} type="url" {...common} />
              <TextField name={fieldName(locale, 'donationLabel')} label={interpolate(t.donationLabel, name)} hint={t.donationLabelHint} {...common} />
            </div>
            <SelectField name={fieldName(locale, 'campaign')} label={interpolate(t.campaign, name)} options={options} {...common} />
            <label for={`f-${sharing}`}>
              <input type="checkbox" id={`f-${sharing}`} name={sharing} checked={props.values[sharing] === 'on'} /> {interpolate(t.sharing, name)}
            </label>
          </fieldset>
        );
      })}
    </section>
  );
}
