CREATE TABLE `account_links` (
	`id` text PRIMARY KEY NOT NULL,
	`purpose` text NOT NULL,
	`token_hash` text NOT NULL,
	`user_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `account_links_token_hash_unique` ON `account_links` (`token_hash`);--> statement-breakpoint
CREATE INDEX `account_links_user_idx` ON `account_links` (`user_id`,`purpose`);--> statement-breakpoint
CREATE TABLE `campaign_members` (
	`user_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`role` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `campaign_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `campaign_members_campaign_idx` ON `campaign_members` (`campaign_id`);--> statement-breakpoint
CREATE TABLE `replies` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`target_id` text NOT NULL,
	`received_on` text NOT NULL,
	`channel` text NOT NULL,
	`summary` text NOT NULL,
	`public` integer DEFAULT false NOT NULL,
	`file_path` text,
	`file_type` text,
	`file_bytes` integer,
	`file_sha256` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`target_id`) REFERENCES `targets`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE INDEX `replies_campaign_idx` ON `replies` (`campaign_id`,`received_on`);--> statement-breakpoint
CREATE INDEX `replies_target_idx` ON `replies` (`target_id`,`received_on`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`password_hash` text,
	`org_role` text,
	`locale` text DEFAULT 'en' NOT NULL,
	`totp_secret_sealed` text,
	`totp_enabled_at` integer,
	`failed_sign_ins` integer DEFAULT 0 NOT NULL,
	`sign_in_locked_until` integer,
	`invited_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`disabled_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);--> statement-breakpoint
-- Sessions are short-lived: the table is recreated (everyone signs in again) rather than copied, which D1 cannot do with foreign keys off.
DROP TABLE `admin_sessions`;--> statement-breakpoint
CREATE TABLE `admin_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`secret_hash` text NOT NULL,
	`token_id` text,
	`user_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `admin_sessions_secret_hash_unique` ON `admin_sessions` (`secret_hash`);--> statement-breakpoint
CREATE INDEX `admin_sessions_expiry_idx` ON `admin_sessions` (`expires_at`);--> statement-breakpoint
ALTER TABLE `api_tokens` ADD `campaign_ids` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `previous_campaign_id` text;--> statement-breakpoint
ALTER TABLE `letter_batches` ADD `routing` text DEFAULT 'all' NOT NULL;--> statement-breakpoint
ALTER TABLE `mailings` ADD `routing` text;--> statement-breakpoint
ALTER TABLE `users` ADD `totp_last_step` integer;

