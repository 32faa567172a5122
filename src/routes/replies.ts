import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/env.js';
import { requireJson, requireScope } from '../http/middleware.js';
import { organiserRoute } from '../http/openapi.js';
import { serviceContextOf } from '../http/principal.js';
import { replyFileResponse } from '../http/reply-file-response.js';
import { validate } from '../http/validate.js';
import { ServiceError, ValidationFailed } from '../lib/service-errors.js';
import {
  createReply,
  CreateReplyInput,
  deleteReply,
  getReply,
  listCampaignReplies,
  listTargetReplies,
  openReplyFile,
  REPLY_FILE_MAX_BYTES,
  ReplyListQuery,
  type ReplyUpload,
  TargetReplyListQuery,
  updateReply,
  UpdateReplyInput,
} from '../services/replies.js';

/** The one API request that may carry a reply's scan (src/app.ts gives it the larger body limit). */
export function isReplyUpload(method: string, path: string): boolean {
  return method === 'POST' && /^\/api\/v1\/targets\/[^/]+\/replies\/?$/.test(path);
}

/**
 * The reply from a JSON body, or from multipart/form-data with the same
 * fields as text (`public` as `true` or `false`) and the scan in `file`.
 */
async function readReplyBody(c: Context<AppEnv>): Promise<{ input: CreateReplyInput; upload?: ReplyUpload }> {
  const type = c.req.header('content-type') ?? '';
  let fields: Record<string, unknown>;
  let file: File | undefined;
  if (/^application\/(.+\+)?json\b/i.test(type)) {
    try {
      fields = await c.req.json();
    } catch {
      throw new ServiceError('MALFORMED_BODY', 'The request body is not valid JSON.');
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new ValidationFailed([{ path: '', message: 'The body must be a JSON object.' }]);
  } else if (/^multipart\/form-data\b/i.test(type)) {
    let form: Record<string, string | File>;
    try {
      form = (await c.req.parseBody()) as Record<string, string | File>;
    } catch {
      throw new ServiceError('MALFORMED_BODY', 'The multipart body could not be read.');
    }
    fields = {};
    for (const [name, value] of Object.entries(form)) {
      if (name === 'file') continue;
      if (typeof value !== 'string') throw new ValidationFailed([{ path: name, message: 'must be text, not a file' }]);
      fields[name] = name === 'public' ? (value === 'true' ? true : value === 'false' ? false : value) : value;
    }
    const sent = form.file;
    if (typeof sent === 'string') throw new ValidationFailed([{ path: 'file', message: 'must be a file (a PDF, PNG, JPEG or WebP)' }]);
    file = sent;
  } else {
    throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'Send the reply as JSON (Content-Type: application/json) or, with a file, as multipart/form-data.');
  }
  const parsed = v.safeParse(CreateReplyInput, fields);
  if (!parsed.success) throw new ValidationFailed(parsed.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message })));
  if (!file) return { input: parsed.output };
  if (file.size > REPLY_FILE_MAX_BYTES) {
    throw new ServiceError('PAYLOAD_TOO_LARGE', `The file is larger than ${REPLY_FILE_MAX_BYTES / 1024 / 1024} MiB.`, { path: 'file', maxBytes: REPLY_FILE_MAX_BYTES });
  }
  return { input: parsed.output, upload: { bytes: new Uint8Array(await file.arrayBuffer()), name: file.name } };
}

export function replyRoutes() {
  const routes = new Hono<AppEnv>();

  routes.post(
    '/targets/:id/replies',
    organiserRoute(
      'Replies',
      'Record a reply from a target to one of its campaigns: JSON { campaign, receivedAt (YYYY-MM-DD, or an ISO date-time stored as its day in the campaign\'s time zone), channel (post, email, fax, phone, in_person, other), summary (1–5,000 characters), public? }, or multipart/form-data with the same fields and a scan in `file` (PDF, PNG, JPEG or WebP, judged by its bytes; at most 10 MiB). 422 TARGET_NOT_IN_CAMPAIGN, FILE_TYPE_NOT_ALLOWED; 413 PAYLOAD_TOO_LARGE.',
      'campaigns',
      { 201: 'Recorded', 413: 'The file is larger than 10 MiB (PAYLOAD_TOO_LARGE)', 422: 'TARGET_NOT_IN_CAMPAIGN or FILE_TYPE_NOT_ALLOWED' },
      { reach: 'campaign' },
    ),
    requireScope('campaigns'),
    async (c) => {
      const { input, upload } = await readReplyBody(c);
      return c.json(await createReply(serviceContextOf(c), c.get('services').letters.files, c.req.param('id'), input, upload), 201);
    },
  );

  routes.get(
    '/campaigns/:slug/replies',
    organiserRoute('Replies', 'A campaign\'s replies from its targets, newest first (at most 1,000); filter by target (id)', 'campaigns', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    validate('query', ReplyListQuery),
    async (c) => c.json(await listCampaignReplies(serviceContextOf(c), c.req.param('slug'), c.req.valid('query'))),
  );

  routes.get(
    '/targets/:id/replies',
    organiserRoute('Replies', 'A target\'s replies, newest first, in the campaigns the caller reaches; `campaign` (a slug) for one campaign', 'campaigns', { 200: 'OK' }, { reach: 'filtered' }),
    requireScope('campaigns'),
    validate('query', TargetReplyListQuery),
    async (c) => c.json(await listTargetReplies(serviceContextOf(c), c.req.param('id'), c.req.valid('query'))),
  );

  routes.get(
    '/replies/:id',
    organiserRoute('Replies', 'One reply', 'campaigns', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    async (c) => c.json(await getReply(serviceContextOf(c), c.req.param('id'))),
  );

  routes.patch(
    '/replies/:id',
    organiserRoute('Replies', 'Change a reply\'s receivedAt, channel, summary or public (shown on the campaign page); the file stays', 'campaigns', { 200: 'OK' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    requireJson(),
    validate('json', UpdateReplyInput),
    async (c) => c.json(await updateReply(serviceContextOf(c), c.req.param('id'), c.req.valid('json'))),
  );

  routes.delete(
    '/replies/:id',
    organiserRoute('Replies', 'Delete a reply and its file', 'campaigns', { 204: 'Deleted' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    async (c) => {
      await deleteReply(serviceContextOf(c), c.get('services').letters.files, c.req.param('id'));
      return c.body(null, 204);
    },
  );

  routes.get(
    '/replies/:id/file',
    organiserRoute('Replies', 'The reply\'s scan as uploaded (a download; 404 when the reply has none)', 'campaigns', { 200: 'The file' }, { reach: 'campaign' }),
    requireScope('campaigns'),
    async (c) => replyFileResponse(await openReplyFile(serviceContextOf(c), c.get('services').letters.files, c.req.param('id'))),
  );

  return routes;
}
