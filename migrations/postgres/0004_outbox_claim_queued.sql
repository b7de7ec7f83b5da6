DROP INDEX "emails_claim_idx";--> statement-breakpoint
CREATE INDEX "emails_claim_idx" ON "emails" USING btree ("priority","next_attempt_at","created_at") WHERE status = 'queued';