-- Letter templates edited in the dashboard (issue #18, PRODUCT.md §12): every
-- save (and every reset to the shipped text) is a new version of one template
-- language, kept whole so a batch can be rendered again with the text it was
-- written with. Version 0 is the shipped file in letters/ and is not stored;
-- the newest stored version is what letters use.
CREATE TABLE `letter_template_versions` (
	`name` text NOT NULL,
	`language` text NOT NULL,
	`version` integer NOT NULL,
	`source` text NOT NULL,
	`is_reset` integer NOT NULL,
	`saved_by` text NOT NULL,
	`saved_at` integer NOT NULL,
	PRIMARY KEY(`name`, `language`, `version`)
);
--> statement-breakpoint
-- The version of each language's template a batch was written with ({"ja": 2});
-- batches made before versions existed used the shipped files.
ALTER TABLE `letter_batches` ADD `template_versions` text DEFAULT '{}' NOT NULL;
