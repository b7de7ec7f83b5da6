DROP INDEX `emails_thread_idx`;--> statement-breakpoint
CREATE INDEX `emails_thread_idx` ON `emails` (`conversation_id`,`participant_id`,`created_at`) WHERE kind = 'escalation';--> statement-breakpoint
DROP INDEX `notifications_unseen_idx`;--> statement-breakpoint
CREATE INDEX `notifications_unseen_idx` ON `notifications` (`participant_id`) WHERE seen_at IS NULL;