/**
 * What the audit log calls each organiser route (PRODUCT.md §9). The key is
 * the method and the route pattern as Hono registered it; the test
 * test/services/audit/audit-actions.test.ts fails when an organiser route of the
 * OpenAPI document or a dashboard route has no entry here, so a new route
 * cannot slip past the log.
 *
 * Action names are `<object>.<verb>`: the singular when the act is on one
 * object (`campaign.update`, `letter.download`), the plural for a list or
 * many at once (`signatures.export`, `letters.generate`). Once released a
 * name is never changed: people filter and alert on them.
 */
export type AuditRoute = {
  action: string;
  /** The object the URL names: its type and the parameter holding its id. */
  object?: { type: string; param?: string };
  /**
   * The object a successful call created, when the URL cannot name it: read
   * from the 201 JSON body (`field`) or from the dashboard's redirect (`location`, first group).
   */
  created?: { type: string; field?: string; location?: RegExp };
  /** `/letters/:id` serves the metadata and, as `<id>.pdf`, the file: the file is this action. */
  pdfAction?: string;
  /**
   * A query parameter whose value says which variant of the action this was (the export's
   * format), recorded in the event's details. Only values of this closed list are copied, under
   * the name they map to; absent, the `absent` value (the route's default).
   */
  queryDetail?: { param: string; values: Readonly<Record<string, string>>; absent: string };
  /** Recorded without a signed-in principal too (a failed sign-in: who tried is unknown, and the token they typed is never kept). */
  anonymous?: boolean;
};

const campaign = { type: 'campaign', param: 'slug' };
const target = { type: 'target', param: 'id' };
const token = { type: 'token', param: 'id' };
const letter = { type: 'letter', param: 'id' };
const delivery = { type: 'delivery', param: 'id' };
const mailing = { type: 'mailing', param: 'id' };
const reply = { type: 'reply', param: 'id' };
/** A coalition partner, by its code (unique within the campaign named beside it in the path). */
const partner = { type: 'partner', param: 'code' };
/** A letter template, by name (the audit's object holds one id; the language is in the request's path). */
const template = { type: 'template', param: 'name' };
/** Which tool a signatures export was made for: it matters to whoever reviews the log. */
const exportFormat = { param: 'format', values: { signet: 'signet', 'action-network': 'action-network', actionnetwork: 'action-network', actionkit: 'actionkit' }, absent: 'signet' };
/** Privacy acts name an email address; the log records that one happened, never the address. */
const address = { type: 'address' };

/**
 * Every organiser route, API and dashboard. `null` marks a route on purpose
 * not recorded, with the reason beside it.
 */
