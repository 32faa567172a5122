import { Hono } from 'hono';
import * as v from 'valibot';
import { serviceContextOf } from '../../http/principal.js';
import { CloneCampaignInput, cloneCampaign, getCampaign } from '../../services/campaigns.js';
import { interpolate } from '../i18n/index.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, keptValues, missingScopePage, renderPage } from './admin-page.js';
import { cloneTexts } from './i18n/clone.js';
import { textsFor } from './i18n/texts.js';

/**
 * Year to year from the dashboard: the campaign copied as a new draft
 * (cloneCampaign, as `POST /api/v1/campaigns/:slug/clone`). Dates are set on
 * the new draft's edit page; the invitation of the earlier supporters is on
 * its page once it is open.
 */
async function cloneForm(c: AdminContext, slug: string, values: Record<string, string>, errors: FieldErrors, status: 200 | 409 | 422 = 200, message?: string) {
  const campaign = await getCampaign(serviceContextOf(c), slug);
  const t = textsFor(c, cloneTexts);
  const base = `/admin/campaigns/${encodeURIComponent(slug)}`;
  const title = interpolate(t.title, { title: campaign.title });
  return renderPage(
    c,
    { title, section: 'campaigns', status },
    <>
      <h1>{title}</h1>
      <p>{t.lead}</p>
      <ErrorSummary errors={errors} message={message} labels={{ slug: t.fieldSlug, title: t.fieldTitle }} />
      <form method="post" action={`${base}/clone`} class="card" novalidate>
        <CsrfField session={c.var.session} />
        <TextField name="slug" label={t.fieldSlug} hint={t.fieldSlugHint} values={values} errors={errors} required />
        <TextField name="title" label={t.fieldTitle} hint={t.fieldTitleHint} values={values} errors={errors} />
        <div class="actions">
          <button type="submit">{t.submit}</button>
          <a class="button secondary" href={base}>
            {t.cancel}
          </a>
        </div>
      </form>
    </>,
  );
}

export function clonePages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/campaigns/:slug/clone', requireAdminScope('campaigns', missingScopePage));

  routes.get('/campaigns/:slug/clone', (c) => cloneForm(c, c.req.param('slug'), {}, {}));

  routes.post('/campaigns/:slug/clone', async (c) => {
    const slug = c.req.param('slug');
    const values = keptValues(c.var.form);
    const input = { slug: values.slug?.trim() ?? '', ...(values.title?.trim() ? { title: values.title.trim() } : {}) };
    const parsed = v.safeParse(CloneCampaignInput, input);
    if (!parsed.success) return cloneForm(c, slug, values, issuesToErrors(parsed.issues, c), 422);
    try {
      const created = await cloneCampaign(serviceContextOf(c), slug, parsed.output);
      return c.redirect(`/admin/campaigns/${encodeURIComponent(created.slug)}?done=created`, 303);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem) throw error;
      return cloneForm(c, slug, values, problem.errors, problem.status === 409 ? 409 : 422, problem.message);
    }
  });

  return routes;
}
