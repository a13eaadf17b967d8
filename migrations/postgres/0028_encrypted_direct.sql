-- A workspace whose admins require end-to-end encryption for direct
-- conversations: each one opened from then on is encrypted from the start
-- (those opened before stay as they are; their members may encrypt them).
ALTER TABLE workspaces ADD COLUMN encrypt_direct BIGINT NOT NULL DEFAULT 0;
