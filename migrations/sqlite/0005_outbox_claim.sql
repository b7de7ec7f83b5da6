ALTER TABLE `emails` ADD `channel` text DEFAULT 'email' NOT NULL;--> statement-breakpoint
ALTER TABLE `emails` ADD `lease_until` integer;