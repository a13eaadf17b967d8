//! The entities of the domain, as the store returns them. These are not wire
//! types: app converts them into its DTOs explicitly.

use crate::id::Id;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub created_at: i64,
}

/// What other people see of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: Id,
    pub username: String,
    pub display_name: String,
}

impl From<&User> for UserSummary {
    fn from(u: &User) -> Self {
        UserSummary { id: u.id, username: u.username.clone(), display_name: u.display_name.clone() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub is_private: bool,
    pub owner_id: Id,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub topic: String,
    pub is_private: bool,
    /// New members of the workspace join this channel automatically.
    pub auto_join: bool,
    pub created_by: Id,
    pub created_at: i64,
}

/// A channel as one user sees it in a workspace's channel list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelListing {
    pub channel: Channel,
    pub is_member: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: Id,
    pub channel_id: Id,
    pub author: UserSummary,
    /// What the author wrote (Markdown).
    pub body: String,
    /// `body` rendered to sanitised HTML ([`crate::markdown::render`]).
    pub html: String,
    pub nonce: Option<String>,
    pub created_at: i64,
    /// When the author last edited it.
    pub edited_at: Option<i64>,
    /// Reactions, in the order each emoji was first used.
    pub reactions: Vec<Reaction>,
}

/// One emoji on one message, and who reacted with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<UserSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user: UserSummary,
    pub joined_at: i64,
    pub is_owner: bool,
    /// Has a live connection now (filled in by the hub, not stored).
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub code: String,
    pub workspace_id: Id,
    /// A private channel the invite also admits to.
    pub channel_id: Option<Id>,
    pub created_by: Id,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub max_uses: Option<i64>,
    pub uses: i64,
}

impl Invite {
    pub fn is_usable(&self, now_ms: i64) -> bool {
        self.expires_at.is_none_or(|t| t > now_ms) && self.max_uses.is_none_or(|m| self.uses < m)
    }
}

/// One page of a channel's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Pass as `before` to get the next older page; `None` at the beginning.
    pub next_before: Option<Id>,
}

/// A message found by search, with where it is and a highlighted excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub message: Message,
    pub channel_name: String,
    pub workspace_id: Id,
    /// An HTML-escaped excerpt with `<mark>` around what matched.
    pub highlight: String,
}
