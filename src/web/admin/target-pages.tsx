import { Hono } from 'hono';
import * as v from 'valibot';
import { serviceContextOf } from '../../http/principal.js';
import { regionName } from '../../lib/regions.js';
import { ServiceError } from '../../lib/service-errors.js';
import {
  importShippedTargetDirectory,
  importTargets,
  type ImportFormat,
  type ImportIssue,
  type ImportTargetsResult,
  listShippedTargetDirectories,
  MAX_IMPORT_ROWS,
} from '../../services/target-import.js';
import { listTargets, type TargetView } from '../../services/targets.js';
import { interpolate } from '../i18n/index.js';
import { OfficialName, targetNamesFor } from './target-names.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField } from './admin-layout.js';
import { missingScopePage, renderPage } from './admin-page.js';
import { targetKindTexts } from './i18n/campaigns.js';
import { targetDirectoryTexts } from './i18n/targets.js';
import { formatNumber, textsFor } from './i18n/texts.js';

/** Files bigger than this are refused by the dashboard's form limit anyway; the API takes larger ones. */
const MAX_UPLOAD_BYTES = 240 * 1024;

const ImportedCounts = v.pipe(
  v.string(),
  v.regex(/^\d{1,5},\d{1,5},\d{1,5}$/),
  v.transform((value) => value.split(',').map(Number) as [number, number, number]),
);

/** The format of an uploaded file, by its name first (browsers send CSV under several types), then its type. */
function uploadFormat(file: File): ImportFormat | null {
  const name = file.name.toLowerCase();
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.csv')) return 'csv';
  if (/json/.test(file.type)) return 'json';
  if (/csv/.test(file.type)) return 'csv';
  return null;
}

function Address(props: { target: TargetView }) {
  const { lines, postalCode, city, region, country } = props.target.postalAddress;
  const parts = country === 'JP' ? [postalCode ? `〒${postalCode}` : '', `${region ?? ''}${city ?? ''}${lines.join('')}`] : [...lines, [postalCode, city, region].filter(Boolean).join(' '), country];
  return <>{parts.filter((part) => part).join(' ')}</>;
}

