-- The outbox's lanes (src/outbox/lanes.ts): due rows outside the confirmation lane by kind, so
-- each lane's claim walks its own rows only, never another lane's backlog. It replaces the one
-- index of all those rows, which no statement uses any more.
CREATE INDEX `outbox_kind_due_idx` ON `outbox` (`kind`,`next_attempt_at`) WHERE "outbox"."status" = 'pending' AND "outbox"."lane_source" IS NULL;--> statement-breakpoint
DROP INDEX `outbox_other_due_idx`;
