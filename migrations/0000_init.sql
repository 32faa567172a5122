CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `campaign_targets` (
	`campaign_id` text NOT NULL,
	`target_id` text NOT NULL,
	`position` integer NOT NULL,
	PRIMARY KEY(`campaign_id`, `target_id`),
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`target_id`) REFERENCES `targets`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `campaign_targets_target_idx` ON `campaign_targets` (`target_id`);--> statement-breakpoint
CREATE TABLE `campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`slug` text NOT NULL,
	`title` text NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`body` text DEFAULT '' NOT NULL,
	`locale` text NOT NULL,
	`translations` text DEFAULT '{}' NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`goal` integer,
	`opens_at` integer,
	`closes_at` integer,
	`time_zone` text DEFAULT 'UTC' NOT NULL,
	`letter_template` text,
	`signature_count` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaigns_slug_unique` ON `campaigns` (`slug`);--> statement-breakpoint
CREATE INDEX `campaigns_created_idx` ON `campaigns` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`recipient` text NOT NULL,
	`message_id` text NOT NULL,
	`message` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`locked_until` integer,
	`locked_by` text,
	`last_error` text,
	`created_at` integer NOT NULL,
	`sent_at` integer
);
--> statement-breakpoint
CREATE INDEX `outbox_due_idx` ON `outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `signature_count_deltas` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` text NOT NULL,
	`delta` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `signature_count_deltas_campaign_idx` ON `signature_count_deltas` (`campaign_id`);--> statement-breakpoint
CREATE TABLE `signatures` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`name` text NOT NULL,
	`email` text NOT NULL,
	`email_normalized` text NOT NULL,
	`country` text NOT NULL,
	`region` text,
	`city` text,
	`postal_code` text,
	`comment` text,
	`locale` text NOT NULL,
	`name_on_letter` text DEFAULT 'none' NOT NULL,
	`show_publicly` integer DEFAULT false NOT NULL,
	`updates` integer DEFAULT false NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`created_at` integer NOT NULL,
	`confirmed_at` integer,
	`ip_hash` text,
	`source` text,
	`confirm_token_hash` text,
	`confirm_expires_at` integer,
	`emails_sent` integer DEFAULT 0 NOT NULL,
	`unsubscribed_at` integer,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `signatures_campaign_email_uq` ON `signatures` (`campaign_id`,`email_normalized`);--> statement-breakpoint
CREATE UNIQUE INDEX `signatures_confirm_token_uq` ON `signatures` (`confirm_token_hash`);--> statement-breakpoint
CREATE INDEX `signatures_campaign_status_created_idx` ON `signatures` (`campaign_id`,`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `signatures_campaign_created_idx` ON `signatures` (`campaign_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `targets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`title` text,
	`organisation` text,
	`kind` text NOT NULL,
	`email` text,
	`postal_address` text NOT NULL,
	`language` text DEFAULT 'en' NOT NULL,
	`salutation` text,
	`jurisdiction` text DEFAULT '[]' NOT NULL,
	`verified_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `targets_created_idx` ON `targets` (`created_at`,`id`);