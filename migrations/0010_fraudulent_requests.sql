CREATE TABLE `fraudulent_requests` (
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
	`blocked_by` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `fraudulent_requests_campaign_created_idx` ON `fraudulent_requests` (`campaign_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `fraudulent_requests_email_idx` ON `fraudulent_requests` (`email_normalized`);--> statement-breakpoint
CREATE INDEX `fraudulent_requests_created_idx` ON `fraudulent_requests` (`created_at`);--> statement-breakpoint
-- Fraud marks were signatures that a blocked request inserted when the address had none there
-- (ON CONFLICT DO NOTHING), so none was ever confirmed: each becomes the request it was, and the
-- address can sign again. Which entry matched was not recorded then.
INSERT INTO `fraudulent_requests` (`id`, `campaign_id`, `email`, `email_normalized`, `name`, `country`, `region`, `city`, `postal_code`, `comment`, `locale`, `name_on_letter`, `show_publicly`, `updates`, `source`, `ip_hash`, `blocked_by`, `created_at`)
SELECT `id`, `campaign_id`, `email`, `email_normalized`, `name`, `country`, `region`, `city`, `postal_code`, `comment`, `locale`, `name_on_letter`, `show_publicly`, `updates`, `source`, `ip_hash`, NULL, `created_at`
FROM `signatures` WHERE `status` = 'fraudulent' AND `confirmed_at` IS NULL;--> statement-breakpoint
DELETE FROM `signatures` WHERE `status` = 'fraudulent' AND `confirmed_at` IS NULL;--> statement-breakpoint
-- A confirmed signature marked fraudulent could only be marked by hand, after it was counted: an
-- organiser's decision on a signature, which is what invalidation is (no bulk action named, so
-- revalidation leaves it), and like an invalidation it leaves the count.
INSERT INTO `signature_count_deltas` (`campaign_id`, `delta`)
SELECT `campaign_id`, -count(*) FROM `signatures` WHERE `status` = 'fraudulent' GROUP BY `campaign_id`;--> statement-breakpoint
UPDATE `signatures` SET `status` = 'invalidated' WHERE `status` = 'fraudulent';
