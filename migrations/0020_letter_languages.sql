ALTER TABLE `targets` ADD `translations` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `letter_batches` ADD `languages` text;--> statement-breakpoint
ALTER TABLE `letters` ADD `languages` text;--> statement-breakpoint
UPDATE `letters` SET `languages` = json_array(`language`);--> statement-breakpoint
ALTER TABLE `mailings` ADD `languages` text;
