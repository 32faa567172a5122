CREATE TABLE `blocklist` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`note` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `blocklist_kind_value_uq` ON `blocklist` (`kind`,`value`);--> statement-breakpoint
CREATE TABLE `signature_bulk_actions` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`action` text NOT NULL,
	`filter` text NOT NULL,
	`signature_count` integer NOT NULL,
	`actor` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `signature_bulk_actions_campaign_idx` ON `signature_bulk_actions` (`campaign_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `signatures` ADD `invalidated_by` text;