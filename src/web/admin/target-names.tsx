import type { TargetTranslations } from '../../db/schema.js';
import type { DashboardLanguage } from './i18n/texts.js';

type NamedTarget = { name: string; organisation: string | null; language: string; translations: TargetTranslations };

/**
 * A target's name and organisation as the organiser reads them: in the dashboard's language where
 * the directory has them (the shipped missions are named in Chinese, their letters' language), and
 * `official` — the names as the target's own letters give them — only when those differ.
 */
export function targetNamesFor(target: NamedTarget, language: DashboardLanguage): { name: string; organisation: string | null; official: string | null } {
  const translated = target.language === language ? undefined : target.translations[language as keyof TargetTranslations];
  const name = translated?.name || target.name;
  const organisation = translated?.organisation || target.organisation;
  const differs = name !== target.name || organisation !== target.organisation;
  return { name, organisation, official: differs ? [target.organisation, target.name].filter(Boolean).join(' · ') : null };
}

/** The names as targetNamesFor gives them, with the official ones beneath in the target's language. */
export function OfficialName(props: { official: string | null; lang: string; label: string }) {
  if (!props.official) return null;
  return (
    <div class="muted">
      {props.label}: <span lang={props.lang}>{props.official}</span>
    </div>
  );
}
