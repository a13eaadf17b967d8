//! Link previews: a row per link of a message, pending until a worker
//! fetches it (claimed with a lease, so any number of nodes share the work
//! and a node that stops leaves its claims to the others), then shown, with
//! nothing to show, or removed by the message's author.

use super::messages::bind_ids;
use super::{Store, Tx, placeholders};
use crate::error::Result;
use crate::events::NewEvent;
use crate::id::Id;
use crate::model::LinkPreview;
use sqlx::Row;
use std::collections::HashMap;

/// A link waiting for its preview, claimed by this node.
#[derive(Debug, Clone)]
pub struct PendingPreview {
    pub message_id: Id,
    pub channel_id: Id,
    pub workspace_id: Id,
    pub position: i64,
    pub url: String,
    /// Whether the workspace shows link previews.
    pub previews_on: bool,
}

/// What became of a pending link.
#[derive(Debug, Clone)]
pub enum PreviewOutcome {
    Shown {
        title: String,
        description: String,
        site_name: String,
        image: Option<StoredImage>,
    },
    /// Nothing to show (the page could not be read, or previews are off).
    Nothing,
}

/// An image kept in the data directory under its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub digest: String,
    pub content_type: String,
}

const PREVIEW_COLUMNS: &str = "message_id, position, url, title, description, site_name, image_digest";

fn preview_of(row: &sqlx::any::AnyRow) -> Result<(i64, LinkPreview)> {
    Ok((
        row.try_get(0)?,
        LinkPreview {
            position: row.try_get(1)?,
            url: row.try_get(2)?,
            title: row.try_get(3)?,
            description: row.try_get(4)?,
            site_name: row.try_get(5)?,
            has_image: row.try_get::<Option<String>, _>(6)?.is_some(),
        },
    ))
}

impl Store {
    /// Adds a pending preview for each of `links` (in a new message's transaction).
    pub(super) async fn add_pending_previews(
        tx: &mut Tx,
        message: Id,
        links: &[String],
        now: i64,
    ) -> Result<()> {
        Self::insert_pending(tx, message, 0, links.iter(), now).await
    }

