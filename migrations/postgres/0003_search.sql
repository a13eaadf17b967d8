-- Message search: a trigram GIN index (pg_trgm), so ILIKE '%term%' is indexed
-- for any substring of three or more characters (partial words, Chinese,
-- Japanese), case-insensitively.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX messages_body_trgm ON messages USING GIN (body gin_trgm_ops);
