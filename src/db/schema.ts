import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { type Locale, locales } from '../lib/locales.js';

// Timestamps are integer milliseconds since the epoch (UTC): cheap to compare
// and index, identical on better-sqlite3 and D1.

export type PostalAddress = {
  lines: string[];
  postalCode?: string | null;
  city?: string | null;
  region?: string | null;
  country: string;
};

export type LetterLanguageCode = Locale;

/**
 * Who an update mailing goes to within its campaign's consenting supporters: each list given
 * narrows it (any of its values matches), several lists must all match. Partners are kept by id,
 * with the code they had, so a partner removed later matches no one.
 */
export type MailingSegment = {
  regions?: string[];
  partners?: { id: string; code: string }[];
  sources?: ('web' | 'paper')[];
};

/** A target as a letter in one language names it; each field falls back to the target's own. */
export type TargetTranslation = { name?: string | null; title?: string | null; organisation?: string | null; salutation?: string | null };
export type TargetTranslations = Partial<Record<LetterLanguageCode, TargetTranslation>>;

export type CampaignTranslation = { title: string; summary?: string | null; body?: string | null };

/** What the thanks and confirmed pages offer in one page language (src/services/next-step.ts). */
export type NextStep = { donation: { url: string; label: string } | null; campaign: string | null; sharing: boolean };

export const campaigns = sqliteTable(
  'campaigns',
  {
    id: text('id').primaryKey(),
    slug: text('slug').notNull().unique(),
    title: text('title').notNull(),
    summary: text('summary').notNull().default(''),
    body: text('body').notNull().default(''),
    locale: text('locale', { enum: locales }).notNull(),
    translations: text('translations', { mode: 'json' })
      .$type<Partial<Record<Locale, CampaignTranslation>>>()
      .notNull()
      .default(sql`'{}'`),
    status: text('status', { enum: ['draft', 'open', 'closed', 'archived'] }).notNull().default('draft'),
    goal: integer('goal'),
    opensAt: integer('opens_at'),
    closesAt: integer('closes_at'),
    timeZone: text('time_zone').notNull().default('UTC'),
    letterTemplate: text('letter_template'),
    /** The campaign this one was cloned from (year to year): its supporters who consented to updates can be invited. */
    previousCampaignId: text('previous_campaign_id'),
    /** Confirmed signatures folded in by the count reconciler; add pending rows of signature_count_deltas for the live figure. */
    signatureCount: integer('signature_count').notNull().default(0),
    /** When the campaign last moved to closed or archived (null while draft or open): the retention clock starts here. */
    closedAt: integer('closed_at'),
    /** The next step after signing, per page language; a language without one offers sharing only. */
    nextStep: text('next_step', { mode: 'json' }).$type<Partial<Record<'en' | 'ja' | 'ko' | 'zh', NextStep>>>().notNull().default(sql`'{}'`),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('campaigns_created_idx').on(t.createdAt, t.id)],
);

export const targets = sqliteTable(
  'targets',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    title: text('title'),
    organisation: text('organisation'),
    kind: text('kind', { enum: ['embassy', 'consulate', 'official', 'other'] }).notNull(),
    email: text('email'),
    postalAddress: text('postal_address', { mode: 'json' }).$type<PostalAddress>().notNull(),
    language: text('language').notNull().default('en'),
    salutation: text('salutation'),
    /** IANA zone of the target's office, for the sending window of letters; null: the mailing's zone. */
    timeZone: text('time_zone'),
    jurisdiction: text('jurisdiction', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    verifiedAt: integer('verified_at'),
    /** The target's id in the file it was imported from (e.g. `cn-embassy-tokyo`): what a later import of that file matches. */
    externalId: text('external_id'),
    /** The target's names and salutation in other languages, for letters written in them (PRODUCT.md §12); a missing field falls back to the target's own. */
    translations: text('translations', { mode: 'json' }).$type<TargetTranslations>().notNull().default(sql`'{}'`),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('targets_created_idx').on(t.createdAt, t.id), uniqueIndex('targets_external_id_unique').on(t.externalId)],
);

export const campaignTargets = sqliteTable(
  'campaign_targets',
  {
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    targetId: text('target_id')
      .notNull()
      .references(() => targets.id, { onDelete: 'restrict' }),
    position: integer('position').notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.targetId] }), index('campaign_targets_target_idx').on(t.targetId)],
);

