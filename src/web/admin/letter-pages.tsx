import { Hono } from 'hono';
import * as v from 'valibot';
import { pdfHeaders } from '../../http/content-disposition.js';
import { formatInZone, localTimeToInstant } from '../../lib/local-time.js';
import { getCampaign } from '../../services/campaigns.js';
import { createDelivery, deliveryChannels, listDeliveries } from '../../services/deliveries.js';
import { generateLetters, GenerateLettersInput, getLetter, letterModes, linkedTargets, listLetterBatches, openLetterPdf, PreviewLetterQuery, previewLetter } from '../../services/letters.js';
import { listLetterTemplates } from '../../services/letter-templates.js';
import { lastBatchChoices } from './last-batch-choices.js';
import { type AdminContext, type AdminEnv, can, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, SelectField, StatusBadge, TextField } from './admin-layout.js';
import { formatTime, formErrorOf, issuesToErrors, keptValues, missingScopePage, Notice, renderPage } from './admin-page.js';
import { interpolate } from '../i18n/index.js';
import { channelTexts, commonTexts } from './i18n/common.js';
import { letterModeTexts, letterTexts } from './i18n/letters.js';
import { formatNumber, textsFor } from './i18n/texts.js';
import { serviceContextOf } from '../../http/principal.js';
import { previewRouting } from '../../services/routing-preview.js';
import { campaignTitle } from './campaign-names.js';
import { routingTexts } from './i18n/routing.js';
import { routingErrors, routingLabel, RoutingChoice, RoutingPreviewTable, SkippedTargets } from './routing-preview.js';
import { readOnlyCampaign, ViewerNote } from './viewer-only.js';
import { languageCombinations, languagesFromForm, languagesLabel, LetterLanguageChoice } from './letter-languages.js';
import { letterLanguageTexts } from './i18n/letter-languages.js';

type Values = Record<string, string>;


