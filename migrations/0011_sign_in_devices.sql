-- Sign-in throttling that no stranger can turn into a lock (issue #17): the
-- account lock (failed_sign_ins, sign_in_locked_until) goes; in its place a
-- budget of password checks shared by clients without the account's device
-- cookie (users.untrusted_budget_full_at), one per device cookie
-- (sign_in_devices), and a count of second-factor codes tried with each
-- mailed link. Locks set before this migration simply end.
CREATE TABLE `sign_in_devices` (
	`user_id` text NOT NULL,
	`device_id` text NOT NULL,
	`budget_full_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `device_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `users` ADD `untrusted_budget_full_at` integer;--> statement-breakpoint
ALTER TABLE `users` DROP COLUMN `failed_sign_ins`;--> statement-breakpoint
ALTER TABLE `users` DROP COLUMN `sign_in_locked_until`;--> statement-breakpoint
ALTER TABLE `account_links` ADD `code_attempts` integer DEFAULT 0 NOT NULL;
