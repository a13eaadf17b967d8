-- Scheduled meetings (and instant calls). Each meeting's call happens in a
-- private voice channel of its own whose members are the participants; the
-- channel is archived when the meeting ends.
CREATE TABLE meetings (
    id BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    organizer_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    enable_recording BIGINT NOT NULL DEFAULT 0,
    instant BIGINT NOT NULL DEFAULT 0,
    ended_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX meetings_workspace_start ON meetings (workspace_id, starts_at);
CREATE UNIQUE INDEX meetings_channel ON meetings (channel_id);

CREATE TABLE meeting_participants (
    meeting_id BIGINT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_participants_user ON meeting_participants (user_id);

-- One private calendar feed per person: the secret in its URL is stored as a
-- SHA-256 hash, like API tokens.
CREATE TABLE calendar_feeds (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
