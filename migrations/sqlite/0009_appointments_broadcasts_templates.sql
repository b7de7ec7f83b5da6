CREATE TABLE `appointments` (
	`id` text PRIMARY KEY NOT NULL,
	`calendar_id` text NOT NULL,
	`title` text NOT NULL,
	`description` text,
	`location` text,
	`start_at` integer NOT NULL,
	`end_at` integer NOT NULL,
	`all_day` integer NOT NULL,
	`recurring` integer NOT NULL,
	`resource_ids` text NOT NULL,
	`reminder_at` integer,
	`reminded_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `appointments_reminder_idx` ON `appointments` (`reminded_at`,`reminder_at`);--> statement-breakpoint
CREATE TABLE `broadcasts` (
	`id` text PRIMARY KEY NOT NULL,
	`subject` text NOT NULL,
	`recipients` integer NOT NULL,
	`skipped` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `calendars` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`color` text,
	`group_id` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `email_templates` (
	`kind` text PRIMARY KEY NOT NULL,
	`doc` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `emails` ADD `priority` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX `emails_priority_due_idx` ON `emails` (`status`,`priority`,`next_attempt_at`);