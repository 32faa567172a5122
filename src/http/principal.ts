import type { Context } from 'hono';
import type { Principal } from '../services/tokens.js';
import type { AppEnv } from './env.js';

/** The principal requireScope put on the context, for routes that record who acted. */
export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get('principal');
  if (!principal) throw new Error('this route must run after requireScope');
  return principal;
}
