-- Hand-written: drizzle-kit cannot express WITHOUT ROWID. Messages, watermarks and the rise log are
-- clustered on their primary keys (one B-tree each instead of a rowid table plus an index). Message
-- ids begin with their creation time, so new messages append at the end of their tree; a receipt is
-- one range scan of the rise log.
-- Applied together with 0000 on every database (no release ever ran 0000 alone), so the tables are empty.
DROP TABLE `messages`;
--> statement-breakpoint
DROP TABLE `watermarks`;
--> statement-breakpoint
DROP TABLE `watermark_rises`;
--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`seq` integer NOT NULL,
	`sender_id` text NOT NULL,
	`sender_kind` text NOT NULL,
	`body` text NOT NULL,
	`format` text NOT NULL,
	`client_msg_id` text NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_conversation_seq_idx` ON `messages` (`conversation_id`,`seq`);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_idempotency_idx` ON `messages` (`conversation_id`,`sender_id`,`client_msg_id`);
--> statement-breakpoint
CREATE TABLE `watermark_rises` (
	`conversation_id` text NOT NULL,
	`up_to` integer NOT NULL,
	`participant_id` text NOT NULL,
	`kind` text NOT NULL,
	`at` integer NOT NULL,
	`email_id` text,
	PRIMARY KEY(`conversation_id`, `up_to`, `participant_id`, `kind`)
) WITHOUT ROWID;
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
) WITHOUT ROWID;
