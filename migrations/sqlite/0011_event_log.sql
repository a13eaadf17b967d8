-- The event log: every event a client can receive, written in the
-- transaction of the change it reports, numbered in commit order. A client
-- that reconnects reads what came after the last number it saw. Entries
-- older than the retention window are pruned; `event_position` keeps the
-- last number handed out, so numbers never repeat even when the log is empty.

CREATE TABLE events (
    seq        BIGINT PRIMARY KEY,
    audience   TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE event_position (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO event_position (id, seq) VALUES (1, 0);
