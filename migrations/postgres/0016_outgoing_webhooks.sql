-- Outgoing webhooks: a call to a URL when something happens in chosen
-- channels of a workspace (a message, a member joining, a reaction, a call
-- starting). Calls are made by the delivery worker from `deliveries` rows,
-- with retries; each attempt is kept in `webhook_calls` for the log. Each
-- webhook answers (the text its URL sends back) as a bot account of its own.
CREATE TABLE outgoing_webhooks (
    id             BIGINT PRIMARY KEY,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    bot_id         BIGINT NOT NULL REFERENCES users(id),
    name           TEXT   NOT NULL,
    url            TEXT   NOT NULL,
    -- 'json', or 'form' (Slack's classic form fields).
    content_type   TEXT   NOT NULL,
    -- Space-separated: message_posted member_joined reaction_added meeting_started.
    events         TEXT   NOT NULL,
    -- Space-separated words a message must start with; empty: every message.
    trigger_words  TEXT   NOT NULL,
    -- Sent as each payload's `token`, for scripts written for Slack's.
    token          TEXT   NOT NULL,
    -- Each call is signed with it (HMAC-SHA256 over v0:timestamp:body).
    signing_secret TEXT   NOT NULL,
    created_by     BIGINT NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    -- It hears the events logged after this position, not those before it.
    after_seq      BIGINT NOT NULL
);
CREATE INDEX outgoing_webhooks_workspace ON outgoing_webhooks (workspace_id);

-- The channels an outgoing webhook hears; none: every public channel of its
-- workspace.
CREATE TABLE outgoing_webhook_channels (
    webhook_id BIGINT NOT NULL REFERENCES outgoing_webhooks(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    PRIMARY KEY (webhook_id, channel_id)
);

-- How far the event log has been read for outgoing webhooks: its one row
-- moves in the transaction that queues the calls, so each event is turned
-- into calls once, whichever node reads it.
CREATE TABLE outgoing_webhook_cursor (
    id  BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO outgoing_webhook_cursor (id, seq) SELECT 1, seq FROM event_position WHERE id = 1;

-- A call to make is a delivery (channel 'webhook') naming its webhook, and
-- where the webhook's answer goes.
ALTER TABLE deliveries ADD COLUMN webhook_id BIGINT REFERENCES outgoing_webhooks(id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD COLUMN answer_channel_id BIGINT;
ALTER TABLE deliveries ADD COLUMN answer_thread_id BIGINT;
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, created_at) WHERE webhook_id IS NOT NULL;

-- Each attempt at a call: when, the answer's status code (none when there was
-- no answer), how long it took, and the start of the answer or the error.
CREATE TABLE webhook_calls (
    id          BIGINT PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    status_code BIGINT,
    latency_ms  BIGINT NOT NULL,
    ok          BIGINT NOT NULL CHECK (ok IN (0, 1)),
    excerpt     TEXT   NOT NULL
);
CREATE INDEX webhook_calls_delivery ON webhook_calls (delivery_id, at);
