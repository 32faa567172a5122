CREATE TABLE `mailing_target_outcomes` (
	`mailing_id` text NOT NULL,
	`target_id` text NOT NULL,
	`target_name` text NOT NULL,
	`outcome` text NOT NULL,
	`reason` text,
	`recorded_at` integer NOT NULL,
	PRIMARY KEY(`mailing_id`, `target_id`),
	FOREIGN KEY (`mailing_id`) REFERENCES `mailings`(`id`) ON UPDATE no action ON DELETE cascade
);
