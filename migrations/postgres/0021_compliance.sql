-- Compliance: deployment administrators and settings, retention policies,
-- legal holds, and the earlier versions of messages kept for them.

-- Deployment administrators: the first account of a deployment (and, for
-- one that already has accounts, its oldest person); PARLEY_ADMINS names
-- more, read from the configuration rather than stored.
ALTER TABLE users ADD COLUMN deployment_admin BIGINT NOT NULL DEFAULT 0;
UPDATE users SET deployment_admin = 1
 WHERE id = (SELECT MIN(id) FROM users WHERE id <> 1 AND is_bot = 0);

-- Settings of the whole deployment that its administrators change
-- (`retention_days`, `file_retention_days`, `compliance_archive`).
CREATE TABLE deployment_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- What deployment administrators did, and what the retention worker did
-- across workspaces (each workspace's own share also goes to its audit log).
CREATE TABLE deployment_audit (
    id         BIGINT PRIMARY KEY,
    actor_id   BIGINT NOT NULL REFERENCES users(id),
    action     TEXT NOT NULL,
    target_id  BIGINT,
    summary    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Retention: the days messages and files are kept. NULL follows the level
-- above (channel, then workspace, then deployment); 0 keeps them forever.
ALTER TABLE workspaces ADD COLUMN retention_days BIGINT;
ALTER TABLE workspaces ADD COLUMN file_retention_days BIGINT;
ALTER TABLE channels ADD COLUMN retention_days BIGINT;
ALTER TABLE channels ADD COLUMN file_retention_days BIGINT;

-- A retention run: its counts are kept as it goes, so that a run stopped
-- by a restart is finished by the next, and its audit entries written once.
-- One run is open at a time (`one_open` is 1 until it finishes, then NULL),
-- worked by the node that claimed it until `claimed_until`.
CREATE TABLE retention_runs (
    id            BIGINT PRIMARY KEY,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    one_open      BIGINT UNIQUE,
    claimed_by    BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL
);
CREATE TABLE retention_counts (
    run_id       BIGINT NOT NULL REFERENCES retention_runs(id) ON DELETE CASCADE,
    workspace_id BIGINT NOT NULL,
    channel_id   BIGINT NOT NULL,
    channel_name TEXT NOT NULL,
    messages     BIGINT NOT NULL DEFAULT 0,
    files        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, channel_id)
);

-- Legal holds: the content of the people and channels named, from
-- `starts_at` on, is exempt from retention and survives edits and deletes
-- (as message_versions) until the hold is released.
CREATE TABLE legal_holds (
    id          BIGINT PRIMARY KEY,
    name        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    released_at BIGINT,
    released_by BIGINT REFERENCES users(id)
);
CREATE TABLE legal_hold_targets (
    hold_id   BIGINT NOT NULL REFERENCES legal_holds(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('user', 'channel')),
    target_id BIGINT NOT NULL,
    PRIMARY KEY (hold_id, kind, target_id)
);
CREATE INDEX legal_hold_targets_target ON legal_hold_targets(kind, target_id);

-- A message's earlier versions: its body before an edit ('edited'), or its
-- content when it was deleted ('deleted'), with when that happened. Kept
-- for a legal hold or compliance archiving; shown to no one but exports.
CREATE TABLE message_versions (
    id          BIGINT PRIMARY KEY,
    message_id  BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    change      TEXT NOT NULL CHECK (change IN ('edited', 'deleted')),
    changed_by  BIGINT NOT NULL,
    changed_at  BIGINT NOT NULL
);
CREATE INDEX message_versions_message ON message_versions(message_id, id);

-- Purging finds a message's notifications. (A channel's oldest messages
-- are found by id, which is time-ordered: no index on created_at.)
CREATE INDEX notifications_message ON notifications(message_id);
