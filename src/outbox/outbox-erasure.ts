/**
 * Erasure's writes on the outbox (PRODUCT.md §8; src/services/anonymise.ts):
 * personal data out of the rows to an erased supporter, for the caller's
 * atomic unit. Beside `OutboxStore`, not in it: they serve privacy, not
 * delivery, and the only change they make to the delivery protocol is that a
 * pending row erased fails ('erased'), so no sender mails a body now gone.
 */
import type { Database, WriteStatement } from '../db/database.js';

/**
 * Outbox rows to an erased address keep what the mailing guard and the
 * figures need (mailing, recipient key, status, times) and lose the address
 * and the message; one still waiting is failed instead of sent. The error of
 * a failed one can quote the address (an SMTP reply), so it goes too.
 */
const ANONYMISED = `"recipient" = 'erased:' || "id", "lane_address" = NULL, "message" = NULL,
  "last_error" = CASE WHEN "status" = 'pending' THEN 'erased' ELSE NULL END,
  "status" = CASE WHEN "status" = 'pending' THEN 'failed' ELSE "status" END,
  "locked_by" = NULL, "locked_until" = NULL`;

/** Strips the messages named of address, body and error; a pending one fails ('erased'). The ids go as one JSON parameter (D1 binds at most 100). */
export function eraseOutboxMessages(database: Database, ids: readonly string[]): WriteStatement {
  return database.statement({ sql: `UPDATE "outbox" SET ${ANONYMISED} WHERE "id" IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(ids)] });
}

/** `eraseOutboxMessages` for every update email of a campaign's mailings not erased yet (retention of a closed campaign). */
export function eraseCampaignUpdateEmails(database: Database, campaignId: string): WriteStatement {
  return database.statement({
    sql: `UPDATE "outbox" SET ${ANONYMISED} WHERE "kind" = 'update' AND "recipient" NOT LIKE 'erased:%'
        AND "mailing_id" IN (SELECT "id" FROM "mailings" WHERE "campaign_id" = ?)`,
    params: [campaignId],
  });
}
