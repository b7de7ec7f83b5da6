CREATE TABLE `item_articles` (
	`item_id` text PRIMARY KEY NOT NULL,
	`first` text NOT NULL,
	`last` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `notification_definitions` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`doc` text NOT NULL,
	`built_in` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notification_definitions_name_unique` ON `notification_definitions` (`name`);--> statement-breakpoint
CREATE TABLE `notification_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`actor_id` text,
	`item_id` text,
	`deliveries` text NOT NULL,
	`not_found` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `notification_marks` (
	`definition_id` text NOT NULL,
	`item_key` text NOT NULL,
	`recipient` text NOT NULL,
	`transport` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`definition_id`, `item_key`, `recipient`, `transport`)
);
--> statement-breakpoint
CREATE INDEX `notification_marks_at_idx` ON `notification_marks` (`at`);--> statement-breakpoint
CREATE TABLE `notification_timers` (
	`notification_id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`delivery_index` integer NOT NULL,
	`due_at` integer NOT NULL,
	`email` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `notification_timers_due_idx` ON `notification_timers` (`due_at`);--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` text PRIMARY KEY NOT NULL,
	`participant_id` text NOT NULL,
	`definition_id` text,
	`event_id` text,
	`broadcast_id` text,
	`subject` text NOT NULL,
	`body` text NOT NULL,
	`item_id` text,
	`appointment_id` text,
	`created_at` integer NOT NULL,
	`seen_at` integer
);
--> statement-breakpoint
CREATE INDEX `notifications_participant_idx` ON `notifications` (`participant_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `notifications_unseen_idx` ON `notifications` (`participant_id`,`seen_at`);