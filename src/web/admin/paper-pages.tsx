import { Hono } from 'hono';
import * as v from 'valibot';
import { pdfHeaders } from '../../http/content-disposition.js';
import { serviceContextOf } from '../../http/principal.js';
import { getCampaign } from '../../services/campaigns.js';
import { ServiceError } from '../../lib/service-errors.js';
import {
  importPaperSignatures,
  listPaperImports,
  paperCsvColumns,
  type PaperImportReport,
  type PaperRowErrorCode,
  type RejectedPaperRow,
} from '../../services/paper-signatures.js';
import { locales } from '../../lib/locales.js';
import { renderSignatureSheet, SignatureSheetQuery } from '../../services/signature-sheet.js';
import { paperImportOptions } from '../../routes/paper-signatures.js';
import { catalogs, interpolate, languageName } from '../i18n/index.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, TextField } from './admin-layout.js';
import { missingScopePage, renderPage } from './admin-page.js';
import { paperTexts } from './i18n/paper.js';
import { formatDateTime, formatNumber, textsFor, type TextsOf } from './i18n/texts.js';

/**
 * The dashboard's form limit is 256 KB and the checked file travels back with the import button,
 * so a file stays under this; a few thousand typed-up rows fit, larger files go through the API.
 */
const MAX_UPLOAD_BYTES = 200 * 1024;

type Check = { file: string; content: string; fields: Record<string, string>; report: PaperImportReport };
type PageState = { check?: Check; failure?: { message: string; rejected: RejectedPaperRow[] }; status?: 200 | 409 | 422 };

const fieldNames = ['sheet', 'event', 'collectedOn', 'country'] as const;

function RejectedTable(props: { rows: RejectedPaperRow[]; t: TextsOf<typeof paperTexts> }) {
  const { t } = props;
  return (
    <table id="rejected-rows">
      <thead>
        <tr>
          <th scope="col">{t.row}</th>
          <th scope="col">{t.field}</th>
          <th scope="col">{t.problem}</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.flatMap((rejected) =>
          rejected.errors.map((error) => (
            <tr>
              <td>{rejected.row}</td>
              <td>
                <code>{error.field ?? '—'}</code>
              </td>
              <td>
                {t[`code${error.code}` as `code${PaperRowErrorCode}`]} <span class="muted">({error.code})</span>
              </td>
            </tr>
          )),
        )}
      </tbody>
    </table>
  );
}

