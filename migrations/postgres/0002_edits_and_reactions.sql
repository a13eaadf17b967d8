-- Edited and deleted messages; rendered bodies; reactions.

ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
-- The body rendered to sanitised HTML when written (empty for older rows: rendered on read).
ALTER TABLE messages ADD COLUMN body_html TEXT NOT NULL DEFAULT '';

CREATE TABLE reactions (
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);
