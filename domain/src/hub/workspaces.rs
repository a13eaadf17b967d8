use super::Hub;
use super::channels::{channel_member_added, channel_member_gone};
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::input::{ChannelName, Description, Icon, InviteTerms, WorkspaceName};
use crate::model::{Channel, ChannelKind, Invite, Member, UserSummary, Workspace};
use crate::permissions::{self, Perm};

/// What a person fills in to create a workspace, unparsed.
#[derive(Debug, Clone, Default)]
pub struct NewWorkspace {
    pub name: String,
    pub description: String,
    pub icon: String,
    pub is_private: bool,
}

impl Hub {
    /// Creates a workspace owned by `actor`, with `#general` (auto-join).
    pub async fn create_workspace(&self, actor: Id, form: NewWorkspace) -> Result<(Workspace, Channel)> {
        let now = crate::now_ms();
        let ws = Workspace {
            id: Id::new(),
            name: WorkspaceName::parse(&form.name)?.into_inner(),
            description: Description::parse(&form.description)?.into_inner(),
            icon: Icon::parse(&form.icon)?.into_inner(),
            is_private: form.is_private,
            owner_id: actor,
            created_at: now,
        };
        let mut general =
            Channel::new(ws.id, ChannelName::parse("general")?.into_inner(), ChannelKind::Text, actor);
        general.auto_join = true;
        let joined = NewEvent::new(
            Audience::User(actor),
            EventKind::ChannelMemberAdded { channel: general.clone(), user_id: actor },
        );
        self.store.create_workspace(&ws, &general, &[joined]).await?;
        Ok((ws, general))
    }

    pub async fn my_workspaces(&self, actor: Id) -> Result<Vec<Workspace>> {
        self.store.workspaces_of(actor).await
    }

    /// Public workspaces `actor` could join.
    pub async fn discover_workspaces(&self, actor: Id) -> Result<Vec<Workspace>> {
        self.store.discoverable_workspaces(actor, 50).await
    }

    pub async fn workspace(&self, actor: Id, ws: Id) -> Result<Workspace> {
        let (workspace, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        Ok(workspace)
    }

    /// The members of a workspace; a guest sees only the people in their channels.
    pub async fn members(&self, actor: Id, ws: Id) -> Result<Vec<Member>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        let joined = if facts.is_guest {
            joined_channels(self.visible_listings(ws, actor).await?.1.iter().map(|(l, _)| l))
        } else {
            Vec::new()
        };
        self.members_seen(actor, ws, facts, &joined).await
    }

    /// [`Hub::members`] once `actor`'s standing in `ws` (`facts`) is known;
    /// for a guest, `joined` are the channels they belong to there.
    pub(super) async fn members_seen(
        &self,
        actor: Id,
        ws: Id,
        facts: crate::permissions::WorkspaceFacts,
        joined: &[Id],
    ) -> Result<Vec<Member>> {
        let mut members = self.store.workspace_members(ws).await?;
        if facts.is_guest {
            let mut seen: Vec<Id> = vec![actor];
            for people in self.store.members_of_channels(joined).await?.into_values() {
                seen.extend(people.into_iter().map(|u| u.id));
            }
            members.retain(|m| seen.contains(&m.user.id));
        }
        let ids: Vec<Id> = members.iter().map(|m| m.user.id).collect();
        for (m, status) in members.iter_mut().zip(self.statuses(&ids).await) {
            m.status = status;
        }
        Ok(members)
    }

    /// Joins a public workspace without an invite.
    pub async fn join_workspace(&self, actor: Id, ws: Id) -> Result<Workspace> {
        let (workspace, facts) = self.workspace_facts(ws, actor).await?;
        if facts.is_member {
            return Ok(workspace);
        }
        permissions::join_workspace(facts, false)?;
        self.admit(actor, &workspace, false).await?;
        Ok(workspace)
    }

    /// Adds `actor` to the workspace and its auto-join channels (a guest
    /// to none), and tells everyone.
    async fn admit(&self, actor: Id, ws: &Workspace, is_guest: bool) -> Result<()> {
        let now = crate::now_ms();
        let user = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let member = Member {
            user: UserSummary::from(&user),
            joined_at: now,
            is_owner: false,
            is_guest,
            roles: Vec::new(),
            timeout_until: None,
            status: self.statuses(&[actor]).await[0],
        };
        let kind = EventKind::WorkspaceMemberAdded { workspace_id: ws.id, member };
        let announce = |joined: &[Channel]| {
            let mut events = vec![NewEvent::new(Audience::Workspace(ws.id), kind.clone())];
            if is_guest {
                events.push(NewEvent::new(Audience::User(actor), kind.clone()));
            }
            events.extend(joined.iter().flat_map(|ch| channel_member_added(ch, actor)));
            events
        };
        self.store.add_workspace_member(ws.id, actor, now, is_guest, announce).await?;
        Ok(())
    }

