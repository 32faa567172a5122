CREATE TABLE `letter_redactions` (
	`batch_id` text PRIMARY KEY NOT NULL,
	`requested_at` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`locked_by` text,
	`locked_until` integer,
	`last_error` text,
	`done_through` text,
	FOREIGN KEY (`batch_id`) REFERENCES `letter_batches`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `letter_redactions_due_idx` ON `letter_redactions` (`next_attempt_at`);--> statement-breakpoint
ALTER TABLE `letters` ADD `regenerated_at` integer;--> statement-breakpoint
ALTER TABLE `letters` ADD `withdrawn_at` integer;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `letter_sha256` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `details` text;--> statement-breakpoint
INSERT INTO `letter_redactions` (`batch_id`, `requested_at`, `next_attempt_at`)
SELECT `b`.`id`, CAST(strftime('%s', 'now') AS integer) * 1000, 0 FROM `letter_batches` `b`
WHERE EXISTS (SELECT 1 FROM `signatures` `s` WHERE `s`.`campaign_id` = `b`.`campaign_id` AND `s`.`status` = 'erased'
  AND `s`.`confirmed_at` IS NOT NULL AND `s`.`confirmed_at` <= `b`.`cutoff_at`);
