import { Hono } from 'hono';
import { useContext } from 'hono/jsx';
import * as v from 'valibot';
import { serviceContextOf } from '../../http/principal.js';
import type { AdminSession } from '../../services/admin-sessions.js';
import type { ServiceContext } from '../../services/context.js';
import { type InvitationDraft, invitationDraft, InvitePreviousInput, invitePreviousSupporters } from '../../services/invite-previous.js';
import { NotFound } from '../../lib/service-errors.js';
import { interpolate } from '../i18n/index.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, type FieldErrors, StatusBadge, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, keptValues, missingScopePage, renderPage } from './admin-page.js';
import { inviteTexts } from './i18n/invite.js';
import { DashboardLanguageContext, type DashboardLanguage, formatDateTime, formatNumber, useTexts } from './i18n/texts.js';

type Values = Record<string, string>;

/**
 * The invitation: how many it reaches, and the form with the default texts
 * (or what was sent, with its errors). One button schedules it.
 */
function InvitationForm(props: { draft: InvitationDraft; session: AdminSession; canSchedule: boolean; values?: Values; errors?: FieldErrors; message?: string | undefined; language: DashboardLanguage }) {
  const t = useTexts(inviteTexts);
  const { draft } = props;
  const errors = props.errors ?? {};
  const values: Values = { subject: draft.subject, body: draft.body, sendAt: '', ...props.values };
  const labels = { subject: t.fieldSubject, body: t.fieldBody, sendAt: t.fieldSendAt };
  return (
    <div class="card" id="invite-previous">
      <p>{draft.recipients === 0 ? t.recipientsNone : interpolate(t.recipients, { count: formatNumber(props.language, draft.recipients) })}</p>
      {draft.invitations.length > 0 ? (
        <>
          <h3>{t.madeHeading}</h3>
          <ul id="invitations">
            {draft.invitations.map((mailing) => (
              <li>
                <a href={`/admin/mailings/${mailing.id}`}>{interpolate(t.madeItem, { date: formatDateTime(props.language, mailing.sendAt, mailing.timeZone) })}</a> <StatusBadge status={mailing.status} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {!draft.ready ? (
        <p class="muted">{t.notOpen}</p>
      ) : draft.pending ? (
        <p class="muted">{t.pending}</p>
      ) : !props.canSchedule ? (
        <p class="muted">{t.needsDeliveries}</p>
      ) : draft.recipients === 0 ? null : (
        <form method="post" action={`/admin/campaigns/${encodeURIComponent(draft.campaign.slug)}/invite-previous`} novalidate>
          <ErrorSummary errors={errors} message={props.message} labels={labels} />
          <p class="muted">{t.explain}</p>
          <CsrfField session={props.session} />
          <TextField name="subject" label={t.fieldSubject} values={values} errors={errors} />
          <TextField name="body" label={t.fieldBody} multiline values={values} errors={errors} />
          <TextField name="sendAt" label={t.fieldSendAt} type="datetime-local" hint={interpolate(t.sendAtHint, { zone: draft.campaign.timeZone })} values={values} errors={errors} />
          <button type="submit">{t.submit}</button>
        </form>
      )}
    </div>
  );
}

/**
 * The card on a cloned campaign's page: invite the earlier round's
 * supporters. Nothing for a campaign without an earlier round. Texts are
 * taken before the first await, while the page's language is the one rendered.
 */
export async function InvitePreviousCard(props: { ctx: ServiceContext; slug: string; session: AdminSession; canSchedule: boolean }) {
  const t = useTexts(inviteTexts);
  const language = useContext(DashboardLanguageContext);
  const draft = await invitationDraft(props.ctx, props.slug);
  if (!draft) return null;
  return (
    <>
      <h2>{interpolate(t.heading, { title: draft.previous.title })}</h2>
      <InvitationForm draft={draft} session={props.session} canSchedule={props.canSchedule} language={language} />
    </>
  );
}

async function invitationPage(c: AdminContext, slug: string, state: { values?: Values; errors?: FieldErrors; message?: string | undefined; status?: 200 | 409 | 422 }) {
  const draft = await invitationDraft(serviceContextOf(c), slug);
  if (!draft) throw new NotFound('Campaign');
  const t = inviteTexts[c.var.language];
  return renderPage(
    c,
    { title: interpolate(t.pageTitle, { title: draft.campaign.title }), section: 'campaigns', status: state.status ?? 200 },
    <>
      <p>
        <a href={`/admin/campaigns/${encodeURIComponent(slug)}`}>← {draft.campaign.title}</a>
      </p>
      <h1>{interpolate(t.heading, { title: draft.previous.title })}</h1>
      <InvitationForm draft={draft} session={c.var.session} canSchedule values={state.values} errors={state.errors} message={state.message} language={c.var.language} />
    </>,
  );
}

/** `/admin/campaigns/:slug/invite-previous`: the invitation on its own page, and the button's target. */
export function invitePreviousPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/campaigns/:slug/invite-previous', requireAdminScope('deliveries', missingScopePage));

  routes.get('/campaigns/:slug/invite-previous', (c) => invitationPage(c, c.req.param('slug'), {}));

  routes.post('/campaigns/:slug/invite-previous', async (c) => {
    const slug = c.req.param('slug');
    const form = c.var.form;
    const values = keptValues(form);
    // Blank fields take the defaults, as an API call leaving them out would.
    const parsed = v.safeParse(InvitePreviousInput, {
      ...(form.subject?.trim() ? { subject: form.subject } : {}),
      ...(form.body?.trim() ? { body: form.body.replace(/\r\n?/g, '\n') } : {}),
      ...(form.sendAt ? { sendAt: form.sendAt } : {}),
    });
    if (!parsed.success) return invitationPage(c, slug, { values, errors: issuesToErrors(parsed.issues, c), status: 422 });
    try {
      const { mailing } = await invitePreviousSupporters(serviceContextOf(c), slug, parsed.output, c.get('services').letters);
      return c.redirect(`/admin/mailings/${mailing.id}?done=scheduled`, 303);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem || (problem.status !== 422 && problem.status !== 409)) throw error;
      return invitationPage(c, slug, { values, errors: problem.errors, message: problem.message, status: problem.status });
    }
  });

  return routes;
}
