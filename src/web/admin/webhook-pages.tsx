import { Hono } from 'hono';
import * as v from 'valibot';
import { serviceContextOf } from '../../http/principal.js';
import { PageQuery } from '../../services/pagination.js';
import {
  createWebhook,
  CreateWebhookInput,
  deleteWebhook,
  enableWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  webhookEvents,
  type WebhookView,
} from '../../services/webhooks.js';
import { interpolate } from '../i18n/index.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, PostButton, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, keptValues, missingScopePage, renderPage } from './admin-page.js';
import { formatDateTime, formatNumber, textsFor } from './i18n/texts.js';
import { webhookTexts } from './i18n/webhooks.js';

type CreateForm = { values: Record<string, string>; errors: FieldErrors; message?: string | undefined };
type Created = WebhookView & { secret: string };

const doneNotices = { enabled: 'doneEnabled', deleted: 'doneDeleted' } as const;

async function webhooksPage(c: AdminContext, options: { form?: CreateForm; created?: Created; status?: 200 | 201 | 409 | 422 } = {}) {
  const hooks = await listWebhooks(serviceContextOf(c));
  const t = textsFor(c, webhookTexts);
  const language = c.var.language;
  const session = c.var.session;
  const values = options.form?.values ?? {};
  const errors = options.form?.errors ?? {};
  const done = c.req.query('done');
  const notice = done && Object.hasOwn(doneNotices, done) ? t[doneNotices[done as keyof typeof doneNotices]] : undefined;
  return renderPage(
    c,
    // A page holding a new secret is the answer to the POST that made it: 200, never a redirect (the secret must be in no URL).
    { title: t.title, section: 'webhooks', status: options.status === 201 ? 200 : (options.status ?? 200) },
    <>
      <h1>{t.title}</h1>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      {options.created ? (
        <div class="card" role="status">
          <h2>{t.secretTitle}</h2>
          <p>{t.secretHelp}</p>
          <p>
            <label for="new-secret">{t.secret}</label>
            <input id="new-secret" type="text" readonly value={options.created.secret} />
          </p>
          <p>
            <code>{options.created.url}</code>
          </p>
        </div>
      ) : null}
      <p class="muted">{t.intro}</p>
      {hooks.length === 0 ? (
        <p class="muted">{t.noHooks}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t.address}</th>
              <th scope="col">{t.events}</th>
              <th scope="col">{t.state}</th>
              <th scope="col" class="num">
                {t.failuresInARow}
              </th>
              <th scope="col">{t.lastSuccess}</th>
              <th scope="col">{t.log}</th>
            </tr>
          </thead>
          <tbody>
            {hooks.map((hook) => (
              <tr>
                <td>
                  <code>{hook.url}</code>
                  {hook.description ? <div class="muted">{hook.description}</div> : null}
                </td>
                <td>
                  {hook.events.map((event, i) => (
                    <>
                      {i > 0 ? <br /> : null}
                      <code>{event}</code>
                    </>
                  ))}
                </td>
                <td>
                  {hook.disabledAt ? interpolate(t.disabled, { when: formatDateTime(language, hook.disabledAt) }) : t.enabled}
                  {hook.disabledAt ? <PostButton session={session} action={`/admin/webhooks/${encodeURIComponent(hook.id)}/enable`} label={t.enable} variant="secondary" /> : null}
                </td>
                <td class="num">{formatNumber(language, hook.consecutiveFailures)}</td>
                <td>{hook.lastSuccessAt ? formatDateTime(language, hook.lastSuccessAt) : t.never}</td>
                <td>
                  <a href={`/admin/webhooks/${encodeURIComponent(hook.id)}`}>{t.log}</a>
                  <PostButton session={session} action={`/admin/webhooks/${encodeURIComponent(hook.id)}/delete`} label={t.remove} variant="danger" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="card">
        <h2>{t.addHook}</h2>
        <ErrorSummary errors={errors} message={options.form?.message} labels={{ url: t.address, events: t.events, description: t.descriptionOptional }} />
        <form method="post" action="/admin/webhooks">
          <CsrfField session={session} />
          <TextField name="url" label={t.address} type="url" required hint={t.addressHint} placeholder="https://" values={values} errors={errors} />
          <fieldset id="f-events" aria-describedby={errors.events ? 'e-events' : undefined}>
            <legend>{t.events}</legend>
            {errors.events ? (
              <p class="field-error" id="e-events">
                {errors.events.join('; ')}
              </p>
            ) : null}
            <ul class="choices">
              {webhookEvents.map((event) => (
                <li>
                  <label>
                    <input type="checkbox" name={`event:${event}`} value="on" checked={values[`event:${event}`] === 'on'} /> {t[event]} <code>{event}</code>
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
          <TextField name="description" label={t.descriptionOptional} values={values} errors={errors} />
          <button type="submit">{t.add}</button>
        </form>
      </div>
    </>,
  );
}

async function deliveryLogPage(c: AdminContext) {
  const ctx = serviceContextOf(c);
  const id = c.req.param('id') ?? '';
  const hook = await getWebhook(ctx, id);
  const parsed = v.safeParse(PageQuery, { cursor: c.req.query('cursor') });
  const page = await listWebhookDeliveries(ctx, id, parsed.success ? parsed.output : { limit: 50 });
  const t = textsFor(c, webhookTexts);
  const language = c.var.language;
  const outcomes = { delivered: t.delivered, failed: t.failed, dropped: t.dropped };
  return renderPage(
    c,
    { title: t.log, section: 'webhooks' },
    <>
      <p>
        <a href="/admin/webhooks">{t.back}</a>
      </p>
      <h1>{interpolate(t.logTitle, { url: hook.url })}</h1>
      <p class="muted">{t.logIntro}</p>
      {page.items.length === 0 ? (
        <p class="muted">{t.noAttempts}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t.attemptedAt}</th>
              <th scope="col">{t.event}</th>
              <th scope="col" class="num">
                {t.attempt}
              </th>
              <th scope="col">{t.outcome}</th>
              <th scope="col" class="num">
                {t.statusCode}
              </th>
              <th scope="col" class="num">
                {t.duration}
              </th>
              <th scope="col">{t.error}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((item) => (
              <tr>
                <td>{formatDateTime(language, item.attemptedAt)}</td>
                <td>
                  <code>{item.event}</code>
                </td>
                <td class="num">{formatNumber(language, item.attempt)}</td>
                <td>{outcomes[item.outcome]}</td>
                <td class="num">{item.statusCode ?? '—'}</td>
                <td class="num">{item.durationMs === null ? '—' : interpolate(t.milliseconds, { ms: formatNumber(language, item.durationMs) })}</td>
                <td>{item.error ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.nextCursor ? (
        <p>
          <a href={`/admin/webhooks/${encodeURIComponent(id)}?cursor=${encodeURIComponent(page.nextCursor)}`}>{t.older}</a>
        </p>
      ) : null}
    </>,
  );
}

/** Webhooks in the dashboard (scope `admin`, as in the API): the list, adding one (its secret shown once), each one's delivery log. */
export function webhookPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/webhooks', requireAdminScope('admin', missingScopePage));
  routes.use('/webhooks/*', requireAdminScope('admin', missingScopePage));

  routes.get('/webhooks', (c) => webhooksPage(c));

  routes.post('/webhooks', async (c) => {
    const values = keptValues(c.var.form);
    const t = textsFor(c, webhookTexts);
    const input = {
      url: values.url ?? '',
      events: webhookEvents.filter((event) => values[`event:${event}`] === 'on'),
      ...(values.description?.trim() ? { description: values.description } : {}),
    };
    const parsed = v.safeParse(CreateWebhookInput, input);
    if (!parsed.success) {
      const errors = issuesToErrors(parsed.issues, c);
      if (errors.events) errors.events = [t.chooseEvents];
      return webhooksPage(c, { form: { values, errors }, status: 422 });
    }
    let created: Created;
    try {
      created = await createWebhook(serviceContextOf(c), c.var.session.principal, parsed.output);
    } catch (error) {
      const shown = formErrorOf(error, c);
      if (!shown) throw error;
      return webhooksPage(c, { form: { values, errors: shown.errors, message: shown.message }, status: 422 });
    }
    return webhooksPage(c, { created, status: 201 });
  });

  routes.get('/webhooks/:id', (c) => deliveryLogPage(c));

  routes.post('/webhooks/:id/enable', async (c) => {
    await enableWebhook(serviceContextOf(c), c.req.param('id'));
    return c.redirect('/admin/webhooks?done=enabled', 303);
  });

  routes.post('/webhooks/:id/delete', async (c) => {
    await deleteWebhook(serviceContextOf(c), c.req.param('id'));
    return c.redirect('/admin/webhooks?done=deleted', 303);
  });

  return routes;
}
