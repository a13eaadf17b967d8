//! The operations of the product. Server functions, REST handlers and the
//! gateway call these and nothing below them: each operation checks its input
//! (through [`crate::input`]), asks [`crate::permissions`], changes the store,
//! and publishes what changed on the [`EventBus`] once it is committed.
//!
//! Split by subject: [`accounts`], [`workspaces`], [`channels`] (and direct
//! conversations, read state), [`messages`], [`threads`] (and pins), [`files`].

mod accounts;
mod channels;
mod files;
mod messages;
mod threads;
mod workspaces;

pub use accounts::Signup;
pub use messages::Post;
pub use workspaces::NewWorkspace;

use crate::error::{Error, Result, Thing};
use crate::events::EventBus;
use crate::files::Files;
use crate::id::Id;
use crate::model::{Channel, Workspace};
use crate::permissions::{ChannelFacts, WorkspaceFacts};
use crate::presence::{Presence, Status};
use crate::store::Store;

#[derive(Clone)]
pub struct Hub {
    store: Store,
    bus: EventBus,
    presence: Presence,
    files: Files,
}

impl Hub {
    pub fn new(store: Store, bus: EventBus, files: Files) -> Self {
        Hub { store, bus, presence: Presence::default(), files }
    }

    pub fn files(&self) -> &Files {
        &self.files
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// A gateway connection of `user` opened (active): if that changes
    /// their status, everyone in their workspaces hears it.
    pub async fn connected(&self, user: Id) -> Result<()> {
        self.announce_presence(user, self.presence.connect(user)).await
    }

    /// A gateway connection of `user` closed; it was `active` or idle.
    pub async fn disconnected(&self, user: Id, active: bool) -> Result<()> {
        self.announce_presence(user, self.presence.disconnect(user, active)).await
    }

    /// One of `user`'s connections became idle or active again.
    pub async fn activity(&self, user: Id, active: bool) -> Result<()> {
        self.announce_presence(user, self.presence.set_active(user, active)).await
    }

    async fn announce_presence(&self, user: Id, changed: Option<Status>) -> Result<()> {
        let Some(status) = changed else { return Ok(()) };
        for ws in self.store.workspace_ids_of(user).await? {
            self.bus.publish(
                crate::events::Audience::Workspace(ws),
                crate::events::EventKind::PresenceChanged { workspace_id: ws, user_id: user, status },
            );
        }
        Ok(())
    }

    async fn workspace_facts(&self, ws: Id, user: Id) -> Result<(Workspace, WorkspaceFacts)> {
        let workspace = self.store.workspace(ws).await?.ok_or(Error::NotFound(Thing::Workspace))?;
        let member = self.store.is_workspace_member(ws, user).await?;
        let facts = WorkspaceFacts::of(&workspace, member, user);
        Ok((workspace, facts))
    }

    async fn channel_facts(&self, channel: Id, user: Id) -> Result<(Channel, ChannelFacts)> {
        let ch = self.store.channel(channel).await?.ok_or(Error::NotFound(Thing::Channel))?;
        let (ws_member, ch_member, owner) = self.store.channel_relation(&ch, user).await?;
        let facts = ChannelFacts::of(&ch, owner, user, ws_member, ch_member);
        Ok((ch, facts))
    }
}
