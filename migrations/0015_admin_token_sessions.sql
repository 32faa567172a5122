ALTER TABLE `admin_sessions` ADD `admin_token_fingerprint` text;--> statement-breakpoint
DELETE FROM `admin_sessions` WHERE `token_id` = 'env-admin-token';
