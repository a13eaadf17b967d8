-- Access that can be taken back: API tokens are named and may expire;
-- sessions know whose they are (to end them all at once); a push
-- subscription knows the session it was made in (it ends with it);
-- password reset links are single-use and short-lived.

ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT 'sign-in';
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;

ALTER TABLE sessions ADD COLUMN user_id BIGINT;
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE push_subscriptions ADD COLUMN session_id TEXT;

CREATE TABLE password_resets (
    token_digest TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- The channel an audit entry concerns, and whether it was private when
-- written: the entry's details are shown only to who may read that channel.
ALTER TABLE audit_log ADD COLUMN channel_id BIGINT;
ALTER TABLE audit_log ADD COLUMN channel_private BIGINT NOT NULL DEFAULT 0;

-- The account Parley itself posts as (a call's recording, whoever started
-- it): in no workspace, and '!' is no password hash, so it never signs in.
-- A space is not allowed in usernames people choose.
INSERT INTO users (id, username, display_name, email, password_hash, created_at)
VALUES (1, 'parley system', 'Parley', 'system@parley.invalid', '!', 0)
ON CONFLICT DO NOTHING;
