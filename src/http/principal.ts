import type { Context } from 'hono';
import type { Principal } from '../services/tokens.js';
import type { ServiceContext } from '../services/context.js';
import type { AppEnv } from './env.js';

/**
 * The service context for this request: the app's ports with the caller's
 * access, so every service verb answers as this principal may see it.
 * Organiser routes and dashboard pages call services through this, never
 * through `services.ctx` (the organisation's context, for jobs and the CLI).
 */
export function serviceContextOf<E extends AppEnv>(c: Context<E>): ServiceContext {
  const services = c.get('services');
  return { ...services.ctx, access: principalOf(c).access };
}

/** The principal requireScope put on the context, for routes that record who acted. */
export function principalOf<E extends AppEnv>(c: Context<E>): Principal {
  const principal = c.get('principal');
  if (!principal) throw new Error('this route must run after requireScope');
  return principal;
}
