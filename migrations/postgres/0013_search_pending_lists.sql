-- The search indexes' pending lists kept short. A GIN index gathers new
-- entries in a pending list, merged into the index by VACUUM or when the
-- list passes gin_pending_list_limit (4 MB by default), and every search
-- reads the whole list. On a busy server the list is always partly full,
-- and a full 4 MB list made a search two to three times slower; at 256 kB
-- it costs a search a few milliseconds at most, and new messages are still
-- added in batches.
ALTER INDEX messages_body_words SET (gin_pending_list_limit = 256);
ALTER INDEX messages_body_trgm SET (gin_pending_list_limit = 256);
ALTER INDEX search_words_trgm SET (gin_pending_list_limit = 256);