export const signatures = sqliteTable(
  'signatures',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    email: text('email').notNull(),
    /** Trimmed and lower-cased: the key for "has this person signed". */
    emailNormalized: text('email_normalized').notNull(),
    country: text('country').notNull(),
    region: text('region'),
    city: text('city'),
    postalCode: text('postal_code'),
    comment: text('comment'),
    locale: text('locale', { enum: locales }).notNull(),
    nameOnLetter: text('name_on_letter', { enum: ['full', 'initials', 'none'] }).notNull().default('none'),
    showPublicly: integer('show_publicly', { mode: 'boolean' }).notNull().default(false),
    updates: integer('updates', { mode: 'boolean' }).notNull().default(false),
    /**
     * `erased`: anonymised at the supporter's request or by retention; a signature
     * confirmed before its erasure still counts (confirmedAt stays), nothing else of it is kept.
     * A blocked request is never a signature (fraudulent_requests), so it cannot mark an address.
     */
    status: text('status', { enum: ['pending', 'confirmed', 'invalidated', 'erased'] }).notNull().default('pending'),
    createdAt: integer('created_at').notNull(),
    confirmedAt: integer('confirmed_at'),
    /** Keyed hash of the client IP under a key of the day and campaign (src/lib/keyring.ts); dropped after 30 days. */
    ipHash: text('ip_hash'),
    source: text('source', { mode: 'json' }).$type<Record<string, string>>(),
    /**
     * Earlier versions only: SHA-256 of the confirmation token mailed then, honoured until
     * confirmExpiresAt. Tokens are now derived from a submission's nonce (signature_submissions).
     */
    confirmTokenHash: text('confirm_token_hash'),
    confirmExpiresAt: integer('confirm_expires_at'),
    /** Confirmation emails queued for this signature; capped so a repeat signer cannot be used to spam an inbox. */
    emailsSent: integer('emails_sent').notNull().default(0),
    unsubscribedAt: integer('unsubscribed_at'),
    /** The bulk action (signature_bulk_actions) that set status `invalidated`; revalidation undoes only these. */
    invalidatedBy: text('invalidated_by'),
    /** The coalition partner (campaign_partners) whose link (`?ref=`) brought the signature, or null. */
    partnerId: text('partner_id'),
    /** Whether the signer ticked that partner's own opt-in box; always about `partnerId`, never another partner. */
    partnerOptIn: integer('partner_opt_in', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    uniqueIndex('signatures_campaign_email_uq').on(t.campaignId, t.emailNormalized),
    uniqueIndex('signatures_confirm_token_uq').on(t.confirmTokenHash),
    index('signatures_campaign_status_created_idx').on(t.campaignId, t.status, t.createdAt, t.id),
    index('signatures_campaign_created_idx').on(t.campaignId, t.createdAt, t.id),
    // Letters read the confirmed signatures at a cut-off in order of confirmation, a page at a time.
    index('signatures_campaign_status_confirmed_idx').on(t.campaignId, t.status, t.confirmedAt, t.id),
    // A partner's counts and its token's list of opted-in supporters.
    index('signatures_partner_idx').on(t.partnerId, t.partnerOptIn, t.status, t.id),
  ],
);

/**
 * A coalition partner of a campaign (PRODUCT.md §13): its links carry `?ref=<code>`, which
 * attributes signatures to it; with an opt-in text the form shows that text as a separate,
 * unticked box, and a token limited to the partner reads only the supporters who ticked it.
 */
export const campaignPartners = sqliteTable(
  'campaign_partners',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    /** Lower-case letters, digits and hyphens; fixed once made, since links with it are out in the world. */
    code: text('code').notNull(),
    name: text('name').notNull(),
    /** The partner's own consent wording, shown as given in every page language; null: no box, no opt-ins. */
    optInText: text('opt_in_text'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('campaign_partners_campaign_code_uq').on(t.campaignId, t.code)],
);

/**
 * One import of typed-up paper signature sheets (PRODUCT.md §13): the sheet and event they came
 * from, who imported them and what the import did. Its signatures are ordinary confirmed rows of
 * `signatures` whose source is `{ kind: 'paper', import: <this id>, … }`.
 */
export const paperImports = sqliteTable(
  'paper_imports',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    /** The organiser's label for the sheet or bundle of sheets (e.g. `Shinjuku A-01–A-12`). */
    sheet: text('sheet'),
    event: text('event'),
    /** The day the sheets were signed, `YYYY-MM-DD`, as given with the import. */
    collectedOn: text('collected_on'),
    /** Rows in the file (blank ones aside). */
    rows: integer('rows').notNull(),
    /** New signatures written (and counted). */
    imported: integer('imported').notNull(),
    /** Rows whose address had signed already (on the web, on paper or earlier in the file): counted once. */
    merged: integer('merged').notNull(),
    /** Rows left out as invalid (only with skipInvalid). */
    rejected: integer('rejected').notNull(),
    /** Who imported, as the audit log names them. */
    importedBy: text('imported_by').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('paper_imports_campaign_idx').on(t.campaignId, t.createdAt)],
);

/**
 * Each signing request as submitted, held until the email's owner confirms it
 * (PRODUCT.md §8): the confirmation link carries a token derived from this
 * row's id, and confirming applies exactly this row's details and consent to
 * the signature. A later request never changes what an earlier link confirms.
 * Personal fields are cleared once used; rows go when they expire.
 */
