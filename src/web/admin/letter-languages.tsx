import { letterLanguages, type LetterLanguage } from '../../letters/template/types.js';
import { interpolate, languageName } from '../i18n/index.js';
import { type FieldErrors, SelectField, TextField } from './admin-layout.js';
import { letterLanguageTexts } from './i18n/letter-languages.js';
import { textsFor, useDashboardLanguage, useTexts } from './i18n/texts.js';
import type { AdminContext } from './admin-env.js';

type Values = Record<string, string>;

const isLetterLanguage = (value: string): value is LetterLanguage => (letterLanguages as readonly string[]).includes(value);

/**
 * The language lists a form offers (PRODUCT.md §12): blank (each target's own language), each
 * language alone, and each pair with the campaign's language as original or translation
 * (`ja,zh`: the Japanese letter, then its Chinese translation). The languages come from the
 * campaign and its targets; without a campaign, every letter language. A list already chosen
 * stays offered, so a form shown again keeps it.
 */
export function languageCombinations(campaignLocale: string | undefined, targetLanguages: readonly string[], chosen = ''): string[] {
  const known = campaignLocale === undefined ? [...letterLanguages] : [campaignLocale, ...targetLanguages];
  const base = [...new Set(known)].filter(isLetterLanguage);
  const pairs = base.flatMap((first) =>
    base.filter((second) => second !== first && (campaignLocale === undefined || first === campaignLocale || second === campaignLocale)).map((second) => `${first},${second}`),
  );
  const offered = ['', ...base, ...pairs];
  return chosen === '' || offered.includes(chosen) ? offered : [...offered, chosen];
}

/**
 * The letters' languages as a form asks for them: one select, field `languages`, its values the
 * API's list joined with commas.
 */
export function LetterLanguageChoice(props: { values: Values; errors: FieldErrors; offered: readonly string[] }) {
  const t = useTexts(letterLanguageTexts);
  const inLanguage = useDashboardLanguage();
  const label = (value: string) => {
    if (value === '') return t.targetsOwn;
    const [first, ...translations] = value.split(',');
    return [languageName(first!, inLanguage), ...translations.map((language) => interpolate(t.asTranslation, { language: languageName(language, inLanguage) }))].join(t.joiner);
  };
  return <SelectField name="languages" label={t.languages} hint={t.languagesHint} options={props.offered.map((value) => ({ value, label: label(value) }))} values={props.values} errors={props.errors} />;
}

/** `languages` from the form: undefined when blank (each target's own); the service's schema judges the list. */
export function languagesFromForm(form: Values): string[] | undefined {
  const chosen = (form.languages ?? '').trim();
  return chosen === '' ? undefined : chosen.split(',');
}

/** A letter's languages for a table cell: `Japanese + Chinese`. */
export function languagesLabel(c: AdminContext, languages: readonly LetterLanguage[] | readonly string[]): string {
  const t = textsFor(c, letterLanguageTexts);
  return languages.map((language) => languageName(language, c.var.language)).join(t.joiner);
}

const translatedFields = ['name', 'title', 'organisation', 'salutation'] as const;

/** The form field of one translated name: `translations.ja.name`, the API's path, so its errors land on it. */
const translationField = (language: LetterLanguage, field: (typeof translatedFields)[number]) => `translations.${language}.${field}`;

/**
 * A target's names and salutation per letter language, one group per language (open when it
 * holds anything, or an error).
 */
export function TargetTranslationFields(props: { values: Values; errors: FieldErrors; inLanguage: 'en' | 'ja' }) {
  const t = useTexts(letterLanguageTexts);
  return (
    <fieldset class="field">
      <legend>{t.targetNames}</legend>
      <p class="hint">{t.targetNamesHint}</p>
      {letterLanguages.map((language) => {
        const names = translatedFields.map((field) => translationField(language, field));
        const open = names.some((name) => (props.values[name] ?? '') !== '' || props.errors[name]);
        return (
          <details open={open}>
            <summary>{`${languageName(language, props.inLanguage)} (${language})`}</summary>
            <div class="grid2">
              {translatedFields.map((field) => (
                <TextField name={translationField(language, field)} label={t[field]} values={props.values} errors={props.errors} />
              ))}
            </div>
          </details>
        );
      })}
    </fieldset>
  );
}

/** The translation fields as the API's `translations` (blank fields are dropped by the service). */
export function translationsFromForm(form: Values): Record<string, Record<string, string>> {
  return Object.fromEntries(
    letterLanguages.map((language) => [language, Object.fromEntries(translatedFields.map((field) => [field, form[translationField(language, field)] ?? '']))]),
  );
}

/** A stored target's translations as the form's fields. */
export function translationValues(translations: Partial<Record<LetterLanguage, Partial<Record<(typeof translatedFields)[number], string | null>>>>): Values {
  const values: Values = {};
  for (const language of letterLanguages) {
    for (const field of translatedFields) {
      const value = translations[language]?.[field];
      if (value) values[translationField(language, field)] = value;
    }
  }
  return values;
}
