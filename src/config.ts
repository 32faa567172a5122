import * as v from 'valibot';
import { checkMailApiUrl, MailApiUrlError } from './mail/transports/http-mail-transport.js';
import { planSmtpConnection, SmtpUrlError } from './mail/transports/smtp-tls.js';
import type { PrivacySettings } from './services/context.js';

/** `N/Ss` (e.g. `5/300s`) or `off`. */
const RateLimitSetting = v.pipe(
  v.string(),
  v.regex(/^(off|\d+\/\d+s)$/, 'must be "N/Ss" (e.g. 5/300s) or "off"'),
  v.transform((value) => {
    if (value === 'off') return null;
    const [count, seconds] = value.slice(0, -1).split('/').map(Number) as [number, number];
    return { limit: count, windowMs: seconds * 1000 };
  }),
  v.check((value) => value === null || (value.limit > 0 && value.windowMs > 0), 'count and window must be positive'),
);

const BooleanSetting = v.pipe(
  v.picklist(['true', 'false', '1', '0'], 'must be true or false'),
  v.transform((value) => value === 'true' || value === '1'),
);

const UrlSetting = v.pipe(v.string(), v.url('must be an absolute URL'));

/**
 * To any host but the loopback, mail goes over TLS: `smtps://`, or `smtp://`
 * with STARTTLS required. `?tls=optional` opts out (src/mail/transports/smtp-tls.ts).
 */
const SmtpUrlSetting = v.pipe(
  v.string(),
  v.regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://'),
  v.url('must be a URL such as smtp://user:pass@host:587'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.issues) return;
    try {
      planSmtpConnection(dataset.value);
    } catch (error) {
      if (!(error instanceof SmtpUrlError)) throw error;
      addIssue({ message: error.message });
    }
  }),
);

/** A user name and password go over `ipps://` only: plain `ipp://` would send them readable to anyone on the way. */
const PrinterUrlSetting = v.pipe(
  v.string(),
  v.regex(/^ipps?:\/\//, 'must start with ipp:// or ipps://'),
  v.url('must be a URL such as ipp://localhost:631/printers/Letters'),
  v.check(
    (value) => !/^ipp:\/\/[^/?#]*@/i.test(value),
    'carries a user name or password, which must not travel over plain ipp://; use ipps://',
  ),
);

/** Whether `origin` may frame the embed: https, or http on the loopback (a blog run locally while trying it out). */
function isEmbedOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // The URL parser lets `*` through in a host name; a CSP source would read it as a wildcard.
  if (url.origin !== origin || !/^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(url.hostname)) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}

/**
 * EMBED_ORIGINS: the sites allowed to frame `/c/:slug/embed`, as origins (`https://blog.example.org`)
 * separated by spaces or commas. They become its CSP `frame-ancestors`, so an origin must be
 * exact: no path, no trailing slash, no wildcard. Empty: the embed is framed nowhere.
 */
const EmbedOriginsSetting = v.pipe(
  v.string(),
  v.transform((value) => value.split(/[\s,]+/).filter(Boolean)),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const origin of dataset.value) {
      if (!isEmbedOrigin(origin)) addIssue({ message: `${JSON.stringify(origin)} is not an origin such as https://blog.example.org (https, no path or trailing slash)` });
    }
  }),
);

const PositiveIntSetting = (min: number, max: number) =>
  v.pipe(v.string(), v.regex(/^\d+$/, 'must be a whole number'), v.transform(Number), v.minValue(min), v.maxValue(max));

