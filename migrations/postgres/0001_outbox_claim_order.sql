DROP INDEX "emails_due_idx";--> statement-breakpoint
DROP INDEX "emails_priority_due_idx";--> statement-breakpoint
CREATE INDEX "emails_claim_idx" ON "emails" USING btree ("status","priority","next_attempt_at","created_at");