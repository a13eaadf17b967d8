-- End-to-end encryption (frontend/e2ee, domain/src/hub/e2ee.rs). The
-- server only delivers: each person's devices with their public signature
-- keys, the key packages others use to add a device to a conversation, the
-- commits that change a conversation's keys (one per epoch, in the order
-- accepted) and the welcomes that let added devices join. It never holds a
-- key that decrypts anything.

-- A conversation (direct, or a private channel) made end-to-end encrypted,
-- and the epoch its keys are at (the number of commits accepted).
ALTER TABLE channels ADD COLUMN end_to_end BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;

-- For an encrypted message, the device that encrypted it (its body is then
-- the ciphertext).
ALTER TABLE messages ADD COLUMN sent_from BIGINT;

CREATE TABLE devices (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- Base64 of the device's Ed25519 public key.
    signature_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    removed_at BIGINT
);
CREATE INDEX devices_by_user ON devices (user_id);

-- Each usable once, but the last-resort one, used when the others ran out.
CREATE TABLE key_packages (
    id BIGINT PRIMARY KEY,
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    last_resort BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX key_packages_by_device ON key_packages (device_id, last_resort, id);

CREATE TABLE group_commits (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    -- The epoch it ends: the conversation is at epoch + 1 after it.
    epoch BIGINT NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices(id),
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, epoch)
);

CREATE TABLE group_welcomes (
    id BIGINT PRIMARY KEY,
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    -- The epoch the device joins at.
    epoch BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX group_welcomes_by_device ON group_welcomes (device_id, id);
