import { Hono } from 'hono';
import * as v from 'valibot';
import { pdfHeaders } from '../../http/content-disposition.js';
import { formatInZone, localTimeToInstant } from '../../mailings/local-time.js';
import { getCampaign } from '../../services/campaigns.js';
import { createDelivery, deliveryChannels, listDeliveries } from '../../services/deliveries.js';
import { generateLetters, GenerateLettersInput, getLetter, letterModes, listLetterBatches, listLetterTemplates, openLetterPdf } from '../../services/letters.js';
import { type AdminContext, type AdminEnv, can, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, SelectField, StatusBadge, TextField } from './admin-layout.js';
import { formatTime, formErrorOf, issuesToErrors, keptValues, missingScopePage, Notice, renderPage } from './admin-page.js';

type Values = Record<string, string>;

const letterLabels: Record<string, string> = { mode: 'Mode', template: 'Template', cutoffAt: 'Cut-off' };

async function lettersPage(c: AdminContext, slug: string, values: Values, errors: FieldErrors, status: 200 | 404 | 409 | 410 | 422 = 200, message?: string) {
  const { ctx, letters: ports } = c.get('services');
  const campaign = await getCampaign(ctx, slug);
  const batches = await listLetterBatches(ctx, campaign.id);
  const { items: templates } = await listLetterTemplates(ports);
  const common = { values, errors };
  const base = `/admin/campaigns/${encodeURIComponent(slug)}`;
  return renderPage(
    c,
    { title: `Letters · ${campaign.title}`, section: 'campaigns', status },
    <>
      <p>
        <a href={base}>← {campaign.title}</a>
      </p>
      <h1>Letters</h1>
      <Notice done={c.req.query('done')} />
      <ErrorSummary errors={errors} message={message} labels={letterLabels} />
      <form method="post" action={`${base}/letters`} class="card" novalidate>
        <h2>Generate a batch</h2>
        <CsrfField session={c.var.session} />
        <fieldset class="field">
          <legend>Mode</legend>
          {letterModes.map((mode) => (
            <label>
              <input type="radio" name="mode" value={mode} checked={(values.mode ?? 'per_target') === mode} />{' '}
              {mode === 'per_target' ? 'One letter per target, with the named supporters appended' : 'One letter per supporter per target'}
            </label>
          ))}
          {errors.mode ? <p class="field-error">{errors.mode.join('; ')}</p> : null}
        </fieldset>
        <div class="grid2">
          <SelectField
            name="template"
            label="Template"
            options={[{ value: '', label: `The campaign's (${campaign.letterTemplate ?? 'embassy-petition'})` }, ...templates.map((t) => ({ value: t.name, label: `${t.name} (${t.languages.join(', ')})` }))]}
            {...common}
          />
          <TextField name="cutoffAt" label="Cut-off" type="datetime-local" hint={`Signatures confirmed up to this time (${campaign.timeZone}) are counted; blank means now. It is also the letters' date.`} {...common} />
        </div>
        <button type="submit">Generate letters</button>
      </form>

      <h2>Batches</h2>
      {batches.length === 0 ? <p class="muted">No letters generated yet.</p> : null}
      {batches.map((batch) => (
        <section class="card" id={`batch-${batch.id}`} aria-labelledby={`batch-h-${batch.id}`}>
          <h3 id={`batch-h-${batch.id}`}>
            {formatTime(batch.createdAt, campaign.timeZone)} · {batch.mode} · {batch.template}
          </h3>
          <p class="muted">
            Cut-off {formatTime(batch.cutoffAt, campaign.timeZone)} · {batch.letters.length} letter{batch.letters.length === 1 ? '' : 's'}
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">Target</th>
                <th scope="col">Language</th>
                <th scope="col" class="num">
                  Signatures
                </th>
                <th scope="col" class="num">
                  Pages
                </th>
                <th scope="col" class="num">
                  Size
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
                    {letter.signatureId ? <div class="muted">supporter {letter.signatureId.slice(-8)}</div> : null}
                  </td>
                  <td>{letter.language}</td>
                  <td class="num">{letter.signatureCount.toLocaleString('en')}</td>
                  <td class="num">{letter.pages}</td>
                  <td class="num">{`${Math.ceil(letter.bytes / 1024)} KB`}</td>
                  <td>
                    <code>{letter.sha256.slice(0, 12)}</code>
                  </td>
                  <td>
                    <a href={`/admin/letters/${letter.id}`}>Preview</a> · <a href={`/admin/letters/${letter.id}/pdf?download=1`}>Download</a>
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
  const { ctx } = c.get('services');
  const letter = await getLetter(ctx, id);
  const campaign = await getCampaign(ctx, letter.campaign);
  const deliveries = can(c, 'deliveries') ? (await listDeliveries(ctx, { limit: 500, campaign: letter.campaign })).items.filter((d) => d.letterId === letter.id) : null;
  return renderPage(
    c,
    { title: 'Letter', section: 'campaigns', status: problem?.status ?? 200 },
    <>
      <p>
        <a href={`/admin/campaigns/${encodeURIComponent(letter.campaign)}/letters`}>← Letters of {campaign.title}</a>
      </p>
      <h1>Letter</h1>
      <Notice done={c.req.query('done')} />
      {problem ? (
        <p class="error" role="alert">
          {problem.message}
        </p>
      ) : null}
      <div class="card">
        <dl class="facts">
          <dt>Mode, template, language</dt>
          <dd>
            {letter.mode}, {letter.template}, {letter.language}
          </dd>
          <dt>Cut-off</dt>
          <dd>{formatTime(letter.cutoffAt, campaign.timeZone)}</dd>
          <dt>Signatures counted</dt>
          <dd>{letter.signatureCount.toLocaleString('en')}</dd>
          <dt>Pages, size</dt>
          <dd>
            {letter.pages}, {Math.ceil(letter.bytes / 1024)} KB
          </dd>
          <dt>SHA-256</dt>
          <dd>
            <code>{letter.sha256}</code>
          </dd>
        </dl>
        <p>
          <a class="button secondary" href={`/admin/letters/${letter.id}/pdf?download=1`}>
            Download the PDF
          </a>
        </p>
      </div>
      <iframe class="letter-frame" src={`/admin/letters/${letter.id}/pdf`} title="The letter as a PDF"></iframe>
      <h2>Deliveries</h2>
      {deliveries === null ? (
        <p class="muted">Deliveries need a token with the “deliveries” scope.</p>
      ) : (
        <div class="card">
          {deliveries.length === 0 ? <p class="muted">Not delivered yet.</p> : null}
          {deliveries.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">Tracking</th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr>
                    <td>{d.channel}</td>
                    <td>
                      <StatusBadge status={d.status} />
                    </td>
                    <td>{formatTime(d.createdAt, campaign.timeZone)}</td>
                    <td>{d.trackingNumber ?? '—'}</td>
                    <td>{d.lastError ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <form method="post" action={`/admin/letters/${letter.id}/deliveries`} class="actions">
            <CsrfField session={c.var.session} />
            {/* One key per rendered form: submitting it twice makes one delivery. */}
            <input type="hidden" name="idempotencyKey" value={`admin-${crypto.randomUUID()}`} />
            <label for="f-channel">Deliver by</label>
            <select id="f-channel" name="channel">
              {deliveryChannels.map((ch) => (
                <option value={ch}>{ch === 'email' ? 'email (PDF attached)' : 'print (joins the print queue)'}</option>
              ))}
            </select>
            <button type="submit">Create delivery</button>
          </form>
        </div>
      )}
    </>,
  );
}

/** Letters: generate a batch, list batches, preview and download (scope `letters`); deliver (also `deliveries`). */
export function letterPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/campaigns/:slug/letters', requireAdminScope('letters', missingScopePage));
  routes.use('/letters/*', requireAdminScope('letters', missingScopePage));

  routes.get('/campaigns/:slug/letters', (c) => lettersPage(c, c.req.param('slug'), { mode: 'per_target' }, {}));

  routes.post('/campaigns/:slug/letters', async (c) => {
    const services = c.get('services');
    const slug = c.req.param('slug');
    const form = c.var.form;
    const values = keptValues(form);
    const campaign = await getCampaign(services.ctx, slug);
    const errors: FieldErrors = {};
    const input: Record<string, unknown> = { mode: form.mode ?? '' };
    if (form.template) input.template = form.template;
    if (form.cutoffAt) {
      try {
        input.cutoffAt = formatInZone(localTimeToInstant(form.cutoffAt, campaign.timeZone), campaign.timeZone);
      } catch (error) {
        errors.cutoffAt = [(error as Error).message];
      }
    }
    const parsed = v.safeParse(GenerateLettersInput, input);
    if (!parsed.success || Object.keys(errors).length) {
      return lettersPage(c, slug, values, { ...(parsed.success ? {} : issuesToErrors(parsed.issues)), ...errors }, 422);
    }
    try {
      const batch = await generateLetters(services.ctx, services.letters, slug, parsed.output);
      return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}/letters?done=generated#batch-${batch.batchId}`, 303);
    } catch (error) {
      const problem = formErrorOf(error);
      if (!problem || problem.status === 404) throw error;
      return lettersPage(c, slug, values, problem.errors, problem.status === 409 || problem.status === 410 ? problem.status : 422, problem.message);
    }
  });

  routes.get('/letters/:id', (c) => letterPage(c, c.req.param('id')));

  // The PDF for the preview frame (inline) and for download (attachment), with the session cookie.
  routes.get('/letters/:id/pdf', async (c) => {
    const services = c.get('services');
    const letter = await openLetterPdf(services.ctx, services.letters, c.req.param('id'));
    return c.body(letter.body, 200, pdfHeaders(letter.filename, { bytes: letter.bytes, inline: !c.req.query('download') }));
  });

  routes.post('/letters/:id/deliveries', requireAdminScope('deliveries', missingScopePage), async (c) => {
    const services = c.get('services');
    const id = c.req.param('id');
    const form = c.var.form;
    const channel = v.safeParse(v.picklist(deliveryChannels), form.channel);
    if (!channel.success) return letterPage(c, id, { status: 422, message: 'Choose email or print.' });
    try {
      const { delivery, replayed } = await createDelivery(services.ctx, services.letters, id, { channel: channel.output }, form.idempotencyKey || undefined);
      if (!replayed && delivery.channel === 'email') services.onMailQueued();
    } catch (error) {
      const problem = formErrorOf(error);
      if (!problem || problem.status === 404) throw error;
      return letterPage(c, id, { status: problem.status === 409 ? 409 : 422, message: problem.message ?? Object.values(problem.errors).flat().join('; ') });
    }
    return c.redirect(`/admin/letters/${encodeURIComponent(id)}?done=delivery`, 303);
  });

  return routes;
}
