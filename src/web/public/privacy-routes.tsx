import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { attachmentDisposition } from '../../http/content-disposition.js';
import type { AppEnv } from '../../http/env.js';
import { RateLimited } from '../../lib/service-errors.js';
import {
  describePrivacyRequest,
  eraseByLink,
  exportByLink,
  type ManageChange,
  ManageChanges,
  type ManagedSignature,
  manageByLink,
  PrivacyRequestInput,
  privacyKinds,
  requestPrivacyLink,
} from '../../services/privacy.js';
import { readFormFields } from '../form-body.js';
import { catalogs, htmlLang, interpolate, isPageLanguage, negotiateLanguage, type Messages, type PageLanguage } from '../i18n/index.js';
import { pageHeaders } from '../page-headers.js';
import { issueFormToken, verifyFormToken } from './form-tokens.js';
import { forbiddenPage, formBodyLimit, rememberLanguageChoice, sameOriginPosts } from './page-guards.js';
import { renderMessage, renderPage } from './render.js';
import { FORM_TOKEN_FIELD, LANGUAGE_FIELD } from './sign-form.js';

const REQUEST_FORM = 'privacy-request';
const LINK_FORM = 'privacy-link';
/** A privacy token's shape (src/lib/keyring.ts); anything else is answered without a lookup. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{44}$/;

type RequestFormState = { email: string; kind: string; errors: { email?: boolean; kind?: boolean } };

function RequestForm(props: { t: Messages; language: PageLanguage; token: string; state: RequestFormState }) {
  const { t, state } = props;
  const kindLabels: Record<(typeof privacyKinds)[number], string> = {
    export: t.privacyKindExport,
    erase: t.privacyKindErase,
    manage: t.privacyKindManage,
  };
  return (
    <>
      <h1>{t.privacyPageTitle}</h1>
      <p>{t.privacyPageIntro}</p>
      <p class="note">{t.privacyPageSafety}</p>
      <form method="post" action="/privacy" novalidate>
        <input type="hidden" name={FORM_TOKEN_FIELD} value={props.token} />
        <input type="hidden" name={LANGUAGE_FIELD} value={props.language} />
        <div class="field">
          <label for="field-email">{t.privacyFieldEmail}</label>
          {state.errors.email ? (
            <span class="field-error" id="error-email">
              {t.errorEmailInvalid}
            </span>
          ) : null}
          <input
            type="email"
            id="field-email"
            name="email"
            value={state.email}
            autocomplete="email"
            maxlength={254}
            required
            spellcheck={false}
            aria-invalid={state.errors.email ? 'true' : undefined}
            aria-describedby={state.errors.email ? 'error-email' : undefined}
          />
        </div>
        <fieldset aria-describedby={state.errors.kind ? 'error-kind' : undefined}>
          <legend>{t.privacyFieldKind}</legend>
          {state.errors.kind ? (
            <span class="field-error" id="error-kind">
              {t.privacyErrorKind}
            </span>
          ) : null}
          {privacyKinds.map((kind) => (
            <div class="choice">
              <input type="radio" id={`field-kind-${kind}`} name="kind" value={kind} checked={state.kind === kind} />
              <label for={`field-kind-${kind}`}>{kindLabels[kind]}</label>
            </div>
          ))}
        </fieldset>
        <button type="submit">{t.privacySubmit}</button>
      </form>
    </>
  );
}

async function renderRequestForm(c: Context<AppEnv>, language: PageLanguage, status: 200 | 422, state: RequestFormState) {
  const t = catalogs[language];
  const token = await issueFormToken(c.get('services').ctx, REQUEST_FORM);
  const title = status === 422 ? interpolate(t.errorTitlePrefix, { title: t.privacyPageTitle }) : t.privacyPageTitle;
  return renderPage(c, status, { language, meta: { title, private: true } }, <RequestForm t={t} language={language} token={token} state={state} />);
}

const newLinkLink = (t: Messages, language: PageLanguage) => ({ href: `/privacy?lang=${language}`, label: t.privacyNewLink });

function unknownLinkPage(c: Context<AppEnv>, language: PageLanguage) {
  return renderMessage(c, 404, language, (t) => ({ title: t.unknownLinkTitle, paragraphs: [t.privacyUnknownLinkBody], link: newLinkLink(t, language) }), { private: true });
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');
const fieldName = (field: 'nameOnLetter' | 'showPublicly' | 'updates' | 'partnerOptIn', signatureId: string) => `${field}.${signatureId}`;

function ChoiceGroup(props: { name: string; legend: string; options: { value: string; label: string }[]; checked: string }) {
  return (
    <fieldset>
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <div class="choice">
          <input type="radio" id={`${props.name}-${option.value}`} name={props.name} value={option.value} checked={option.value === props.checked} />
          <label for={`${props.name}-${option.value}`}>{option.label}</label>
        </div>
      ))}
    </fieldset>
  );
}

function ManageForm(props: { t: Messages; language: PageLanguage; action: string; formToken: string; signatures: ManagedSignature[] }) {
  const { t, language } = props;
  const day = new Intl.DateTimeFormat(htmlLang[language], { dateStyle: 'long', timeZone: 'UTC' });
  return (
    <>
      <h1>{t.privacyManageTitle}</h1>
      {props.signatures.length === 0 ? (
        <p>{t.privacyManageNone}</p>
      ) : (
        <>
          <p>{t.privacyManageBody}</p>
          <form method="post" action={props.action}>
            <input type="hidden" name={FORM_TOKEN_FIELD} value={props.formToken} />
            <input type="hidden" name={LANGUAGE_FIELD} value={language} />
            {props.signatures.map((signature) => (
              <section aria-labelledby={`campaign-${signature.id}`}>
                <h2 id={`campaign-${signature.id}`}>{signature.campaignTitle}</h2>
                {signature.confirmedAt ? <p class="note">{interpolate(t.privacyManageSigned, { date: day.format(new Date(signature.confirmedAt)) })}</p> : null}
                <ChoiceGroup
                  name={fieldName('nameOnLetter', signature.id)}
                  legend={t.consentNameLegend}
                  options={[
                    { value: 'full', label: t.consentNameFull },
                    { value: 'initials', label: t.consentNameInitials },
                    { value: 'none', label: t.consentNameNone },
                  ]}
                  checked={signature.nameOnLetter}
                />
                <ChoiceGroup
                  name={fieldName('showPublicly', signature.id)}
                  legend={t.consentPublicLegend}
                  options={[
                    { value: 'yes', label: t.consentPublicYes },
                    { value: 'no', label: t.consentPublicNo },
                  ]}
                  checked={yesNo(signature.showPublicly)}
                />
                <ChoiceGroup
                  name={fieldName('updates', signature.id)}
                  legend={t.consentUpdatesLegend}
                  options={[
                    { value: 'yes', label: t.consentUpdatesYes },
                    { value: 'no', label: t.consentUpdatesNo },
                  ]}
                  checked={yesNo(signature.updates)}
                />
                {signature.partnerOptIn ? (
                  <ChoiceGroup
                    name={fieldName('partnerOptIn', signature.id)}
                    legend={interpolate(t.confirmPartnerTerm, { partner: signature.partnerOptIn.name })}
                    options={[
                      { value: 'yes', label: t.confirmYes },
                      { value: 'no', label: t.confirmNo },
                    ]}
                    checked="yes"
                  />
                ) : null}
              </section>
            ))}
            <button type="submit">{t.privacyManageButton}</button>
          </form>
        </>
      )}
      <p>
        <a href={`/privacy?lang=${language}`}>{t.privacyNewLink}</a>
      </p>
    </>
  );
}

/** The choices posted for each signature the page showed; a field left out keeps its current value. */
function readManageForm(body: Record<string, string>, shown: ManagedSignature[]): ManageChange[] | null {
  const boolean = (value: string | undefined, current: boolean) => (value === undefined ? current : value === 'yes' ? true : value === 'no' ? false : null);
  const changes = shown.map((signature) => ({
    signatureId: signature.id,
    nameOnLetter: body[fieldName('nameOnLetter', signature.id)] ?? signature.nameOnLetter,
    showPublicly: boolean(body[fieldName('showPublicly', signature.id)], signature.showPublicly),
    updates: boolean(body[fieldName('updates', signature.id)], signature.updates),
    // Only a withdrawal: the opt-in itself is given on the signing form, beside the partner's own words.
    ...(signature.partnerOptIn && body[fieldName('partnerOptIn', signature.id)] === 'no' ? { partnerOptIn: false } : {}),
  }));
  const parsed = v.safeParse(ManageChanges, changes);
  return parsed.success ? parsed.output : null;
}

