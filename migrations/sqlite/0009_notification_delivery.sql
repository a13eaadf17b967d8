-- How each person wants to hear of things: quiet hours (in their time zone,
-- on some days of the week), whether urgent notifications break through,
-- and a phone number for SMS.
CREATE TABLE notification_settings (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    time_zone TEXT NOT NULL,
    quiet_enabled BIGINT NOT NULL,
    -- Minutes after local midnight; a window that ends before it starts
    -- runs past midnight; equal start and end means the whole day.
    quiet_start BIGINT NOT NULL,
    quiet_end BIGINT NOT NULL,
    -- The days a quiet window starts on: bit 0 is Monday, bit 6 Sunday.
    quiet_days BIGINT NOT NULL,
    urgent_breaks_through BIGINT NOT NULL,
    phone TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Notification type × delivery channel switches that differ from the defaults.
CREATE TABLE notification_switches (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind, channel)
);

-- A person's level for one chat channel: all, mentions, nothing or muted.
CREATE TABLE channel_notify_levels (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX channel_notify_levels_channel ON channel_notify_levels (channel_id, level);

-- Web Push subscriptions (one per browser a person turned push on in).
CREATE TABLE push_subscriptions (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- A workspace's notification templates, per name (a notification type or a
-- template id) and delivery channel; missing ones fall back to built-ins.
CREATE TABLE notification_templates (
    id BIGINT PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    body_html TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name, channel)
);

-- Notifications to make later: custom ones sent with send_at, meeting
-- reminders. Claimed with a lease; marked done in the same transaction that
-- stores what they make, so each happens once.
CREATE TABLE scheduled_notifications (
    id BIGINT PRIMARY KEY,
    due_at BIGINT NOT NULL,
    payload TEXT NOT NULL,
    meeting_id BIGINT REFERENCES meetings (id) ON DELETE CASCADE,
    claimed_until BIGINT,
    done_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX scheduled_notifications_due ON scheduled_notifications (due_at) WHERE done_at IS NULL;

-- A delivery made from notifications names its person and gathers them:
-- an email digest, a push collapsed per channel. Rows without items are
-- emails written whole (a guest invitation).
ALTER TABLE deliveries ADD COLUMN user_id BIGINT;
ALTER TABLE deliveries ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_open_group ON deliveries (user_id, channel, group_key) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE TABLE delivery_items (
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    PRIMARY KEY (delivery_id, notification_id)
);

-- A custom notification may name a template and the data it fills in.
ALTER TABLE notifications ADD COLUMN template TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN data TEXT NOT NULL DEFAULT '{}';
