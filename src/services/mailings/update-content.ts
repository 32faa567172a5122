import { and, count, eq, lte } from 'drizzle-orm';
import { signatures } from '../../db/schema.js';
import type { LetterPorts } from '../../letters/letter-ports.js';
import { formatCount, formatLetterDate } from '../../letters/template/letter-date.js';
import { TemplateError } from '../../letters/template/template-error.js';
import { renderUpdateTemplate, type UpdateTemplate } from '../../letters/template/update-template.js';
import { locales } from '../../lib/locales.js';
import { ServiceError } from '../../lib/service-errors.js';
import type { UpdateEmailInput } from '../../mail/update-email.js';
import type { ServiceContext } from '../context.js';
import type { Locale } from '../schemas.js';
import type { MailingRow } from './lease-store.js';
import type { CampaignRow } from './queueing.js';

/** An update's subject and body in a supporter's locale. */
export type UpdateContent = (locale: Locale) => { subject: string; body: string };

/**
 * What each supporter's update says, by their locale: the organiser's
 * subject and body, or the mailing's update template rendered in the
 * supporter's language (English when it has no such variant), once per locale.
 */
export async function updateContent(ctx: ServiceContext, ports: LetterPorts, mailing: MailingRow, campaign: CampaignRow): Promise<UpdateContent> {
  if (mailing.template === null) {
    if (mailing.subject === null || mailing.body === null) throw new ServiceError('UPDATE_CONTENT_MISSING', 'The update has neither a subject and a body nor a template.');
    const content = { subject: mailing.subject, body: mailing.body };
    return () => content;
  }
  const name = mailing.template;
  const variants = new Map<Locale, UpdateTemplate>();
  for (const locale of locales) {
    try {
      variants.set(locale, await ports.loadUpdateTemplate(name, locale));
    } catch (error) {
      if (!(error instanceof TemplateError && error.code === 'TEMPLATE_NOT_FOUND')) throw error;
    }
  }
  const fallback = variants.get('en');
  if (!fallback) throw new ServiceError('UPDATE_TEMPLATE_NOT_FOUND', `There is no update template "${name}": letters/updates/${name}/en.md was not found.`);
  const cutoffAt = mailing.cutoffAt ?? mailing.sendAt;
  const [counted] = await ctx.db.db
    .select({ n: count() })
    .from(signatures)
    .where(and(eq(signatures.campaignId, campaign.id), eq(signatures.status, 'confirmed'), lte(signatures.confirmedAt, cutoffAt)));
  const rendered = new Map<Locale, { subject: string; body: string }>();
  return (locale) => {
    let content = rendered.get(locale);
    if (!content) {
      const template = variants.get(locale) ?? fallback;
      const language = template.language;
      const translation = campaign.translations[language];
      content = renderUpdateTemplate(template, {
        campaign: {
          slug: campaign.slug,
          title: translation?.title ?? campaign.title,
          summary: translation?.summary ?? campaign.summary,
          url: `${ctx.publicUrl}/c/${campaign.slug}`,
        },
        signatures: { count: formatCount(counted?.n ?? 0, language) },
        date: formatLetterDate(mailing.sendAt, language, campaign.timeZone),
      });
      rendered.set(locale, content);
    }
    return content;
  };
}

/** The update email's input for one supporter, in their locale. */
export function updateInput(content: UpdateContent, campaign: CampaignRow, recipient: { id: string; name: string; locale: UpdateEmailInput['locale'] }): UpdateEmailInput {
  const { subject, body } = content(recipient.locale);
  return {
    locale: recipient.locale,
    supporterName: recipient.name,
    campaignTitle: campaign.translations[recipient.locale]?.title ?? campaign.title,
    subject,
    bodyMarkdown: body,
    signatureId: recipient.id,
  };
}
