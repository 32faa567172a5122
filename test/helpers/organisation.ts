import type { SqliteDatabase } from '../../src/db/node/better-sqlite3.js';
import { ORGANISATION_PROFILE_ID, type OrganisationProfileData } from '../../src/db/schema.js';

/**
 * A real organisation's profile, as an organiser saves it (PRODUCT.md §12): what the test apps
 * speak for unless a test asks for the shipped example (`createTestApp({ organisation: 'example' })`).
 * The body of `PUT /api/v1/organisation` as well.
 */
export const testOrganisation = {
  name: 'Refugee Rights Network Tokyo',
  postalAddress: { lines: ['2-4-6 Kanda-Jimbocho, Chiyoda-ku'], postalCode: '101-0051', city: 'Tokyo', region: null, country: 'JP' },
  email: 'letters@refugee-rights.test',
  phone: '+81 3-5555-0101',
  website: 'https://refugee-rights.test',
  signatory: { name: 'Sayuri Hoshino', title: 'Director' },
  translations: {},
} satisfies OrganisationProfileData;

/** Stores `testOrganisation` as a saved profile, synchronously (before the app serves anything). */
export function storeTestOrganisation(database: SqliteDatabase, profile: OrganisationProfileData = testOrganisation): void {
  database.sqlite
    .prepare(`INSERT INTO "organisation_profile" ("id", "profile", "is_example", "updated_at") VALUES (?, ?, 0, ?) ON CONFLICT ("id") DO UPDATE SET "profile" = excluded."profile", "is_example" = 0`)
    .run(ORGANISATION_PROFILE_ID, JSON.stringify(profile), Date.UTC(2027, 7, 1));
}

/** Saves `testOrganisation` through the API of a running service (a real server, a Worker). */
export async function putTestOrganisation(baseUrl: string, adminToken: string, profile: OrganisationProfileData = testOrganisation): Promise<void> {
  const res = await fetch(`${baseUrl}/api/v1/organisation`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(profile),
  });
  if (res.status !== 200) throw new Error(`PUT /api/v1/organisation answered ${res.status}: ${await res.text()}`);
}