const SettingsFields = v.object({
  PORT: v.optional(PositiveIntSetting(0, 65535), '3000'),
  HOST: v.optional(v.pipe(v.string(), v.nonEmpty()), '127.0.0.1'),
  DATABASE_PATH: v.optional(v.pipe(v.string(), v.nonEmpty()), './data/signet.db'),
  /** Defaults to http://localhost:<PORT>. */
  PUBLIC_URL: v.optional(UrlSetting),
  ADMIN_TOKEN: v.optional(v.pipe(v.string(), v.minLength(24, 'must be at least 24 characters'))),
  /** A bearer token that opens GET /metrics and nothing else (for a Prometheus server); an admin token works too. */
  METRICS_TOKEN: v.optional(v.pipe(v.string(), v.minLength(24, 'must be at least 24 characters'))),
  SMTP_URL: v.optional(SmtpUrlSetting),
  MAIL_FROM: v.optional(v.pipe(v.string(), v.regex(/^[^\r\n]+$/, 'must be one line')), 'Signet <no-reply@localhost>'),
  DATA_DIR: v.optional(v.pipe(v.string(), v.nonEmpty()), './data'),
  SIGN_RATE_LIMIT: v.optional(RateLimitSetting, '5/300s'),
  TRUST_PROXY: v.optional(BooleanSetting, 'false'),
  /** Webhooks may point to the loopback and private networks (a receiver on the same machine or LAN); off by default (src/lib/webhook-targets.ts). */
  WEBHOOK_ALLOW_PRIVATE: v.optional(BooleanSetting, 'false'),
  LOG_LEVEL: v.optional(v.picklist(['debug', 'info', 'warn', 'error'], 'must be debug, info, warn or error'), 'info'),
  /** `off` when another process (e.g. a dedicated worker) sends the outbox. */
  MAIL_SENDER: v.optional(v.picklist(['on', 'off'], 'must be on or off'), 'on'),
  CONFIRM_TOKEN_TTL_HOURS: v.optional(PositiveIntSetting(1, 24 * 90), '168'),
  /**
   * Hours after which a signing request still unconfirmed gets its one reminder (src/services/reminders.ts);
   * `0` or `off`: none. Unset: 48, or none when a link lives 48 hours or less.
   */
  REMINDER_AFTER_HOURS: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^(off|\d+)$/, 'must be a whole number of hours, or 0 or "off" for no reminders'),
      v.transform((value) => (value === 'off' || Number(value) === 0 ? null : Number(value))),
    ),
  ),
  /** Most messages the outbox sender of one process starts per second; 0: no cap. */
  MAIL_RATE_PER_SECOND: v.optional(PositiveIntSetting(0, 10_000), '0'),
  /** SMTP connections kept open to the relay. */
  SMTP_POOL_SIZE: v.optional(PositiveIntSetting(1, 100), '5'),
  /** Messages sent over one pooled SMTP connection before it is replaced. */
  SMTP_MAX_MESSAGES: v.optional(PositiveIntSetting(1, 1_000_000), '1000'),
  /** Sites allowed to show the signing form of `/c/:slug/embed` in a frame (origins, space- or comma-separated). */
  EMBED_ORIGINS: v.optional(EmbedOriginsSetting, ''),
  /** An IPP printer or CUPS queue; when set, the background work prints queued print deliveries on it. */
  PRINTER_URL: v.optional(PrinterUrlSetting),
  /**
   * The root secret every key is derived from (src/lib/keyring.ts). Without
   * it and SECRET_KEY_FILE, a key file DATA_DIR/secret.key (0600) is made at
   * first start. Never stored in the database.
   */
  SECRET_KEY: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)'))),
  /** A file holding the root secret (e.g. a mounted secret); must exist. */
  SECRET_KEY_FILE: v.optional(v.pipe(v.string(), v.nonEmpty())),
  /**
   * The root secret before a rotation: links made under it keep working until
   * it is removed (README: Privacy). Without it, a key file `<key file>.previous` is read if present.
   */
  SECRET_KEY_PREVIOUS: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
  /** Personal data of a campaign closed or archived longer than this many days is anonymised by the retention job; 0: at the next run. */
  RETENTION_DAYS: v.optional(PositiveIntSetting(0, 36_500), '365'),
  /** Audit log events older than this many days are deleted by the retention job (which records the purge itself). */
  AUDIT_RETENTION_DAYS: v.optional(PositiveIntSetting(1, 36_500), '730'),
  /** Unconfirmed signatures older than this many days are deleted. */
  PENDING_TTL_DAYS: v.optional(PositiveIntSetting(1, 365), '30'),
  /** In anything a target or the public sees, a region with fewer signatures than this is merged into "other regions". */
  PUBLIC_REGION_MIN: v.optional(PositiveIntSetting(1, 1_000), '5'),
  /** Confirmation and privacy emails per address per window (`N/Ss`); a window, never a lifetime cap, so nobody can lock a supporter out. */
  CONFIRM_EMAIL_LIMIT: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+\/\d+s$/, 'must be "N/Ss" (e.g. 3/3600s)'),
      v.transform((value) => {
        const [count, seconds] = value.slice(0, -1).split('/').map(Number) as [number, number];
        return { limit: count, windowMs: seconds * 1000 };
      }),
      v.check((value) => value.limit > 0 && value.windowMs > 0, 'count and window must be positive'),
    ),
    '3/3600s',
  ),
  /**
   * Confirmation emails (signing and privacy links) sent per minute over every address and every
   * process (counted in the database): past it requests are still held and their emails wait,
   * served fairly by source, so Signet cannot be used to flood inboxes. `off`: no limit.
   */
  CONFIRM_EMAILS_PER_MINUTE: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^(off|\d+)$/, 'must be a whole number or "off"'),
      v.transform((value) => (value === 'off' ? null : Number(value))),
      v.check((value) => value === null || (value >= 1 && value <= 1_000_000), 'must be between 1 and 1000000, or "off"'),
    ),
    '600',
  ),
});

