-- Roles and permissions, per-channel overrides, channel types and categories, guests,
-- moderation (bans, timeouts) and the audit log.

-- Roles of a workspace. `builtin` names the five built-in roles ('owner', 'admin', 'moderator',
-- 'member', 'guest'); custom roles have ''. The higher `position` wins. `permissions` is a bit
-- set (domain::permissions::Perm). The built-in roles of a workspace are made with it; the
-- store adds them to workspaces made before this migration when it opens.
CREATE TABLE roles (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    colour       TEXT NOT NULL,
    position     BIGINT NOT NULL,
    permissions  BIGINT NOT NULL,
    builtin      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

-- Roles given to members besides the one every member holds (Member, or Guest for guests).
CREATE TABLE member_roles (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id      BIGINT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (workspace_id, user_id, role_id)
);
CREATE INDEX member_roles_role ON member_roles(role_id);

-- A guest sees only the external channels they were invited to.
ALTER TABLE workspace_members ADD COLUMN is_guest BIGINT NOT NULL DEFAULT 0;
-- While in the future, the member cannot post, reply or react (a timeout).
ALTER TABLE workspace_members ADD COLUMN timeout_until BIGINT;

-- Allow and deny bits for one role (target_kind 'role') or one member ('member') in one channel.
CREATE TABLE channel_overrides (
    channel_id  BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    target_kind TEXT NOT NULL,
    target_id   BIGINT NOT NULL,
    allow_bits  BIGINT NOT NULL,
    deny_bits   BIGINT NOT NULL,
    PRIMARY KEY (channel_id, target_kind, target_id)
);

CREATE TABLE categories (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    position     BIGINT NOT NULL
);
CREATE INDEX categories_workspace ON categories(workspace_id);

-- kind is now also 'announcement' or 'voice'.
ALTER TABLE channels ADD COLUMN is_external BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN archived_at BIGINT;
ALTER TABLE channels ADD COLUMN user_limit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN category_id BIGINT REFERENCES categories(id) ON DELETE SET NULL;
ALTER TABLE channels ADD COLUMN position BIGINT NOT NULL DEFAULT 0;

-- A guest invite admits to its named channels only.
ALTER TABLE invites ADD COLUMN is_guest BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invites ADD COLUMN email TEXT;
CREATE TABLE invite_channels (
    code       TEXT NOT NULL REFERENCES invites(code) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    PRIMARY KEY (code, channel_id)
);
-- invites.channel_id is superseded by invite_channels and left NULL from now on.
INSERT INTO invite_channels (code, channel_id) SELECT code, channel_id FROM invites WHERE channel_id IS NOT NULL;

CREATE TABLE bans (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason       TEXT NOT NULL,
    banned_by    BIGINT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

-- Every moderation action and every change of roles, permissions or channel settings.
CREATE TABLE audit_log (
    id           BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    actor_id     BIGINT NOT NULL REFERENCES users(id),
    action       TEXT NOT NULL,
    target_user  BIGINT,
    target_id    BIGINT,
    summary      TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, id);
