import { Hono } from 'hono';
import * as v from 'valibot';
import { pdfHeaders } from '../../http/content-disposition.js';
import { principalOf, serviceContextOf } from '../../http/principal.js';
import { letterVariables, type VariableShape } from '../../letters/template/template-text.js';
import { envelopeWindows, pageSizes } from '../../letters/template/types.js';
import { listCampaigns } from '../../services/campaigns.js';
import { ServiceError } from '../../lib/service-errors.js';
import {
  getLetterTemplate,
  listLetterTemplates,
  listLetterTemplateVersions,
  previewLetterTemplateDraft,
  resetLetterTemplate,
  saveLetterTemplate,
  SaveTemplateInput,
  type LetterTemplateView,
  type TemplateFields,
} from '../../services/letter-templates.js';
import { interpolate, languageName } from '../i18n/index.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, SelectField, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, missingScopePage, renderPage } from './admin-page.js';
import { templateTexts } from './i18n/templates.js';
import { type DashboardLanguage, formatDateTime, type TextsOf, textsFor } from './i18n/texts.js';

type Texts = TextsOf<typeof templateTexts>;
type Values = Record<string, string>;

const base = (name: string, language: string) => `/admin/templates/${encodeURIComponent(name)}/${encodeURIComponent(language)}`;

/** Every variable a letter may name, dotted, lists marked with `[]` (the help beside the form). */
function variableNames(shape: VariableShape, prefix = ''): string[] {
  if (shape.kind === 'value') return [prefix];
  if (shape.kind === 'list') return variableNames(shape.item, `${prefix}[]`);
  return Object.entries(shape.fields).flatMap(([key, field]) => variableNames(field, prefix ? `${prefix}.${key}` : key));
}
const allVariables = variableNames(letterVariables);

const valuesOf = (fields: TemplateFields): Values => ({
  subject: fields.subject,
  pageSize: fields.pageSize,
  envelopeWindow: fields.envelopeWindow,
  letterhead: fields.letterhead ? 'true' : '',
  addressee: fields.addressee,
  salutation: fields.salutation,
  closing: fields.closing,
  closingAlign: fields.closingAlign,
  body: fields.body,
});

/** The form's text as the API's input, so the same schema and checks judge it (every field is on the form). */
const inputOf = (form: Values) => ({
  subject: form.subject ?? '',
  pageSize: form.pageSize,
  envelopeWindow: form.envelopeWindow,
  letterhead: form.letterhead === 'true',
  addressee: form.addressee ?? '',
  salutation: form.salutation ?? '',
  closing: form.closing ?? '',
  closingAlign: form.closingAlign,
  body: form.body ?? '',
});

const versionName = (t: Texts, version: number) => (version === 0 ? t.shippedVersion : interpolate(t.savedVersion, { version }));

/**
 * A refusal on the form: a template error goes under the field it names, told in the viewer's
 * language with its line; anything else as the service says it.
 */
function refusalOf(c: AdminContext, t: Texts, error: unknown): { errors: FieldErrors; message: string | undefined } | null {
  if (error instanceof ServiceError && error.code === 'TEMPLATE_INVALID' && error.details && typeof error.details === 'object' && 'field' in error.details) {
    const { field, variable, line } = error.details as { field: string; variable?: string; line?: number };
    const text =
      variable !== undefined && error.message.startsWith('Unknown variable')
        ? interpolate(t.unknownVariable, { line: line ?? 1, variable })
        : line !== undefined
          ? interpolate(t.otherProblem, { line, message: error.message })
          : error.message;
    return { errors: { [field]: [text] }, message: t.refused };
  }
  const mapped = formErrorOf(error, c);
  return mapped ? { errors: mapped.errors, message: mapped.message } : null;
}