export const signatureSubmissions = sqliteTable(
  'signature_submissions',
  {
    /** The token's nonce (src/lib/keyring.ts); the token itself is never stored. */
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    emailNormalized: text('email_normalized').notNull(),
    name: text('name').notNull(),
    country: text('country').notNull(),
    region: text('region'),
    city: text('city'),
    postalCode: text('postal_code'),
    comment: text('comment'),
    locale: text('locale', { enum: locales }).notNull(),
    nameOnLetter: text('name_on_letter', { enum: ['full', 'initials', 'none'] }).notNull(),
    showPublicly: integer('show_publicly', { mode: 'boolean' }).notNull(),
    updates: integer('updates', { mode: 'boolean' }).notNull(),
    source: text('source', { mode: 'json' }).$type<Record<string, string>>(),
    ipHash: text('ip_hash'),
    /** The partner the request came through and whether its box was ticked, applied with the rest on confirmation. */
    partnerId: text('partner_id'),
    partnerOptIn: integer('partner_opt_in', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** Set when the link was used; the signature it was applied to. */
    confirmedAt: integer('confirmed_at'),
    signatureId: text('signature_id'),
    /** When its one reminder was queued (src/services/reminders.ts); 0: never reminded (held before reminders existed, or blocked). */
    remindedAt: integer('reminded_at'),
    /** The outbox row of that reminder: only the runner whose id this is queues it. */
    reminderId: text('reminder_id'),
  },
  (t) => [
    // Requests by address (a privacy request checks the address is known; exports and erasures find them).
    index('signature_submissions_email_created_idx').on(t.emailNormalized, t.createdAt),
    index('signature_submissions_expiry_idx').on(t.expiresAt),
    // Organisers list a campaign's requests still to be confirmed, newest first.
    index('signature_submissions_campaign_created_idx').on(t.campaignId, t.createdAt, t.id),
    // The reminder job walks the requests still to be reminded, oldest first.
    index('signature_submissions_unreminded_idx').on(t.createdAt).where(sql`${t.confirmedAt} IS NULL AND ${t.remindedAt} IS NULL`),
  ],
);

/**
 * Supporters' requests to export, erase or manage their data (PRODUCT.md §8),
 * and the same done by organisers for requests received by post. The row
 * holds the address only while the request is open; handled and expired
 * requests keep what was done, for the record, and no personal data.
 */
export const privacyRequests = sqliteTable(
  'privacy_requests',
  {
    /** The token's nonce for supporter requests; a plain id for organiser ones. */
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['export', 'erase', 'manage'] }).notNull(),
    origin: text('origin', { enum: ['supporter', 'organiser'] }).notNull(),
    /** The address the request is about; cleared when the request is completed or expires. */
    emailNormalized: text('email_normalized'),
    locale: text('locale', { enum: locales }).notNull().default('en'),
    status: text('status', { enum: ['pending', 'completed', 'expired'] }).notNull().default('pending'),
    /** Signatures the request covered when completed. */
    signatureCount: integer('signature_count'),
    /** The organiser (token id and name) who handled an organiser request. */
    handledBy: text('handled_by'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    completedAt: integer('completed_at'),
  },
  (t) => [
    index('privacy_requests_email_created_idx').on(t.emailNormalized, t.createdAt),
    index('privacy_requests_created_idx').on(t.createdAt, t.id),
  ],
);

/**
 * Count changes written in the same transaction as the status change that
 * causes them. Confirming never updates a hot counter row; the reconciler
 * folds these rows into campaigns.signature_count in batches.
 */
export const signatureCountDeltas = sqliteTable(
  'signature_count_deltas',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    delta: integer('delta').notNull(),
  },
  (t) => [index('signature_count_deltas_campaign_idx').on(t.campaignId)],
);

/**
 * Signing requests the block list matched (PRODUCT.md §9 Abuse), answered
 * like any other and kept here for review: never a signature, never counted
 * or mailed, and nothing to do with a later request for the same address. An
 * organiser may clear them (deleted); retention deletes them as it does
 * signing requests (PENDING_TTL_DAYS), and their IP hashes after 30 days.
 */
export const fraudulentRequests = sqliteTable(
  'fraudulent_requests',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    emailNormalized: text('email_normalized').notNull(),
    name: text('name').notNull(),
    country: text('country').notNull(),
    region: text('region'),
    city: text('city'),
    postalCode: text('postal_code'),
    comment: text('comment'),
    locale: text('locale', { enum: locales }).notNull(),
    nameOnLetter: text('name_on_letter', { enum: ['full', 'initials', 'none'] }).notNull(),
    showPublicly: integer('show_publicly', { mode: 'boolean' }).notNull(),
    updates: integer('updates', { mode: 'boolean' }).notNull(),
    source: text('source', { mode: 'json' }).$type<Record<string, string>>(),
    ipHash: text('ip_hash'),
    partnerId: text('partner_id'),
    partnerOptIn: integer('partner_opt_in', { mode: 'boolean' }).notNull().default(false),
    /** The kind of block list entry the request matched; null for marks made before 0010, which did not record it. */
    blockedBy: text('blocked_by', { enum: ['email', 'domain', 'ip'] }),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    // Organisers review a campaign's, newest first.
    index('fraudulent_requests_campaign_created_idx').on(t.campaignId, t.createdAt, t.id),
    // An erasure finds an address's.
    index('fraudulent_requests_email_idx').on(t.emailNormalized),
    // Retention deletes them by age.
    index('fraudulent_requests_created_idx').on(t.createdAt),
  ],
);

/**
 * Addresses, email domains and IP ranges whose signing requests are kept as
 * fraudulent requests without a word to the signer (PRODUCT.md §9 Abuse). Values are
 * canonical (src/services/blocklist.ts), so one entry cannot be added twice.
 */
export const blocklist = sqliteTable(
  'blocklist',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['email', 'domain', 'ip'] }).notNull(),
    /** A lower-cased address; an ASCII domain, `*.` for its subdomains; an IPv4 address, or a network `address/prefix`. */
    value: text('value').notNull(),
    note: text('note'),
    /** The organiser (token name and id) who added it. */
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('blocklist_kind_value_uq').on(t.kind, t.value)],
);

/**
 * Each bulk invalidation or revalidation of a campaign's signatures: its
 * filter, how many rows it moved, who asked and when. Invalidated rows name
 * theirs (signatures.invalidated_by).
 */
export const signatureBulkActions = sqliteTable(
  'signature_bulk_actions',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    action: text('action', { enum: ['invalidate', 'revalidate'] }).notNull(),
    filter: text('filter', { mode: 'json' }).$type<{ ipHash?: string; domain?: string; from?: string; to?: string }>().notNull(),
    signatureCount: integer('signature_count').notNull(),
    /** The organiser (token name and id). */
    actor: text('actor').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('signature_bulk_actions_campaign_idx').on(t.campaignId, t.createdAt)],
);