/**
 * The supporters' rights pages (PRODUCT.md §8): `/privacy` asks for a link by
 * email, `/privacy/:token` is where the link lands. Opening a link (GET) only
 * shows what its button will do, since mail scanners open links; the button
 * (POST, with a form token and the Origin check) acts, once.
 */
export function privacyPageRoutes() {
  const routes = new Hono<AppEnv>();
  for (const path of ['/privacy', '/privacy/*']) {
    routes.use(path, pageHeaders({ frameAncestors: "'none'" }));
    routes.use(path, rememberLanguageChoice());
  }

  routes.get('/privacy', (c) => renderRequestForm(c, negotiateLanguage(c), 200, { email: '', kind: '', errors: {} }));

  routes.post('/privacy', sameOriginPosts(), formBodyLimit(), async (c) => {
    const services = c.get('services');
    const body = await readFormFields(c);
    if (!body) return forbiddenPage(c, negotiateLanguage(c), 400);
    const language = isPageLanguage(body[LANGUAGE_FIELD]) ? body[LANGUAGE_FIELD] : negotiateLanguage(c);
    if (!(await verifyFormToken(services.ctx, REQUEST_FORM, body[FORM_TOKEN_FIELD]))) return forbiddenPage(c, language);
    const values = { email: (body.email ?? '').slice(0, 300), kind: body.kind ?? '' };
    const parsed = v.safeParse(PrivacyRequestInput, { email: values.email, kind: values.kind, locale: language });
    if (!parsed.success) {
      const paths = new Set(parsed.issues.map((issue) => v.getDotPath(issue)));
      return renderRequestForm(c, language, 422, { ...values, errors: { email: paths.has('email'), kind: paths.has('kind') } });
    }
    try {
      await requestPrivacyLink(services.ctx, services.signLimits, parsed.output, { clientIp: services.clientIp(c) });
    } catch (error) {
      if (error instanceof RateLimited) {
        return renderMessage(c, 429, language, (t) => ({ title: t.rateLimitedTitle, paragraphs: [t.privacyRateLimitedBody] }), {
          private: true,
          headers: { 'Retry-After': String(error.retryAfterSeconds) },
        });
      }
      throw error;
    }
    services.onMailQueued();
    return c.redirect(`/privacy/requested?lang=${language}`, 303);
  });

  routes.get('/privacy/requested', (c) =>
    renderMessage(c, 200, negotiateLanguage(c), (t) => ({ title: t.privacyRequestedTitle, paragraphs: [t.privacyRequestedBody, t.thanksSpam] }), { private: true }),
  );

  routes.get('/privacy/:token', async (c) => {
    const { ctx } = c.get('services');
    const token = c.req.param('token');
    const language = negotiateLanguage(c);
    const request = TOKEN_PATTERN.test(token) ? await describePrivacyRequest(ctx, token) : null;
    if (!request) return unknownLinkPage(c, language);
    const formToken = await issueFormToken(ctx, LINK_FORM);
    const action = `/privacy/${token}`;
    const t = catalogs[language];
    if (request.kind === 'manage') {
      return renderPage(
        c,
        200,
        { language, meta: { title: t.privacyManageTitle, private: true } },
        <ManageForm t={t} language={language} action={action} formToken={formToken} signatures={request.signatures} />,
      );
    }
    const fields = { [FORM_TOKEN_FIELD]: formToken, [LANGUAGE_FIELD]: language };
    return renderMessage(
      c,
      200,
      language,
      (t) =>
        request.kind === 'export'
          ? { title: t.privacyExportTitle, paragraphs: [t.privacyExportBody], form: { action, button: t.privacyExportButton, fields } }
          : { title: t.privacyEraseTitle, paragraphs: [t.privacyEraseBody], form: { action, button: t.privacyEraseButton, fields } },
      { private: true },
    );
  });

  routes.post('/privacy/:token', sameOriginPosts(), formBodyLimit(), async (c) => {
    const { ctx, publicPages } = c.get('services');
    const token = c.req.param('token');
    const body = await readFormFields(c);
    if (!body) return forbiddenPage(c, negotiateLanguage(c), 400);
    const language = isPageLanguage(body[LANGUAGE_FIELD]) ? body[LANGUAGE_FIELD] : negotiateLanguage(c);
    if (!(await verifyFormToken(ctx, LINK_FORM, body[FORM_TOKEN_FIELD]))) return forbiddenPage(c, language);
    const request = TOKEN_PATTERN.test(token) ? await describePrivacyRequest(ctx, token) : null;
    if (!request) return unknownLinkPage(c, language);

    if (request.kind === 'export') {
      const data = await exportByLink(ctx, token);
      if (!data) return unknownLinkPage(c, language);
      return c.body(JSON.stringify(data, null, 2), 200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Disposition': attachmentDisposition(`personal-data-${data.generatedAt.slice(0, 10)}.json`),
        'Cache-Control': 'no-store',
      });
    }
    if (request.kind === 'erase') {
      const erased = await eraseByLink(ctx, token);
      if (!erased) return unknownLinkPage(c, language);
      // The public list may have shown their name: it goes from the pages at once.
      await publicPages.changed();
      return renderMessage(c, 200, language, (t) => ({ title: t.privacyErasedTitle, paragraphs: [interpolate(t.privacyErasedBody, { count: erased.erased })] }), {
        private: true,
      });
    }
    const changes = readManageForm(body, request.signatures);
    if (!changes) return forbiddenPage(c, language, 400);
    const managed = await manageByLink(ctx, token, changes);
    if (!managed) return unknownLinkPage(c, language);
    await publicPages.changed();
    return renderMessage(
      c,
      200,
      language,
      (t) => ({ title: t.privacyManagedTitle, paragraphs: [t.privacyManagedBody], link: newLinkLink(t, language) }),
      { private: true },
    );
  });

  return routes;
}
