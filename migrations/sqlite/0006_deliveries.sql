-- Outgoing deliveries (emails now; push and SMS later), durable across
-- restarts: a worker claims due rows, sends, and marks them sent or due again
-- later with backoff; after too many failures they are marked failed.
CREATE TABLE deliveries (
    id BIGINT PRIMARY KEY,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT,
    sent_at BIGINT,
    failed_at BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE sent_at IS NULL AND failed_at IS NULL;
