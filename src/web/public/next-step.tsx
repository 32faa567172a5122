import type { NextStepOffer } from '../../services/next-step.js';
import type { Messages, PageLanguage } from '../i18n/index.js';
import { ShareLinks } from './share-links.js';

/**
 * What a supporter is offered after signing (src/services/next-step.ts): the
 * organisation's donation link, another open campaign, and the share links
 * unless the organiser turned them off. Every text is escaped by JSX; the
 * donation link is https (checked when it was set). `newTab`: in the embed,
 * links open a new tab rather than navigate the frame on another site.
 */
export function NextStepBlock(props: { t: Messages; language: PageLanguage; offer: NextStepOffer; share: { url: string; title: string }; newTab?: boolean }) {
  const { t, offer } = props;
  const external = props.newTab ? { target: '_blank' } : {};
  const newTabNote = props.newTab ? <span class="visually-hidden"> {t.shareNewTab}</span> : null;
  return (
    <>
      {offer.donation || offer.campaign ? (
        <section class="next-step" aria-labelledby="next-step-title">
          <h2 id="next-step-title">{t.nextStepHeading}</h2>
          {offer.donation ? (
            <p>
              <a class="button" href={offer.donation.url} rel="noopener noreferrer" {...external}>
                {offer.donation.label}
                {newTabNote}
              </a>
            </p>
          ) : null}
          {offer.campaign ? (
            <p>
              {t.nextStepAnotherCampaign}{' '}
              <a href={`/c/${encodeURIComponent(offer.campaign.slug)}?lang=${props.language}`} {...external}>
                {offer.campaign.title}
                {newTabNote}
              </a>
            </p>
          ) : null}
        </section>
      ) : null}
      {offer.sharing ? <ShareLinks t={t} url={props.share.url} title={props.share.title} /> : null}
    </>
  );
}
