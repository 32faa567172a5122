import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';

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
};
