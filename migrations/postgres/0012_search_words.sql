-- Faster message search on PostgreSQL. The trigram index alone makes a
-- rare term slow on a big history: a term's trigrams are common even when
-- the term is not, so the index hands back tens of thousands of candidates
-- to recheck. Instead, the search vocabulary (every word, as PostgreSQL's
-- text parser splits messages into words, in lower case) has a small trigram
-- index of its own: a term is first looked up there, giving the few words
-- that hold it (partial words and Chinese or Japanese runs included), and
-- then messages are found through a full-text index of their words, which
-- returns only messages holding one of those words.

CREATE TABLE search_words (
    word TEXT PRIMARY KEY
);
CREATE INDEX search_words_trgm ON search_words USING GIN (word gin_trgm_ops);
CREATE INDEX messages_body_words ON messages USING GIN (to_tsvector('simple', body));
INSERT INTO search_words (word)
    SELECT word FROM ts_stat('SELECT to_tsvector(''simple'', body) FROM messages')
    ON CONFLICT DO NOTHING;
