ALTER TABLE `letter_batches` ADD `empty_targets` text DEFAULT 'write' NOT NULL;--> statement-breakpoint
UPDATE `letter_batches` SET `empty_targets` = 'skip' WHERE `routing` = 'jurisdiction';--> statement-breakpoint
ALTER TABLE `mailings` ADD `empty_targets` text;--> statement-breakpoint
UPDATE `mailings` SET `empty_targets` = CASE WHEN `routing` = 'jurisdiction' THEN 'skip' ELSE 'write' END WHERE `kind` = 'letters';--> statement-breakpoint
ALTER TABLE `letters` ADD `petition_count` integer;
