-- In-app notifications: one row per person and event (a mention, a direct
-- message, a reply in a followed thread, a reaction, a meeting invitation,
-- or a custom one sent through the API).
CREATE TABLE notifications (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id BIGINT REFERENCES workspaces (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    priority TEXT NOT NULL DEFAULT 'normal',
    -- What it leads to: a channel (and a message in it, or a thread).
    channel_id BIGINT REFERENCES channels (id) ON DELETE CASCADE,
    message_id BIGINT,
    thread_id BIGINT,
    read_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
