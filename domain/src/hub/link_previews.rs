//! Link previews: a message's links wait in the store from the moment it is
//! posted; the preview worker fetches them here (through the outgoing
//! guard, with the image kept by Parley) and announces what each message
//! now shows. Its author (or who manages messages) removes a preview; the
//! workspace's managers turn previews off.

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::model::LinkPreview;
use crate::permissions;
use crate::store::{PendingPreview, PreviewOutcome, StoredImage};
use std::path::PathBuf;

/// How long a worker holds the links it claimed before another may take them.
const LEASE_MS: i64 = 60_000;
/// How many messages' links one round fetches, side by side.
const MESSAGES_PER_ROUND: i64 = 8;
/// A link previewed this recently is shown as it was then, not fetched again.
const REUSE_MS: i64 = 3_600_000;

impl Hub {
    /// The links in a body posted in `ws` that get previews: the first few,
    /// none where the workspace turned previews off.
    pub(super) async fn links_to_preview(&self, ws: Id, body: &str) -> Result<Vec<String>> {
        let mut links = crate::markdown::links(body);
        if links.is_empty() || !self.store.link_previews_on(ws).await? {
            return Ok(Vec::new());
        }
        links.truncate(crate::link_preview::MAX_PER_MESSAGE);
        Ok(links)
    }

