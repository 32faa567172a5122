-- Street signatures (issue #21, PRODUCT.md §13): each import of typed-up paper
-- sheets is recorded with the sheet and event it came from, who imported it and
-- what it did. The signatures themselves are ordinary rows of `signatures`
-- (source.kind = 'paper', source.import = this row's id); nothing else changes.
CREATE TABLE `paper_imports` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`sheet` text,
	`event` text,
	`collected_on` text,
	`rows` integer NOT NULL,
	`imported` integer NOT NULL,
	`merged` integer NOT NULL,
	`rejected` integer NOT NULL,
	`imported_by` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `paper_imports_campaign_idx` ON `paper_imports` (`campaign_id`,`created_at`);
