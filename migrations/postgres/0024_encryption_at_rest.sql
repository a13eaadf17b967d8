-- Encryption at rest (domain/src/crypto.rs). A message's body and rendered
-- HTML, its kept versions and the event log's entries are stored sealed;
-- `sealed_with` names the key that sealed them (0: in the clear, as all
-- rows written before this migration until the re-sealing worker reaches
-- them).
ALTER TABLE messages ADD COLUMN sealed_with BIGINT NOT NULL DEFAULT 0;
ALTER TABLE message_versions ADD COLUMN sealed_with BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN sealed_with BIGINT NOT NULL DEFAULT 0;

-- Sensitive channels: their messages are kept out of search.
ALTER TABLE channels ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0;

-- What search reads: a message's text in the clear, or '' for one kept out
-- of search (in a sensitive channel, or deleted). The search indexes now
-- cover this column instead of the body, which is sealed.
ALTER TABLE messages ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
DROP INDEX messages_body_trgm;
DROP INDEX messages_body_words;
UPDATE messages SET search_text = body;
CREATE INDEX messages_search_trgm ON messages USING GIN (search_text gin_trgm_ops)
    WITH (gin_pending_list_limit = 256);
CREATE INDEX messages_search_words ON messages USING GIN (to_tsvector('simple', search_text))
    WITH (gin_pending_list_limit = 256);
