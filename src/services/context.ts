import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { Keyring } from '../lib/keyring.js';
import type { Logger } from '../lib/logger.js';
import type { PasswordHasher } from '../lib/passwords.js';
import type { TtlCache } from '../lib/ttl-cache.js';
import type { OrganisationProfileData } from '../db/schema.js';
import type { Locale } from '../lib/locales.js';
import type { Blocklist } from './blocklist-rules.js';
import type { ErasureLedger } from './erasure-ledger.js';

/*
 * A leaf: the context and the types of what it carries are defined here (or in
 * leaves of their own), so the services that fill them in (access, audit,
 * organisation, blocklist) import this file and not the other way round.
 */

/**
 * What a caller may reach (PRODUCT.md §11), decided once per request from its
 * principal and checked by the service verbs themselves, so the API, the
 * dashboard and any later caller get the same answer.
 *
 * - `organisation`: every campaign and the organisation's own resources (the
 *   target directory, tokens, users, block list, privacy requests, audit log).
 *   Owners, admins, unlimited API tokens, the CLI and the jobs.
 * - `campaigns`: only the listed campaigns (by id), each as `editor` (may
 *   change it) or `viewer` (may only read it). Campaign-limited tokens are
 *   editors of their campaigns; what they may do there still follows their scopes.
 * - `partner`: a token limited to one coalition partner of one campaign
 *   (PRODUCT.md §13). It reaches no campaign and none of the organisation's
 *   resources: the only verb that lets it in is the list of that partner's
 *   opted-in supporters (src/services/partners.ts), so any other verb refuses it.
 *
 * A campaign outside the caller's reach answers 404, exactly as one that does
 * not exist, so its existence is not disclosed. A viewer trying to change a
 * campaign it can see answers 403.
 */
export type CampaignRole = 'editor' | 'viewer';
export type Access =
  | { kind: 'organisation' }
  | { kind: 'campaigns'; campaigns: ReadonlyMap<string, CampaignRole> }
  | { kind: 'partner'; campaignId: string; partnerId: string };

/**
 * One organiser action as the HTTP layer reports it. Only ids, names and
 * patterns: the recorder is never handed a body, a query string or a path
 * with its values, so no supporter's address can end up in the log; at most
 * a value from a closed list the route map names (`details`, e.g. an export's format).
 */
export type AuditEventInput = {
  at: number;
  /** Null for an attempt by nobody known (a failed sign-in). */
  principal: { kind: 'token' | 'user'; id: string; name: string } | null;
  action: string;
  object: { type: string; id: string | null } | null;
  via: 'api' | 'dashboard';
  route: string;
  requestId: string;
  status: number;
  /** Which variant of the action (src/http/audit-actions.ts `queryDetail`). */
  details?: Record<string, string>;
};

/** Where the HTTP layer hands events: recorded later, in batches, never in the request's way. */
export interface AuditSink {
  /**
   * Queues an event (or a promise of one, e.g. while the id of a created
   * object is read from the response). Returns the write that will include
   * it, for runtimes that must be told to wait for it (Workers' waitUntil);
   * it never rejects.
   */
  record(event: AuditEventInput | Promise<AuditEventInput | null>): Promise<void>;
  /** Writes everything queued so far; never rejects (a failed write is logged). */
  flush(): Promise<void>;
}

/** The stored profile and whether it is the shipped example (cached per process for pages: ServiceContext.organisation). */
export type OrganisationState = { profile: OrganisationProfileData; isExample: boolean; updatedAt: number | null };

