-- An end-to-end encrypted message's own copy: its content sealed by the
-- sender's browser for its author alone (with a key from their recovery
-- key), so that a device restored from the key backup reads what its person
-- sent (no one can decrypt their own MLS messages). Ciphertext, base64.
ALTER TABLE messages ADD COLUMN own_copy TEXT;