/** REMINDER_AFTER_HOURS when unset: reminders on, where a link outlives it. */
const DEFAULT_REMINDER_AFTER_HOURS = 48;

/** A reminder carries the request's link, so it must come while the link still works. */
const remindsBeforeExpiry = (settings: { REMINDER_AFTER_HOURS?: number | null | undefined; CONFIRM_TOKEN_TTL_HOURS: number }) =>
  settings.REMINDER_AFTER_HOURS == null || settings.REMINDER_AFTER_HOURS < settings.CONFIRM_TOKEN_TTL_HOURS;
const REMINDER_AFTER_EXPIRY =
  'must be less than CONFIRM_TOKEN_TTL_HOURS (the reminder carries the confirmation link, which must still work), or 0 or "off"';

export const Settings = v.pipe(
  SettingsFields,
  v.transform((settings) => ({ ...settings, PUBLIC_URL: settings.PUBLIC_URL ?? `http://localhost:${settings.PORT}` })),
  v.check((settings) => !(settings.SECRET_KEY && settings.SECRET_KEY_FILE), 'set SECRET_KEY or SECRET_KEY_FILE, not both'),
  v.forward(v.partialCheck([['REMINDER_AFTER_HOURS'], ['CONFIRM_TOKEN_TTL_HOURS']], remindsBeforeExpiry, REMINDER_AFTER_EXPIRY), ['REMINDER_AFTER_HOURS']),
);

export type Settings = v.InferOutput<typeof Settings>;

/**
 * Settings that only mean something to a Node process (a port, files, a
 * connection pool, a printer on the network, a key file, a proxy in front):
 * a Worker has none of them, so they are not read there.
 */
const nodeOnlySettings = [
  'PORT',
  'HOST',
  'DATABASE_PATH',
  'DATA_DIR',
  'SMTP_POOL_SIZE',
  'SMTP_MAX_MESSAGES',
  'PRINTER_URL',
  'SECRET_KEY_FILE',
  'MAIL_SENDER',
  'TRUST_PROXY',
] as const;

const WorkerSettingsFields = v.object({
  ...v.omit(SettingsFields, nodeOnlySettings).entries,
  // No port to derive a default from, and no key file to make at first start.
  PUBLIC_URL: UrlSetting,
  SECRET_KEY: v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)')),
  /** An HTTP mail API for relays a Worker cannot reach over TCP (src/mail/transports/http-mail-transport.ts). */
  MAIL_API_URL: v.optional(
    v.pipe(
      UrlSetting,
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed || dataset.issues) return;
        try {
          checkMailApiUrl(dataset.value);
        } catch (error) {
          if (!(error instanceof MailApiUrlError)) throw error;
          addIssue({ message: error.message });
        }
      }),
    ),
  ),
  MAIL_API_TOKEN: v.optional(v.pipe(v.string(), v.nonEmpty())),
  /**
   * Recipients per mailing batch on Workers: one D1 batch of one statement each, six batches a
   * pass, within the 1,000 queries an invocation may run on the paid plan.
   */
  MAILING_BATCH_SIZE: v.optional(PositiveIntSetting(1, 150), '100'),
});

/** The settings of the Cloudflare Worker (src/entry/worker.ts): the same schema without the Node-only ones. */
export const WorkerSettings = v.pipe(
  WorkerSettingsFields,
  v.forward(v.partialCheck([['REMINDER_AFTER_HOURS'], ['CONFIRM_TOKEN_TTL_HOURS']], remindsBeforeExpiry, REMINDER_AFTER_EXPIRY), ['REMINDER_AFTER_HOURS']),
  v.check((settings) => !(settings.SMTP_URL && settings.MAIL_API_URL), 'set SMTP_URL or MAIL_API_URL, not both'),
  v.check((settings) => Boolean(settings.SMTP_URL ?? settings.MAIL_API_URL), 'set SMTP_URL or MAIL_API_URL: a Worker has no disk to write mail files to'),
  v.check((settings) => !settings.MAIL_API_URL || Boolean(settings.MAIL_API_TOKEN), 'MAIL_API_URL needs MAIL_API_TOKEN'),
);

