import type { PublicReply, ReplyChannel } from '../../services/replies.js';
import { htmlLang, type Messages, type PageLanguage } from '../i18n/index.js';

const channelKey: Record<ReplyChannel, keyof Messages> = {
  post: 'replyChannelPost',
  email: 'replyChannelEmail',
  fax: 'replyChannelFax',
  phone: 'replyChannelPhone',
  in_person: 'replyChannelInPerson',
  other: 'replyChannelOther',
};

/** A reply's day (YYYY-MM-DD) as the page language writes dates; read at UTC midnight, so no zone moves it. */
function receivedOn(day: string, language: PageLanguage): string {
  return new Intl.DateTimeFormat(htmlLang[language], { dateStyle: 'medium', timeZone: 'UTC' }).format(Date.parse(`${day}T00:00:00Z`));
}

/**
 * "Replies from the recipients" on the campaign page: the replies the
 * organisers marked public, newest first. The summary is the organiser's
 * plain text, escaped and never rendered as Markdown or HTML (it may quote
 * an official verbatim). The scan is not linked: it can carry names,
 * signatures and addresses the organisers did not mean to publish, so it
 * stays in the dashboard.
 */
export function PublicReplies(props: { replies: readonly PublicReply[] | undefined; t: Messages; language: PageLanguage }) {
  const { t, language } = props;
  if (!props.replies || props.replies.length === 0) return null;
  return (
    <section class="replies" aria-labelledby="replies-title">
      <h2 id="replies-title">{t.repliesHeading}</h2>
      <ul>
        {props.replies.map((reply) => (
          <li>
            <p>
              <time datetime={reply.receivedOn}>{receivedOn(reply.receivedOn, language)}</time>
              {' · '}
              {[reply.target.name, reply.target.title, reply.target.organisation].filter(Boolean).join(', ')}
              {' · '}
              {t[channelKey[reply.channel]]}
            </p>
            <p class="reply-summary">
              {reply.summary.split('\n').map((line, index) => (
                <>
                  {index > 0 ? <br /> : null}
                  {line}
                </>
              ))}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
