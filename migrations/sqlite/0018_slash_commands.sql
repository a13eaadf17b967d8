-- A workspace's own slash commands: typing /name in a channel POSTs Slack's
-- form fields to the command's URL, and its answer shows to the person who
-- typed it or in the channel, posted as the command's bot account.
CREATE TABLE slash_commands (
    id             BIGINT PRIMARY KEY,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    bot_id         BIGINT NOT NULL REFERENCES users(id),
    -- Lower case, without the slash; never a built-in command's name.
    name           TEXT   NOT NULL,
    url            TEXT   NOT NULL,
    description    TEXT   NOT NULL,
    -- What follows the name, as the composer's suggestions show it.
    usage_hint     TEXT   NOT NULL,
    -- Sent as each call's `token`, for scripts written for Slack's.
    token          TEXT   NOT NULL,
    -- Each call is signed with it (HMAC-SHA256 over v0:timestamp:body).
    signing_secret TEXT   NOT NULL,
    created_by     BIGINT NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

-- Each use of such a command: who typed it where, what the call's answer
-- was, and the secret of its response_url (as a digest), which takes
-- delayed answers until it expires.
CREATE TABLE slash_command_uses (
    id              BIGINT PRIMARY KEY,
    command_id      BIGINT NOT NULL REFERENCES slash_commands(id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    channel_id      BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    thread_id       BIGINT,
    response_digest TEXT   NOT NULL UNIQUE,
    at              BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    -- How many delayed answers it has taken (at most five, as Slack's).
    answers         BIGINT NOT NULL DEFAULT 0,
    status_code     BIGINT,
    latency_ms      BIGINT NOT NULL,
    excerpt         TEXT   NOT NULL
);
CREATE INDEX slash_command_uses_command ON slash_command_uses (command_id, at);

-- Notifications paused (/dnd) until this time: deliveries wait for it as
-- they wait for quiet hours.
ALTER TABLE notification_settings ADD COLUMN dnd_until BIGINT;

-- Shown as away whatever their connections say (/away), until they say back.
ALTER TABLE users ADD COLUMN away BIGINT NOT NULL DEFAULT 0;