    /// Adds `links` to `message` as pending previews, numbered from `first`.
    async fn insert_pending(
        tx: &mut Tx,
        message: Id,
        first: i64,
        links: impl Iterator<Item = &String>,
        now: i64,
    ) -> Result<()> {
        for (position, url) in (first..).zip(links) {
            sqlx::query(
                "INSERT INTO link_previews (message_id, position, url, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(message.0)
            .bind(position)
            .bind(url)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// After an edit to `message`, whose links are now `links`: previews of
    /// links no longer there go, new links wait for theirs; a link kept
    /// keeps its preview (or its removal).
    pub(super) async fn edit_previews(tx: &mut Tx, message: Id, links: &[String], now: i64) -> Result<()> {
        let had: Vec<(i64, String)> =
            sqlx::query_as("SELECT position, url FROM link_previews WHERE message_id = $1")
                .bind(message.0)
                .fetch_all(&mut **tx)
                .await?;
        for (position, url) in &had {
            if !links.contains(url) {
                sqlx::query("DELETE FROM link_previews WHERE message_id = $1 AND position = $2")
                    .bind(message.0)
                    .bind(position)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        let next = had.iter().map(|(p, _)| p + 1).max().unwrap_or(0);
        let added = links.iter().filter(|l| !had.iter().any(|(_, u)| u == *l));
        Self::insert_pending(tx, message, next, added, now).await
    }

    /// The shown previews of each of `ids` (messages), in link order.
    pub(super) async fn previews_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<LinkPreview>>> {
        let sql = format!(
            "SELECT {PREVIEW_COLUMNS} FROM link_previews WHERE message_id IN ({}) AND state = 'shown' \
             ORDER BY message_id, position",
            placeholders(ids.len())
        );
        let mut found: HashMap<i64, Vec<LinkPreview>> = HashMap::new();
        for row in bind_ids(&sql, ids).fetch_all(&self.pool).await? {
            let (message, preview) = preview_of(&row)?;
            found.entry(message).or_default().push(preview);
        }
        Ok(found)
    }

    /// Claims the pending links of up to `messages` messages for `lease_ms`,
    /// each link with its message's place and the workspace's choice.
    pub async fn claim_pending_previews(
        &self,
        now: i64,
        lease_ms: i64,
        messages: i64,
    ) -> Result<Vec<PendingPreview>> {
        let waiting: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT DISTINCT l.message_id, c.id, w.id, w.link_previews FROM link_previews l \
             JOIN messages m ON m.id = l.message_id JOIN channels c ON c.id = m.channel_id \
             JOIN workspaces w ON w.id = c.workspace_id \
             WHERE l.state = 'pending' AND l.claimed_until < $1 ORDER BY l.message_id LIMIT $2",
        )
        .bind(now)
        .bind(messages)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for (message, channel, workspace, on) in waiting {
            let rows = sqlx::query(
                "UPDATE link_previews SET claimed_until = $1 \
                 WHERE message_id = $2 AND state = 'pending' AND claimed_until < $3 RETURNING position, url",
            )
            .bind(now + lease_ms)
            .bind(message)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
            // None when another node took it.
            for row in rows {
                claimed.push(PendingPreview {
                    message_id: Id(message),
                    channel_id: Id(channel),
                    workspace_id: Id(workspace),
                    position: row.try_get(0)?,
                    url: row.try_get(1)?,
                    previews_on: on != 0,
                });
            }
        }
        Ok(claimed)
    }

    /// What a preview of `url` made since `since` found, if one did: a link
    /// posted again is not fetched again.
    pub async fn recent_preview(&self, url: &str, since: i64) -> Result<Option<PreviewOutcome>> {
        let row = sqlx::query(
            "SELECT state, title, description, site_name, image_digest, image_type FROM link_previews \
             WHERE url = $1 AND created_at >= $2 AND state IN ('shown', 'none') ORDER BY created_at DESC LIMIT 1",
        )
        .bind(url)
        .bind(since)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<&str, _>(0)? == "none" {
            return Ok(Some(PreviewOutcome::Nothing));
        }
        let image = match (row.try_get::<Option<String>, _>(4)?, row.try_get::<Option<String>, _>(5)?) {
            (Some(digest), Some(content_type)) => Some(StoredImage { digest, content_type }),
            _ => None,
        };
        Ok(Some(PreviewOutcome::Shown {
            title: row.try_get(1)?,
            description: row.try_get(2)?,
            site_name: row.try_get(3)?,
            image,
        }))
    }

    /// Records what became of `message`'s claimed links (those still
    /// pending: not removed or edited away meanwhile) and logs the events
    /// `announce` makes of the previews it now shows, when any changed.
    pub async fn finish_previews(
        &self,
        message: Id,
        outcomes: &[(i64, PreviewOutcome)],
        announce: impl FnOnce(Vec<LinkPreview>) -> Vec<NewEvent>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let mut shown = false;
        for (position, outcome) in outcomes {
            let (state, title, description, site, image) = match outcome {
                PreviewOutcome::Shown { title, description, site_name, image } => {
                    ("shown", title.as_str(), description.as_str(), site_name.as_str(), image.as_ref())
                }
                PreviewOutcome::Nothing => ("none", "", "", "", None),
            };
            let done = sqlx::query(
                "UPDATE link_previews SET state = $1, title = $2, description = $3, site_name = $4, \
                 image_digest = $5, image_type = $6, claimed_until = 0 \
                 WHERE message_id = $7 AND position = $8 AND state = 'pending'",
            )
            .bind(state)
            .bind(title)
            .bind(description)
            .bind(site)
            .bind(image.map(|i| i.digest.as_str()))
            .bind(image.map(|i| i.content_type.as_str()))
            .bind(message.0)
            .bind(position)
            .execute(&mut *tx)
            .await?;
            shown |= done.rows_affected() == 1 && state == "shown";
        }
        let events = if shown { announce(Self::shown_previews(&mut tx, message).await?) } else { Vec::new() };
        self.commit(tx, &events).await
    }

    async fn shown_previews(tx: &mut Tx, message: Id) -> Result<Vec<LinkPreview>> {
        let rows = sqlx::query(&format!(
            "SELECT {PREVIEW_COLUMNS} FROM link_previews WHERE message_id = $1 AND state = 'shown' ORDER BY position"
        ))
        .bind(message.0)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(|r| preview_of(r).map(|(_, p)| p)).collect()
    }

    /// Removes a shown preview from `message` (for good: an edit keeping the
    /// link does not bring it back) and logs the events `announce` makes of
    /// those left. Returns whether there was one to remove.
    pub async fn remove_preview(
        &self,
        message: Id,
        position: i64,
        announce: impl FnOnce(Vec<LinkPreview>) -> Vec<NewEvent>,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE link_previews SET state = 'removed' WHERE message_id = $1 AND position = $2 AND state = 'shown'",
        )
        .bind(message.0)
        .bind(position)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let events = announce(Self::shown_previews(&mut tx, message).await?);
        self.commit(tx, &events).await?;
        Ok(true)
    }

    /// The image of a shown preview, if it has one.
    pub async fn preview_image(&self, message: Id, position: i64) -> Result<Option<StoredImage>> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT image_digest, image_type FROM link_previews \
             WHERE message_id = $1 AND position = $2 AND state = 'shown'",
        )
        .bind(message.0)
        .bind(position)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some((Some(digest), Some(content_type))) => Some(StoredImage { digest, content_type }),
            _ => None,
        })
    }

    /// Whether any preview still shows the image with `digest`.
    pub async fn preview_image_used(&self, digest: &str) -> Result<bool> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM link_previews WHERE image_digest = $1 AND state = 'shown'")
                .bind(digest)
                .fetch_one(&self.pool)
                .await?;
        Ok(n > 0)
    }

    /// Whether links posted in `workspace` get previews.
    pub async fn link_previews_on(&self, workspace: Id) -> Result<bool> {
        let on: Option<(i64,)> = sqlx::query_as("SELECT link_previews FROM workspaces WHERE id = $1")
            .bind(workspace.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(on.is_some_and(|(on,)| on != 0))
    }

    /// Turns link previews in `workspace` on or off.
    pub async fn set_link_previews(&self, workspace: Id, on: bool) -> Result<()> {
        sqlx::query("UPDATE workspaces SET link_previews = $1 WHERE id = $2")
            .bind(on as i64)
            .bind(workspace.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
