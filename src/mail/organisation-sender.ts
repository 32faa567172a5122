import { eq } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { ORGANISATION_PROFILE_ID, organisationProfile } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { parseSender } from './transports/mime-message.js';

/** How long a sender keeps the organisation's names before reading them again: a change to them shows within this. */
const NAMES_TTL_MS = 5_000;

type SenderNames = { main: string; byLocale: Record<string, string> } | null;

/**
 * A display name as an RFC 5322 quoted string: control characters and line
 * breaks (anything that could start a new header) become spaces, and quotes
 * and backslashes are escaped, so no name can add to the header it sits in.
 * Non-ASCII names are left for the transport to write as encoded words.
 */
export function quotedDisplayName(name: string): string {
  const oneLine = name.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').replace(/\s+/g, ' ').trim();
  return `"${oneLine.replace(/[\\"]/g, '\\$&')}"`;
}

/** `"<name>" <address of mailFrom>`; mailFrom as given when it names no usable address (the transport then says so). */
export function senderWithName(mailFrom: string, name: string): string {
  let address: string;
  try {
    address = parseSender(mailFrom).address;
  } catch {
    return mailFrom;
  }
  return name.trim() === '' ? mailFrom : `${quotedDisplayName(name)} <${address}>`;
}

/**
 * The From line of every email (PRODUCT.md §12): the MAIL_FROM address with
 * the organisation's name as its display name, in the message's language
 * where the profile gives one; MAIL_FROM as it is while the profile is the
 * shipped example or not set, so the example never speaks for anyone. Read
 * at most every few seconds, whatever the number of messages.
 */
export class OrganisationSender {
  private names: { value: Promise<SenderNames>; expiresAt: number } | undefined;
  /** Prepared once: while the profile is unset it is read for every message, and building the query each time cost the sender more than reading it. */
  private profileRead: ReturnType<OrganisationSender['prepareProfileRead']> | undefined;

  constructor(
    private readonly database: Database,
    private readonly mailFrom: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** The From line for a message in `locale`. */
  async fromLine(locale: string | undefined): Promise<string> {
    const names = await this.currentNames();
    if (!names) return this.mailFrom;
    return senderWithName(this.mailFrom, (locale !== undefined ? names.byLocale[locale] : undefined) ?? names.main);
  }

  private currentNames(): Promise<SenderNames> {
    const now = this.clock.now();
    if (!this.names || this.names.expiresAt <= now) this.names = { value: this.readNames(), expiresAt: now + NAMES_TTL_MS };
    return this.names.value;
  }

  private async readNames(): Promise<SenderNames> {
    try {
      this.profileRead ??= this.prepareProfileRead();
      const row = await this.profileRead.get();
      if (!row || row.isExample) {
        // Not kept: until the organisation is saved each message reads again, so the first after the save already speaks for it.
        this.names = undefined;
        return null;
      }
      const byLocale: Record<string, string> = {};
      for (const [locale, translation] of Object.entries(row.profile.translations)) if (translation?.name) byLocale[locale] = translation.name;
      return { main: row.profile.name, byLocale };
    } catch (error) {
      // A message still goes, from MAIL_FROM as it is; the next read tries again.
      this.names = undefined;
      this.logger.warn('organisation name unavailable for the From line', { error: String(error) });
      return null;
    }
  }

  private prepareProfileRead() {
    return this.database.db
      .select({ profile: organisationProfile.profile, isExample: organisationProfile.isExample })
      .from(organisationProfile)
      .where(eq(organisationProfile.id, ORGANISATION_PROFILE_ID))
      .prepare();
  }
}