    pub async fn leave_workspace(&self, actor: Id, ws: Id) -> Result<()> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::leave_workspace(facts)?;
        self.store.remove_workspace_member(ws, actor, |left| departure(ws, actor, left)).await?;
        self.refresh_calls(ws).await?;
        Ok(())
    }

    /// Makes an invite link to the workspace; with `channel`, it also admits
    /// to that (private) channel, which `actor` must belong to.
    pub async fn create_invite(
        &self,
        actor: Id,
        ws: Id,
        channel: Option<Id>,
        terms: InviteTerms,
    ) -> Result<Invite> {
        self.make_invite(actor, ws, channel.into_iter().collect(), false, None, terms).await
    }

    /// Makes a guest invite: whoever accepts it joins as a guest and sees
    /// only `channels`, which must be open to guests (external). With
    /// `email`, the invite records whom it is for and is emailed to them.
    pub async fn create_guest_invite(
        &self,
        actor: Id,
        ws: Id,
        channels: &[Id],
        email: Option<&str>,
        terms: InviteTerms,
    ) -> Result<Invite> {
        if channels.is_empty() {
            return Err(Error::invalid("channels", "Choose at least one channel for the guest."));
        }
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| crate::input::Email::parse(e).map(|e| e.into_inner()))
            .transpose()?;
        let invite = self.make_invite(actor, ws, channels.to_vec(), true, email.clone(), terms).await?;
        if let Some(to) = email {
            let inviter = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
            let workspace = self.store.workspace(ws).await?.ok_or(Error::NotFound(Thing::Workspace))?;
            let mut names = Vec::new();
            for &c in channels {
                if let Some(ch) = self.store.channel(c).await? {
                    names.push(ch.name);
                }
            }
            let link = format!("{}/invite/{}", self.public_url, invite.code);
            let mail = crate::mail::guest_invite(&inviter.display_name, &workspace.name, &names, &link);
            self.queue_email(&to, mail).await?;
        }
        Ok(invite)
    }

    async fn make_invite(
        &self,
        actor: Id,
        ws: Id,
        channels: Vec<Id>,
        is_guest: bool,
        email: Option<String>,
        terms: InviteTerms,
    ) -> Result<Invite> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::create_invite(facts)?;
        self.limits.check(crate::limits::Bucket::Invite, &actor.to_string()).await?;
        for &channel in &channels {
            let (ch, facts) = self.channel_facts(channel, actor).await?;
            if ch.workspace_id != ws {
                return Err(Error::NotFound(Thing::Channel));
            }
            permissions::add_to_channel(facts)?;
            if is_guest && !ch.is_external {
                return Err(Error::invalid(
                    "channels",
                    format!("#{} is not open to guests. Make it external in its settings first.", ch.name),
                ));
            }
        }
        let now = crate::now_ms();
        let invite = Invite {
            code: crate::password::new_invite_code(),
            workspace_id: ws,
            channel_ids: channels,
            is_guest,
            email,
            created_by: actor,
            created_at: now,
            expires_at: terms.lifetime_ms.map(|ms| now.saturating_add(ms)),
            max_uses: terms.max_uses,
            uses: 0,
        };
        self.store.create_invite(&invite).await?;
        Ok(invite)
    }

    /// The workspace's invites that can still be used: all of them for who
    /// may change the workspace, otherwise those `actor` made.
    pub async fn invites(&self, actor: Id, ws: Id) -> Result<Vec<Invite>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::create_invite(facts)?;
        let only = (!facts.perms.has(Perm::ManageWorkspace)).then_some(actor);
        self.store.usable_invites(ws, only, crate::now_ms()).await
    }

    /// Revokes an invite: its link stops working at once. Its maker may
    /// revoke it, and so may who can change the workspace.
    pub async fn revoke_invite(&self, actor: Id, code: &str) -> Result<()> {
        let invite = self.store.invite(code.trim()).await?.ok_or(Error::NotFound(Thing::Invite))?;
        let (_, facts) = self.workspace_facts(invite.workspace_id, actor).await?;
        permissions::revoke_invite(facts, invite.created_by == actor)?;
        if !self.store.delete_invite(&invite.code).await? {
            return Err(Error::NotFound(Thing::Invite));
        }
        let whose = match self.store.user(invite.created_by).await? {
            Some(u) if u.id != actor => format!(" made by {}", u.display_name),
            _ => String::new(),
        };
        let kind = if invite.is_guest { "a guest invite" } else { "an invite" };
        self.audit(
            invite.workspace_id,
            actor,
            "invite.revoke",
            Some(invite.created_by),
            None,
            format!("revoked {kind}{whose}"),
        )
        .await
    }

    /// What an invite leads to, for its landing page; anyone with the code may look.
    pub async fn invite_preview(&self, code: &str) -> Result<(Invite, Workspace, Option<Channel>)> {
        let invite = self.usable_invite(code).await?;
        let ws = self.store.workspace(invite.workspace_id).await?.ok_or(Error::NotFound(Thing::Invite))?;
        let channel = match invite.channel_ids.first() {
            Some(c) => self.store.channel(*c).await?,
            None => None,
        };
        Ok((invite, ws, channel))
    }

    async fn usable_invite(&self, code: &str) -> Result<Invite> {
        let invite = self.store.invite(code.trim()).await?.ok_or(Error::NotFound(Thing::Invite))?;
        if !invite.is_usable(crate::now_ms()) {
            return Err(Error::forbidden("This invite has expired or been used up. Ask for a new one."));
        }
        Ok(invite)
    }

    /// Accepts an invite: joins the workspace (and the invite's channel).
    /// Returns the workspace and the channel to open.
    pub async fn accept_invite(&self, actor: Id, code: &str) -> Result<(Workspace, Channel)> {
        let (invite, ws, channel) = self.invite_preview(code).await?;
        // The invite speaks for its maker: it admits only while they may still invite.
        let (maker, _) = self.standing(&ws, invite.created_by).await?;
        if permissions::create_invite(maker).is_err() {
            return Err(Error::forbidden(
                "This invite no longer works: the person who made it can no longer invite people. Ask for a new one.",
            ));
        }
        let (facts, _) = self.standing(&ws, actor).await?;
        if !facts.is_member {
            permissions::join_workspace(facts, true)?;
            if !self.store.use_invite(&invite.code).await? {
                return Err(Error::forbidden("This invite has expired or been used up. Ask for a new one."));
            }
            self.admit(actor, &ws, invite.is_guest).await?;
        }
        let (facts, _) = self.standing(&ws, actor).await?;
        for &c in &invite.channel_ids {
            let Some(ch) = self.store.channel(c).await? else { continue };
            // A guest joins only channels still open to guests, and only
            // those the invite's maker may still add people to.
            if (facts.is_guest && !ch.is_external) || ch.archived_at.is_some() {
                continue;
            }
            let (_, maker_in_channel) = self.channel_facts(ch.id, invite.created_by).await?;
            if permissions::add_to_channel(maker_in_channel).is_err() {
                continue;
            }
            self.store
                .add_channel_member(ch.id, actor, crate::now_ms(), &channel_member_added(&ch, actor))
                .await?;
        }
        if facts.is_guest {
            // The channels a guest joined change what they may see across
            // the workspace: each join is logged with its own event, and
            // this one after them all has their pages read it again.
            self.store.announce(&[Self::workspace_updated(ws.id)]).await?;
            self.refresh_calls(ws.id).await?;
        }
        let open = match channel {
            Some(ch) => ch,
            None => self.first_channel(actor, ws.id).await?,
        };
        Ok((ws, open))
    }
}

/// Tells everyone that `user` left `ws` (and the channels in `left`): by
/// leaving, a kick or a ban.
pub(super) fn departure(ws: Id, user: Id, left: &[Id]) -> Vec<NewEvent> {
    let mut events: Vec<NewEvent> = left.iter().flat_map(|c| channel_member_gone(*c, user)).collect();
    let kind = EventKind::WorkspaceMemberRemoved { workspace_id: ws, user_id: user };
    events.push(NewEvent::new(Audience::Workspace(ws), kind.clone()));
    events.push(NewEvent::new(Audience::User(user), kind));
    events
}

/// The channels of `listings` their reader belongs to.
pub(super) fn joined_channels<'a>(
    listings: impl IntoIterator<Item = &'a crate::model::ChannelListing>,
) -> Vec<Id> {
    listings.into_iter().filter(|l| l.is_member).map(|l| l.channel.id).collect()
}
