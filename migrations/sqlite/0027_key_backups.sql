-- End-to-end encryption's key backups: each person's identity and device
-- keys, encrypted in their browser with a recovery key the server never
-- sees. `version` grows by one with each replacement, so that two devices
-- backing up at once cannot overwrite each other unseen.
CREATE TABLE key_backups (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    -- Base64 of the sealed backup.
    data TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