async function listPage(c: AdminContext) {
  const t = textsFor(c, templateTexts);
  const language = c.var.language;
  const { items } = await listLetterTemplates(serviceContextOf(c), c.get('services').letters);
  return renderPage(
    c,
    { title: t.title, section: 'templates' },
    <>
      <h1>{t.title}</h1>
      <p class="muted">{t.lead}</p>
      <table id="templates">
        <thead>
          <tr>
            <th>{t.template}</th>
            <th>{t.language}</th>
            <th>{t.version}</th>
            <th>{t.subject}</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {items.flatMap((item) =>
            item.variants.map((variant) => (
              <tr data-template={`${item.name}/${variant.language}`}>
                <td>{item.name}</td>
                <td>{languageName(variant.language, language)}</td>
                <td class="nowrap">{versionName(t, variant.version)}</td>
                <td>{'subject' in variant ? variant.subject : interpolate(t.unusable, { message: variant.error.message })}</td>
                <td>
                  <a href={base(item.name, variant.language)}>{t.edit}</a>
                </td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </>,
  );
}

type EditState = { values?: Values; errors?: FieldErrors; message?: string | undefined; status?: 200 | 403 | 404 | 409 | 422 | 429 | 500; done?: string };

async function editPage(c: AdminContext, name: string, templateLanguage: string, state: EditState = {}) {
  const t = textsFor(c, templateTexts);
  const language: DashboardLanguage = c.var.language;
  const ctx = serviceContextOf(c);
  const ports = c.get('services').letters;
  const view: LetterTemplateView = await getLetterTemplate(ctx, ports, name, templateLanguage);
  const versions = await listLetterTemplateVersions(ctx, ports, name, templateLanguage);
  const campaigns = await listCampaigns(ctx, { limit: 100 });
  const canChange = ctx.access.kind === 'organisation';
  const values = state.values ?? valuesOf(view.fields);
  const errors = state.errors ?? {};
  const common = { values, errors };
  const action = base(name, templateLanguage);
  const title = interpolate(t.editTitle, { name, language: languageName(view.language, language) });
  const when = (iso: string | null) => (iso ? formatDateTime(language, iso) : '—');
  const inUse =
    view.version === 0
      ? t.inUseShipped
      : interpolate(view.shipped ? t.inUseReset : t.inUse, { version: versionName(t, view.version), who: view.savedBy ?? '—', time: when(view.savedAt) });
  const labels: Record<string, string> = {
    subject: t.subject,
    addressee: t.addressee,
    salutation: t.salutation,
    closing: t.closing,
    body: t.body,
    pageSize: t.pageSize,
    envelopeWindow: t.envelopeWindow,
    closingAlign: t.closingAlign,
  };
  return renderPage(
    c,
    { title, section: 'templates', status: state.status ?? 200 },
    <>
      <p>
        <a href="/admin/templates">{t.back}</a>
      </p>
      <h1>{title}</h1>
      {state.done ? (
        <p class="notice" role="status" id="template-done">
          {state.done}
        </p>
      ) : null}
      <p class="muted" id="template-in-use">
        {inUse}
      </p>
      {canChange ? null : (
        <p class="warning" id="template-read-only">
          {t.readOnly}
        </p>
      )}
      <p class="muted">{t.editLead}</p>
      <ErrorSummary errors={errors} message={state.message} labels={labels} />
      <div class="grid2">
        <form method="post" action={action} class="card" id="template-form" novalidate>
          <CsrfField session={c.var.session} />
          <h2>{t.sectionLetter}</h2>
          <TextField name="subject" label={t.subject} {...common} required />
          <TextField name="addressee" label={t.addressee} hint={t.addresseeHint} multiline {...common} />
          <TextField name="salutation" label={t.salutation} {...common} />
          <TextField name="body" label={t.body} hint={t.bodyHint} multiline {...common} required />
          <TextField name="closing" label={t.closing} hint={t.closingHint} multiline {...common} required />
          <h2>{t.sectionLayout}</h2>
          <div class="grid2">
            <SelectField name="pageSize" label={t.pageSize} options={pageSizes.map((size) => ({ value: size, label: size }))} {...common} />
            <SelectField
              name="envelopeWindow"
              label={t.envelopeWindow}
              options={envelopeWindows.map((window) => ({ value: window, label: window === 'none' ? t.windowNone : window }))}
              {...common}
            />
            <SelectField
              name="closingAlign"
              label={t.closingAlign}
              options={[
                { value: 'left', label: t.alignLeft },
                { value: 'right', label: t.alignRight },
              ]}
              {...common}
            />
          </div>
          <div class="field">
            <label class="inline">
              <input type="checkbox" name="letterhead" value="true" checked={values.letterhead === 'true'} /> {t.letterhead}
            </label>
          </div>
          <h2>{t.previewHeading}</h2>
          <p class="hint">{t.previewLead}</p>
          {campaigns.items.length > 0 ? (
            <SelectField name="previewCampaign" label={t.previewCampaign} options={campaigns.items.map((campaign) => ({ value: campaign.slug, label: campaign.title }))} {...common} />
          ) : (
            <p class="muted">{t.noCampaigns}</p>
          )}
          <div class="actions">
            {canChange ? <button type="submit">{t.save}</button> : null}
            {campaigns.items.length > 0 ? (
              // The draft goes to the frame below: no script, the form itself posts there.
              <button type="submit" class="secondary" formaction={`${action}/preview`} formtarget="template-preview" id="template-preview-button">
                {t.preview}
              </button>
            ) : null}
          </div>
        </form>
        <aside class="card" id="template-variables">
          <h2>{t.variablesHeading}</h2>
          <p class="hint">{t.variablesLead}</p>
          <ul>
            {allVariables.map((variable) => (
              <li>
                <code>{`{{${variable}}}`}</code>
              </li>
            ))}
          </ul>
        </aside>
      </div>
      <iframe name="template-preview" id="template-preview" class="letter-frame" title={t.previewFrame}></iframe>
      <h2>{t.historyHeading}</h2>
      <table id="template-versions">
        <thead>
          <tr>
            <th>{t.version}</th>
            <th>{t.kind}</th>
            <th>{t.savedBy}</th>
            <th>{t.savedAt}</th>
          </tr>
        </thead>
        <tbody>
          {versions.items.map((item) => (
            <tr data-version={String(item.version)} data-current={item.current ? 'true' : undefined}>
              <td class="nowrap">
                {versionName(t, item.version)}
                {item.current ? <> · <b>{t.current}</b></> : null}
              </td>
              <td>{item.version === 0 ? t.kindShipped : item.isReset ? t.kindReset : t.kindSaved}</td>
              <td>{item.savedBy ?? '—'}</td>
              <td class="nowrap">{when(item.savedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {canChange ? (
        <form method="post" action={`${action}/reset`} class="card" id="template-reset">
          <CsrfField session={c.var.session} />
          <h2>{t.resetHeading}</h2>
          <p class="muted">{t.resetLead}</p>
          <label class="inline">
            <input type="checkbox" name="confirm" value="yes" required /> {t.resetConfirm}
          </label>
          <div class="actions">
            <button type="submit" class="danger">
              {t.reset}
            </button>
          </div>
        </form>
      ) : null}
    </>,
  );
}

/**
 * Letter templates in the dashboard (PRODUCT.md §12): anyone with `letters` reads them and
 * previews a draft; saving and resetting need organisation reach (the service refuses others),
 * since a template speaks in every campaign's letters.
 */
export function templatePages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/templates', requireAdminScope('letters', missingScopePage));
  routes.use('/templates/*', requireAdminScope('letters', missingScopePage));

  routes.get('/templates', (c) => listPage(c));

  routes.get('/templates/:name/:language', (c) => {
    const t = textsFor(c, templateTexts);
    const version = /^\d{1,9}$/.exec(c.req.query('version') ?? '')?.[0] ?? '';
    const done = c.req.query('done');
    const message = done === 'saved' ? interpolate(t.saved, { version }) : done === 'reset' ? interpolate(t.wasReset, { version }) : undefined;
    return editPage(c, c.req.param('name'), c.req.param('language'), message ? { done: message } : {});
  });

  routes.post('/templates/:name/:language', async (c) => {
    const t = textsFor(c, templateTexts);
    const { name, language } = c.req.param();
    const values = c.var.form;
    const parsed = v.safeParse(SaveTemplateInput, inputOf(values));
    if (!parsed.success) return editPage(c, name, language, { values, errors: issuesToErrors(parsed.issues, c), status: 422 });
    try {
      const saved = await saveLetterTemplate(serviceContextOf(c), c.get('services').letters, name, language, parsed.output, { name: principalOf(c).name });
      return c.redirect(`${base(name, language)}?done=saved&version=${saved.version}`, 303);
    } catch (error) {
      const refusal = refusalOf(c, t, error);
      if (!refusal) throw error;
      return editPage(c, name, language, { values, ...refusal, status: 422 });
    }
  });

  routes.post('/templates/:name/:language/preview', async (c) => {
    const { name, language } = c.req.param();
    const form = c.var.form;
    const parsed = v.safeParse(SaveTemplateInput, inputOf(form));
    if (!parsed.success) throw new ServiceError('VALIDATION_FAILED', parsed.issues.map((issue) => `${v.getDotPath(issue) ?? ''}: ${issue.message}`).join('; '));
    const preview = await previewLetterTemplateDraft(serviceContextOf(c), c.get('services').letters, name, language, {
      campaign: form.previewCampaign ?? '',
      draft: parsed.output,
    });
    return c.body(preview.body, 200, pdfHeaders(preview.filename, { uniquePart: preview.uniquePart, inline: true }));
  });

  routes.post('/templates/:name/:language/reset', async (c) => {
    const { name, language } = c.req.param();
    // The box is required on the page; a post without it (an old page, a script) changes nothing.
    if (c.var.form.confirm !== 'yes') return c.redirect(base(name, language), 303);
    const reset = await resetLetterTemplate(serviceContextOf(c), c.get('services').letters, name, language, { name: principalOf(c).name });
    return c.redirect(`${base(name, language)}?done=reset&version=${reset.version}`, 303);
  });

  return routes;
}
