//! The operations of the product. Server functions, REST handlers and the
//! gateway call these and nothing below them: each operation checks its input
//! (through [`crate::input`]), asks [`crate::permissions`], changes the store,
//! and publishes what changed on the [`EventBus`] once it is committed.
//!
//! Split by subject: [`accounts`], [`workspaces`], [`channels`], [`messages`].

mod accounts;
mod channels;
mod messages;
mod workspaces;

pub use accounts::Signup;
pub use workspaces::NewWorkspace;

use crate::error::{Error, Result, Thing};
use crate::events::EventBus;
use crate::id::Id;
use crate::model::{Channel, Workspace};
use crate::permissions::{ChannelFacts, WorkspaceFacts};
use crate::presence::Presence;
use crate::store::Store;

#[derive(Clone)]
pub struct Hub {
    store: Store,
    bus: EventBus,
    presence: Presence,
}

impl Hub {
    pub fn new(store: Store, bus: EventBus) -> Self {
        Hub { store, bus, presence: Presence::default() }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// A gateway connection of `user` opened: if they just came online,
    /// everyone in their workspaces hears it.
    pub async fn connected(&self, user: Id) -> Result<()> {
        if self.presence.connect(user) {
            self.announce_presence(user, true).await?;
        }
        Ok(())
    }

    /// A gateway connection of `user` closed.
    pub async fn disconnected(&self, user: Id) -> Result<()> {
        if self.presence.disconnect(user) {
            self.announce_presence(user, false).await?;
        }
        Ok(())
    }

    async fn announce_presence(&self, user: Id, online: bool) -> Result<()> {
        for ws in self.store.workspace_ids_of(user).await? {
            self.bus.publish(
                crate::events::Audience::Workspace(ws),
                crate::events::EventKind::PresenceChanged { workspace_id: ws, user_id: user, online },
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
        let ws_member = self.store.is_workspace_member(ch.workspace_id, user).await?;
        let ch_member = ws_member && self.store.is_channel_member(ch.id, user).await?;
        let facts = ChannelFacts::of(&ch, ws_member, ch_member);
        Ok((ch, facts))
    }
}
