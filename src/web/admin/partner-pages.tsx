import { Hono } from 'hono';
import * as v from 'valibot';
import { serviceContextOf } from '../../http/principal.js';
import { getCampaign } from '../../services/campaigns.js';
import { createPartner, CreatePartnerInput, deletePartner, listPartners, type PartnerView, updatePartner, UpdatePartnerInput } from '../../services/partners.js';
import { interpolate } from '../i18n/index.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, PostButton, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, keptValues, missingScopePage, Notice, renderPage } from './admin-page.js';
import { partnerTexts } from './i18n/partners.js';
import { formatNumber, textsFor, useDashboardLanguage, useTexts } from './i18n/texts.js';
import { readOnlyCampaignBySlug } from './viewer-only.js';

/** A partner's link to the signing page, as the partner shares it. */
export function partnerLink(publicUrl: string, slug: string, code: string): string {
  return `${publicUrl}/c/${encodeURIComponent(slug)}?ref=${encodeURIComponent(code)}`;
}

/** The campaign page's card: signatures and opt-ins per partner, as a table. */
export function PartnerCounts(props: { partners: PartnerView[]; base: string }) {
  const t = useTexts(partnerTexts);
  const language = useDashboardLanguage();
  return (
    <section class="card" aria-labelledby="partners-heading" id="partner-counts">
      <h2 id="partners-heading">{t.heading}</h2>
      {props.partners.length === 0 ? (
        <p class="muted">{t.none}</p>
      ) : (
        <table>
          <caption>{t.tableCaption}</caption>
          <thead>
            <tr>
              <th scope="col">{t.name}</th>
              <th scope="col">{t.code}</th>
              <th scope="col" class="num">
                {t.signatures}
              </th>
              <th scope="col" class="num">
                {t.optedIn}
              </th>
            </tr>
          </thead>
          <tbody>
            {props.partners.map((partner) => (
              <tr>
                <th scope="row">{partner.name}</th>
                <td>
                  <code>{partner.code}</code>
                </td>
                <td class="num">{formatNumber(language, partner.signatures)}</td>
                <td class="num">{partner.optInText === null && partner.optedIn === 0 ? <span class="muted">{t.noBox}</span> : formatNumber(language, partner.optedIn)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <a href={`${props.base}/partners`}>{t.button} →</a>
      </p>
    </section>
  );
}

type FormState = { values?: Record<string, string>; errors?: FieldErrors; message?: string | undefined; status?: 200 | 400 | 404 | 409 | 422; editing?: string };

async function partnersPage(c: AdminContext, slug: string, state: FormState = {}) {
  const t = textsFor(c, partnerTexts);
  const ctx = serviceContextOf(c);
  const [campaign, partners, readOnly] = await Promise.all([getCampaign(ctx, slug), listPartners(ctx, slug), readOnlyCampaignBySlug(c, slug)]);
  const base = `/admin/campaigns/${encodeURIComponent(slug)}`;
  const session = c.var.session;
  const language = c.var.language;
  const adding = state.editing === undefined;
  return renderPage(
    c,
    { title: interpolate(t.pageTitle, { title: campaign.title }), section: 'campaigns', status: state.status ?? 200 },
    <>
      <p>
        <a href={base}>← {campaign.title}</a>
      </p>
      <h1>{interpolate(t.pageTitle, { title: campaign.title })}</h1>
      <Notice done={c.req.query('done')} />
      <p class="lead">{t.lead}</p>
      {partners.length === 0 ? (
        <p class="muted">{t.none}</p>
      ) : (
        partners.map((partner) => {
          const editingThis = state.editing === partner.code;
          const values = editingThis ? (state.values ?? {}) : { name: partner.name, optInText: partner.optInText ?? '' };
          return (
            <section class="card" aria-labelledby={`partner-${partner.code}`} id={`partner-card-${partner.code}`}>
              <h2 id={`partner-${partner.code}`}>
                {partner.name} <code>{partner.code}</code>
              </h2>
              <p>{interpolate(t.counts, { signatures: formatNumber(language, partner.signatures), optedIn: formatNumber(language, partner.optedIn) })}</p>
              <p>
                {t.link}: <code>{partnerLink(ctx.publicUrl, slug, partner.code)}</code>
              </p>
              {readOnly ? (
                partner.optInText ? <p>{partner.optInText}</p> : null
              ) : (
                <>
                  {editingThis ? <ErrorSummary errors={state.errors ?? {}} message={state.message} /> : null}
                  <form method="post" action={`${base}/partners/${encodeURIComponent(partner.code)}`} aria-label={interpolate(t.edit, { name: partner.name })}>
                    <CsrfField session={session} />
                    <TextField name="name" label={t.name} values={values} errors={editingThis ? (state.errors ?? {}) : {}} required />
                    <TextField name="optInText" label={t.optInText} hint={t.optInHint} values={values} errors={editingThis ? (state.errors ?? {}) : {}} />
                    <button type="submit">{t.save}</button>
                  </form>
                  <p class="hint">{t.removeHint}</p>
                  <PostButton session={session} action={`${base}/partners/${encodeURIComponent(partner.code)}/delete`} label={t.remove} variant="danger" />
                </>
              )}
            </section>
          );
        })
      )}
      {readOnly ? null : (
        <section class="card" aria-labelledby="add-partner-heading">
          <h2 id="add-partner-heading">{t.addHeading}</h2>
          {adding ? <ErrorSummary errors={state.errors ?? {}} message={state.message} /> : null}
          <form method="post" action={`${base}/partners`}>
            <CsrfField session={session} />
            <TextField name="code" label={t.code} hint={t.codeHint} values={adding ? (state.values ?? {}) : {}} errors={adding ? (state.errors ?? {}) : {}} required />
            <TextField name="name" label={t.name} values={adding ? (state.values ?? {}) : {}} errors={adding ? (state.errors ?? {}) : {}} required />
            <TextField name="optInText" label={t.optInText} hint={t.optInHint} values={adding ? (state.values ?? {}) : {}} errors={adding ? (state.errors ?? {}) : {}} />
            <button type="submit">{t.add}</button>
          </form>
        </section>
      )}
    </>,
  );
}

/** An empty text field is a field left out: no opt-in text means no box. */
const given = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value);

/** `/admin/campaigns/:slug/partners`: the partners with their links and counts, added, changed and removed. Scope `campaigns`. */
export function partnerPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/campaigns/:slug/partners', requireAdminScope('campaigns', missingScopePage));
  routes.use('/campaigns/:slug/partners/*', requireAdminScope('campaigns', missingScopePage));

  routes.get('/campaigns/:slug/partners', (c) => partnersPage(c, c.req.param('slug')));

  routes.post('/campaigns/:slug/partners', async (c) => {
    const slug = c.req.param('slug');
    const form = c.var.form;
    const parsed = v.safeParse(CreatePartnerInput, { code: form.code ?? '', name: form.name ?? '', optInText: given(form.optInText) });
    if (!parsed.success) return partnersPage(c, slug, { values: keptValues(form), errors: issuesToErrors(parsed.issues, c), status: 422 });
    try {
      await createPartner(serviceContextOf(c), slug, parsed.output);
    } catch (error) {
      const refusal = formErrorOf(error, c);
      if (!refusal) throw error;
      return partnersPage(c, slug, { values: keptValues(form), errors: refusal.errors, message: refusal.message, status: refusal.status as FormState['status'] });
    }
    return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}/partners?done=created#partner-card-${encodeURIComponent(parsed.output.code)}`, 303);
  });

  routes.post('/campaigns/:slug/partners/:code', async (c) => {
    const slug = c.req.param('slug');
    const code = c.req.param('code');
    const form = c.var.form;
    const parsed = v.safeParse(UpdatePartnerInput, { name: form.name ?? '', optInText: given(form.optInText) ?? null });
    if (!parsed.success) return partnersPage(c, slug, { values: keptValues(form), errors: issuesToErrors(parsed.issues, c), status: 422, editing: code });
    await updatePartner(serviceContextOf(c), slug, code, parsed.output);
    return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}/partners?done=saved#partner-card-${encodeURIComponent(code)}`, 303);
  });

  routes.post('/campaigns/:slug/partners/:code/delete', async (c) => {
    const slug = c.req.param('slug');
    await deletePartner(serviceContextOf(c), slug, c.req.param('code'));
    return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}/partners?done=partner-removed`, 303);
  });

  return routes;
}
