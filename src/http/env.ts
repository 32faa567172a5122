import type { Logger } from '../lib/logger.js';
import type { AppServices } from '../app.js';
import type { Principal } from '../services/tokens.js';

/** Hono context variables set by the middleware in src/http. */
export type AppEnv = {
  Variables: {
    requestId: string;
    services: AppServices;
    logger: Logger;
    principal?: Principal;
  };
};