export const auditedRoutes: Record<string, AuditRoute | null> = {
  // Campaigns and targets
  'POST /api/v1/campaigns': { action: 'campaign.create', created: { type: 'campaign', field: 'slug' } },
  'GET /api/v1/campaigns': { action: 'campaigns.list' },
  'GET /api/v1/campaigns/:slug': { action: 'campaign.read', object: campaign },
  'PATCH /api/v1/campaigns/:slug': { action: 'campaign.update', object: campaign },
  'POST /api/v1/campaigns/:slug/clone': { action: 'campaign.clone', object: campaign },
  'PUT /api/v1/campaigns/:slug/targets': { action: 'campaign.targets_replace', object: campaign },
  'POST /api/v1/campaigns/:slug/targets': { action: 'campaign.targets_attach', object: campaign },
  'POST /api/v1/campaigns/:slug/invite-previous': { action: 'campaign.invite_previous', object: campaign },
  'POST /api/v1/targets': { action: 'target.create', created: { type: 'target', field: 'id' } },
  'POST /api/v1/targets/import': { action: 'targets.import' },
  'GET /api/v1/targets': { action: 'targets.list' },
  'GET /api/v1/targets/:id': { action: 'target.read', object: target },
  'PATCH /api/v1/targets/:id': { action: 'target.update', object: target },
  'DELETE /api/v1/targets/:id': { action: 'target.delete', object: target },

  // Replies from targets (the file is its own action: it can hold what the target wrote)
  'POST /api/v1/targets/:id/replies': { action: 'reply.create', object: target, created: { type: 'reply', field: 'id' } },
  'GET /api/v1/targets/:id/replies': { action: 'replies.list', object: target },
  'GET /api/v1/campaigns/:slug/replies': { action: 'replies.list', object: campaign },
  'GET /api/v1/replies/:id': { action: 'reply.read', object: reply },
  'PATCH /api/v1/replies/:id': { action: 'reply.update', object: reply },
  'DELETE /api/v1/replies/:id': { action: 'reply.delete', object: reply },
  'GET /api/v1/replies/:id/file': { action: 'reply.file', object: reply },

  // Supporters' personal data
  'GET /api/v1/campaigns/:slug/signatures': { action: 'signatures.list', object: campaign },
  'GET /api/v1/campaigns/:slug/signatures.csv': { action: 'signatures.export', object: campaign, queryDetail: exportFormat },
  'GET /api/v1/campaigns/:slug/stats': { action: 'signatures.stats', object: campaign },
  // Street signatures: the sheet holds no personal data but is printed in the organisation's name; an import writes supporters' data.
  'GET /api/v1/campaigns/:slug/signature-sheet.pdf': { action: 'signature_sheet.download', object: campaign },
  'POST /api/v1/campaigns/:slug/signatures/import': { action: 'signatures.import', object: campaign, created: { type: 'paper_import', field: 'id' } },
  'GET /api/v1/campaigns/:slug/signatures/imports': { action: 'paper_imports.list', object: campaign },

  // Coalition partners (a partner token's reads are recorded as any organiser's)
  'POST /api/v1/campaigns/:slug/partners': { action: 'partner.create', object: campaign, created: { type: 'partner', field: 'code' } },
  'GET /api/v1/campaigns/:slug/partners': { action: 'partners.list', object: campaign },
  'GET /api/v1/campaigns/:slug/partners/:code': { action: 'partner.read', object: partner },
  'PATCH /api/v1/campaigns/:slug/partners/:code': { action: 'partner.update', object: partner },
  'DELETE /api/v1/campaigns/:slug/partners/:code': { action: 'partner.delete', object: partner },
  'GET /api/v1/campaigns/:slug/partners/:code/supporters': { action: 'partner.supporters_list', object: partner },
  'POST /api/v1/privacy/erasures': { action: 'privacy.erase', object: address },
  'POST /api/v1/privacy/export': { action: 'privacy.export', object: address },
  'GET /api/v1/privacy/export': null, // refused (405) before any token or address is read: the address goes in the POST's body
  'GET /api/v1/privacy/requests': { action: 'privacy_requests.list' },

  // Abuse: sources, bulk invalidation, block lists (entries are named by id, never by the address or range they hold)
  'GET /api/v1/campaigns/:slug/signatures/sources': { action: 'signatures.sources', object: campaign },
  'POST /api/v1/campaigns/:slug/signatures/invalidate': { action: 'signatures.invalidate', object: campaign },
  'POST /api/v1/campaigns/:slug/signatures/revalidate': { action: 'signatures.revalidate', object: campaign },
  'GET /api/v1/campaigns/:slug/fraudulent-requests': { action: 'fraudulent_requests.list', object: campaign },
  'POST /api/v1/campaigns/:slug/fraudulent-requests/clear': { action: 'fraudulent_requests.clear', object: campaign },
  'GET /api/v1/blocklist': { action: 'blocklist.list' },
  'POST /api/v1/blocklist': { action: 'blocklist.add', created: { type: 'blocklist_entry', field: 'id' } },
  'DELETE /api/v1/blocklist/:id': { action: 'blocklist.remove', object: { type: 'blocklist_entry', param: 'id' } },
  'POST /api/v1/webhooks': { action: 'webhook.create', created: { type: 'webhook', field: 'id' } },
  'GET /api/v1/webhooks': { action: 'webhooks.list' },
  'GET /api/v1/webhooks/:id/deliveries': { action: 'webhook.deliveries', object: { type: 'webhook', param: 'id' } },
  'POST /api/v1/webhooks/:id/enable': { action: 'webhook.enable', object: { type: 'webhook', param: 'id' } },
  'DELETE /api/v1/webhooks/:id': { action: 'webhook.delete', object: { type: 'webhook', param: 'id' } },

  // Operations (a scrape with METRICS_TOKEN has no principal and is not recorded; one with an admin token is)
  'GET /metrics': { action: 'metrics.read' },

  // The organisation profile (one per installation: the object is named by its type)
  'GET /api/v1/organisation': { action: 'organisation.read', object: { type: 'organisation' } },
  'PUT /api/v1/organisation': { action: 'organisation.update', object: { type: 'organisation' } },

  // Tokens and the log itself
  'POST /api/v1/tokens': { action: 'token.create', created: { type: 'token', field: 'id' } },
  'GET /api/v1/tokens': { action: 'tokens.list' },
  'DELETE /api/v1/tokens/:id': { action: 'token.revoke', object: token },
  'GET /api/v1/audit': { action: 'audit.list' },

  // Letters
  'GET /api/v1/templates': { action: 'templates.list' },
  'GET /api/v1/templates/:name/:language': { action: 'template.read', object: template },
  'PUT /api/v1/templates/:name/:language': { action: 'template.update', object: template },
  'GET /api/v1/templates/:name/:language/versions': { action: 'template_versions.list', object: template },
  'GET /api/v1/templates/:name/:language/versions/:version': { action: 'template_version.read', object: template },
  'POST /api/v1/templates/:name/:language/reset': { action: 'template.reset', object: template },
  'POST /api/v1/templates/:name/:language/preview': { action: 'template.preview', object: template },
  'GET /api/v1/campaigns/:slug/letters/preview.pdf': { action: 'letter.preview', object: campaign },
  'GET /api/v1/campaigns/:slug/routing-preview': { action: 'letters.routing_preview', object: campaign },
  'POST /api/v1/campaigns/:slug/letters': { action: 'letters.generate', object: campaign, created: { type: 'letter_batch', field: 'batchId' } },
  'GET /api/v1/letters/:id': { action: 'letter.read', object: letter, pdfAction: 'letter.download' },

  // Deliveries, printing, mail
  'POST /api/v1/letters/:id/deliveries': { action: 'delivery.create', object: letter, created: { type: 'delivery', field: 'id' } },
  'GET /api/v1/deliveries': { action: 'deliveries.list' },
  'GET /api/v1/deliveries/:id': { action: 'delivery.read', object: delivery },
  'PATCH /api/v1/deliveries/:id': { action: 'delivery.update', object: delivery },
  'POST /api/v1/deliveries/:id/print': { action: 'delivery.print', object: delivery },
  'GET /api/v1/print-queue': { action: 'print_queue.list' },
  'GET /api/v1/print-queue.pdf': { action: 'print_queue.download' },
  'POST /api/v1/mailings': { action: 'mailing.create', created: { type: 'mailing', field: 'id' } },
  'GET /api/v1/mailings': { action: 'mailings.list' },
  'GET /api/v1/mailings/:id': { action: 'mailing.read', object: mailing },
  'POST /api/v1/mailings/:id/pause': { action: 'mailing.pause', object: mailing },
  'POST /api/v1/mailings/:id/resume': { action: 'mailing.resume', object: mailing },
  'POST /api/v1/mailings/:id/cancel': { action: 'mailing.cancel', object: mailing },
  'GET /api/v1/mailings/:id/events': { action: 'mailing.watch', object: mailing },
  'POST /api/v1/bounces': { action: 'bounce.report' },
  'GET /api/v1/bounces': { action: 'bounces.list' },
  // The parameter is an email address: the object is named by its type only.
  'DELETE /api/v1/suppressions/:email': { action: 'suppression.lift', object: { type: 'suppression' } },
  'GET /api/v1/outbox': { action: 'outbox.list' },
  'POST /api/v1/outbox/:id/retry': { action: 'outbox.retry', object: { type: 'outbox_message', param: 'id' } },

  // Dashboard
  'GET /admin': null, // a redirect to the campaigns
  'GET /admin/login': null, // the sign-in form; the sign-in itself is the POST
  'GET /admin/assets/:file': null, // stylesheet and script
  'POST /admin/login': { action: 'admin.sign_in', anonymous: true },
  'POST /admin/logout': { action: 'admin.sign_out' },
  // Accounts (PRODUCT.md §11). A link's secret is in its path but never recorded: the log keeps the route pattern only.
  'GET /admin/login/token': null, // the API-token sign-in form
  'GET /admin/login/totp': null, // the TOTP code form
  'POST /admin/login/totp': { action: 'admin.sign_in', anonymous: true },
  'GET /admin/login/link': null, // a form
  'POST /admin/login/link': null, // asks for a mailed link: nobody is signed in, and the address typed is never recorded
  'GET /admin/forgot': null, // a form
  'POST /admin/forgot': null, // as the sign-in link request
  'GET /admin/setup/:secret': null, // the owner-setup form; the POST creates the owner
  'POST /admin/setup/:secret': { action: 'account.owner_setup' },
  'GET /admin/invitation/:secret': null, // the invitation form
  'POST /admin/invitation/:secret': { action: 'invitation.accept' },
  'GET /admin/link/:secret': null, // the sign-in link's button (a GET uses nothing up)
  'POST /admin/link/:secret': { action: 'admin.sign_in' },
  'GET /admin/reset/:secret': null, // the new-password form
  'POST /admin/reset/:secret': { action: 'account.password_reset' },
  'GET /admin/account': { action: 'account.read' },
  'POST /admin/account': { action: 'account.update' },
  'POST /admin/account/password': { action: 'account.password_change' },
  'POST /admin/account/totp/start': { action: 'account.totp_setup' },
  'POST /admin/account/totp/confirm': { action: 'account.totp_enable' },
  'POST /admin/account/totp/disable': { action: 'account.totp_disable' },
  'GET /admin/users': { action: 'users.list' },
  'GET /admin/organisation': { action: 'organisation.read', object: { type: 'organisation' } },
  'GET /admin/templates': { action: 'templates.list' },
  'GET /admin/templates/:name/:language': { action: 'template.read', object: template },
  'POST /admin/templates/:name/:language': { action: 'template.update', object: template },
  'POST /admin/templates/:name/:language/preview': { action: 'template.preview', object: template },
  'POST /admin/templates/:name/:language/reset': { action: 'template.reset', object: template },
  'POST /admin/organisation': { action: 'organisation.update', object: { type: 'organisation' } },
  'POST /admin/users': { action: 'user.invite', created: { type: 'user', location: /#user-([0-9a-f-]{36})$/ } },
  'POST /admin/users/:id': { action: 'user.update_roles', object: { type: 'user', param: 'id' } },
  'POST /admin/users/:id/remove': { action: 'user.remove', object: { type: 'user', param: 'id' } },
  'POST /admin/users/:id/totp-off': { action: 'user.totp_reset', object: { type: 'user', param: 'id' } },
  'POST /admin/users/:id/invitation': { action: 'user.invite_again', object: { type: 'user', param: 'id' } },
  'GET /admin/campaigns': { action: 'campaigns.list' },
  'GET /admin/campaigns/new': null, // an empty form
  'POST /admin/campaigns': { action: 'campaign.create', created: { type: 'campaign', location: /^\/admin\/campaigns\/([^/?#]+)/ } },
  'GET /admin/campaigns/:slug': { action: 'campaign.read', object: campaign },
  'GET /admin/campaigns/:slug/signatures.csv': { action: 'signatures.export', object: campaign, queryDetail: exportFormat },
  'GET /admin/campaigns/:slug/edit': { action: 'campaign.read', object: campaign },
  'GET /admin/campaigns/:slug/clone': { action: 'campaign.read', object: campaign },
  'POST /admin/campaigns/:slug/clone': { action: 'campaign.clone', object: campaign, created: { type: 'campaign', location: /^\/admin\/campaigns\/([^/?#]+)/ } },
  'POST /admin/campaigns/:slug': { action: 'campaign.update', object: campaign },
  'POST /admin/campaigns/:slug/status': { action: 'campaign.update', object: campaign },
  'POST /admin/campaigns/:slug/targets': { action: 'campaign.targets_attach', object: campaign },
  'POST /admin/campaigns/:slug/targets/:targetId/detach': { action: 'campaign.update', object: campaign },
  'GET /admin/targets': { action: 'targets.list' },
  'POST /admin/targets/import': { action: 'targets.import' },
  'POST /admin/targets/import-shipped': { action: 'targets.import' },
  'GET /admin/targets/new': null, // an empty form
  'POST /admin/targets': { action: 'target.create' },
  'GET /admin/targets/:id/edit': { action: 'target.read', object: target },
  'POST /admin/targets/:id': { action: 'target.update', object: target },
  'GET /admin/campaigns/:slug/letters': { action: 'letters.list', object: campaign },
  'POST /admin/campaigns/:slug/letters/preview': { action: 'letter.preview', object: campaign },
  'POST /admin/campaigns/:slug/letters': { action: 'letters.generate', object: campaign, created: { type: 'letter_batch', location: /#batch-([0-9a-f-]{36})$/ } },
  'GET /admin/letters/:id': { action: 'letter.read', object: letter },
  'GET /admin/letters/:id/pdf': { action: 'letter.download', object: letter },
  'POST /admin/letters/:id/deliveries': { action: 'delivery.create', object: letter },
  'GET /admin/deliveries': { action: 'deliveries.list' },
  'POST /admin/deliveries/:id': { action: 'delivery.update', object: delivery },
  'GET /admin/print-queue': { action: 'print_queue.list' },
  'GET /admin/print-queue.pdf': { action: 'print_queue.download' },
  'GET /admin/mailings': { action: 'mailings.list' },
  'GET /admin/mailings/new': null, // an empty form
  'POST /admin/mailings': { action: 'mailing.create', created: { type: 'mailing', location: /^\/admin\/mailings\/([0-9a-f-]{36})/ } },
  'GET /admin/mailings/:id': { action: 'mailing.read', object: mailing },
  'POST /admin/mailings/:id/pause': { action: 'mailing.pause', object: mailing },
  'POST /admin/mailings/:id/resume': { action: 'mailing.resume', object: mailing },
  'POST /admin/mailings/:id/cancel': { action: 'mailing.cancel', object: mailing },
  'GET /admin/mailings/:id/events': { action: 'mailing.watch', object: mailing },
  'GET /admin/privacy': { action: 'privacy_requests.list' },
  'POST /admin/privacy/erase': { action: 'privacy.erase', object: address },
  'POST /admin/privacy/export': { action: 'privacy.export', object: address },
  'GET /admin/abuse': { action: 'abuse.read' },
  'POST /admin/abuse/blocklist': { action: 'blocklist.add' },
  'POST /admin/abuse/blocklist/:id/delete': { action: 'blocklist.remove', object: { type: 'blocklist_entry', param: 'id' } },
  'POST /admin/abuse/invalidate': { action: 'signatures.invalidate' },
  'POST /admin/abuse/revalidate': { action: 'signatures.revalidate' },
  'POST /admin/abuse/fraudulent-requests/clear': { action: 'fraudulent_requests.clear' },
  'GET /admin/audit': { action: 'audit.list' },
  'GET /admin/campaigns/:slug/replies': { action: 'replies.list', object: campaign },
  'POST /admin/campaigns/:slug/replies': { action: 'reply.create', object: campaign, created: { type: 'reply', location: /#reply-([0-9a-f-]{36})$/ } },
  'POST /admin/replies/:id': { action: 'reply.update', object: reply },
  'POST /admin/replies/:id/delete': { action: 'reply.delete', object: reply },
  'GET /admin/replies/:id/file': { action: 'reply.file', object: reply },
  'GET /admin/campaigns/:slug/invite-previous': { action: 'campaign.read', object: campaign },
  'GET /admin/campaigns/:slug/paper': { action: 'paper_imports.list', object: campaign },
  'GET /admin/campaigns/:slug/signature-sheet.pdf': { action: 'signature_sheet.download', object: campaign },
  // The check is the API's dry run: it reads the file and the campaign's signatures, writes nothing.
  'POST /admin/campaigns/:slug/paper/check': { action: 'signatures.import_check', object: campaign },
  'POST /admin/campaigns/:slug/paper/import': { action: 'signatures.import', object: campaign, created: { type: 'paper_import', location: /\/paper\?imported=([0-9a-f-]{36})$/ } },
  'GET /admin/webhooks': { action: 'webhooks.list' },
  'POST /admin/webhooks': { action: 'webhook.create' },
  'GET /admin/webhooks/:id': { action: 'webhook.deliveries', object: { type: 'webhook', param: 'id' } },
  'POST /admin/webhooks/:id/enable': { action: 'webhook.enable', object: { type: 'webhook', param: 'id' } },
  'POST /admin/webhooks/:id/delete': { action: 'webhook.delete', object: { type: 'webhook', param: 'id' } },
  'GET /admin/campaigns/:slug/partners': { action: 'partners.list', object: campaign },
  'POST /admin/campaigns/:slug/partners': { action: 'partner.create', object: campaign },
  'POST /admin/campaigns/:slug/partners/:code': { action: 'partner.update', object: partner },
  'POST /admin/campaigns/:slug/partners/:code/delete': { action: 'partner.delete', object: partner },
  'POST /admin/campaigns/:slug/invite-previous': { action: 'campaign.invite_previous', object: campaign, created: { type: 'mailing', location: /^\/admin\/mailings\/([0-9a-f-]{36})/ } },
};