    /// Fetches the previews of links that wait for one, a round of messages
    /// at a time, and announces each message's previews. Safe on any number
    /// of nodes: each link is claimed by one. Returns how many links were
    /// settled.
    pub async fn fetch_link_previews(&self) -> Result<usize> {
        let mut settled = 0;
        loop {
            let claimed =
                self.store.claim_pending_previews(crate::now_ms(), LEASE_MS, MESSAGES_PER_ROUND).await?;
            if claimed.is_empty() {
                return Ok(settled);
            }
            let mut by_message: Vec<Vec<PendingPreview>> = Vec::new();
            for link in claimed {
                match by_message.last_mut() {
                    Some(links) if links[0].message_id == link.message_id => links.push(link),
                    _ => by_message.push(vec![link]),
                }
            }
            let mut round = tokio::task::JoinSet::new();
            for links in by_message {
                let hub = self.clone();
                settled += links.len();
                round.spawn(async move { hub.preview_message(links).await });
            }
            while let Some(done) = round.join_next().await {
                match done {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "could not store a message's link previews"),
                    Err(e) => tracing::warn!(error = %e, "a link preview task failed"),
                }
            }
        }
    }

    /// Settles one message's claimed links and announces its previews.
    #[tracing::instrument(skip_all, fields(message = %links[0].message_id))]
    async fn preview_message(&self, links: Vec<PendingPreview>) -> Result<()> {
        let first = &links[0];
        let (channel_id, message_id) = (first.channel_id, first.message_id);
        let mut outcomes = Vec::with_capacity(links.len());
        for link in &links {
            outcomes.push((link.position, self.preview_link(link).await?));
        }
        self.store.finish_previews(message_id, &outcomes, previews_changed(channel_id, message_id)).await
    }

    /// What one link shows: nothing where previews are off, what it showed
    /// within the hour, or what its page says now.
    async fn preview_link(&self, link: &PendingPreview) -> Result<PreviewOutcome> {
        if !link.previews_on {
            return Ok(PreviewOutcome::Nothing);
        }
        if let Some(known) = self.store.recent_preview(&link.url, crate::now_ms() - REUSE_MS).await? {
            return Ok(known);
        }
        let fetched = match self.previewer.preview(&link.url).await {
            Ok(fetched) => fetched,
            Err(why) => {
                tracing::debug!(url = %link.url, %why, "no link preview");
                return Ok(PreviewOutcome::Nothing);
            }
        };
        let image = match &fetched.image {
            Some(image) => Some(StoredImage {
                digest: self.files.keep_preview_image(&image.bytes).await?,
                content_type: image.content_type.to_string(),
            }),
            None => None,
        };
        Ok(PreviewOutcome::Shown {
            title: fetched.title,
            description: fetched.description,
            site_name: fetched.site_name,
            image,
        })
    }

    /// Deletes the kept images no preview shows any more (their messages
    /// deleted, their previews removed) that are older than `grace` (a
    /// newer one may belong to a preview being stored). Returns how many.
    pub async fn prune_link_preview_images(&self, grace: std::time::Duration) -> Result<usize> {
        let before = std::time::SystemTime::now() - grace;
        let mut unused = Vec::new();
        for (digest, written) in self.files.preview_images().await? {
            if written < before && !self.store.preview_image_used(&digest).await? {
                unused.push(self.files.preview_image_path(&digest));
            }
        }
        let n = unused.len();
        self.files.remove(unused).await;
        Ok(n)
    }

    /// Removes the preview at `position` from `message`, by its author (or
    /// who manages messages there).
    pub async fn remove_link_preview(&self, actor: Id, message: Id, position: i64) -> Result<()> {
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::remove_link_preview(facts, msg.author.id == actor)?;
        let announce = previews_changed(msg.channel_id, msg.id);
        if !self.store.remove_preview(msg.id, position, announce).await? {
            return Err(Error::NotFound(Thing::LinkPreview));
        }
        Ok(())
    }

    /// Where the image of a preview `actor` can see is kept, and its type.
    pub async fn link_preview_image(
        &self,
        actor: Id,
        message: Id,
        position: i64,
    ) -> Result<(PathBuf, String)> {
        let (msg, _) = self.message_facts(actor, message).await?;
        let image =
            self.store.preview_image(msg.id, position).await?.ok_or(Error::NotFound(Thing::LinkPreview))?;
        Ok((self.files.preview_image_path(&image.digest), image.content_type))
    }

    /// The preview of the page at `url`, for `actor`'s browser to put in an
    /// end-to-end encrypted message it is sending in `ws` (the server
    /// cannot read such a message's links): the server learns the address,
    /// not the message. Text only (title, description, site): the image
    /// would be kept and served by Parley, which this preview never
    /// references. Nothing where `ws` turned previews off or the page has
    /// none. Counted as posting (each message previews a few links at most).
    pub async fn preview_page(&self, actor: Id, ws: Id, url: &str) -> Result<Option<LinkPreview>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        if !crate::link_preview::is_page_address(url) {
            return Err(Error::invalid(
                "url",
                "Give one web address, starting with http:// or https://, of at most 2,000 characters.",
            ));
        }
        self.limits.check(crate::limits::Bucket::Post, &format!("{actor}:previews")).await?;
        if !self.store.link_previews_on(ws).await? {
            return Ok(None);
        }
        let (title, description, site_name) =
            match self.store.recent_preview(url, crate::now_ms() - REUSE_MS).await? {
                Some(PreviewOutcome::Shown { title, description, site_name, .. }) => {
                    (title, description, site_name)
                }
                Some(_) => return Ok(None),
                None => match self.previewer.preview_text(url).await {
                    Ok(fetched) => (fetched.title, fetched.description, fetched.site_name),
                    Err(why) => {
                        tracing::debug!(%url, %why, "no link preview for a sender");
                        return Ok(None);
                    }
                },
            };
        if title.is_empty() && description.is_empty() {
            return Ok(None); // Only an image, which this preview leaves out.
        }
        Ok(Some(LinkPreview {
            position: 0,
            url: url.to_string(),
            title,
            description,
            site_name,
            has_image: false,
        }))
    }

    /// Whether links posted in `ws` get previews, and whether `actor` may
    /// change that.
    pub async fn link_previews_setting(&self, actor: Id, ws: Id) -> Result<(bool, bool)> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        let may_change = permissions::set_link_previews(facts).is_ok();
        Ok((self.store.link_previews_on(ws).await?, may_change))
    }

    /// Turns link previews in `ws` on or off (links posted from then on;
    /// previews already shown stay). Audited.
    pub async fn set_link_previews(&self, actor: Id, ws: Id, on: bool) -> Result<()> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::set_link_previews(facts)?;
        self.store.set_link_previews(ws, on).await?;
        let summary = if on { "Turned link previews on" } else { "Turned link previews off" };
        self.audit(ws, actor, "workspace.link_previews", None, None, summary.to_string()).await
    }
}

/// What announces that `message` (in `channel`) now shows `previews`.
fn previews_changed(channel: Id, message: Id) -> impl FnOnce(Vec<LinkPreview>) -> Vec<NewEvent> {
    move |previews| {
        let kind = EventKind::LinkPreviews { channel_id: channel, message_id: message, previews };
        vec![NewEvent::new(Audience::Channel(channel), kind)]
    }
}
