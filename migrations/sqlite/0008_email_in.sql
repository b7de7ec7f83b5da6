CREATE TABLE `bounced_addresses` (
	`address` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `inbound_emails` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`from_address` text NOT NULL,
	`to_addresses` text NOT NULL,
	`subject` text NOT NULL,
	`received_at` integer NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`conversation_id` text,
	`posted_message_id` text,
	`raw` blob NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbound_emails_message_id_idx` ON `inbound_emails` (`message_id`);--> statement-breakpoint
CREATE INDEX `inbound_emails_received_idx` ON `inbound_emails` (`received_at`);--> statement-breakpoint
CREATE INDEX `inbound_emails_from_idx` ON `inbound_emails` (`from_address`,`received_at`);--> statement-breakpoint
CREATE TABLE `reply_addresses` (
	`rid` text PRIMARY KEY NOT NULL,
	`conversation_id` text NOT NULL,
	`participant_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reply_addresses_pair_idx` ON `reply_addresses` (`conversation_id`,`participant_id`);--> statement-breakpoint
CREATE INDEX `emails_message_id_header_idx` ON `emails` (`message_id_header`);