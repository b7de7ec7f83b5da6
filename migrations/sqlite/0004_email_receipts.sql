-- Emailed rises record which seqs the email held and which it only counted (SPEC §5 caps), so a
-- receipt says `emailed` or `summarized` only for those. Rises logged before this stay null.
ALTER TABLE `watermark_rises` ADD `held_seqs` text;--> statement-breakpoint
ALTER TABLE `watermark_rises` ADD `summarized_seqs` text;
