-- Bot accounts made by a workspace's admins: a user that never signs in with
-- a password, in one workspace, with an owner; it uses API tokens for the
-- REST API and the gateway, and holds roles like any member.
CREATE TABLE bots (
    user_id      BIGINT PRIMARY KEY REFERENCES users(id),
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    owner_id     BIGINT NOT NULL REFERENCES users(id),
    -- Shown as its avatar, beside its name.
    emoji        TEXT   NOT NULL,
    description  TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX bots_workspace ON bots (workspace_id);
