-- Issue #21 (PRODUCT.md §13): one reminder per signing request, and the next step after signing.
-- One reminder per signing request (src/services/reminders.ts).
-- `reminded_at` is when the reminder was queued (0: the request is never reminded), and
-- `reminder_id` the outbox row it was queued as: a runner queues the email only when its own id
-- is the one recorded, so two runners at once send one reminder.
ALTER TABLE `signature_submissions` ADD `reminded_at` integer;--> statement-breakpoint
ALTER TABLE `signature_submissions` ADD `reminder_id` text;--> statement-breakpoint
-- Requests held before reminders existed were told of one email: they get none.
UPDATE `signature_submissions` SET `reminded_at` = 0 WHERE `confirmed_at` IS NULL;--> statement-breakpoint
-- The job walks the requests still to be reminded, oldest first, and nothing else.
CREATE INDEX `signature_submissions_unreminded_idx` ON `signature_submissions` (`created_at`) WHERE "signature_submissions"."confirmed_at" IS NULL AND "signature_submissions"."reminded_at" IS NULL;
--> statement-breakpoint
-- What the thanks and confirmed pages offer after signing, per page language (src/services/next-step.ts).
ALTER TABLE `campaigns` ADD `next_step` text DEFAULT '{}' NOT NULL;
