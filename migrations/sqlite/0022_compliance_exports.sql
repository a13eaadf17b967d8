-- Compliance exports: each is a zip written under the data directory by a
-- worker, in steps (a channel's day at a time), so that one stopped by a
-- restart goes on from its last checkpoint on whichever node claims it.
CREATE TABLE compliance_exports (
    id            BIGINT PRIMARY KEY,
    -- Who asked for it (the system account for the daily export).
    requested_by  BIGINT NOT NULL REFERENCES users(id),
    format        TEXT NOT NULL CHECK (format IN ('json', 'csv', 'eml')),
    -- Messages posted from `starts_at` up to (not including) `ends_at`.
    starts_at     BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    -- Comma-separated ids; empty: all of them.
    workspace_ids TEXT NOT NULL,
    channel_ids   TEXT NOT NULL,
    user_ids      TEXT NOT NULL,
    -- For the daily export: the day (its first millisecond), once per day.
    scheduled_day BIGINT UNIQUE,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    error         TEXT NOT NULL DEFAULT '',
    -- The file's name in the exports directory.
    file_name     TEXT NOT NULL,
    -- The checkpoint: the channel and time to go on from, and how long the
    -- archive and its spooled central directory were then.
    next_channel  BIGINT NOT NULL DEFAULT 0,
    next_at       BIGINT NOT NULL DEFAULT 0,
    archive_len   BIGINT NOT NULL DEFAULT 0,
    directory_len BIGINT NOT NULL DEFAULT 0,
    entries       BIGINT NOT NULL DEFAULT 0,
    messages      BIGINT NOT NULL DEFAULT 0,
    files         BIGINT NOT NULL DEFAULT 0,
    claimed_by    BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT
);
CREATE INDEX compliance_exports_state ON compliance_exports(state, id);
