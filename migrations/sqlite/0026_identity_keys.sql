-- End-to-end encryption: each person's identity key, which signs each of
-- their devices (clients check the signature before adding a device to a
-- conversation, so the server cannot add a device of its own). Replacing
-- it (a person who lost every device and their recovery key) removes their
-- devices: their signatures no longer hold.
CREATE TABLE identity_keys (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    -- Base64 of the Ed25519 public key.
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The identity key's signature of the device (base64).
ALTER TABLE devices ADD COLUMN identity_signature TEXT NOT NULL DEFAULT '';
