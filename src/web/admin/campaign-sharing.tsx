import type { CampaignView } from '../../services/campaigns.js';
import { catalogs, interpolate, languageName, type PageLanguage } from '../i18n/index.js';
import { campaignShareUrl, shareLinks } from '../public/share-links.js';
import { sharingTexts } from './i18n/sharing.js';
import { useDashboardLanguage, useTexts } from './i18n/texts.js';

const attribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The title a language's page shows: its translation, else the original. */
const titleIn = (campaign: CampaignView, language: PageLanguage) => campaign.translations[language]?.title ?? campaign.title;

/**
 * The frame for the organisation's website, as the README shows it: the embed route in the
 * campaign's language, titled for screen readers, with room for the form and the copy button.
 */
export function embedSnippet(publicUrl: string, campaign: CampaignView): string {
  const language = campaign.locale as PageLanguage;
  const src = `${publicUrl}/c/${encodeURIComponent(campaign.slug)}/embed?lang=${language}`;
  return `<iframe src="${attribute(src)}" title="${attribute(titleIn(campaign, language))}" width="100%" height="800" loading="lazy" style="border:0; max-width:40rem" allow="clipboard-write"></iframe>`;
}

/** A read-only field whose text the organiser copies (the dashboard script shows the button where the Clipboard API exists). */
function CopyField(props: { id: string; label: string; value: string; lines?: number }) {
  const t = useTexts(sharingTexts);
  return (
    <div class="field copy-field">
      <label for={props.id}>{props.label}</label>
      {props.lines ? (
        <textarea id={props.id} rows={props.lines} readonly spellcheck={false}>
          {props.value}
        </textarea>
      ) : (
        <input type="text" id={props.id} value={props.value} readonly spellcheck={false} />
      )}
      <button type="button" class="secondary" data-copy={props.id} data-status={`${props.id}-status`} data-copied={t.copied} data-failed={t.copyFailed} hidden>
        {t.copy}
      </button>
      <span class="muted" id={`${props.id}-status`} role="status"></span>
    </div>
  );
}

/**
 * A campaign's public page in each of its languages, its link and share links in its main language
 * (what supporters are sent), and the embed code; the campaign's own texts, never a supporter's.
 */
export function CampaignSharing(props: { campaign: CampaignView; publicUrl: string; embedOrigins: readonly string[] }) {
  const { campaign, publicUrl } = props;
  const t = useTexts(sharingTexts);
  const language = useDashboardLanguage();
  const main = campaign.locale as PageLanguage;
  const languages = [main, ...(Object.keys(campaign.translations) as PageLanguage[]).filter((locale) => locale !== main)];
  const url = campaignShareUrl(publicUrl, campaign.slug, main);
  const links = shareLinks(catalogs[main], url, titleIn(campaign, main));
  const mainName = { language: languageName(main, language) };
  return (
    <>
      <h2 id="sharing">{t.heading}</h2>
      <div class="card">
        {campaign.status === 'draft' ? <p class="warning">{t.draftNotPublic}</p> : null}
        <p>
          {t.publicPage}{' '}
          <a href={url} target="_blank" rel="noopener">
            {url}
          </a>
        </p>
        {languages.length > 1 ? (
          <p>
            {t.inLanguages}{' '}
            {languages.map((locale, index) => (
              <>
                {index > 0 ? ' · ' : null}
                <a href={campaignShareUrl(publicUrl, campaign.slug, locale)} hreflang={locale} target="_blank" rel="noopener">
                  {languageName(locale, language)}
                </a>
              </>
            ))}
          </p>
        ) : null}
        <CopyField id="share-url" label={interpolate(t.linkToShare, mainName)} value={url} />
        <ul class="share-links">
          <li>
            <a href={links.line} target="_blank" rel="noopener noreferrer">
              {t.shareOnLine}
            </a>
          </li>
          <li>
            <a href={links.x} target="_blank" rel="noopener noreferrer">
              {t.postOnX}
            </a>
          </li>
          <li>
            <a href={links.facebook} target="_blank" rel="noopener noreferrer">
              {t.shareOnFacebook}
            </a>
          </li>
          <li>
            <a href={links.email}>{t.sendByEmail}</a>
          </li>
        </ul>
        <CopyField id="embed-code" label={interpolate(t.embedCode, mainName)} value={embedSnippet(publicUrl, campaign)} lines={3} />
        <p class="muted">{t.embedHint}</p>
        <p class={props.embedOrigins.length ? 'muted' : 'warning'}>
          {props.embedOrigins.length ? interpolate(t.embedAllowed, { origins: props.embedOrigins.join(', ') }) : t.embedNowhere}
        </p>
      </div>
    </>
  );
}
