CREATE TABLE `queues` (
	`name` text PRIMARY KEY NOT NULL,
	`group_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `items` ADD `lock` text;--> statement-breakpoint
ALTER TABLE `items` ADD `service` text;--> statement-breakpoint
ALTER TABLE `items` ADD `type` text;--> statement-breakpoint
ALTER TABLE `items` ADD `created_by` text;--> statement-breakpoint
ALTER TABLE `items` ADD `customer_company` text;--> statement-breakpoint
ALTER TABLE `participants` ADD `phone` text;--> statement-breakpoint
ALTER TABLE `participants` ADD `queues` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `participants` ADD `services` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `participants` ADD `pgp_public_key` text;--> statement-breakpoint
ALTER TABLE `participants` ADD `smime_certificate` text;