async function lettersPage(c: AdminContext, slug: string, values: Values, errors: FieldErrors, status: 200 | 404 | 409 | 410 | 422 = 200, message?: string) {
  const { letters: ports } = c.get('services');
  const ctx = serviceContextOf(c);
  const campaign = await getCampaign(ctx, slug);
  const batches = await listLetterBatches(ctx, campaign.id);
  const { items: templates } = await listLetterTemplates(ctx, ports);
  const routingPreview = await previewRouting(ctx, slug, values.emptyTargets === 'skip' ? { emptyTargets: 'skip' } : {});
  const campaignTargets = await linkedTargets(ctx, campaign.id);
  const lt = textsFor(c, letterLanguageTexts);
  const common = { values, errors };
  const base = `/admin/campaigns/${encodeURIComponent(slug)}`;
  const t = textsFor(c, letterTexts);
  const modes = textsFor(c, letterModeTexts);
  const language = c.var.language;
  const routing = textsFor(c, routingTexts);
  const letterLabels = { mode: t.mode, template: t.template, cutoffAt: t.cutoff, routing: routing.routing, emptyTargets: routing.routing, languages: lt.languages, target: lt.previewTarget };
  // A viewer reads the batches and the routing preview but is offered no generate form.
  const readOnly = readOnlyCampaign(c, campaign.id);
  return renderPage(
    c,
    { title: interpolate(t.lettersOf, { campaign: campaignTitle(campaign, language).text }), section: 'campaigns', status },
    <>
      <p>
        <a href={base}>← {campaignTitle(campaign, language).text}</a>
      </p>
      <h1>{t.letters}</h1>
      {readOnly ? <ViewerNote /> : null}
      <Notice done={c.req.query('done')} />
      <ErrorSummary errors={errors} message={message} labels={letterLabels} />
      {readOnly ? null : (
        <form method="post" action={`${base}/letters`} class="card" novalidate>
          <h2>{t.generateBatch}</h2>
          <CsrfField session={c.var.session} />
          <fieldset class="field">
            <legend>{t.mode}</legend>
            {letterModes.map((mode) => (
              <label>
                <input type="radio" name="mode" value={mode} checked={(values.mode ?? 'per_target') === mode} /> {modes[`${mode}Long`]}
              </label>
            ))}
            {errors.mode ? <p class="field-error">{errors.mode.join('; ')}</p> : null}
          </fieldset>
          <RoutingChoice value={values.routing} emptyTargets={values.emptyTargets} errors={routingErrors(errors)} hint />
          <LetterLanguageChoice values={values} errors={errors} offered={languageCombinations(campaign.locale, campaignTargets.map((target) => target.language), values.languages)} />
          <div class="grid2">
            <SelectField
              name="template"
              label={t.template}
              options={[{ value: '', label: interpolate(t.campaignTemplate, { template: campaign.letterTemplate ?? 'embassy-petition' }) }, ...templates.map((t) => ({ value: t.name, label: `${t.name} (${t.languages.join(', ')})` }))]}
              {...common}
            />
            <TextField name="cutoffAt" label={t.cutoff} type="datetime-local" hint={interpolate(t.cutoffHint, { timeZone: campaign.timeZone })} {...common} />
          </div>
          <button type="submit">{t.generateLetters}</button>
          {campaignTargets.length === 0 ? null : (
            // The same form's choices, posted to the preview: the draft opens as a PDF in a new tab.
            <fieldset class="field">
              <legend>{lt.previewDraft}</legend>
              <p class="hint">{lt.previewHint}</p>
              <SelectField name="target" label={lt.previewTarget} options={campaignTargets.map((target) => ({ value: target.id, label: target.name }))} {...common} />
              <button type="submit" class="secondary" formaction={`${base}/letters/preview`} formtarget="_blank">
                {lt.showPreview}
              </button>
            </fieldset>
          )}
        </form>
      )}
      <RoutingPreviewTable preview={routingPreview} open={values.routing === 'jurisdiction'} />

      <h2>{t.batches}</h2>
      {batches.length === 0 ? <p class="muted">{t.noLetters}</p> : null}
      {batches.map((batch) => (
        <section class="card" id={`batch-${batch.id}`} aria-labelledby={`batch-h-${batch.id}`}>
          <h3 id={`batch-h-${batch.id}`}>
            {formatTime(language, batch.createdAt, campaign.timeZone)} · {modes[batch.mode]}
            {batch.mode === 'per_target' ? ` · ${routingLabel(routing, batch.routing)}` : ''}
            {batch.mode === 'per_target' && batch.emptyTargets === 'skip' ? ` · ${routing.skippingEmptyTargets}` : ''} · {batch.template}
            {batch.languages ? ` · ${languagesLabel(c, batch.languages)}` : ''}
          </h3>
          <p class="muted">
            {interpolate(batch.letters.length === 1 ? t.batchSummary : t.batchSummaryPlural, {
              cutoff: formatTime(language, batch.cutoffAt, campaign.timeZone),
              count: formatNumber(language, batch.letters.length),
            })}
          </p>
          <SkippedTargets skipped={batch.skippedTargets} />
          <table>
            <thead>
              <tr>
                <th scope="col">{t.target}</th>
                <th scope="col">{t.language}</th>
                <th scope="col" class="num">
                  {t.signatures}
                </th>
                <th scope="col" class="num">
                  {t.pages}
                </th>
                <th scope="col" class="num">
                  {t.size}
                </th>
                <th scope="col">SHA-256</th>
                <th scope="col">PDF</th>
              </tr>
            </thead>
            <tbody>
              {batch.letters.map((letter) => (
                <tr>
                  <td>
                    {letter.targetName}
                    {letter.signatureId ? <div class="muted">{interpolate(t.supporter, { id: letter.signatureId.slice(-8) })}</div> : null}
                  </td>
                  <td>{languagesLabel(c, letter.languages)}</td>
                  <td class="num">{formatNumber(language, letter.signatureCount)}</td>
                  <td class="num">{formatNumber(language, letter.pages)}</td>
                  <td class="num">{`${formatNumber(language, Math.ceil(letter.bytes / 1024))} KB`}</td>
                  <td>
                    <code>{letter.sha256.slice(0, 12)}</code>
                    {letter.regeneratedAt !== null && letter.withdrawnAt === null ? <div class="muted">{t.regenerated}</div> : null}
                  </td>
                  <td>
                    {letter.withdrawnAt !== null ? (
                      <a href={`/admin/letters/${letter.id}`}>{t.withdrawn}</a>
                    ) : (
                      <>
                        <a href={`/admin/letters/${letter.id}`}>{t.preview}</a> · <a href={`/admin/letters/${letter.id}/pdf?download=1`}>{t.download}</a>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </>,
  );
}

async function letterPage(c: AdminContext, id: string, problem?: { status: 404 | 409 | 410 | 422; message: string }) {
  const ctx = serviceContextOf(c);
  const letter = await getLetter(ctx, id);
  const campaign = await getCampaign(ctx, letter.campaign);
  const deliveries = can(c, 'deliveries') ? (await listDeliveries(ctx, { limit: 500, campaign: letter.campaign })).items.filter((d) => d.letterId === letter.id) : null;
  const t = textsFor(c, letterTexts);
  const modes = textsFor(c, letterModeTexts);
  const channels = textsFor(c, channelTexts);
  const language = c.var.language;
  return renderPage(
    c,
    { title: t.letter, section: 'campaigns', status: problem?.status ?? 200 },
    <>
      <p>
        <a href={`/admin/campaigns/${encodeURIComponent(letter.campaign)}/letters`}>{interpolate(t.backToLettersOf, { campaign: campaignTitle(campaign, language).text })}</a>
      </p>
      <h1>{t.letter}</h1>
      {readOnlyCampaign(c, campaign.id) ? <ViewerNote /> : null}
      <Notice done={c.req.query('done')} />
      {problem ? (
        <p class="error" role="alert">
          {problem.message}
        </p>
      ) : null}
      <div class="card">
        <dl class="facts">
          <dt>{t.modeTemplateLanguage}</dt>
          <dd>
            {[modes[letter.mode], letter.template, languagesLabel(c, letter.languages)].join(textsFor(c, commonTexts).listSeparator)}
          </dd>
          <dt>{t.cutoff}</dt>
          <dd>{formatTime(language, letter.cutoffAt, campaign.timeZone)}</dd>
          <dt>{t.signaturesCounted}</dt>
          <dd>{formatNumber(language, letter.signatureCount)}</dd>
          <dt>{t.pagesAndSize}</dt>
          <dd>
            {formatNumber(language, letter.pages)}, {formatNumber(language, Math.ceil(letter.bytes / 1024))} KB
          </dd>
          <dt>SHA-256</dt>
          <dd>
            <code>{letter.sha256}</code>
          </dd>
          {letter.regeneratedAt !== null ? (
            <>
              <dt>{t.regeneratedAt}</dt>
              <dd>{formatTime(language, letter.regeneratedAt, campaign.timeZone)}</dd>
            </>
          ) : null}
        </dl>
        {letter.withdrawnAt !== null ? (
          <p class="notice">{t.withdrawnNotice}</p>
        ) : (
          <p>
            <a class="button secondary" href={`/admin/letters/${letter.id}/pdf?download=1`}>
              {t.downloadPdf}
            </a>
          </p>
        )}
      </div>
      {letter.withdrawnAt !== null ? null : <iframe class="letter-frame" src={`/admin/letters/${letter.id}/pdf`} title={t.pdfFrameTitle}></iframe>}
      <h2>{t.deliveries}</h2>
      {deliveries === null ? (
        <p class="muted">{t.deliveriesNeedScope}</p>
      ) : (
        <div class="card">
          {deliveries.length === 0 ? <p class="muted">{t.notDelivered}</p> : null}
          {deliveries.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.channel}</th>
                  <th scope="col">{t.status}</th>
                  <th scope="col">{t.created}</th>
                  <th scope="col">{t.tracking}</th>
                  <th scope="col">{t.lastError}</th>
                  <th scope="col">{t.deliveredHash}</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr>
                    <td>{channels[d.channel]}</td>
                    <td>
                      <StatusBadge status={d.status} />
                    </td>
                    <td>{formatTime(language, d.createdAt, campaign.timeZone)}</td>
                    <td>{d.trackingNumber ?? '—'}</td>
                    <td>{d.lastError ?? '—'}</td>
                    <td>
                      <code>{d.letterSha256.slice(0, 12)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {readOnlyCampaign(c, campaign.id) || letter.withdrawnAt !== null ? null : (
            <form method="post" action={`/admin/letters/${letter.id}/deliveries`} class="actions">
              <CsrfField session={c.var.session} />
              {/* One key per rendered form: submitting it twice makes one delivery. */}
              <input type="hidden" name="idempotencyKey" value={`admin-${crypto.randomUUID()}`} />
              <label for="f-channel">{t.deliverBy}</label>
              <select id="f-channel" name="channel">
                {deliveryChannels.map((ch) => (
                  <option value={ch}>{ch === 'email' ? t.deliverByEmail : t.deliverByPrint}</option>
                ))}
              </select>
              <button type="submit">{t.createDelivery}</button>
            </form>
          )}
        </div>
      )}
    </>,
  );
}

/** Letters: generate a batch, list batches, preview and download (scope `letters`); deliver (also `deliveries`). */
export function letterPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/campaigns/:slug/letters', requireAdminScope('letters', missingScopePage));
  routes.use('/campaigns/:slug/letters/preview', requireAdminScope('letters', missingScopePage));
  routes.use('/letters/*', requireAdminScope('letters', missingScopePage));

  routes.get('/campaigns/:slug/letters', async (c) => {
    const slug = c.req.param('slug');
    // A link that names the routing (the routing preview's) is followed; otherwise the form starts with the last batch's choices.
    const routing = c.req.query('routing');
    const { timeZone: _timeZone, ...last } = await lastBatchChoices(c, slug);
    const values: Values = routing
      ? { mode: 'per_target', routing, ...(c.req.query('emptyTargets') === 'skip' ? { emptyTargets: 'skip' } : {}) }
      : { mode: 'per_target', routing: 'all', ...last };
    return lettersPage(c, slug, values, {});
  });

  routes.post('/campaigns/:slug/letters', async (c) => {
    const services = c.get('services');
    const slug = c.req.param('slug');
    const form = c.var.form;
    const values = keptValues(form);
    const campaign = await getCampaign(serviceContextOf(c), slug);
    const errors: FieldErrors = {};
    const input: Record<string, unknown> = { mode: form.mode ?? '' };
    if (form.template) input.template = form.template;
    if (form.routing) input.routing = form.routing;
    if (form.emptyTargets) input.emptyTargets = form.emptyTargets;
    const languages = languagesFromForm(form);
    if (languages) input.languages = languages;
    if (form.cutoffAt) {
      try {
        input.cutoffAt = formatInZone(localTimeToInstant(form.cutoffAt, campaign.timeZone), campaign.timeZone);
      } catch (error) {
        errors.cutoffAt = [(error as Error).message];
      }
    }
    const parsed = v.safeParse(GenerateLettersInput, input);
    if (!parsed.success || Object.keys(errors).length) {
      return lettersPage(c, slug, values, { ...(parsed.success ? {} : issuesToErrors(parsed.issues, c)), ...errors }, 422);
    }
    try {
      const batch = await generateLetters(serviceContextOf(c), services.letters, slug, parsed.output);
      return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}/letters?done=generated#batch-${batch.batchId}`, 303);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem || problem.status === 404) throw error;
      return lettersPage(c, slug, values, problem.errors, problem.status === 409 || problem.status === 410 ? problem.status : 422, problem.message);
    }
  });

  // A draft as the API's preview gives it, from the letters form's choices; a bad choice is the letters page with its errors.
  routes.post('/campaigns/:slug/letters/preview', async (c) => {
    const services = c.get('services');
    const slug = c.req.param('slug');
    const form = c.var.form;
    const languages = languagesFromForm(form);
    const parsed = v.safeParse(PreviewLetterQuery, {
      target: form.target ?? '',
      ...(form.template ? { template: form.template } : {}),
      ...(form.routing === 'jurisdiction' ? { routing: 'jurisdiction' } : {}),
      ...(form.emptyTargets ? { emptyTargets: form.emptyTargets } : {}),
      ...(languages ? { languages: languages.join(',') } : {}),
    });
    if (!parsed.success) return lettersPage(c, slug, keptValues(form), issuesToErrors(parsed.issues, c), 422);
    try {
      const preview = await previewLetter(serviceContextOf(c), services.letters, slug, parsed.output);
      return c.body(preview.body, 200, pdfHeaders(preview.filename, { inline: true, uniquePart: preview.uniquePart }));
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem || problem.status === 404) throw error;
      return lettersPage(c, slug, keptValues(form), problem.errors, problem.status === 409 || problem.status === 410 ? problem.status : 422, problem.message);
    }
  });

  routes.get('/letters/:id', (c) => letterPage(c, c.req.param('id')));

  // The PDF for the preview frame (inline) and for download (attachment), with the session cookie.
  routes.get('/letters/:id/pdf', async (c) => {
    const services = c.get('services');
    const letter = await openLetterPdf(serviceContextOf(c), services.letters, c.req.param('id'));
    return c.body(letter.body, 200, pdfHeaders(letter.filename, { bytes: letter.bytes, inline: !c.req.query('download'), uniquePart: letter.uniquePart }));
  });

  routes.post('/letters/:id/deliveries', requireAdminScope('deliveries', missingScopePage), async (c) => {
    const services = c.get('services');
    const id = c.req.param('id');
    const form = c.var.form;
    const channel = v.safeParse(v.picklist(deliveryChannels), form.channel);
    if (!channel.success) return letterPage(c, id, { status: 422, message: textsFor(c, letterTexts).chooseChannel });
    try {
      const { delivery, replayed } = await createDelivery(serviceContextOf(c), services.letters, id, { channel: channel.output }, form.idempotencyKey || undefined);
      if (!replayed && delivery.channel === 'email') services.onMailQueued();
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem || problem.status === 404) throw error;
      return letterPage(c, id, { status: problem.status === 409 ? 409 : 422, message: problem.message ?? Object.values(problem.errors).flat().join('; ') });
    }
    return c.redirect(`/admin/letters/${encodeURIComponent(id)}?done=delivery`, 303);
  });

  return routes;
}