async function paperPage(c: AdminContext, slug: string, state: PageState) {
  const t = textsFor(c, paperTexts);
  const ctx = serviceContextOf(c);
  const language = c.var.language;
  const n = (value: number) => formatNumber(language, value);
  const [campaign, history] = await Promise.all([getCampaign(ctx, slug), listPaperImports(ctx, slug)]);
  const base = `/admin/campaigns/${encodeURIComponent(slug)}`;
  const sheetLanguages = locales.filter((locale) => locale === campaign.locale || campaign.translations[locale]);
  const importedId = c.req.query('imported');
  const done = importedId ? history.find((record) => record.id === importedId) : undefined;
  const check = state.check;
  return renderPage(
    c,
    { title: interpolate(t.pageTitle, { title: campaign.title }), section: 'campaigns', status: state.status ?? 200 },
    <>
      <p>
        <a href={base}>← {campaign.title}</a>
      </p>
      <h1>{interpolate(t.pageTitle, { title: campaign.title })}</h1>
      <p class="lead">{t.lead}</p>
      {done ? (
        <p class="notice" role="status" id="import-done">
          {interpolate(t.imported, { imported: n(done.imported), merged: n(done.merged), rejected: n(done.rejected) })}
        </p>
      ) : null}
      {state.failure ? (
        <div class="errors" role="alert" id="error-summary">
          <h2>{t.importFailed}</h2>
          <p>{state.failure.message}</p>
          {state.failure.rejected.length > 0 ? <RejectedTable rows={state.failure.rejected} t={t} /> : null}
        </div>
      ) : null}

      {check ? (
        <section class="card" aria-labelledby="report-heading" id="check-report">
          <h2 id="report-heading">{interpolate(t.reportHeading, { file: check.file })}</h2>
          <p>
            {interpolate(t.reportCounts, { rows: n(check.report.rows), imported: n(check.report.imported), merged: n(check.report.merged), rejected: n(check.report.rejectedCount) })}
          </p>
          {check.report.rejectedCount > 0 ? (
            <>
              <h3>{t.rejectedHeading}</h3>
              <RejectedTable rows={check.report.rejected} t={t} />
            </>
          ) : (
            <p>{t.noProblems}</p>
          )}
          {check.report.accepted === 0 ? (
            <p class="muted">{t.nothingToImport}</p>
          ) : (
            <form method="post" action={`${base}/paper/import`} enctype="multipart/form-data">
              <CsrfField session={c.var.session} />
              <input type="hidden" name="file" value={check.file} />
              <textarea name="content" hidden aria-hidden="true" tabindex={-1}>
                {check.content}
              </textarea>
              {fieldNames.map((name) => (check.fields[name] ? <input type="hidden" name={name} value={check.fields[name]} /> : null))}
              {check.report.rejectedCount > 0 ? (
                <p>
                  <input type="checkbox" id="skip-invalid" name="skipInvalid" value="true" required />
                  <label for="skip-invalid">{t.skipInvalid}</label>
                </p>
              ) : null}
              <button type="submit">{t.importButton}</button>
            </form>
          )}
        </section>
      ) : null}

      <section class="card" aria-labelledby="sheet-heading">
        <h2 id="sheet-heading">{t.sheetHeading}</h2>
        <p>{t.sheetLead}</p>
        <form method="get" action={`${base}/signature-sheet.pdf`}>
          <fieldset>
            <legend>{t.languages}</legend>
            {sheetLanguages.map((locale) => (
              <label>
                <input type="checkbox" name="language" value={locale} checked={locale === campaign.locale} /> {languageName(locale, language)}
              </label>
            ))}
          </fieldset>
          <button type="submit">{t.download}</button>
        </form>
      </section>

      <section class="card" aria-labelledby="import-heading">
        <h2 id="import-heading">{t.importHeading}</h2>
        <p>{interpolate(t.importLead, { columns: paperCsvColumns.join(', '), max: n(MAX_UPLOAD_BYTES / 1024) })}</p>
        <form method="post" action={`${base}/paper/check`} enctype="multipart/form-data">
          <CsrfField session={c.var.session} />
          <div class="field">
            <label for="paper-file">{t.file}</label>
            <input id="paper-file" type="file" name="file" accept=".csv,text/csv" required />
          </div>
          <TextField name="sheet" label={t.sheet} values={{}} errors={{}} />
          <TextField name="event" label={t.event} values={{}} errors={{}} />
          <TextField name="collectedOn" label={t.collectedOn} type="date" values={{}} errors={{}} />
          <TextField name="country" label={t.country} values={{}} errors={{}} />
          <button type="submit">{t.check}</button>
        </form>
      </section>

      <h2>{t.historyHeading}</h2>
      {history.length === 0 ? (
        <p class="muted">{t.historyNone}</p>
      ) : (
        <table id="paper-imports">
          <thead>
            <tr>
              <th scope="col">{t.when}</th>
              <th scope="col">{t.eventColumn}</th>
              <th scope="col">{t.sheetColumn}</th>
              <th scope="col">{t.rows}</th>
              <th scope="col">{t.importedCount}</th>
              <th scope="col">{t.mergedCount}</th>
              <th scope="col">{t.rejectedCount}</th>
              <th scope="col">{t.by}</th>
            </tr>
          </thead>
          <tbody>
            {history.map((record) => (
              <tr>
                <td>{formatDateTime(language, record.createdAt!, campaign.timeZone)}</td>
                <td>
                  {record.event ?? '—'}
                  {record.collectedOn ? <div class="muted">{record.collectedOn}</div> : null}
                </td>
                <td>{record.sheet ?? '—'}</td>
                <td>{n(record.rows)}</td>
                <td>{n(record.imported)}</td>
                <td>{n(record.merged)}</td>
                <td>{n(record.rejected)}</td>
                <td>{record.importedBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>,
  );
}

/** A refusal the organiser can act on: the page again, with what was wrong; anything else is the dashboard's error page. */
function refusalOf(error: unknown): { message: string; rejected: RejectedPaperRow[]; status: 409 | 422 } | null {
  if (!(error instanceof ServiceError)) return null;
  if (error.code === 'IMPORT_FAILED') return { message: error.message, rejected: Array.isArray(error.details) && 'errors' in (error.details[0] ?? {}) ? (error.details as RejectedPaperRow[]) : [], status: 422 };
  if (error.code === 'VALIDATION_FAILED') {
    const details = Array.isArray(error.details) ? (error.details as { path: string; message: string }[]) : [];
    return { message: [error.message, ...details.map((detail) => `${detail.path}: ${detail.message}`)].join(' '), rejected: [], status: 422 };
  }
  if (error.code === 'CAMPAIGN_NOT_OPEN') return { message: error.message, rejected: [], status: 409 };
  return null;
}

/** `/admin/campaigns/:slug/paper`: print the sheet, check a typed-up file (a dry run), then import it. Scope `campaigns`. */
export function paperPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/campaigns/:slug/paper', requireAdminScope('campaigns', missingScopePage));
  routes.use('/campaigns/:slug/paper/*', requireAdminScope('campaigns', missingScopePage));
  routes.use('/campaigns/:slug/signature-sheet.pdf', requireAdminScope('campaigns', missingScopePage));

  routes.get('/campaigns/:slug/paper', (c) => paperPage(c, c.req.param('slug'), {}));

  routes.get('/campaigns/:slug/signature-sheet.pdf', async (c) => {
    const slug = c.req.param('slug');
    const chosen = c.req.queries('language') ?? [];
    if (chosen.length === 0) return paperPage(c, slug, { failure: { message: textsFor(c, paperTexts).noLanguage, rejected: [] }, status: 422 });
    const query = v.safeParse(SignatureSheetQuery, { languages: chosen.join(',') });
    if (!query.success) return paperPage(c, slug, { failure: { message: query.issues[0].message, rejected: [] }, status: 422 });
    const sheet = await renderSignatureSheet(serviceContextOf(c), c.get('services').letters, slug, query.output, catalogs);
    return c.body(sheet.pdf, 200, pdfHeaders(sheet.filename, { bytes: sheet.pdf.byteLength }));
  });

  routes.post('/campaigns/:slug/paper/check', async (c) => {
    const slug = c.req.param('slug');
    const t = textsFor(c, paperTexts);
    const refuse = (message: string) => paperPage(c, slug, { failure: { message, rejected: [] }, status: 422 });
    const file = (await c.req.parseBody()).file;
    if (!(file instanceof File) || file.size === 0) return refuse(t.noFile);
    if (file.size > MAX_UPLOAD_BYTES) return refuse(interpolate(t.fileTooLarge, { max: String(MAX_UPLOAD_BYTES / 1024) }));
    let content: string;
    try {
      content = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      return refuse(t.notUtf8);
    }
    const fields = Object.fromEntries(fieldNames.flatMap((name) => (c.var.form[name]?.trim() ? [[name, c.var.form[name]!.trim()]] : [])));
    try {
      const report = await importPaperSignatures(serviceContextOf(c), c.var.session.principal, slug, content, paperImportOptions({ ...fields, dryRun: 'true' }));
      return paperPage(c, slug, { check: { file: file.name, content, fields, report } });
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      return paperPage(c, slug, { failure: refusal, status: refusal.status });
    }
  });

  routes.post('/campaigns/:slug/paper/import', async (c) => {
    const slug = c.req.param('slug');
    const form = c.var.form;
    try {
      const report = await importPaperSignatures(serviceContextOf(c), c.var.session.principal, slug, form.content ?? '', paperImportOptions({ ...form, dryRun: 'false' }));
      return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}/paper?imported=${report.id}`, 303);
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      return paperPage(c, slug, { failure: refusal, status: refusal.status });
    }
  });

  return routes;
}
