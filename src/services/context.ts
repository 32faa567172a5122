import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { TtlCache } from '../lib/ttl-cache.js';

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
  /**
   * Recently read campaigns for the sign path, by slug. Changes made in this
   * process clear their entry at once; another process's changes show after
   * the cache's time to live (a second).
   */
  signingCampaigns?: TtlCache<SigningCampaign | null>;
};

export type SigningCampaign = {
  id: string;
  status: 'draft' | 'open' | 'closed' | 'archived';
  title: string;
  locale: 'en' | 'ja' | 'ko' | 'zh';
  translations: Partial<Record<'en' | 'ja' | 'ko' | 'zh', { title: string }>>;
  opensAt: number | null;
  closesAt: number | null;
  timeZone: string;
};
