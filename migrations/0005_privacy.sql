CREATE TABLE `privacy_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`origin` text NOT NULL,
	`email_normalized` text,
	`locale` text DEFAULT 'en' NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`signature_count` integer,
	`handled_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
CREATE INDEX `privacy_requests_email_created_idx` ON `privacy_requests` (`email_normalized`,`created_at`);--> statement-breakpoint
CREATE INDEX `privacy_requests_created_idx` ON `privacy_requests` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `signature_submissions` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`email` text NOT NULL,
	`email_normalized` text NOT NULL,
	`name` text NOT NULL,
	`country` text NOT NULL,
	`region` text,
	`city` text,
	`postal_code` text,
	`comment` text,
	`locale` text NOT NULL,
	`name_on_letter` text NOT NULL,
	`show_publicly` integer NOT NULL,
	`updates` integer NOT NULL,
	`source` text,
	`ip_hash` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`confirmed_at` integer,
	`signature_id` text,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `signature_submissions_email_created_idx` ON `signature_submissions` (`email_normalized`,`created_at`);--> statement-breakpoint
CREATE INDEX `signature_submissions_expiry_idx` ON `signature_submissions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `signature_submissions_campaign_created_idx` ON `signature_submissions` (`campaign_id`,`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `campaigns` ADD `closed_at` integer;--> statement-breakpoint
-- Campaigns closed before this version: their last change is the best record of when they closed.
UPDATE `campaigns` SET `closed_at` = `updated_at` WHERE `status` IN ('closed', 'archived');