/** The directory page: what the organisation writes to, where each target's letters can go, and the imports. */
async function directoryPage(
  c: AdminContext,
  options: { imported?: { created: number; updated: number; unchanged: number }; failure?: { message: string; issues: ImportIssue[] }; status?: 200 | 422 },
) {
  const t = textsFor(c, targetDirectoryTexts);
  const kinds = textsFor(c, targetKindTexts);
  const ctx = serviceContextOf(c);
  const language = c.var.language;
  const [page, shipped] = await Promise.all([
    listTargets(ctx, { limit: 200, cursor: c.req.query('cursor') }),
    listShippedTargetDirectories(ctx, c.get('services').letters),
  ]);
  const n = (value: number) => formatNumber(language, value);
  return renderPage(
    c,
    { title: t.title, section: 'targets', status: options.status },
    <>
      <h1>{t.title}</h1>
      <p class="lead">{t.lead}</p>
      {options.imported ? (
        <p class="notice" role="status">
          {interpolate(t.imported, { created: n(options.imported.created), updated: n(options.imported.updated), unchanged: n(options.imported.unchanged) })}
        </p>
      ) : null}
      {options.failure ? (
        <div class="errors" role="alert" id="error-summary">
          <h2>{t.importFailed}</h2>
          <p>{options.failure.message}</p>
          {options.failure.issues.length > 0 ? (
            <ul>
              {options.failure.issues.map((issue) => (
                <li>{interpolate(t.issue, { row: String(issue.row), field: issue.field ?? '—', message: issue.message })}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}

      {shipped.length > 0 ? (
        <section class="card" aria-labelledby="shipped-heading">
          <h2 id="shipped-heading">{t.shippedHeading}</h2>
          <p>{t.shippedLead}</p>
          <ul>
            {shipped.map((directory) => (
              <li>
                <form method="post" action="/admin/targets/import-shipped">
                  <CsrfField session={c.var.session} />
                  <input type="hidden" name="name" value={directory.name} />
                  <strong>{directory.title[language] ?? directory.name}</strong>
                  {directory.count !== null ? interpolate(t.targetCount, { count: n(directory.count) }) : ''}
                  {directory.note ? <p class="muted">{directory.note[language] ?? directory.note.en ?? Object.values(directory.note)[0]}</p> : null}
                  <button type="submit">{t.importShipped}</button>
                </form>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section class="card" aria-labelledby="upload-heading">
        <h2 id="upload-heading">{t.uploadHeading}</h2>
        <p>{interpolate(t.uploadLead, { max: n(MAX_IMPORT_ROWS) })}</p>
        <form method="post" action="/admin/targets/import" enctype="multipart/form-data">
          <CsrfField session={c.var.session} />
          <label for="targets-file">{t.file}</label>
          <input id="targets-file" type="file" name="file" accept=".json,.csv,application/json,text/csv" required />
          <button type="submit">{t.upload}</button>
        </form>
      </section>

      <h2>{interpolate(t.listHeading, { count: n(page.items.length) })}</h2>
      {page.items.length === 0 ? (
        <p class="muted">{t.none}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t.name}</th>
              <th scope="col">{t.kind}</th>
              <th scope="col">{t.delivery}</th>
              <th scope="col">{t.address}</th>
              <th scope="col">{t.jurisdiction}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((target) => {
              const shown = targetNamesFor(target, language);
              return (
                <tr>
                  <td>
                    <a href={`/admin/targets/${target.id}/edit`}>{shown.organisation ?? shown.name}</a>
                    {shown.organisation ? <div class="muted">{shown.name}</div> : null}
                    <OfficialName official={shown.official} lang={target.language} label={t.asInLetters} />
                  </td>
                  <td>{kinds[target.kind]}</td>
                  <td>{target.email ? interpolate(t.byEmail, { email: target.email }) : <strong>{t.byPost}</strong>}</td>
                  <td>
                    <Address target={target} />
                  </td>
                  <td>{target.jurisdiction.map((code) => regionName(code, language)).join('、') || '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {page.nextCursor ? (
        <p>
          <a href={`/admin/targets?cursor=${encodeURIComponent(page.nextCursor)}`}>{t.more}</a>
        </p>
      ) : null}
    </>,
  );
}

/** An import's outcome: back to the list with its counts, or the list with what was wrong (nothing was written). */
async function afterImport(c: AdminContext, run: () => Promise<ImportTargetsResult>) {
  try {
    const result = await run();
    return c.redirect(`/admin/targets?imported=${result.created},${result.updated},${result.unchanged}`, 303);
  } catch (error) {
    if (!(error instanceof ServiceError) || error.code !== 'IMPORT_FAILED') throw error;
    const issues = Array.isArray(error.details) ? (error.details as ImportIssue[]) : [];
    return directoryPage(c, { failure: { message: error.message, issues }, status: 422 });
  }
}

/** The target directory (scope `campaigns`, organisation-wide): the list, the shipped directories and an upload, each import idempotent. */
export function targetPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/targets', requireAdminScope('campaigns', missingScopePage));
  routes.use('/targets/*', requireAdminScope('campaigns', missingScopePage));

  routes.get('/targets', async (c) => {
    const counts = v.safeParse(ImportedCounts, c.req.query('imported'));
    const [created, updated, unchanged] = counts.success ? counts.output : [];
    return directoryPage(c, { imported: counts.success ? { created: created!, updated: updated!, unchanged: unchanged! } : undefined });
  });

  routes.post('/targets/import-shipped', (c) =>
    afterImport(c, () => importShippedTargetDirectory(serviceContextOf(c), c.get('services').letters, c.var.form.name ?? '')),
  );

  routes.post('/targets/import', async (c) => {
    const t = textsFor(c, targetDirectoryTexts);
    // The form middleware read the body already; Hono keeps it, so the file part is still here.
    const body = await c.req.parseBody();
    const file = body.file;
    const refuse = (message: string) => directoryPage(c, { failure: { message, issues: [] }, status: 422 });
    if (!(file instanceof File) || file.size === 0) return refuse(t.noFile);
    if (file.size > MAX_UPLOAD_BYTES) return refuse(t.fileTooLarge);
    const format = uploadFormat(file);
    if (!format) return refuse(t.unknownFormat);
    let content: string;
    try {
      content = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      return refuse(t.notUtf8);
    }
    return afterImport(c, () => importTargets(serviceContextOf(c), { format, content }));
  });

  return routes;
}
