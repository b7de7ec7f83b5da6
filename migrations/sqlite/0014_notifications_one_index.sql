DROP INDEX `notifications_unseen_idx`;--> statement-breakpoint
DROP INDEX `notifications_participant_idx`;--> statement-breakpoint
CREATE INDEX `notifications_participant_idx` ON `notifications` (`participant_id`,`created_at`,`id`,`seen_at`);