CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`letter_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`target_id` text NOT NULL,
	`mailing_id` text,
	`channel` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`idempotency_key` text,
	`outbox_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`tracking_number` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`sent_at` integer,
	`printed_at` integer,
	`posted_at` integer,
	`delivered_at` integer,
	`returned_at` integer,
	FOREIGN KEY (`letter_id`) REFERENCES `letters`(`id`) ON UPDATE no action ON DELETE restrict,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`target_id`) REFERENCES `targets`(`id`) ON UPDATE no action ON DELETE restrict,
	FOREIGN KEY (`mailing_id`) REFERENCES `mailings`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_idempotency_key_unique` ON `deliveries` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `deliveries_status_idx` ON `deliveries` (`channel`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `deliveries_letter_idx` ON `deliveries` (`letter_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_mailing_letter_uq` ON `deliveries` (`mailing_id`,`letter_id`,`channel`);--> statement-breakpoint
CREATE TABLE `mailings` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`kind` text NOT NULL,
	`send_at_local` text NOT NULL,
	`time_zone` text NOT NULL,
	`send_at` integer NOT NULL,
	`cutoff_at` integer,
	`channel` text,
	`rate_per_minute` integer,
	`subject` text,
	`body` text,
	`template` text,
	`dry_run` integer DEFAULT false NOT NULL,
	`status` text DEFAULT 'scheduled' NOT NULL,
	`total` integer DEFAULT 0 NOT NULL,
	`sent` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`locked_by` text,
	`locked_until` integer,
	`last_error` text,
	`started_at` integer,
	`finished_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `mailings_due_idx` ON `mailings` (`status`,`send_at`);--> statement-breakpoint
CREATE INDEX `mailings_campaign_idx` ON `mailings` (`campaign_id`,`created_at`);