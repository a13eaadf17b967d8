-- Threads, direct messages, read state, mentions, pins and attachments.

-- A reply names the top-level message that starts its thread; NULL for top-level messages.
ALTER TABLE messages ADD COLUMN thread_id BIGINT REFERENCES messages(id);
CREATE INDEX messages_thread ON messages(thread_id, id);
-- 1 when the message mentions @channel or @here.
ALTER TABLE messages ADD COLUMN mentions_all BIGINT NOT NULL DEFAULT 0;

-- 'text', or 'direct' for direct and group messages (named by their members' ids, which keeps
-- one conversation per set of people through the unique name).
ALTER TABLE channels ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';

-- People mentioned by name in a message.
CREATE TABLE mentions (
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX mentions_user ON mentions(user_id, message_id);

-- Threads a person follows, and the newest reply they have read in each.
CREATE TABLE thread_follows (
    thread_id    BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    following    BIGINT NOT NULL CHECK (following IN (0, 1)),
    last_read_id BIGINT NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);
CREATE INDEX thread_follows_user ON thread_follows(user_id);

-- The newest top-level message each member has read in each channel.
CREATE TABLE channel_reads (
    channel_id   BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_read_id BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
INSERT INTO channel_reads (channel_id, user_id, last_read_id)
    SELECT cm.channel_id, cm.user_id, COALESCE((SELECT MAX(m.id) FROM messages m WHERE m.channel_id = cm.channel_id), 0)
    FROM channel_members cm;

CREATE TABLE pins (
    message_id BIGINT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    pinned_by  BIGINT NOT NULL REFERENCES users(id),
    pinned_at  BIGINT NOT NULL
);
CREATE INDEX pins_channel ON pins(channel_id, pinned_at);

-- Files attached to messages; the bytes live under the data directory, named by id.
CREATE TABLE attachments (
    id           BIGINT PRIMARY KEY,
    message_id   BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id);