/** What every service verb receives: its ports, never HTTP. */
export type ServiceContext = {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** Base of every link put in an email or a letter, without a trailing slash. */
  publicUrl: string;
  /** Sender of every email, e.g. `Signet <no-reply@example.org>`. */
  mailFrom: string;
  confirmTokenTtlMs: number;
  /** Every key, derived from the root secret (never stored in the database). */
  keys: Keyring;
  /** The privacy settings (PRODUCT.md §2, §8). */
  privacy: PrivacySettings;
  /**
   * Recently read campaigns for the sign path, by slug. Changes made in this
   * process clear their entry at once; another process's changes show after
   * the cache's time to live (a second).
   */
  signingCampaigns?: TtlCache<SigningCampaign | null>;
  /**
   * The block list as the sign path reads it (src/services/blocklist.ts).
   * Changes made in this process clear it at once; another process's show
   * after the cache's time to live.
   */
  blocklist?: TtlCache<Promise<Blocklist>>;
  /**
   * The organisation profile as pages and the dashboard banner read it
   * (src/services/organisation.ts). A save in this process clears it at once;
   * another process's shows after the cache's time to live.
   */
  organisation?: TtlCache<Promise<OrganisationState>>;
  /** Where organiser actions are recorded (src/services/audit.ts); absent where nothing is audited (CLI, jobs). */
  audit?: AuditSink;
  /**
   * What the caller reaches (src/services/access.ts). The process-wide context
   * (CLI, jobs) has the organisation's; a request's context
   * (`serviceContextOf`, src/http/principal.ts) has its principal's, and the
   * service verbs check it.
   */
  access: Access;
  /**
   * How organisers' passwords are hashed (src/lib/passwords.ts): scrypt on
   * Node, PBKDF2 through WebCrypto on Workers. Where none is given (tests and
   * tools that never see a password) the accounts use WebCrypto PBKDF2.
   */
  passwords?: PasswordHasher;
  /**
   * Where every erasure is recorded outside the database, so that a restore of
   * an older backup erases the same people again (Node: DATA_DIR/erasures.ledger,
   * src/operations/erasure-ledger-file.ts). Absent on Workers, which have no
   * restore of their own (README: What differs between the runtimes).
   */
  erasureLedger?: ErasureLedger;
  /** WEBHOOK_ALLOW_PRIVATE: webhooks may point to the loopback and private networks (src/lib/webhook-targets.ts); absent: false. */
  webhookAllowPrivate?: boolean;
  /** Told when an erasure queued letters to be rendered again (src/services/letter-redaction.ts), so the job need not wait for its next round. */
  onLettersToRedact?: () => void;
};

export type SigningCampaign = {
  id: string;
  status: 'draft' | 'open' | 'closed' | 'archived';
  title: string;
  locale: Locale;
  translations: Partial<Record<Locale, { title: string }>>;
  opensAt: number | null;
  closesAt: number | null;
  timeZone: string;
};

/** Limits and periods that protect supporters' data (SECRET_KEY aside, the §8 settings). */
export type PrivacySettings = {
  /** Days after a campaign closes before its supporters' personal data is anonymised (RETENTION_DAYS). */
  retentionDays: number;
  /** Days an unconfirmed signature is kept (PENDING_TTL_DAYS). */
  pendingTtlDays: number;
  /** Regions with fewer signatures are merged into "other regions" wherever a target or the public looks (PUBLIC_REGION_MIN). */
  publicRegionMin: number;
  /** Confirmation and privacy emails per address per window (CONFIRM_EMAIL_LIMIT): when they are sent, never whether a request is held. */
  emailsPerAddress: { limit: number; windowMs: number };
  /** Days the audit log is kept; the retention job deletes older events (AUDIT_RETENTION_DAYS). */
  auditRetentionDays: number;
  /** Confirmation and privacy emails per minute over every address (CONFIRM_EMAILS_PER_MINUTE); null: no limit; absent: 600. */
  confirmEmailsPerMinute?: number | null;
};

/** Days IP hashes are kept (for rate limits and abuse review), whatever else is kept. */
export const IP_HASH_RETENTION_DAYS = 30;

export const defaultPrivacySettings: PrivacySettings = {
  retentionDays: 365,
  pendingTtlDays: 30,
  publicRegionMin: 5,
  emailsPerAddress: { limit: 3, windowMs: 3_600_000 },
  auditRetentionDays: 730,
};
