-- Coalition partners (issue #21, PRODUCT.md §13). A partner of a campaign has a code for its
-- links (`/c/:slug?ref=<code>`) and, optionally, the text of its own opt-in box on the form.
-- A signature records the partner whose link brought it and whether the signer ticked that
-- partner's box; the two always change together, so an opt-in only ever names the partner
-- whose box was shown. Requests (and blocked requests) carry the same pair until confirmed.
-- A token limited to a partner (api_tokens.partner_id) reads that partner's opted-in supporters only.
CREATE TABLE `campaign_partners` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`code` text NOT NULL,
	`name` text NOT NULL,
	`opt_in_text` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaign_partners_campaign_code_uq` ON `campaign_partners` (`campaign_id`,`code`);
--> statement-breakpoint
ALTER TABLE `signatures` ADD `partner_id` text;
--> statement-breakpoint
ALTER TABLE `signatures` ADD `partner_opt_in` integer DEFAULT false NOT NULL;
--> statement-breakpoint
CREATE INDEX `signatures_partner_idx` ON `signatures` (`partner_id`,`partner_opt_in`,`status`,`id`);
--> statement-breakpoint
ALTER TABLE `signature_submissions` ADD `partner_id` text;
--> statement-breakpoint
ALTER TABLE `signature_submissions` ADD `partner_opt_in` integer DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE `fraudulent_requests` ADD `partner_id` text;
--> statement-breakpoint
ALTER TABLE `fraudulent_requests` ADD `partner_opt_in` integer DEFAULT false NOT NULL;
--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `partner_id` text;
--> statement-breakpoint
-- Updates to a segment (PRODUCT.md §13): an update mailing may go only to the supporters of given
-- regions, partners (stored by id and code) or sources; null: every consenting supporter.
ALTER TABLE `mailings` ADD `segment` text;
