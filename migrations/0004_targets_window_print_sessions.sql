CREATE TABLE `admin_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`secret_hash` text NOT NULL,
	`token_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `admin_sessions_secret_hash_unique` ON `admin_sessions` (`secret_hash`);--> statement-breakpoint
CREATE INDEX `admin_sessions_expiry_idx` ON `admin_sessions` (`expires_at`);--> statement-breakpoint
ALTER TABLE `deliveries` ADD `print_job_uri` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `print_job_state` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `print_job_checked_at` integer;--> statement-breakpoint
ALTER TABLE `mailings` ADD `sending_window` text;--> statement-breakpoint
ALTER TABLE `targets` ADD `time_zone` text;