-- The organisation profile (issue #18, PRODUCT.md §12): the sending
-- organisation's name, address, contacts and signatory, per language, kept
-- in the database and edited from the dashboard or the API. One row. It is
-- seeded from letters/organisation.json the first time it is read;
-- `is_example` marks a seed that is still the shipped placeholder, which
-- letters, mailings and the public privacy notice refuse to speak for.
CREATE TABLE `organisation_profile` (
	`id` integer PRIMARY KEY NOT NULL,
	`profile` text NOT NULL,
	`is_example` integer NOT NULL,
	`updated_at` integer NOT NULL
);
