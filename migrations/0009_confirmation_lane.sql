ALTER TABLE `outbox` ADD `lane_source` text;--> statement-breakpoint
ALTER TABLE `outbox` ADD `lane_address` text;--> statement-breakpoint
ALTER TABLE `outbox` ADD `lane_topic` text;--> statement-breakpoint
ALTER TABLE `outbox` ADD `lane_turn` integer;--> statement-breakpoint
ALTER TABLE `outbox` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `outbox` ADD `claimed_at` integer;--> statement-breakpoint
UPDATE `outbox` SET
	`lane_source` = '-',
	`lane_turn` = 0,
	`lane_address` = lower(trim(`recipient`)),
	`lane_topic` = CASE WHEN `kind` = 'privacy' THEN 'privacy:' || coalesce(json_extract(`message`, '$.input.kind'), '')
		ELSE coalesce((SELECT `campaign_id` FROM `signature_submissions` WHERE `id` = json_extract(`outbox`.`message`, '$.input.nonce')), '') END,
	`expires_at` = json_extract(`message`, '$.input.expiresAt')
WHERE `kind` IN ('confirmation', 'privacy') AND `status` = 'pending' AND json_valid(`message`);--> statement-breakpoint
UPDATE `outbox` SET `lane_address` = lower(trim(`recipient`)), `claimed_at` = `sent_at`
WHERE `kind` IN ('confirmation', 'privacy') AND `status` = 'sent' AND `sent_at` > (strftime('%s', 'now') - 86400) * 1000 AND `recipient` NOT LIKE 'erased:%';--> statement-breakpoint
CREATE INDEX `outbox_lane_turn_idx` ON `outbox` (`lane_turn`) WHERE "outbox"."status" = 'pending' AND "outbox"."lane_turn" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `outbox_lane_source_idx` ON `outbox` (`lane_source`,`lane_turn`) WHERE "outbox"."status" = 'pending' AND "outbox"."lane_turn" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `outbox_lane_deferred_idx` ON `outbox` (`next_attempt_at`) WHERE "outbox"."status" = 'pending' AND "outbox"."lane_source" IS NOT NULL AND "outbox"."lane_turn" IS NULL;--> statement-breakpoint
CREATE INDEX `outbox_other_due_idx` ON `outbox` (`next_attempt_at`) WHERE "outbox"."status" = 'pending' AND "outbox"."lane_source" IS NULL;--> statement-breakpoint
CREATE INDEX `outbox_lane_address_idx` ON `outbox` (`lane_address`,`claimed_at`) WHERE "outbox"."lane_address" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `outbox_lane_claimed_idx` ON `outbox` (`claimed_at`) WHERE "outbox"."claimed_at" IS NOT NULL;