export type WorkerSettings = v.InferOutput<typeof WorkerSettings>;

/** Bad settings, each named with what is wrong (never its value): one line per mistake. */
export class SettingsError extends Error {
  constructor(readonly problems: { setting: string; message: string }[]) {
    const [only] = problems;
    super(
      problems.length === 1 && only
        ? `Invalid setting ${only.setting}: ${only.message}`
        : `Invalid settings:\n${problems.map((p) => `  ${p.setting}: ${p.message}`).join('\n')}`,
    );
    this.name = 'SettingsError';
  }
}

/**
 * Reads and validates the settings once. Empty strings count as unset, so
 * `SMTP_URL=` in a .env file means "no SMTP" rather than an invalid URL.
 */
export function loadSettings(env: Record<string, string | undefined>): Settings {
  return parseSettings(Settings, Object.keys(SettingsFields.entries), env);
}

/** The names of the settings a Worker reads (worker:dev passes these through from the environment). */
export const workerSettingNames = Object.keys(WorkerSettingsFields.entries);

/** The Worker's settings from its `env` (vars and secrets), validated like Node's. */
export function loadWorkerSettings(env: Record<string, unknown>): WorkerSettings {
  return parseSettings(WorkerSettings, workerSettingNames, env);
}

function parseSettings<Schema extends v.GenericSchema<Record<string, string>, unknown>>(schema: Schema, keys: string[], env: Record<string, unknown>): v.InferOutput<Schema> {
  const input: Record<string, string> = {};
  for (const key of keys) {
    const value = env[key];
    if (typeof value === 'string' && value !== '') input[key] = value;
  }
  const result = v.safeParse(schema, input);
  if (!result.success) {
    // A setting's first problem is its mistake: `SMTP_URL=notaurl` lacks the scheme, and saying it
    // is also no URL adds nothing. (abortPipeEarly would say it too, but would also skip the checks
    // across settings, such as a Worker's "set SMTP_URL or MAIL_API_URL", after any other problem.)
    const firstBySetting = new Map<string, string>();
    for (const issue of result.issues) {
      const setting = issue.path?.map((p) => String(p.key)).join('.') ?? '(settings)';
      if (!firstBySetting.has(setting)) firstBySetting.set(setting, issue.message);
    }
    throw new SettingsError([...firstBySetting].map(([setting, message]) => ({ setting, message })));
  }
  return result.output;
}

/** The §8 settings as services see them, from either runtime's settings. */
export function privacySettings(
  settings: Pick<Settings, 'RETENTION_DAYS' | 'PENDING_TTL_DAYS' | 'PUBLIC_REGION_MIN' | 'CONFIRM_EMAIL_LIMIT' | 'CONFIRM_EMAILS_PER_MINUTE' | 'AUDIT_RETENTION_DAYS'>,
): PrivacySettings {
  return {
    retentionDays: settings.RETENTION_DAYS,
    pendingTtlDays: settings.PENDING_TTL_DAYS,
    publicRegionMin: settings.PUBLIC_REGION_MIN,
    emailsPerAddress: settings.CONFIRM_EMAIL_LIMIT,
    auditRetentionDays: settings.AUDIT_RETENTION_DAYS,
    confirmEmailsPerMinute: settings.CONFIRM_EMAILS_PER_MINUTE,
  };
}

/**
 * How long a signing request waits unconfirmed before its one reminder, in
 * ms; null: no reminders (REMINDER_AFTER_HOURS is 0 or off, or unset where a
 * link lives no longer than the default wait).
 */
export function reminderAfterMs(settings: Pick<Settings, 'REMINDER_AFTER_HOURS' | 'CONFIRM_TOKEN_TTL_HOURS'>): number | null {
  const hours =
    settings.REMINDER_AFTER_HOURS === undefined
      ? DEFAULT_REMINDER_AFTER_HOURS < settings.CONFIRM_TOKEN_TTL_HOURS
        ? DEFAULT_REMINDER_AFTER_HOURS
        : null
      : settings.REMINDER_AFTER_HOURS;
  return hours === null ? null : hours * 3_600_000;
}
