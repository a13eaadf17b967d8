-- An encrypted conversation may share its recent history with the devices
-- it adds: when it does, the member's device that adds them sends them the
-- latest messages it has read, encrypted for the conversation's new keys
-- (an MLS application message the server cannot read), kept here for each
-- added device until that device has taken it.
ALTER TABLE channels ADD COLUMN shares_history BIGINT NOT NULL DEFAULT 0;
CREATE TABLE shared_histories (
    id BIGINT PRIMARY KEY,
    -- The device it is for.
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    -- The device that shared it, and the epoch it is encrypted for.
    from_device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    epoch BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX shared_histories_by_device ON shared_histories (device_id, id);
