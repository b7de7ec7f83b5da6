DROP INDEX "emails_thread_idx";--> statement-breakpoint
DROP INDEX "notifications_unseen_idx";--> statement-breakpoint
CREATE INDEX "emails_thread_idx" ON "emails" USING btree ("conversation_id","participant_id","created_at") WHERE kind = 'escalation';--> statement-breakpoint
CREATE INDEX "notifications_unseen_idx" ON "notifications" USING btree ("participant_id") WHERE seen_at IS NULL;