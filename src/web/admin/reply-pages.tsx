import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import * as v from 'valibot';
import { serviceContextOf } from '../../http/principal.js';
import { replyFileResponse, REPLY_UPLOAD_MAX_BODY_BYTES } from '../../http/reply-file-response.js';
import type { ServiceContext } from '../../services/context.js';
import {
  countCampaignReplies,
  createReply,
  CreateReplyInput,
  deleteReply,
  getReply,
  listCampaignReplies,
  openReplyFile,
  REPLY_FILE_MAX_BYTES,
  replyChannels,
  type ReplyChannel,
  replyFormContext,
  type ReplyUpload,
  type ReplyView,
  updateReply,
} from '../../services/replies.js';
import type { AdminSession } from '../../services/admin-sessions.js';
import { interpolate } from '../i18n/index.js';
import { type AdminContext, type AdminEnv, requireAdminScope } from './admin-env.js';
import { CsrfField, ErrorSummary, Field, type FieldErrors, PostButton, SelectField, TextField } from './admin-layout.js';
import { formErrorOf, issuesToErrors, keptValues, missingScopePage, renderPage } from './admin-page.js';
import { replyTexts } from './i18n/replies.js';
import { readOnlyCampaignBySlug, ViewerNote } from './viewer-only.js';
import { type DashboardLanguage, formatDate, formatNumber, negotiateDashboardLanguage, textsFor, useTexts } from './i18n/texts.js';

type Values = Record<string, string>;
type Texts = { readonly [K in keyof (typeof replyTexts)['en']]: string };

/** The dashboard's one form with a file: a reply's scan (src/web/admin/admin-routes.tsx gives it this limit instead of the forms' 256 KB). */
export function isReplyUploadPage(method: string, path: string): boolean {
  return method === 'POST' && /^\/admin\/campaigns\/[^/]+\/replies\/?$/.test(path);
}

export const replyUploadBodyLimit: MiddlewareHandler<AdminEnv> = bodyLimit({
  maxSize: REPLY_UPLOAD_MAX_BODY_BYTES,
  // Before the language middleware has run: the page's language is read here.
  onError: (c) => c.text(replyTexts[negotiateDashboardLanguage(c)].fileTooLarge, 413),
});

const channelKey: Record<ReplyChannel, keyof Texts> = {
  post: 'channelPost',
  email: 'channelEmail',
  fax: 'channelFax',
  phone: 'channelPhone',
  in_person: 'channelInPerson',
  other: 'channelOther',
};

