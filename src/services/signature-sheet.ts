import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import { campaigns } from '../db/schema.js';
import type { LetterPorts, SignatureSheetPart } from '../letters/letter-ports.js';
// The signing form's own catalogue (plain data), so the boxes on paper can never drift from the form's wording.
import { assertCampaignAccess } from './access.js';
import type { ServiceContext } from './context.js';
import { NotFound, ValidationFailed } from '../lib/service-errors.js';
import { organisationInLanguage, requireOrganisation } from './organisation.js';
import { type Locale } from './schemas.js';
import { locales } from '../lib/locales.js';

/** The words of the signing form the sheet repeats. */
type SigningFormKey =
  | 'privacyController'
  | 'privacyPurpose'
  | 'fieldName'
  | 'fieldEmail'
  | 'optional'
  | 'fieldRegion'
  | 'fieldCity'
  | 'consentNameLegend'
  | 'consentNameFull'
  | 'consentNameInitials'
  | 'consentNameNone'
  | 'consentPublicLegend'
  | 'consentPublicYes'
  | 'consentUpdatesLegend'
  | 'consentUpdatesYes';

/**
 * The signing form's words the sheet repeats, per language: the public pages' catalogues
 * (src/web/i18n), handed in by the caller, so this service does not import the web layer.
 */
export type SigningFormTexts = Record<Locale, Record<SigningFormKey, string>>;

/** What the sheet itself says (the form has no column numbers, signatures or QR codes). */
const sheetTexts: Record<Locale, SignatureSheetPart['sheet']> = {
  en: {
    number: 'No.',
    signature: 'Signature',
    instructions:
      'One person per row. Tick the boxes you agree to: an empty box means no (on the letter: counted only, never named). The email address is optional; without one you will never be emailed.',
    scanToSign: 'Scan to sign online',
    page: 'Signature sheet, page {page} of {pages}',
  },
  ja: {
    number: '番号',
    signature: '署名',
    instructions:
      '1行に1人がご記入ください。同意する項目の□に印を付けてください。印のない□は「同意しない」です（書簡には人数のみ数え、名前は記載しません）。メールアドレスは任意です。記入がなければメールは一切送りません。',
    scanToSign: 'オンラインで署名する',
    page: '署名用紙 {page} / {pages} ページ',
  },
  ko: {
    number: '번호',
    signature: '서명',
    instructions:
      '한 줄에 한 사람씩 적어 주세요. 동의하는 칸에 표시해 주세요. 표시하지 않은 칸은 동의하지 않는 것입니다(서한에는 인원수로만 세고 이름은 적지 않습니다). 이메일 주소는 선택 사항이며, 적지 않으면 이메일을 보내지 않습니다.',
    scanToSign: '온라인으로 서명하기',
    page: '서명 용지 {page} / {pages} 쪽',
  },
  zh: {
    number: '编号',
    signature: '签名',
    instructions: '每行一人。请在同意的方框内打勾；未打勾表示不同意（信中只计入人数，不列姓名）。电子邮箱可不填；不填则不会向您发送任何邮件。',
    scanToSign: '扫码在线签名',
    page: '签名表 第 {page} / {pages} 页',
  },
};

export const SignatureSheetQuery = v.object({
  /** Comma-separated page languages, e.g. `ja,en`; by default the campaign's own, then its translations. */
  languages: v.optional(
    v.pipe(
      v.string(),
      v.transform((value) => [...new Set(value.split(',').map((part) => part.trim().toLowerCase()).filter(Boolean))]),
      v.minLength(1, 'name at least one language'),
      v.maxLength(locales.length),
      v.array(v.picklist(locales, `must be languages among ${locales.join(', ')}, separated by commas`)),
    ),
  ),
});
export type SignatureSheetQuery = v.InferOutput<typeof SignatureSheetQuery>;

const fill = (template: string, values: Record<string, string>) => template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);

/**
 * A printable signature sheet for a campaign (PRODUCT.md §13): one A4 page per language with the
 * petition's title and summary in it, the privacy notice and consent choices as the signing form
 * words them, numbered rows and a QR code to the signing page. A language the campaign has no
 * text in is refused (the sheet would ask people to sign what they cannot read). Holds no
 * personal data; the organisation must be set, since the sheet says who will hold the data.
 */
export async function renderSignatureSheet(
  ctx: ServiceContext,
  ports: Pick<LetterPorts, 'renderSignatureSheet' | 'loadOrganisation'>,
  slug: string,
  query: SignatureSheetQuery,
  formTexts: SigningFormTexts,
) {
  const [campaign] = await ctx.db.db.select().from(campaigns).where(eq(campaigns.slug, slug));
  if (!campaign) throw new NotFound('Campaign');
  assertCampaignAccess(ctx.access, campaign.id, 'read');
  const textsIn = (language: Locale) =>
    campaign.translations[language] ?? (language === campaign.locale ? { title: campaign.title, summary: campaign.summary } : undefined);
  const languages = query.languages ?? [campaign.locale, ...locales.filter((language) => language !== campaign.locale && campaign.translations[language])];
  const missing = languages.filter((language) => !textsIn(language));
  if (missing.length > 0) {
    throw new ValidationFailed(missing.map((language) => ({ path: 'languages', message: `the campaign has no text in ${language}: add a translation first` })));
  }
  const profile = await requireOrganisation(ctx, ports, 'printing signature sheets');
  const parts = languages.map((language): SignatureSheetPart => {
    const form = formTexts[language];
    const texts = textsIn(language)!;
    return {
      language,
      title: texts.title,
      summary: texts.summary ?? '',
      privacy: [fill(form.privacyController, { organisation: organisationInLanguage(profile, language).name }), form.privacyPurpose],
      form: {
        name: form.fieldName,
        email: form.fieldEmail,
        optional: form.optional,
        region: form.fieldRegion,
        city: form.fieldCity,
        consentNameLegend: form.consentNameLegend,
        consentNameFull: form.consentNameFull,
        consentNameInitials: form.consentNameInitials,
        consentNameNone: form.consentNameNone,
        consentPublicLegend: form.consentPublicLegend,
        consentPublicYes: form.consentPublicYes,
        consentUpdatesLegend: form.consentUpdatesLegend,
        consentUpdatesYes: form.consentUpdatesYes,
      },
      sheet: sheetTexts[language],
    };
  });
  const signingUrl = signingUrlForSheet(ctx.publicUrl, campaign.slug, languages[0]!);
  const pdf = await ports.renderSignatureSheet({ signingUrl, generatedAt: ctx.clock.now(), parts });
  return { pdf, filename: `${campaign.slug}-signature-sheet.pdf` };
}

/** The page the sheet's QR code opens: the campaign in the sheet's first language, marked as coming from paper. */
export function signingUrlForSheet(publicUrl: string, slug: string, language: Locale): string {
  return `${publicUrl}/c/${encodeURIComponent(slug)}?lang=${language}&ref=paper`;
}
