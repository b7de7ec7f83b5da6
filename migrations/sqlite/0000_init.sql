CREATE TABLE `conversation_members` (
	`conversation_id` text NOT NULL,
	`participant_id` text NOT NULL,
	`since` integer NOT NULL,
	PRIMARY KEY(`conversation_id`, `participant_id`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `members_participant_idx` ON `conversation_members` (`participant_id`);--> statement-breakpoint
CREATE TABLE `conversations` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`visibility` text NOT NULL,
	`item_id` text,
	`subject` text,
	`created_by` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `conversations_item_idx` ON `conversations` (`item_id`);--> statement-breakpoint
CREATE TABLE `item_followers` (
	`item_id` text NOT NULL,
	`participant_id` text NOT NULL,
	`since` integer NOT NULL,
	PRIMARY KEY(`item_id`, `participant_id`),
	FOREIGN KEY (`item_id`) REFERENCES `items`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `items` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`project_id` text,
	`number` text,
	`status` text,
	`priority` text,
	`queue` text,
	`customer_id` text,
	`customer_since` integer,
	`owner_id` text,
	`owner_since` integer,
	`responsible_id` text,
	`responsible_since` integer,
	`fields` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `items_project_idx` ON `items` (`project_id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`conversation_id` text NOT NULL,
	`seq` integer NOT NULL,
	`sender_id` text NOT NULL,
	`sender_kind` text NOT NULL,
	`body` text NOT NULL,
	`format` text NOT NULL,
	`client_msg_id` text NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_conversation_seq_idx` ON `messages` (`conversation_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_idempotency_idx` ON `messages` (`conversation_id`,`sender_id`,`client_msg_id`);--> statement-breakpoint
CREATE TABLE `participants` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`email` text,
	`locale` text NOT NULL,
	`timezone` text NOT NULL,
	`groups` text NOT NULL,
	`roles` text NOT NULL,
	`out_of_office` integer NOT NULL,
	`disabled` integer NOT NULL,
	`preferences` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `project_followers` (
	`project_id` text NOT NULL,
	`participant_id` text NOT NULL,
	`since` integer NOT NULL,
	PRIMARY KEY(`project_id`, `participant_id`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `watermark_rises` (
	`conversation_id` text NOT NULL,
	`up_to` integer NOT NULL,
	`participant_id` text NOT NULL,
	`kind` text NOT NULL,
	`at` integer NOT NULL,
	`email_id` text,
	PRIMARY KEY(`conversation_id`, `up_to`, `participant_id`, `kind`)
);
--> statement-breakpoint
CREATE TABLE `watermarks` (
	`participant_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`delivered_up_to` integer DEFAULT 0 NOT NULL,
	`delivered_at` integer,
	`seen_up_to` integer DEFAULT 0 NOT NULL,
	`seen_at` integer,
	`emailed_up_to` integer DEFAULT 0 NOT NULL,
	`emailed_at` integer,
	`email_id` text,
	PRIMARY KEY(`participant_id`, `conversation_id`)
);
