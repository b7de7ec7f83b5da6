-- Every commit of messages raises last_seq on its conversations' rows. With free room on each page, the
-- new row version goes on the same page as a HOT update (no index entry, the page pruned in place):
-- bench:cluster's store run, 1,000 conversation rows raised a commit, spent less than half the time in
-- that statement, and the table stops growing by a dead version per message. New pages only: an
-- existing table takes it on a rewrite (VACUUM FULL conversations), or page by page as it is pruned.
ALTER TABLE "conversations" SET (fillfactor = 50);
