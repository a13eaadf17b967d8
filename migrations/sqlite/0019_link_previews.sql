-- Previews of the links in a message: each link waits as 'pending' until a
-- worker fetches the page (claiming it until claimed_until), then shows
-- ('shown': title, description, site and the image kept in the data
-- directory under its SHA-256 digest), has nothing to show ('none'), or was
-- removed by the message's author ('removed', so an edit does not bring it back).
CREATE TABLE link_previews (
    message_id    BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    -- The link's place among the message's links.
    position      BIGINT NOT NULL,
    url           TEXT   NOT NULL,
    state         TEXT   NOT NULL DEFAULT 'pending',
    title         TEXT   NOT NULL DEFAULT '',
    description   TEXT   NOT NULL DEFAULT '',
    site_name     TEXT   NOT NULL DEFAULT '',
    image_digest  TEXT,
    image_type    TEXT,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (message_id, position)
);
CREATE INDEX link_previews_pending ON link_previews (claimed_until) WHERE state = 'pending';
-- A link previewed recently is not fetched again.
CREATE INDEX link_previews_url ON link_previews (url, created_at);

-- Whether links posted in the workspace get previews (its admins' choice).
ALTER TABLE workspaces ADD COLUMN link_previews BIGINT NOT NULL DEFAULT 1;
