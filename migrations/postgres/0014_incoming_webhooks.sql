-- Incoming webhooks: a secret address per channel that scripts post to.
-- Each webhook posts as a bot account of its own (`users.is_bot`), with the
-- right to post of the person who made it, checked at every post.

-- Bot accounts: no password (their hash is '!'), shown with a BOT tag.
ALTER TABLE users ADD COLUMN is_bot BIGINT NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1));

-- What one post shows instead of its author's name and avatar (a webhook
-- call's `username` and `icon_emoji`); empty for everyone else.
ALTER TABLE messages ADD COLUMN shown_name TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN shown_icon TEXT NOT NULL DEFAULT '';

CREATE TABLE webhooks (
    id             BIGINT PRIMARY KEY,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id     BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    bot_id         BIGINT NOT NULL REFERENCES users(id),
    name           TEXT   NOT NULL,
    -- SHA-256 of the secret in its address; the secret itself is shown once.
    token_digest   TEXT   NOT NULL UNIQUE,
    -- When set, every call must be signed with it (HMAC-SHA256).
    signing_secret TEXT   NOT NULL DEFAULT '',
    created_by     BIGINT NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE INDEX webhooks_workspace ON webhooks (workspace_id);
CREATE INDEX webhooks_channel ON webhooks (channel_id);

-- Admins and owners hold every permission, this new one (bit 20) included.
UPDATE roles SET permissions = permissions | 1048576 WHERE builtin IN ('admin', 'owner');
