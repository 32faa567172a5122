CREATE TABLE `letter_batches` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`mode` text NOT NULL,
	`template` text NOT NULL,
	`cutoff_at` integer NOT NULL,
	`letter_count` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `letter_batches_campaign_idx` ON `letter_batches` (`campaign_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `letters` (
	`id` text PRIMARY KEY NOT NULL,
	`batch_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`target_id` text NOT NULL,
	`signature_id` text,
	`template` text NOT NULL,
	`language` text NOT NULL,
	`cutoff_at` integer NOT NULL,
	`signature_count` integer NOT NULL,
	`sha256` text NOT NULL,
	`pages` integer NOT NULL,
	`bytes` integer NOT NULL,
	`path` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`batch_id`) REFERENCES `letter_batches`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`target_id`) REFERENCES `targets`(`id`) ON UPDATE no action ON DELETE restrict,
	FOREIGN KEY (`signature_id`) REFERENCES `signatures`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `letters_batch_idx` ON `letters` (`batch_id`);--> statement-breakpoint
CREATE INDEX `letters_campaign_idx` ON `letters` (`campaign_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `signatures_campaign_status_confirmed_idx` ON `signatures` (`campaign_id`,`status`,`confirmed_at`,`id`);