const fileTypeNames: Record<string, string> = { 'application/pdf': 'PDF', 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/webp': 'WebP' };

const notices = { recorded: 'recorded', updated: 'updated', deleted: 'deleted' } as const;

const targetLabel = (target: { name: string; organisation: string | null }) => (target.organisation ? `${target.name} — ${target.organisation}` : target.name);

function ReplyRow(props: { reply: ReplyView; session: AdminSession; language: DashboardLanguage; t: Texts; readOnly: boolean }) {
  const { reply, t } = props;
  return (
    <tr id={`reply-${reply.id}`}>
      <td class="nowrap">
        <time datetime={reply.receivedOn}>{formatDate(props.language, reply.receivedOn)}</time>
      </td>
      <td>
        {reply.target.name}
        {reply.target.organisation ? <div class="muted">{reply.target.organisation}</div> : null}
      </td>
      <td class="nowrap">{t[channelKey[reply.channel]]}</td>
      <td class="reply-summary">
        {reply.summary.split('\n').map((line, index) => (
          <>
            {index > 0 ? <br /> : null}
            {line}
          </>
        ))}
      </td>
      <td>
        {reply.file ? (
          <a href={`/admin/replies/${reply.id}/file`}>
            {interpolate(t.download, { type: fileTypeNames[reply.file.type ?? ''] ?? reply.file.type ?? '', size: formatNumber(props.language, Math.ceil((reply.file.bytes ?? 0) / 1024)) })}
          </a>
        ) : (
          <span class="muted">{t.noFile}</span>
        )}
      </td>
      <td>{reply.public ? t.shown : t.hidden}</td>
      {props.readOnly ? null : (
        <td class="actions">
          <PostButton session={props.session} action={`/admin/replies/${reply.id}`} label={reply.public ? t.hide : t.show} variant="secondary" fields={{ public: reply.public ? 'false' : 'true' }} />
          <PostButton session={props.session} action={`/admin/replies/${reply.id}/delete`} label={t.delete} variant="danger" />
        </td>
      )}
    </tr>
  );
}

type PageState = { values: Values; errors: FieldErrors; message?: string | undefined; status?: 200 | 400 | 403 | 404 | 409 | 422 };

/** `/admin/campaigns/:slug/replies`: the campaign's replies, newest first, and the form to record one. */
async function repliesPage(c: AdminContext, slug: string, state: PageState) {
  const ctx = serviceContextOf(c);
  const language = c.var.language;
  const t = textsFor(c, replyTexts);
  const { campaign, targets } = await replyFormContext(ctx, slug);
  const { items } = await listCampaignReplies(ctx, slug);
  const session = c.var.session;
  const base = `/admin/campaigns/${encodeURIComponent(campaign.slug)}`;
  const done = c.req.query('done');
  const notice = done && Object.hasOwn(notices, done) ? t[notices[done as keyof typeof notices]] : undefined;
  const values: Values = { receivedAt: '', channel: 'post', ...state.values };
  const labels = { targetId: t.fieldTarget, receivedAt: t.fieldReceivedAt, channel: t.fieldChannel, summary: t.fieldSummary, file: t.fieldFile, public: t.fieldPublic };
  // A viewer reads the replies but is offered no record, show/hide or delete.
  const readOnly = await readOnlyCampaignBySlug(c, campaign.slug);
  return renderPage(
    c,
    { title: interpolate(t.pageTitle, { title: campaign.title }), section: 'campaigns', status: state.status ?? 200 },
    <>
      <p>
        <a href={base}>← {campaign.title}</a>
      </p>
      <h1>{t.heading}</h1>
      {readOnly ? <ViewerNote /> : null}
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <p class="muted">{t.intro}</p>
      <div class="card">
        {items.length === 0 ? (
          <p class="muted">{t.none}</p>
        ) : (
          <table id="replies">
            <thead>
              <tr>
                <th scope="col" class="nowrap">
                  {t.colReceived}
                </th>
                <th scope="col">{t.colFrom}</th>
                <th scope="col" class="nowrap">
                  {t.colChannel}
                </th>
                <th scope="col">{t.colSummary}</th>
                <th scope="col" class="nowrap">
                  {t.colFile}
                </th>
                <th scope="col">{t.colPublic}</th>
                {readOnly ? null : (
                  <th scope="col">
                    <span class="skip">{t.delete}</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {items.map((reply) => (
                <ReplyRow reply={reply} session={session} language={language} t={t} readOnly={readOnly} />
              ))}
            </tbody>
          </table>
        )}
      </div>

      {readOnly ? null : <h2 id="record">{t.recordHeading}</h2>}
      {readOnly ? null : targets.length === 0 ? (
        <p class="muted">{t.noTargets}</p>
      ) : (
        <form method="post" action={`${base}/replies`} enctype="multipart/form-data" class="card" novalidate>
          <ErrorSummary errors={state.errors} message={state.message} labels={labels} />
          <CsrfField session={session} />
          <SelectField name="targetId" label={t.fieldTarget} values={values} errors={state.errors} options={targets.map((target) => ({ value: target.id, label: targetLabel(target) }))} />
          <div class="grid2">
            <TextField name="receivedAt" label={t.fieldReceivedAt} type="date" required values={values} errors={state.errors} />
            <SelectField name="channel" label={t.fieldChannel} values={values} errors={state.errors} options={replyChannels.map((channel) => ({ value: channel, label: t[channelKey[channel]] }))} />
          </div>
          <TextField name="summary" label={t.fieldSummary} hint={t.summaryHint} multiline values={values} errors={state.errors} />
          <Field name="file" label={t.fieldFile} hint={t.fileHint} errors={state.errors}>
            {(describedBy, invalid) => (
              <input id="f-file" name="file" type="file" accept="application/pdf,image/png,image/jpeg,image/webp" aria-describedby={describedBy} aria-invalid={invalid ? 'true' : undefined} />
            )}
          </Field>
          <p>
            <label class="inline">
              <input id="f-public" type="checkbox" name="public" value="on" checked={values.public === 'on'} /> {t.fieldPublic}
            </label>
          </p>
          <button type="submit">{t.submit}</button>
        </form>
      )}
    </>,
  );
}

/** Field errors as the form names its fields: the target is `targetId` here, the campaign is the page's. */
function formFieldErrors(errors: FieldErrors): FieldErrors {
  const renamed: FieldErrors = {};
  for (const [field, messages] of Object.entries(errors)) {
    const name = field === 'campaign' ? 'targetId' : field;
    (renamed[name] ??= []).push(...messages);
  }
  return renamed;
}

/** The reply as the API would take it, from the form's text; the file read separately. */
async function readReplyForm(c: AdminContext, slug: string, t: Texts): Promise<{ input?: CreateReplyInput; upload?: ReplyUpload; errors: FieldErrors }> {
  const form = c.var.form;
  const parsed = v.safeParse(CreateReplyInput, {
    campaign: slug,
    receivedAt: form.receivedAt ?? '',
    channel: form.channel ?? '',
    summary: (form.summary ?? '').replace(/\r\n?/g, '\n'),
    public: form.public === 'on',
  });
  const errors: FieldErrors = parsed.success ? {} : issuesToErrors(parsed.issues, c);
  // The session check already parsed the body (text fields only); the parse is kept, so this reads no more of it.
  const body = await c.req.parseBody();
  const file = body.file;
  let upload: ReplyUpload | undefined;
  if (file instanceof File && file.size > 0) {
    if (file.size > REPLY_FILE_MAX_BYTES) errors.file = [t.fileTooLarge];
    else upload = { bytes: new Uint8Array(await file.arrayBuffer()), name: file.name };
  }
  // One of the campaign's targets, as the select offers them (the service checks it again).
  const { targets } = await replyFormContext(serviceContextOf(c), slug);
  if (!targets.some((target) => target.id === form.targetId)) errors.targetId = [t.chooseTarget];
  return { ...(parsed.success ? { input: parsed.output } : {}), ...(upload ? { upload } : {}), errors };
}

/**
 * The replies pages: `/admin/campaigns/:slug/replies` (list and record),
 * `/admin/replies/:id` (show on or hide from the campaign page),
 * `/admin/replies/:id/delete` and `/admin/replies/:id/file` (the scan).
 */
export function replyPages() {
  const routes = new Hono<AdminEnv>();
  routes.use('/campaigns/:slug/replies', requireAdminScope('campaigns', missingScopePage));
  routes.use('/replies/*', requireAdminScope('campaigns', missingScopePage));

  routes.get('/campaigns/:slug/replies', (c) => repliesPage(c, c.req.param('slug'), { values: {}, errors: {} }));

  routes.post('/campaigns/:slug/replies', async (c) => {
    const slug = c.req.param('slug');
    const t = textsFor(c, replyTexts);
    const values = keptValues(c.var.form);
    const { input, upload, errors } = await readReplyForm(c, slug, t);
    if (!input || Object.keys(errors).length > 0) return repliesPage(c, slug, { values, errors, status: 422 });
    try {
      const reply = await createReply(serviceContextOf(c), c.get('services').letters.files, c.var.form.targetId ?? '', input, upload);
      return c.redirect(`/admin/campaigns/${encodeURIComponent(slug)}/replies?done=recorded#reply-${reply.id}`, 303);
    } catch (error) {
      const problem = formErrorOf(error, c);
      if (!problem) throw error;
      const fieldErrors = formFieldErrors(problem.errors);
      if ((error as { code?: string }).code === 'FILE_TYPE_NOT_ALLOWED') fieldErrors.file = [t.fileTypeNotAllowed];
      if ((error as { code?: string }).code === 'PAYLOAD_TOO_LARGE') fieldErrors.file = [t.fileTooLarge];
      // A hidden campaign or a viewer's attempt is the dashboard's 404 or 403 page, not a form error.
      if (problem.status !== 422 && problem.status !== 400) throw error;
      return repliesPage(c, slug, { values, errors: fieldErrors, message: Object.keys(fieldErrors).length ? undefined : problem.message, status: 422 });
    }
  });

  routes.post('/replies/:id', async (c) => {
    const shown = c.var.form.public;
    if (shown !== 'true' && shown !== 'false') return repliesPageOf(c, await getReply(serviceContextOf(c), c.req.param('id')));
    const reply = await updateReply(serviceContextOf(c), c.req.param('id'), { public: shown === 'true' });
    return c.redirect(`/admin/campaigns/${encodeURIComponent(reply.campaign)}/replies?done=updated#reply-${reply.id}`, 303);
  });

  routes.post('/replies/:id/delete', async (c) => {
    const ctx = serviceContextOf(c);
    const reply = await getReply(ctx, c.req.param('id'));
    await deleteReply(ctx, c.get('services').letters.files, reply.id);
    return c.redirect(`/admin/campaigns/${encodeURIComponent(reply.campaign)}/replies?done=deleted`, 303);
  });

  routes.get('/replies/:id/file', async (c) => replyFileResponse(await openReplyFile(serviceContextOf(c), c.get('services').letters.files, c.req.param('id'))));

  return routes;
}

/** Back to the reply's campaign page (a form that sent nothing usable changes nothing). */
function repliesPageOf(c: AdminContext, reply: ReplyView) {
  return c.redirect(`/admin/campaigns/${encodeURIComponent(reply.campaign)}/replies#reply-${reply.id}`, 303);
}

/**
 * The card on the campaign page: how many replies there are and the way to
 * them. Texts are taken before the first await, while the page's language is
 * still the one being rendered.
 */
export async function RepliesCard(props: { ctx: ServiceContext; slug: string }) {
  const t = useTexts(replyTexts);
  const counts = await countCampaignReplies(props.ctx, props.slug);
  return (
    <>
      <h2>{t.cardHeading}</h2>
      <div class="card" id="replies-card">
        <p>{counts.total === 0 ? t.cardNone : interpolate(t.cardCount, { count: counts.total, shown: counts.shown })}</p>
        <p>
          <a class="button secondary" href={`/admin/campaigns/${encodeURIComponent(props.slug)}/replies`}>
            {t.cardLink}
          </a>
        </p>
      </div>
    </>
  );
}
