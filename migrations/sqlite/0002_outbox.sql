CREATE TABLE `emails` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`participant_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`to_address` text NOT NULL,
	`subject` text NOT NULL,
	`message_id_header` text NOT NULL,
	`message_ids` text NOT NULL,
	`up_to` integer NOT NULL,
	`raw` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `emails_due_idx` ON `emails` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `emails_created_idx` ON `emails` (`created_at`);--> statement-breakpoint
CREATE INDEX `emails_thread_idx` ON `emails` (`conversation_id`,`participant_id`,`created_at`);