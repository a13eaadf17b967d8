-- A workspace that must archive its encrypted conversations names an
-- archiving member: an account that is a visible member of each of them and
-- reads them on its own devices, with its own keys (the server still holds
-- none). Each person agrees, once per archiving member, before they send in
-- an encrypted conversation of that workspace.
ALTER TABLE workspaces ADD COLUMN e2ee_archivist BIGINT REFERENCES users(id) ON DELETE SET NULL;
CREATE TABLE e2ee_archive_consents (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The archiving member agreed to: naming another asks everyone again.
    archivist BIGINT NOT NULL,
    consented_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
-- Memberships the archiving member was given as such: naming another (or
-- nobody) takes it out of those again, so that it reads nothing after.
ALTER TABLE channel_members ADD COLUMN by_archive BIGINT NOT NULL DEFAULT 0;
