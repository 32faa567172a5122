import { Keyring } from '../../src/lib/keyring.js';
import { defaultPrivacySettings } from '../../src/services/context.js';

/** A root secret for tests (never one a real installation uses). */
export const TEST_ROOT_SECRET = 'test-root-secret-0123456789abcdefghijklmnop';

export const testKeys = await Keyring.create(TEST_ROOT_SECRET);

export const testPrivacy = defaultPrivacySettings;

/** Links in test emails: the test app's PUBLIC_URL and the test keys. */
export const testLinks = { publicUrl: 'http://localhost:3000', keys: testKeys };