export const apiTokens = sqliteTable('api_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** SHA-256 of the secret; the secret is shown once at creation. */
  tokenHash: text('token_hash').notNull().unique(),
  /** First characters of the secret, so organisers can tell tokens apart. */
  prefix: text('prefix').notNull(),
  scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
  createdAt: integer('created_at').notNull(),
  lastUsedAt: integer('last_used_at'),
  revokedAt: integer('revoked_at'),
  /** Campaign ids the token is limited to (`campaigns: [slug]` when created); null: every campaign and the organisation's resources. */
  campaignIds: text('campaign_ids', { mode: 'json' }).$type<string[] | null>(),
  /** The coalition partner (campaign_partners) the token is limited to: it reads only that partner's opted-in supporters. */
  partnerId: text('partner_id'),
});

/**
 * Signed webhooks (PRODUCT.md §13, src/services/webhooks.ts): where events are
 * POSTed. The signing secret is sealed (AES-GCM under a key derived from
 * SECRET_KEY, bound to the hook's id), so the database alone cannot sign.
 */
export const webhooks = sqliteTable('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** The events it receives (WebhookEvent[]). */
  events: text('events', { mode: 'json' }).$type<string[]>().notNull(),
  description: text('description'),
  secretSealed: text('secret_sealed').notNull(),
  /** The organiser (token name and id) who added it. */
  createdBy: text('created_by').notNull(),
  createdAt: integer('created_at').notNull(),
  /** Set after too many failed attempts in a row (or by hand); nothing is queued for it until enabled again. */
  disabledAt: integer('disabled_at'),
  /** Failed attempts since the last success: the hook is disabled when it reaches the limit. */
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  lastSuccessAt: integer('last_success_at'),
});

/** Every attempt to deliver a webhook event: what the receiver answered, never the body sent. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    /** The outbox row carrying the event (also sent as Signet-Delivery, the receiver's idempotency key). */
    outboxId: text('outbox_id').notNull(),
    event: text('event').notNull(),
    attempt: integer('attempt').notNull(),
    /** delivered (2xx), failed (anything else; retried unless given up), dropped (nothing to send any more, e.g. the signature was erased first). */
    outcome: text('outcome', { enum: ['delivered', 'failed', 'dropped'] }).notNull(),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms'),
    /** Why it failed, short (never the body sent or received). */
    error: text('error'),
    attemptedAt: integer('attempted_at').notNull(),
  },
  // A hook's log newest first; the retention job's cut-off by age.
  (t) => [index('webhook_deliveries_hook_idx').on(t.webhookId, t.attemptedAt), index('webhook_deliveries_at_idx').on(t.attemptedAt)],
);

