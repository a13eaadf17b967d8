//! The archiving member of a workspace's encrypted conversations: what a
//! deployment that must archive them uses instead of a hidden way in.
//!
//! Who manages the workspace names an account (a person's or one kept for
//! the purpose). It becomes a member of every encrypted conversation of the
//! workspace, shown among its members, so its devices are given the keys as
//! any member's are; it reads on those devices, with keys the server never
//! holds. Before anyone else sends in an encrypted conversation of the
//! workspace, they agree to that archiving member reading it (once, and
//! again when another is named). The archiving member cannot leave or be
//! removed from an encrypted conversation while it is named; once another
//! (or nobody) is named, it leaves the conversations it was made a member
//! of as such, and the members' devices take its devices out of their keys,
//! so it reads nothing sent after.

use super::Hub;
use super::channels::{channel_member_added, channel_member_gone};
use crate::error::{Error, Result, Thing};
use crate::id::Id;
use crate::model::{Channel, UserSummary};
use crate::permissions;
use crate::store::NewAudit;

/// A workspace's archiving of its encrypted conversations, as one of its
/// members sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedArchive {
    /// Who reads every encrypted conversation; `None`: nobody does.
    pub archivist: Option<UserSummary>,
    /// Whether the member asking agreed to that (the archiving member
    /// itself needs not).
    pub consented: bool,
    /// Whether the member asking may name another (or nobody).
    pub may_change: bool,
}

impl Hub {
    /// How `ws` archives its encrypted conversations, for its members.
    pub async fn encrypted_archive(&self, actor: Id, ws: Id) -> Result<EncryptedArchive> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        let may_change = permissions::name_archivist(facts).is_ok();
        let Some(archivist) = self.store.archivist(ws).await? else {
            return Ok(EncryptedArchive { archivist: None, consented: false, may_change });
        };
        let consented = self.agreed_to(ws, actor, archivist).await?;
        let user = self.store.user(archivist).await?.ok_or(Error::NotFound(Thing::User))?;
        Ok(EncryptedArchive { archivist: Some(UserSummary::from(&user)), consented, may_change })
    }

    /// Names `username` (`@` optional) the archiving member of `ws`'s
    /// encrypted conversations, making them a member of each, or with
    /// `None` names nobody; the one named before leaves those it was made a
    /// member of as such. Who manages the workspace; audited.
    pub async fn set_archivist(&self, actor: Id, ws: Id, username: Option<&str>) -> Result<EncryptedArchive> {
        let (workspace, facts) = self.workspace_facts(ws, actor).await?;
        permissions::name_archivist(facts)?;
        let archivist = match username {
            None => None,
            Some(raw) => {
                let name = crate::input::Username::parse(raw.trim().trim_start_matches('@'))?;
                let name = name.as_str();
                // Who the workspace has, not the request's shape, decides these.
                let not_member =
                    || Error::conflict("username", format!("@{name} is not a member of this workspace."));
                let user = self.store.user_by_username(name).await?.ok_or_else(not_member)?;
                let (standing, _) = self.standing(&workspace, user.id).await?;
                if !standing.is_member {
                    return Err(not_member());
                }
                if standing.is_guest || user.is_bot {
                    return Err(Error::conflict(
                        "username",
                        format!(
                            "@{name} is a guest or a bot; the archiving member is an account of the \
                             workspace's own that signs in and keeps devices."
                        ),
                    ));
                }
                Some(user)
            }
        };
        let joins = match &archivist {
            Some(user) => self.store.encrypted_channels_without(ws, user.id).await?,
            None => Vec::new(),
        };
        let mut events: Vec<_> = archivist
            .iter()
            .flat_map(|user| joins.iter().flat_map(|ch| channel_member_added(ch, user.id)))
            .collect();
        // The one named before leaves what it was in as such: its devices
        // leave those conversations' keys at their members' next change.
        let former = self.store.archivist(ws).await?.filter(|f| Some(*f) != archivist.as_ref().map(|u| u.id));
        if let Some(former) = former {
            for channel in self.store.archive_memberships(ws, former).await? {
                events.extend(channel_member_gone(channel, former));
            }
        }
        let summary = match &archivist {
            Some(user) => format!("Named @{} the archiving member of encrypted conversations", user.username),
            None => "Named no archiving member of encrypted conversations".to_string(),
        };
        let audit = NewAudit {
            ws,
            actor,
            action: "workspace.e2ee_archivist",
            target_user: archivist.as_ref().map(|u| u.id),
            target_id: Some(ws),
            summary: &summary,
            channel: None,
        };
        let ids: Vec<Id> = joins.iter().map(|ch| ch.id).collect();
        self.store.set_archivist(archivist.as_ref().map(|u| u.id), &ids, former, audit, &events).await?;
        self.encrypted_archive(actor, ws).await
    }

    /// Records that `actor` agrees to `ws`'s archiving member reading its
    /// encrypted conversations (where nobody archives them, there is
    /// nothing to agree to, and nothing is recorded).
    pub async fn consent_to_archiving(&self, actor: Id, ws: Id) -> Result<EncryptedArchive> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        if let Some(archivist) = self.store.archivist(ws).await? {
            self.store.consent_to_archive(ws, actor, archivist).await?;
        }
        self.encrypted_archive(actor, ws).await
    }

    /// Makes the workspace's archiving member a member of `ch` if it is
    /// encrypted and they are not one yet.
    pub(super) async fn archive_into(&self, ch: &Channel) -> Result<()> {
        if !ch.end_to_end {
            return Ok(());
        }
        if let Some(archivist) = self.store.archivist(ch.workspace_id).await? {
            let events = channel_member_added(ch, archivist);
            self.store.add_archive_member(ch.id, archivist, &events).await?;
        }
        Ok(())
    }

    /// Whether `actor` agreed to `archivist` reading `ws`'s encrypted
    /// conversations (the archiving member itself needs not).
    async fn agreed_to(&self, ws: Id, actor: Id, archivist: Id) -> Result<bool> {
        Ok(archivist == actor || self.store.archive_consent(ws, actor).await? == Some(archivist))
    }

    /// Refuses `actor`'s message in an encrypted conversation of `ws` until
    /// they agreed to the workspace's archiving member reading it.
    pub(super) async fn require_archive_consent(&self, actor: Id, ws: Id) -> Result<()> {
        let Some(archivist) = self.store.archivist(ws).await? else {
            return Ok(());
        };
        if self.agreed_to(ws, actor, archivist).await? {
            return Ok(());
        }
        let name = self.store.user(archivist).await?.map(|u| u.username).unwrap_or_default();
        Err(Error::forbidden(format!(
            "This workspace archives its encrypted conversations: @{name} is a member of each and reads \
             them. Agree to that in the conversation to send here."
        )))
    }

    /// Refuses the archiving member's leaving (or removal from) the
    /// encrypted conversation `ch` while it is named.
    pub(super) async fn keep_archivist(&self, ch: &Channel, leaving: Id) -> Result<()> {
        if ch.end_to_end && self.store.archivist(ch.workspace_id).await? == Some(leaving) {
            return Err(Error::forbidden(
                "The workspace's archiving member stays in its encrypted conversations; who manages the \
                 workspace can name another, or nobody.",
            ));
        }
        Ok(())
    }
}
