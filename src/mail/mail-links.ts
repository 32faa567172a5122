import type { Keyring } from '../lib/keyring.js';

/** What rendering a stored message needs to make its links: tokens are derived at send time, never stored. */
export type MailLinks = { publicUrl: string; keys: Keyring };