/**
 * The transactional outbox: every email is a row written in the same
 * transaction as the change that causes it, then sent by the mail sender.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    /** Recipient address (personal data: the message body is erased once sent). */
    recipient: text('recipient').notNull(),
    messageId: text('message_id').notNull(),
    /** The message, rendered or as a composer and its input (see src/mail/messages.ts); null once sent. */
    message: text('message', { mode: 'json' }).$type<StoredOutboxMessage | null>(),
    status: text('status', { enum: ['pending', 'sent', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lockedUntil: integer('locked_until'),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
    /** The mailing this message belongs to, if any (progress, pacing, pause). */
    mailingId: text('mailing_id'),
    /**
     * Who the message is for within its mailing (a signature id, a delivery id):
     * unique per mailing, so a mailing run again after a crash never queues anyone twice.
     */
    recipientKey: text('recipient_key'),
    /**
     * The confirmation lane (signing and privacy links, src/outbox/confirmation-lane.ts): who
     * asked (the keyed hash of the requester's IPv4 address or IPv6 /64, '-' without one), the
     * rows served round-robin by it. Null for every other message.
     */
    laneSource: text('lane_source'),
    /** The normalised address a lane row goes to, for the per-address window; erased with the recipient. */
    laneAddress: text('lane_address'),
    /** What the link confirms (a campaign id, or `privacy:<kind>`): a newer request from the same source for the same address and topic supersedes an unsent older one. */
    laneTopic: text('lane_topic'),
    /**
     * The round in which the lane serves the row: a source's next turn after its rows still
     * pending, or the lane's current turn (its lowest pending) if that is later. Rows go in turn
     * order, so sources take turns and one that just arrived goes in the current round. Null
     * while the row is deferred for its address's window; it rejoins the current round when due.
     */
    laneTurn: integer('lane_turn'),
    /** When the link a lane row carries expires: not sent after. */
    expiresAt: integer('expires_at'),
    /** When the lane last leased the row to send it: the global rate and the per-address window count these. */
    claimedAt: integer('claimed_at'),
  },
  (t) => [
    index('outbox_due_idx').on(t.status, t.nextAttemptAt),
    uniqueIndex('outbox_mailing_recipient_uq').on(t.mailingId, t.recipientKey),
    // The confirmation lane's rows in turn order, each source's last turn, and the rows parked
    // for their address's window by due time; the other lanes' due rows by kind
    // (src/outbox/lanes.ts), so no claim walks past another lane's backlog.
    index('outbox_lane_turn_idx').on(t.laneTurn).where(sql`${t.status} = 'pending' AND ${t.laneTurn} IS NOT NULL`),
    index('outbox_lane_source_idx').on(t.laneSource, t.laneTurn).where(sql`${t.status} = 'pending' AND ${t.laneTurn} IS NOT NULL`),
    index('outbox_lane_deferred_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending' AND ${t.laneSource} IS NOT NULL AND ${t.laneTurn} IS NULL`),
    index('outbox_kind_due_idx').on(t.kind, t.nextAttemptAt).where(sql`${t.status} = 'pending' AND ${t.laneSource} IS NULL`),
    index('outbox_lane_address_idx').on(t.laneAddress, t.claimedAt).where(sql`${t.laneAddress} IS NOT NULL`),
    index('outbox_lane_claimed_idx').on(t.claimedAt).where(sql`${t.claimedAt} IS NOT NULL`),
  ],
);

export type OutboxMessage = {
  to: { name?: string; address: string };
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
  locale?: string;
  /**
   * Files sent with the message. `storedPath` is relative to DATA_DIR: the
   * mail transport resolves it there and refuses anything outside it.
   */
  attachments?: { filename: string; contentType: string; storedPath: string }[];
};

/**
 * What the outbox stores: a rendered message, or the name of a composer and
 * its input, rendered when sent. The second keeps hot-path rows ~10x smaller
 * (a confirmation email's HTML is ~4 KB; its input ~300 bytes).
 */
export type StoredOutboxMessage =
  | OutboxMessage
  | { compose: 'confirmation'; input: Record<string, unknown> }
  | {
      compose: 'letter-delivery';
      input: Record<string, unknown>;
      /** A mailing's sending window on the target's clock: the sender sends and retries only inside it. */
      window?: SendingWindow & { timeZone: string };
    }
  | { compose: 'update'; input: Record<string, unknown> }
  /** A link to act on a privacy request (src/mail/privacy-email.ts): the token is derived from the input's nonce when sent. */
  | { compose: 'privacy'; input: Record<string, unknown> }
  /** An organiser's account link (src/mail/account-email.ts): the link's secret is derived from the input's link id when sent. */
  | { compose: 'account'; input: Record<string, unknown> }
  /** A webhook event (src/services/webhook-sender.ts): composed and signed when sent, from ids only. */
  | { compose: 'webhook'; input: Record<string, unknown> };

/** Installation-wide secrets and markers (e.g. the IP-hash key). */
export const settingsStore = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/** One run of letter generation: every letter rendered from one campaign at one cut-off. */
export const letterBatches = sqliteTable(
  'letter_batches',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    mode: text('mode', { enum: ['per_target', 'per_signer'] }).notNull(),
    template: text('template').notNull(),
    /** per_target only: `all` names every supporter in every letter; `jurisdiction` names in each target's letter only the supporters of its regions (PRODUCT.md §11). */
    routing: text('routing', { enum: ['all', 'jurisdiction'] }).notNull().default('all'),
    /** per_target only: `write` gives every target a letter, also one that counts no one; `skip` writes none to such a target. */
    emptyTargets: text('empty_targets', { enum: ['write', 'skip'] }).notNull().default('write'),
    /** The languages each letter is written in, in order (the original, then translations); null: each target's own language. */
    languages: text('languages', { mode: 'json' }).$type<LetterLanguageCode[]>(),
    /** Signatures confirmed at or before this instant are in the letters; also the letters' date. */
    cutoffAt: integer('cutoff_at').notNull(),
    letterCount: integer('letter_count').notNull(),
    /** The version of each language's template the letters were written with (0: the shipped file); rendering again uses the same. */
    templateVersions: text('template_versions', { mode: 'json' }).$type<Partial<Record<Locale, number>>>().notNull().default(sql`'{}'`),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('letter_batches_campaign_idx').on(t.campaignId, t.createdAt)],
);

/**
 * A letter template's text as an organiser saved it (or reset it to the shipped text), per
 * template and language. Version 0 is the shipped file and is never stored; the highest
 * version is what letters use.
 */
export const letterTemplateVersions = sqliteTable(
  'letter_template_versions',
  {
    name: text('name').notNull(),
    language: text('language', { enum: locales }).notNull(),
    version: integer('version').notNull(),
    /** The whole file: front matter and Markdown body. */
    source: text('source').notNull(),
    /** A copy of the shipped text made by a reset. */
    isReset: integer('is_reset', { mode: 'boolean' }).notNull(),
    /** Who saved it, as the audit log names them (a user's or a token's name). */
    savedBy: text('saved_by').notNull(),
    savedAt: integer('saved_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.language, t.version] })],
);

/** One rendered PDF, stored under DATA_DIR at `path`. */
export const letters = sqliteTable(
  'letters',
  {
    id: text('id').primaryKey(),
    batchId: text('batch_id')
      .notNull()
      .references(() => letterBatches.id, { onDelete: 'cascade' }),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    targetId: text('target_id')
      .notNull()
      .references(() => targets.id, { onDelete: 'restrict' }),
    /** Per-signer letters only: the supporter the letter is from. */
    signatureId: text('signature_id').references(() => signatures.id, { onDelete: 'set null' }),
    template: text('template').notNull(),
    /** The first of `languages`: the language the letter opens in. */
    language: text('language', { enum: locales }).notNull(),
    /** Every language the PDF holds the letter in, in order; null only for rows written before 0020 was migrated. */
    languages: text('languages', { mode: 'json' }).$type<LetterLanguageCode[]>(),
    cutoffAt: integer('cutoff_at').notNull(),
    /** Confirmed signatures at the cut-off that the letter speaks for (its target's share, when routed by jurisdiction). */
    signatureCount: integer('signature_count').notNull(),
    /** Every signature the petition counted at the cut-off: the total each letter of the batch states. Null for letters from before it was kept. */
    petitionCount: integer('petition_count'),
    sha256: text('sha256').notNull(),
    pages: integer('pages').notNull(),
    bytes: integer('bytes').notNull(),
    /** Relative to DATA_DIR, e.g. `letters/<batchId>/<letterId>.pdf`. */
    path: text('path').notNull(),
    createdAt: integer('created_at').notNull(),
    /**
     * When the PDF was last rendered again after an erasure (src/services/letter-redaction.ts);
     * sha256, pages, bytes and signatureCount then describe the new file.
     */
    regeneratedAt: integer('regenerated_at'),
    /** Set when the PDF was deleted rather than rendered again (a per-signer letter of an erased supporter…); a download says so. */
    withdrawnAt: integer('withdrawn_at'),
  },
  (t) => [index('letters_batch_idx').on(t.batchId), index('letters_campaign_idx').on(t.campaignId, t.createdAt)],
);

/**
 * Letter batches to render again because an erasure (or retention) removed someone they may
 * name: written in the same transaction as the erasure, done by the redaction job, which
 * survives a crash (a lease, retried with a backoff). `requested_at` grows with each new
 * request, so a request made while the job runs is not lost when it finishes.
 */
export const letterRedactions = sqliteTable(
  'letter_redactions',
  {
    batchId: text('batch_id')
      .primaryKey()
      .references(() => letterBatches.id, { onDelete: 'cascade' }),
    requestedAt: integer('requested_at').notNull(),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lockedBy: text('locked_by'),
    lockedUntil: integer('locked_until'),
    lastError: text('last_error'),
    /** The last letter (by id) rendered again for this `requested_at`: an interrupted run resumes after it. */
    doneThrough: text('done_through'),
  },
  (t) => [index('letter_redactions_due_idx').on(t.nextAttemptAt)],
);

/**
 * A scheduled run on a campaign (PRODUCT.md §3 Mailing): at `sendAt` it freezes
 * the signatures at the cut-off and delivers letters to the targets, or
 * emails an update to the supporters who consented. `sendAtLocal` and
 * `timeZone` keep what the organiser asked for; `sendAt` is the UTC instant.
 */
export const mailings = sqliteTable(
  'mailings',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['letters', 'update'] }).notNull(),
    /** Wall-clock time as given, `YYYY-MM-DDTHH:mm[:ss]`, in `timeZone`. */
    sendAtLocal: text('send_at_local').notNull(),
    timeZone: text('time_zone').notNull(),
    sendAt: integer('send_at').notNull(),
    cutoffAt: integer('cutoff_at'),
    /** Letters mailings: `auto` emails a target with an address and queues the others' letters for print. */
    channel: text('channel', { enum: ['email', 'print', 'auto'] }),
    ratePerMinute: integer('rate_per_minute'),
    subject: text('subject'),
    body: text('body'),
    template: text('template'),
    /** Letters mailings: how supporters are split between targets, as for a letter batch. */
    routing: text('routing', { enum: ['all', 'jurisdiction'] }),
    /** Letters mailings: whether a target whose letter would count no one gets it (`write`) or not (`skip`), as for a letter batch. */
    emptyTargets: text('empty_targets', { enum: ['write', 'skip'] }),
    /** Letters mailings: the languages of each letter, as for a letter batch (null: each target's own). */
    languages: text('languages', { mode: 'json' }).$type<LetterLanguageCode[]>(),
    dryRun: integer('dry_run', { mode: 'boolean' }).notNull().default(false),
    /** Update mailings: only the supporters of these regions, partners and sources (src/services/segments.ts); null: every consenting supporter. */
    segment: text('segment', { mode: 'json' }).$type<MailingSegment | null>(),
    /** Letters to targets only go out inside this window in the target's zone; null: any time. */
    sendingWindow: text('sending_window', { mode: 'json' }).$type<SendingWindow | null>(),
    status: text('status', { enum: ['scheduled', 'running', 'paused', 'cancelled', 'finished', 'failed'] })
      .notNull()
      .default('scheduled'),
    total: integer('total').notNull().default(0),
    sent: integer('sent').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
    /** Lease of the scheduler process running it, so two processes never run one mailing. */
    lockedBy: text('locked_by'),
    lockedUntil: integer('locked_until'),
    lastError: text('last_error'),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('mailings_due_idx').on(t.status, t.sendAt), index('mailings_campaign_idx').on(t.campaignId, t.createdAt)],
);

/**
 * What a letters mailing did for each of its campaign's targets (PRODUCT.md §12): `emailed`,
 * `queued_for_print`, or `skipped` with the reason, so no target is left out silently. The
 * target's name is kept as it was, so the record reads the same after the target is renamed or removed.
 */
export const mailingTargetOutcomes = sqliteTable(
  'mailing_target_outcomes',
  {
    mailingId: text('mailing_id')
      .notNull()
      .references(() => mailings.id, { onDelete: 'cascade' }),
    targetId: text('target_id').notNull(),
    targetName: text('target_name').notNull(),
    outcome: text('outcome', { enum: ['emailed', 'queued_for_print', 'skipped'] }).notNull(),
    reason: text('reason', { enum: ['TARGET_HAS_NO_EMAIL', 'NO_SUPPORTERS_ROUTED'] }),
    recordedAt: integer('recorded_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.mailingId, t.targetId] })],
);

/**
 * One letter to one target through one channel (PRODUCT.md §3 Delivery).
 * email: queued → sending → sent | failed | bounced;
 * print: queued → printed → posted → delivered | returned.
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    letterId: text('letter_id')
      .notNull()
      .references(() => letters.id, { onDelete: 'restrict' }),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    targetId: text('target_id')
      .notNull()
      .references(() => targets.id, { onDelete: 'restrict' }),
    mailingId: text('mailing_id').references(() => mailings.id, { onDelete: 'set null' }),
    channel: text('channel', { enum: ['email', 'print'] }).notNull(),
    status: text('status', {
      enum: ['queued', 'sending', 'sent', 'failed', 'bounced', 'printed', 'posted', 'delivered', 'returned'],
    })
      .notNull()
      .default('queued'),
    /** The `Idempotency-Key` the delivery was created with: the same key returns the same delivery. */
    idempotencyKey: text('idempotency_key').unique(),
    /** The outbox row that carries an email delivery. */
    outboxId: text('outbox_id'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    trackingNumber: text('tracking_number'),
    /** The IPP job a print delivery was sent to PRINTER_URL as, and its last known state. */
    printJobUri: text('print_job_uri'),
    printJobState: text('print_job_state'),
    printJobCheckedAt: integer('print_job_checked_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    sentAt: integer('sent_at'),
    printedAt: integer('printed_at'),
    postedAt: integer('posted_at'),
    deliveredAt: integer('delivered_at'),
    returnedAt: integer('returned_at'),
    /**
     * The SHA-256 of the letter as it went out, kept once the letter's PDF was rendered again
     * after an erasure; null while the delivery carries the letter as it is (letters.sha256).
     */
    letterSha256: text('letter_sha256'),
  },
  (t) => [
    index('deliveries_status_idx').on(t.channel, t.status, t.createdAt),
    index('deliveries_letter_idx').on(t.letterId),
    uniqueIndex('deliveries_mailing_letter_uq').on(t.mailingId, t.letterId, t.channel),
  ],
);

/**
 * Addresses no mail may go to: a hard bounce or a complaint. Checked when a
 * mailing queues its messages and again by the sender.
 */
export const emailSuppressions = sqliteTable('email_suppressions', {
  /** Trimmed and lower-cased, as signatures.email_normalized. */
  emailNormalized: text('email_normalized').primaryKey(),
  reason: text('reason', { enum: ['hard_bounce', 'complaint', 'manual'] }).notNull(),
  detail: text('detail'),
  createdAt: integer('created_at').notNull(),
});

/** Bounce reports received, hard and soft, against an outbox message and its address. */
export const bounces = sqliteTable(
  'bounces',
  {
    id: text('id').primaryKey(),
    emailNormalized: text('email_normalized').notNull(),
    kind: text('kind', { enum: ['hard', 'soft'] }).notNull(),
    /** The Message-ID of the bounced message, when the report names it. */
    messageId: text('message_id'),
    outboxId: text('outbox_id'),
    diagnostic: text('diagnostic'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('bounces_email_idx').on(t.emailNormalized, t.createdAt), index('bounces_message_idx').on(t.messageId)],
);

/** Local opening hours for letters to targets: `HH:mm` bounds and ISO weekdays (1 = Monday … 7 = Sunday). */
export type SendingWindow = { start: string; end: string; days: number[] };

/**
 * Dashboard sign-ins: the cookie carries a random secret, the row its hash.
 * A session acts for the API token it was opened with, so revoking the token ends it.
 */
export const adminSessions = sqliteTable(
  'admin_sessions',
  {
    id: text('id').primaryKey(),
    /** SHA-256 of the cookie secret. */
    secretHash: text('secret_hash').notNull().unique(),
    /** Who the session acts for: an API token (signed in with the token) or a user (signed in with a password or link); exactly one is set. */
    tokenId: text('token_id'),
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    /**
     * A session signed in with ADMIN_TOKEN: a keyed hash (accounts key) of the token it was made
     * with, never the token, so the session ends once ADMIN_TOKEN changes. Null for any other session.
     */
    adminTokenFingerprint: text('admin_token_fingerprint'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
  },
  (t) => [index('admin_sessions_expiry_idx').on(t.expiresAt)],
);

/**
 * The audit log (PRODUCT.md §9): one row per organiser action through the API
 * or the dashboard, written by src/http/audit-trail.ts, and one per action of
 * Signet's own jobs that changes what is held (a purge, letters redacted after
 * an erasure). It names tokens, actions, routes and object ids, never a
 * supporter's personal data; it is kept AUDIT_RETENTION_DAYS (the retention
 * job deletes older rows and records that it did).
 */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    createdAt: integer('created_at').notNull(),
    /** `token` (an API token or the dashboard session opened with one), `user`, `anonymous` (a failed sign-in) or `system` (a job of Signet's own). */
    actorType: text('actor_type', { enum: ['token', 'user', 'anonymous', 'system'] }).notNull(),
    /** The token id (`env-admin-token` for ADMIN_TOKEN); never its secret. */
    actorId: text('actor_id'),
    /** The token's name when the action was taken (a later rename or revocation does not rewrite history). */
    actorName: text('actor_name'),
    /** A stable dotted name, e.g. `signatures.export` (src/http/audit-actions.ts). */
    action: text('action').notNull(),
    objectType: text('object_type'),
    objectId: text('object_id'),
    via: text('via', { enum: ['api', 'dashboard', 'job'] }).notNull(),
    /** Method and route pattern, e.g. `GET /api/v1/letters/:id`: never the path with its values or the query. */
    route: text('route').notNull(),
    requestId: text('request_id').notNull(),
    /** The HTTP status of the outcome (a refused or failed attempt is recorded too). */
    status: integer('status').notNull(),
    /** A job's figures (counts, a cut-off), never personal data. */
    details: text('details', { mode: 'json' }).$type<Record<string, string | number> | null>(),
  },
  (t) => [
    index('audit_events_created_idx').on(t.createdAt, t.id),
    index('audit_events_actor_idx').on(t.actorId, t.createdAt, t.id),
    index('audit_events_action_idx').on(t.action, t.createdAt, t.id),
  ],
);

/**
 * A person who signs in to the dashboard (PRODUCT.md §11). `orgRole` owner or
 * admin reaches every campaign; without one, only the campaigns in
 * campaign_members. An invited user has no password until the invitation is
 * taken up. The TOTP secret is sealed with a key derived from SECRET_KEY, so
 * a copy of the database alone does not give the second factor.
 */
export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    /** Lower-cased; unique. */
    email: text('email').notNull().unique(),
    name: text('name').notNull(),
    /** `$scrypt$…` (Node) or `$pbkdf2-sha256$…` (Workers); null until the user sets one. */
    passwordHash: text('password_hash'),
    orgRole: text('org_role', { enum: ['owner', 'admin'] }),
    /** Preferred dashboard language. */
    locale: text('locale', { enum: ['en', 'ja'] }).notNull().default('en'),
    totpSecretSealed: text('totp_secret_sealed'),
    totpEnabledAt: integer('totp_enabled_at'),
    /** The last TOTP time step accepted: a code is refused once its step is used, so it cannot be replayed. */
    totpLastStep: integer('totp_last_step'),
    /**
     * The password checks (and second-factor codes) allowed to clients without
     * the account's device cookie, as a leaky bucket: each check moves this
     * instant one interval later, and a check is allowed while it is less than
     * the burst ahead of now (src/services/sign-in-throttle.ts). Null: whole.
     */
    untrustedBudgetFullAt: integer('untrusted_budget_full_at'),
    invitedBy: text('invited_by'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** Set when an owner removes the user: sessions end, sign-in refused; kept so the audit log's names stay meaningful. */
    disabledAt: integer('disabled_at'),
  },
);

/** A user's role on one campaign. */
export const campaignMembers = sqliteTable(
  'campaign_members',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['editor', 'viewer'] }).notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.campaignId] }), index('campaign_members_campaign_idx').on(t.campaignId)],
);

/**
 * One-time links sent by email or printed at first start: create the owner,
 * take up an invitation, sign in without a password, reset a password. Only
 * the SHA-256 of the secret is stored; a link works once, before `expiresAt`.
 */
export const accountLinks = sqliteTable(
  'account_links',
  {
    id: text('id').primaryKey(),
    purpose: text('purpose', { enum: ['owner_setup', 'invitation', 'sign_in', 'password_reset'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    /** Null only for owner_setup (the owner does not exist yet). */
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    /** Second-factor codes tried after this sign-in link was used (a link's code attempts are its own, whatever else throttles the account). */
    codeAttempts: integer('code_attempts').notNull().default(0),
  },
  (t) => [index('account_links_user_idx').on(t.userId, t.purpose)],
);

/**
 * The password-check budget of one sign-in device cookie of a user
 * (src/services/sign-in-throttle.ts). A row exists only while the budget is
 * not whole: the cookie itself is stateless (a MAC), so devices that never
 * fail leave nothing here.
 */
export const signInDevices = sqliteTable(
  'sign_in_devices',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The random id the cookie carries (not a secret: the cookie's MAC is). */
    deviceId: text('device_id').notNull(),
    /** As users.untrusted_budget_full_at, for this device alone. */
    budgetFullAt: integer('budget_full_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.deviceId] })],
);

/**
 * A reply from a target (PRODUCT.md §11): an answer by post, email, fax or in
 * person, recorded by an organiser. A scanned file is stored like a letter
 * (under DATA_DIR or in R2) at `filePath`.
 */
export const replies = sqliteTable(
  'replies',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    targetId: text('target_id')
      .notNull()
      .references(() => targets.id, { onDelete: 'restrict' }),
    /** The day the reply arrived, `YYYY-MM-DD`. */
    receivedOn: text('received_on').notNull(),
    channel: text('channel', { enum: ['post', 'email', 'fax', 'phone', 'in_person', 'other'] }).notNull(),
    summary: text('summary').notNull(),
    /** Shown on the public campaign page when true. */
    public: integer('public', { mode: 'boolean' }).notNull().default(false),
    filePath: text('file_path'),
    fileType: text('file_type'),
    fileBytes: integer('file_bytes'),
    fileSha256: text('file_sha256'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('replies_campaign_idx').on(t.campaignId, t.receivedOn), index('replies_target_idx').on(t.targetId, t.receivedOn)],
);

/**
 * Fixed-window counters of the per-client limits where one process's memory
 * is not enough (Workers: every isolate has its own): one row per limited
 * key, a keyed hash of the client and the bucket (src/services/database-rate-limiter.ts),
 * never an address. Rows whose window has ended are purged by the cron.
 */
export const rateLimitWindows = sqliteTable('rate_limit_windows', {
  key: text('key').primaryKey(),
  windowEndsAt: integer('window_ends_at').notNull(),
  count: integer('count').notNull(),
});

/** The organisation's signatory on letters: who signs, and as what. */
export type OrganisationSignatory = { name: string; title: string | null };

/** What the organisation profile holds in one language other than its main one (PRODUCT.md §12). */
export type OrganisationTranslation = { name?: string; postalAddress?: PostalAddress; signatory?: OrganisationSignatory };

/** The sending organisation as stored (src/services/organisation.ts). */
export type OrganisationProfileData = {
  name: string;
  postalAddress: PostalAddress;
  /** Empty only in a seed whose organisation.json gave none; a saved profile always has one. */
  email: string;
  phone: string | null;
  website: string | null;
  signatory: OrganisationSignatory;
  translations: Partial<Record<Locale, OrganisationTranslation>>;
};

/**
 * The organisation profile (PRODUCT.md §12): one row (id 1), seeded from
 * `letters/organisation.json` the first time it is read, then edited from
 * the dashboard or `PUT /api/v1/organisation`. `isExample` marks a seed that
 * is still the shipped placeholder; letters, letters mailings and the public
 * privacy notice refuse to speak for it.
 */
export const ORGANISATION_PROFILE_ID = 1;

export const organisationProfile = sqliteTable('organisation_profile', {
  id: integer('id').primaryKey(),
  profile: text('profile', { mode: 'json' }).$type<OrganisationProfileData>().notNull(),
  isExample: integer('is_example', { mode: 'boolean' }).notNull(),
  updatedAt: integer('updated_at').notNull(),
});
