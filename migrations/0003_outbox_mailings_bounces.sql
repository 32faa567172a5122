CREATE TABLE `bounces` (
	`id` text PRIMARY KEY NOT NULL,
	`email_normalized` text NOT NULL,
	`kind` text NOT NULL,
	`message_id` text,
	`outbox_id` text,
	`diagnostic` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `bounces_email_idx` ON `bounces` (`email_normalized`,`created_at`);--> statement-breakpoint
CREATE INDEX `bounces_message_idx` ON `bounces` (`message_id`);--> statement-breakpoint
CREATE TABLE `email_suppressions` (
	`email_normalized` text PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`detail` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `outbox` ADD `mailing_id` text;--> statement-breakpoint
ALTER TABLE `outbox` ADD `recipient_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_mailing_recipient_uq` ON `outbox` (`mailing_id`,`recipient_key`);