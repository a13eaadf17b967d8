-- Encryption at rest (domain/src/crypto.rs). A message's body and rendered
-- HTML, its kept versions and the event log's entries are stored sealed;
-- `sealed_with` names the key that sealed them (0: in the clear, as all
-- rows written before this migration until the re-sealing worker reaches
-- them).
ALTER TABLE messages ADD COLUMN sealed_with INTEGER NOT NULL DEFAULT 0;
ALTER TABLE message_versions ADD COLUMN sealed_with INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN sealed_with INTEGER NOT NULL DEFAULT 0;

-- Sensitive channels: their messages are kept out of search.
ALTER TABLE channels ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0;

-- What search reads: a message's text in the clear, or '' for one kept out
-- of search (in a sensitive channel, or deleted). The search index now
-- follows this column instead of the body, which is sealed.
ALTER TABLE messages ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE messages SET search_text = body;

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5(search_text, content='messages', content_rowid='id', tokenize='trigram');
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF search_text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO messages_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
