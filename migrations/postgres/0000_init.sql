CREATE TABLE "appointments" (
	"id" text PRIMARY KEY NOT NULL,
	"calendar_id" text NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"location" text,
	"start_at" bigint NOT NULL,
	"end_at" bigint NOT NULL,
	"all_day" boolean NOT NULL,
	"recurring" boolean NOT NULL,
	"resource_ids" jsonb NOT NULL,
	"reminder_at" bigint,
	"reminded_at" bigint,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bounced_addresses" (
	"address" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "broadcasts" (
	"id" text PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"recipients" integer NOT NULL,
	"skipped" integer NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "calendars" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"color" text,
	"group_id" text,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "conversation_members" (
	"conversation_id" text NOT NULL,
	"participant_id" text NOT NULL,
	"since" bigint NOT NULL,
	CONSTRAINT "conversation_members_conversation_id_participant_id_pk" PRIMARY KEY("conversation_id","participant_id")
);
--> statement-breakpoint
CREATE TABLE "conversations" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"visibility" text NOT NULL,
	"item_id" text,
	"subject" text,
	"created_by" text,
	"created_at" bigint NOT NULL,
	"last_seq" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "email_templates" (
	"kind" text PRIMARY KEY NOT NULL,
	"doc" jsonb NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "emails" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"channel" text DEFAULT 'email' NOT NULL,
	"participant_id" text NOT NULL,
	"conversation_id" text NOT NULL,
	"to_address" text NOT NULL,
	"subject" text NOT NULL,
	"message_id_header" text NOT NULL,
	"message_ids" jsonb NOT NULL,
	"up_to" integer NOT NULL,
	"raw" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"sent_at" bigint,
	"error" text,
	"lease_until" bigint,
	"priority" integer DEFAULT 1 NOT NULL,
	"deferred" jsonb
);
--> statement-breakpoint
CREATE TABLE "inbound_emails" (
	"id" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"from_address" text NOT NULL,
	"to_addresses" jsonb NOT NULL,
	"subject" text NOT NULL,
	"received_at" bigint NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"conversation_id" text,
	"posted_message_id" text,
	"raw" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "item_articles" (
	"item_id" text PRIMARY KEY NOT NULL,
	"first" jsonb NOT NULL,
	"last" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "item_followers" (
	"item_id" text NOT NULL,
	"participant_id" text NOT NULL,
	"since" bigint NOT NULL,
	CONSTRAINT "item_followers_item_id_participant_id_pk" PRIMARY KEY("item_id","participant_id")
);
--> statement-breakpoint
CREATE TABLE "items" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"project_id" text,
	"number" text,
	"status" text,
	"priority" text,
	"queue" text,
	"customer_id" text,
	"customer_since" bigint,
	"owner_id" text,
	"owner_since" bigint,
	"responsible_id" text,
	"responsible_since" bigint,
	"lock" text,
	"service" text,
	"type" text,
	"created_by" text,
	"customer_company" text,
	"fields" jsonb NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" text PRIMARY KEY NOT NULL,
	"conversation_id" text NOT NULL,
	"seq" integer NOT NULL,
	"sender_id" text NOT NULL,
	"sender_kind" text NOT NULL,
	"body" text NOT NULL,
	"format" text NOT NULL,
	"client_msg_id" text NOT NULL,
	"source" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification_definitions" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"doc" jsonb NOT NULL,
	"built_in" boolean NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "notification_definitions_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "notification_events" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"occurred_at" bigint NOT NULL,
	"received_at" bigint NOT NULL,
	"actor_id" text,
	"item_id" text,
	"deliveries" jsonb NOT NULL,
	"not_found" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification_marks" (
	"definition_id" text NOT NULL,
	"item_key" text NOT NULL,
	"recipient" text NOT NULL,
	"transport" text NOT NULL,
	"at" bigint NOT NULL,
	CONSTRAINT "notification_marks_definition_id_item_key_recipient_transport_pk" PRIMARY KEY("definition_id","item_key","recipient","transport")
);
--> statement-breakpoint
CREATE TABLE "notification_timers" (
	"notification_id" text PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"delivery_index" integer NOT NULL,
	"due_at" bigint NOT NULL,
	"email" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" text PRIMARY KEY NOT NULL,
	"participant_id" text NOT NULL,
	"definition_id" text,
	"event_id" text,
	"broadcast_id" text,
	"subject" text NOT NULL,
	"body" text NOT NULL,
	"item_id" text,
	"appointment_id" text,
	"created_at" bigint NOT NULL,
	"seen_at" bigint
);
--> statement-breakpoint
CREATE TABLE "participants" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"locale" text NOT NULL,
	"timezone" text NOT NULL,
	"groups" jsonb NOT NULL,
	"roles" jsonb NOT NULL,
	"phone" text,
	"queues" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"services" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"pgp_public_key" text,
	"smime_certificate" text,
	"out_of_office" boolean NOT NULL,
	"disabled" boolean NOT NULL,
	"enabled_at" bigint,
	"preferences" jsonb NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "project_followers" (
	"project_id" text NOT NULL,
	"participant_id" text NOT NULL,
	"since" bigint NOT NULL,
	CONSTRAINT "project_followers_project_id_participant_id_pk" PRIMARY KEY("project_id","participant_id")
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "queues" (
	"name" text PRIMARY KEY NOT NULL,
	"group_id" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reply_addresses" (
	"rid" text PRIMARY KEY NOT NULL,
	"conversation_id" text NOT NULL,
	"participant_id" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "watermark_rises" (
	"conversation_id" text NOT NULL,
	"up_to" integer NOT NULL,
	"participant_id" text NOT NULL,
	"kind" text NOT NULL,
	"at" bigint NOT NULL,
	"email_id" text,
	"held_seqs" jsonb,
	"summarized_seqs" jsonb,
	CONSTRAINT "watermark_rises_conversation_id_up_to_participant_id_kind_pk" PRIMARY KEY("conversation_id","up_to","participant_id","kind")
);
--> statement-breakpoint
CREATE TABLE "watermarks" (
	"participant_id" text NOT NULL,
	"conversation_id" text NOT NULL,
	"delivered_up_to" integer DEFAULT 0 NOT NULL,
	"delivered_at" bigint,
	"seen_up_to" integer DEFAULT 0 NOT NULL,
	"seen_at" bigint,
	"emailed_up_to" integer DEFAULT 0 NOT NULL,
	"emailed_at" bigint,
	"email_id" text,
	CONSTRAINT "watermarks_participant_id_conversation_id_pk" PRIMARY KEY("participant_id","conversation_id")
);
--> statement-breakpoint
ALTER TABLE "conversation_members" ADD CONSTRAINT "conversation_members_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "item_followers" ADD CONSTRAINT "item_followers_item_id_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_followers" ADD CONSTRAINT "project_followers_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "appointments_reminder_idx" ON "appointments" USING btree ("reminded_at","reminder_at");--> statement-breakpoint
CREATE INDEX "members_participant_idx" ON "conversation_members" USING btree ("participant_id");--> statement-breakpoint
CREATE INDEX "conversations_item_idx" ON "conversations" USING btree ("item_id");--> statement-breakpoint
CREATE INDEX "emails_due_idx" ON "emails" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "emails_priority_due_idx" ON "emails" USING btree ("status","priority","next_attempt_at");--> statement-breakpoint
CREATE INDEX "emails_created_idx" ON "emails" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "emails_thread_idx" ON "emails" USING btree ("conversation_id","participant_id","created_at");--> statement-breakpoint
CREATE INDEX "emails_message_id_header_idx" ON "emails" USING btree ("message_id_header");--> statement-breakpoint
CREATE UNIQUE INDEX "inbound_emails_message_id_idx" ON "inbound_emails" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "inbound_emails_received_idx" ON "inbound_emails" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "inbound_emails_from_idx" ON "inbound_emails" USING btree ("from_address","received_at");--> statement-breakpoint
CREATE INDEX "items_project_idx" ON "items" USING btree ("project_id");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_conversation_seq_idx" ON "messages" USING btree ("conversation_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_idempotency_idx" ON "messages" USING btree ("conversation_id","sender_id","client_msg_id");--> statement-breakpoint
CREATE INDEX "notification_marks_at_idx" ON "notification_marks" USING btree ("at");--> statement-breakpoint
CREATE INDEX "notification_timers_due_idx" ON "notification_timers" USING btree ("due_at");--> statement-breakpoint
CREATE INDEX "notifications_participant_idx" ON "notifications" USING btree ("participant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "notifications_unseen_idx" ON "notifications" USING btree ("participant_id","seen_at");--> statement-breakpoint
CREATE UNIQUE INDEX "reply_addresses_pair_idx" ON "reply_addresses" USING btree ("conversation_id","participant_id");