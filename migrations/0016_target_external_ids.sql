-- Idempotent target imports (issue #18): a target may carry the id it has in
-- the file it was imported from (external_id), so importing the same file
-- again updates the targets it made instead of adding them twice. Targets
-- made before have none; an import adopts them by name and country.
ALTER TABLE `targets` ADD `external_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `targets_external_id_unique` ON `targets` (`external_id`);
