//! The one place that decides who may do what. Every entry point (server
//! functions, REST handlers, gateway) reaches these checks through [`crate::Hub`],
//! which gathers the facts from the store and asks here; nothing else decides.
//!
//! - [`Perm`] and [`Perms`]: the permission flags and sets of them.
//! - [`base_permissions`] and [`resolve_channel`]: what a member may do in the
//!   workspace (their roles) and in one channel (roles, then the channel's
//!   overrides), the way Discord resolves them: the owner and holders of
//!   `administrator` bypass everything; otherwise the role overrides of the
//!   channel apply (their denies, then their allows), then the member's own.
//! - The rules below (`view_channel`, `send_message`, `kick`...): each takes
//!   the facts and answers with the error a person should see.
//!
//! Some things no permission grants: a guest sees only the external
//! channels they belong to; a private channel shows only to its members; an
//! archived channel is read-only; a timed-out member cannot post, reply or
//! react. A private channel the user may not see answers "not found", never
//! "forbidden", so that its existence does not leak.

use crate::error::{Error, Result, Thing};
use crate::id::Id;
use crate::model::{Channel, ChannelKind, Workspace};
use serde::{Deserialize, Serialize};

/// One permission flag. The discriminant is its bit in [`Perms`] and in the
/// database: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Perm {
    ViewChannel = 0,
    SendMessages = 1,
    SendInThreads = 2,
    ManageMessages = 3,
    ManageChannels = 4,
    ManageRoles = 5,
    KickMembers = 6,
    BanMembers = 7,
    TimeoutMembers = 8,
    JoinVoice = 9,
    Speak = 10,
    MuteMembers = 11,
    CreateInvite = 12,
    MentionEveryone = 13,
    AttachFiles = 14,
    AddReactions = 15,
    ManageWorkspace = 16,
    ViewAuditLog = 17,
    CreateChannels = 18,
    Administrator = 19,
    ManageWebhooks = 20,
}

impl Perm {
    pub const ALL: [Perm; 21] = [
        Perm::ViewChannel,
        Perm::SendMessages,
        Perm::SendInThreads,
        Perm::AddReactions,
        Perm::AttachFiles,
        Perm::MentionEveryone,
        Perm::JoinVoice,
        Perm::Speak,
        Perm::CreateChannels,
        Perm::CreateInvite,
        Perm::ManageMessages,
        Perm::ManageChannels,
        Perm::MuteMembers,
        Perm::TimeoutMembers,
        Perm::KickMembers,
        Perm::BanMembers,
        Perm::ManageRoles,
        Perm::ManageWebhooks,
        Perm::ViewAuditLog,
        Perm::ManageWorkspace,
        Perm::Administrator,
    ];

    /// The flags that make sense per channel (the others are workspace-wide).
    pub const CHANNEL: [Perm; 11] = [
        Perm::ViewChannel,
        Perm::SendMessages,
        Perm::SendInThreads,
        Perm::AddReactions,
        Perm::AttachFiles,
        Perm::MentionEveryone,
        Perm::ManageMessages,
        Perm::JoinVoice,
        Perm::Speak,
        Perm::MuteMembers,
        Perm::ManageWebhooks,
    ];

    pub fn bit(self) -> u64 {
        1 << (self as u64)
    }

    /// Its name in the API (`send_messages`).
    pub fn name(self) -> &'static str {
        match self {
            Perm::ViewChannel => "view_channel",
            Perm::SendMessages => "send_messages",
            Perm::SendInThreads => "send_in_threads",
            Perm::ManageMessages => "manage_messages",
            Perm::ManageChannels => "manage_channels",
            Perm::ManageRoles => "manage_roles",
            Perm::KickMembers => "kick_members",
            Perm::BanMembers => "ban_members",
            Perm::TimeoutMembers => "timeout_members",
            Perm::JoinVoice => "join_voice",
            Perm::Speak => "speak",
            Perm::MuteMembers => "mute_members",
            Perm::CreateInvite => "create_invite",
            Perm::MentionEveryone => "mention_everyone",
            Perm::AttachFiles => "attach_files",
            Perm::AddReactions => "add_reactions",
            Perm::ManageWorkspace => "manage_workspace",
            Perm::ViewAuditLog => "view_audit_log",
            Perm::CreateChannels => "create_channels",
            Perm::Administrator => "administrator",
            Perm::ManageWebhooks => "manage_webhooks",
        }
    }

    pub fn from_name(name: &str) -> Option<Perm> {
        Perm::ALL.into_iter().find(|p| p.name() == name)
    }

    /// What it lets a person do, for the settings page.
    pub fn describe(self) -> &'static str {
        match self {
            Perm::ViewChannel => "See channels and read their messages",
            Perm::SendMessages => "Post messages",
            Perm::SendInThreads => "Reply in threads",
            Perm::ManageMessages => "Delete and pin other people's messages",
            Perm::ManageChannels => "Change, archive and delete channels; set their permissions",
            Perm::ManageRoles => "Create and edit roles below their own, and give them to members",
            Perm::KickMembers => "Remove members from the workspace",
            Perm::BanMembers => "Ban people from the workspace",
            Perm::TimeoutMembers => "Stop members posting for a while (timeout)",
            Perm::JoinVoice => "Join voice channels",
            Perm::Speak => "Speak in voice channels",
            Perm::MuteMembers => "Mute others in voice channels",
            Perm::CreateInvite => "Make invite links",
            Perm::MentionEveryone => "Notify everyone with @channel and @here",
            Perm::AttachFiles => "Attach files",
            Perm::AddReactions => "Add reactions",
            Perm::ManageWorkspace => "Change the workspace's name, description and icon",
            Perm::ViewAuditLog => "Read the audit log",
            Perm::CreateChannels => "Create channels",
            Perm::Administrator => "Everything, in every channel (bypasses channel permissions)",
            Perm::ManageWebhooks => "Add and remove incoming webhooks that post into channels",
        }
    }
}

/// A set of [`Perm`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Perms(pub u64);

impl Perms {
    pub const NONE: Perms = Perms(0);
    pub const ALL: Perms = Perms((1 << 21) - 1);

    pub fn of(perms: &[Perm]) -> Perms {
        Perms(perms.iter().fold(0, |bits, p| bits | p.bit()))
    }

    pub fn has(self, p: Perm) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn with(self, p: Perm) -> Perms {
        Perms(self.0 | p.bit())
    }

    pub fn without(self, p: Perm) -> Perms {
        Perms(self.0 & !p.bit())
    }

    pub fn union(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }

    /// Whether every flag of `other` is in `self`.
    pub fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags, in [`Perm::ALL`] order.
    pub fn list(self) -> Vec<Perm> {
        Perm::ALL.into_iter().filter(|p| self.has(*p)).collect()
    }

    /// Only the known flags of a stored number.
    pub fn from_bits(bits: i64) -> Perms {
        Perms(bits as u64 & Perms::ALL.0)
    }
}

/// The five roles every workspace has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    Owner,
    Admin,
    Moderator,
    Member,
    Guest,
}

impl Builtin {
    pub const ALL: [Builtin; 5] =
        [Builtin::Guest, Builtin::Member, Builtin::Moderator, Builtin::Admin, Builtin::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Builtin::Owner => "owner",
            Builtin::Admin => "admin",
            Builtin::Moderator => "moderator",
            Builtin::Member => "member",
            Builtin::Guest => "guest",
        }
    }

    pub fn from_db(s: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.as_str() == s)
    }

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Owner => "Owner",
            Builtin::Admin => "Admin",
            Builtin::Moderator => "Moderator",
            Builtin::Member => "Member",
            Builtin::Guest => "Guest",
        }
    }

    /// Where a new workspace puts it (higher wins); custom roles go between
    /// Member and Moderator.
    pub fn position(self) -> i64 {
        match self {
            Builtin::Guest => 0,
            Builtin::Member => 1,
            Builtin::Moderator => 2,
            Builtin::Admin => 3,
            Builtin::Owner => 4,
        }
    }

    pub fn colour(self) -> &'static str {
        match self {
            Builtin::Owner => "#b8860b",
            Builtin::Admin => "#d03030",
            Builtin::Moderator => "#2e8b57",
            Builtin::Member | Builtin::Guest => "",
        }
    }

    pub fn default_permissions(self) -> Perms {
        use Perm::*;
        let guest = Perms::of(&[
            ViewChannel,
            SendMessages,
            SendInThreads,
            AddReactions,
            AttachFiles,
            JoinVoice,
            Speak,
        ]);
        let member = guest.union(Perms::of(&[MentionEveryone, CreateChannels, CreateInvite]));
        match self {
            Builtin::Guest => guest,
            Builtin::Member => member,
            Builtin::Moderator => member.union(Perms::of(&[
                ManageMessages,
                MuteMembers,
                TimeoutMembers,
                KickMembers,
                BanMembers,
                ViewAuditLog,
            ])),
            Builtin::Admin => Perms::ALL,
            Builtin::Owner => Perms::ALL,
        }
    }
}

/// A role as permission resolution needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldRole {
    pub id: Id,
    pub position: i64,
    pub permissions: Perms,
}

/// An allow/deny pair set on a channel for a role or a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub target: OverrideTarget,
    pub allow: Perms,
    pub deny: Perms,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OverrideTarget {
    Role(Id),
    Member(Id),
}

/// What is known about one user's standing in one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkspaceFacts {
    pub is_member: bool,
    pub is_owner: bool,
    pub is_private: bool,
    pub is_guest: bool,
    pub banned: bool,
    /// Until when (ms) they may not post, if that is in the future.
    pub timed_out_until: Option<i64>,
    /// The highest position of their roles (the owner's is above all).
    pub top: i64,
    /// Their workspace-wide permissions: [`base_permissions`].
    pub perms: Perms,
}

impl WorkspaceFacts {
    /// Facts for someone who is not a member of `ws`.
    pub fn outsider(ws: &Workspace, banned: bool) -> Self {
        WorkspaceFacts {
            is_member: false,
            is_owner: false,
            is_private: ws.is_private,
            is_guest: false,
            banned,
            timed_out_until: None,
            top: i64::MIN,
            perms: Perms::NONE,
        }
    }

    /// Facts for a member holding `roles` (their Member or Guest role included).
    pub fn member(
        ws: &Workspace,
        user: Id,
        is_guest: bool,
        roles: &[HeldRole],
        timeout_until: Option<i64>,
        now: i64,
    ) -> Self {
        let is_owner = ws.owner_id == user;
        WorkspaceFacts {
            is_member: true,
            is_owner,
            is_private: ws.is_private,
            is_guest: is_guest && !is_owner,
            banned: false,
            timed_out_until: timeout_until.filter(|t| *t > now && !is_owner),
            top: if is_owner { i64::MAX } else { roles.iter().map(|r| r.position).max().unwrap_or(i64::MIN) },
            perms: base_permissions(is_owner, roles),
        }
    }

    fn is_admin(self) -> bool {
        self.perms.has(Perm::Administrator)
    }
}

/// A member's workspace-wide permissions: everything for the owner and for
/// holders of `administrator`, else the union of their roles'.
pub fn base_permissions(is_owner: bool, roles: &[HeldRole]) -> Perms {
    let base = roles.iter().fold(Perms::NONE, |p, r| p.union(r.permissions));
    if is_owner || base.has(Perm::Administrator) { Perms::ALL } else { base }
}

/// A member's permissions in one channel: their base permissions, then the
/// channel's overrides for any of their roles (all the denies, then all the
/// allows), then the override for them alone (deny, then allow). The owner
/// and administrators are not subject to overrides. Without view_channel
/// nothing else counts. In an announcement channel, posting needs an
/// explicit allow (or administrator).
pub fn resolve_channel(
    ws: WorkspaceFacts,
    user: Id,
    roles: &[HeldRole],
    kind: ChannelKind,
    overrides: &[Override],
) -> Perms {
    if !ws.is_member {
        return Perms::NONE;
    }
    if ws.is_owner || ws.is_admin() {
        return Perms::ALL;
    }
    let mut bits = ws.perms.0;
    if kind == ChannelKind::Announcement {
        bits &= !Perm::SendMessages.bit();
    }
    let held = |id: Id| roles.iter().any(|r| r.id == id);
    let (mut role_allow, mut role_deny) = (0u64, 0u64);
    for o in overrides {
        if let OverrideTarget::Role(r) = o.target
            && held(r)
        {
            role_allow |= o.allow.0;
            role_deny |= o.deny.0;
        }
    }
    bits = (bits & !role_deny) | role_allow;
    for o in overrides {
        if o.target == OverrideTarget::Member(user) {
            bits = (bits & !o.deny.0) | o.allow.0;
        }
    }
    let perms = Perms(bits & Perms::ALL.0);
    if perms.has(Perm::ViewChannel) { perms } else { Perms::NONE }
}

/// What is known about one user's relation to one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelFacts {
    pub workspace_id: Id,
    pub ws: WorkspaceFacts,
    pub channel_member: bool,
    pub is_private: bool,
    pub kind: ChannelKind,
    pub is_external: bool,
    pub archived: bool,
    /// The user created the channel.
    pub is_creator: bool,
    /// Their permissions here: [`resolve_channel`].
    pub perms: Perms,
}

impl ChannelFacts {
    pub fn of(ch: &Channel, ws: WorkspaceFacts, user: Id, channel_member: bool, perms: Perms) -> Self {
        ChannelFacts {
            workspace_id: ch.workspace_id,
            ws,
            channel_member,
            is_private: ch.is_private,
            kind: ch.kind,
            is_external: ch.is_external,
            archived: ch.archived_at.is_some(),
            is_creator: ch.created_by == user,
            perms,
        }
    }

    fn is_direct(self) -> bool {
        self.kind == ChannelKind::Direct
    }
}

fn missing(what: &str) -> Error {
    Error::forbidden(format!("You do not have permission to {what}. Ask an admin if you need it."))
}

/// Reading a workspace: its channels, members and invites.
pub fn view_workspace(f: WorkspaceFacts) -> Result<()> {
    if f.is_member { Ok(()) } else { Err(Error::NotFound(Thing::Workspace)) }
}

/// Joining a workspace, by invite or openly: never when banned.
pub fn join_workspace(f: WorkspaceFacts, with_invite: bool) -> Result<()> {
    if f.banned {
        return Err(Error::forbidden("You are banned from this workspace."));
    }
    if f.is_private && !with_invite {
        return Err(Error::forbidden("This workspace is private. Ask a member for an invite link."));
    }
    Ok(())
}

pub fn leave_workspace(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if f.is_owner { Err(Error::forbidden("The owner cannot leave their workspace.")) } else { Ok(()) }
}

/// Creating channels and categories of channels.
pub fn create_channel(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if f.is_guest || !f.perms.has(Perm::CreateChannels) {
        return Err(missing("create channels in this workspace"));
    }
    Ok(())
}

/// Making invite links, for members or for guests: never guests themselves.
pub fn create_invite(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if f.is_guest || !f.perms.has(Perm::CreateInvite) {
        return Err(missing("invite people to this workspace"));
    }
    Ok(())
}

/// Revoking an invite: its maker, while they may still invite, or who may
/// change the workspace.
pub fn revoke_invite(f: WorkspaceFacts, is_maker: bool) -> Result<()> {
    create_invite(f)?;
    if !is_maker && !f.perms.has(Perm::ManageWorkspace) {
        return Err(missing("revoke other people's invites"));
    }
    Ok(())
}

/// Workspace-wide settings: categories and channel order need
/// manage_channels, roles manage_roles, and so on.
pub fn workspace_permission(f: WorkspaceFacts, p: Perm) -> Result<()> {
    view_workspace(f)?;
    if f.is_guest || !f.perms.has(p) {
        return Err(missing(match p {
            Perm::ManageChannels => "manage this workspace's channels",
            Perm::ManageRoles => "manage roles",
            Perm::ViewAuditLog => "read the audit log",
            Perm::ManageWorkspace => "change this workspace",
            Perm::KickMembers => "remove members",
            Perm::BanMembers => "ban people",
            Perm::TimeoutMembers => "time members out",
            Perm::ManageWebhooks => "manage this workspace's outgoing webhooks",
            _ => "do that",
        }));
    }
    Ok(())
}

/// A workspace's outgoing webhooks (listing, making, removing, their log):
/// who holds manage_webhooks through their roles (not guests). Each channel
/// a webhook hears also takes [`manage_webhooks`] there.
pub fn manage_outgoing_webhooks(f: WorkspaceFacts) -> Result<()> {
    workspace_permission(f, Perm::ManageWebhooks)
}

/// Making a bot: who may change the workspace (not guests).
pub fn create_bot(f: WorkspaceFacts) -> Result<()> {
    workspace_permission(f, Perm::ManageWorkspace)
}

/// A bot's tokens, and removing it: its owner while a member, and who may
/// change the workspace.
pub fn manage_bot(f: WorkspaceFacts, is_its_owner: bool) -> Result<()> {
    view_workspace(f)?;
    if is_its_owner && !f.is_guest {
        return Ok(());
    }
    workspace_permission(f, Perm::ManageWorkspace).map_err(|_| missing("manage this bot"))
}

/// Changing a role, or giving or taking it: manage_roles, and the role must
/// sit below the actor's highest role; built-in Owner never.
pub fn manage_role(f: WorkspaceFacts, role_position: i64, is_owner_role: bool) -> Result<()> {
    workspace_permission(f, Perm::ManageRoles)?;
    if is_owner_role {
        return Err(Error::forbidden(
            "The Owner role belongs to the workspace's owner and cannot be changed.",
        ));
    }
    if role_position >= f.top {
        return Err(Error::forbidden(
            "You can only change roles below your own highest role. Ask someone with a higher role.",
        ));
    }
    Ok(())
}

/// Giving a role `perms`: nobody hands out what they do not have.
pub fn grant(f: WorkspaceFacts, perms: Perms) -> Result<()> {
    if f.perms.contains(perms) {
        Ok(())
    } else {
        let names: Vec<&str> = Perms(perms.0 & !f.perms.0).list().into_iter().map(Perm::name).collect();
        Err(Error::forbidden(format!(
            "You cannot grant permissions you do not have yourself: {}.",
            names.join(", ")
        )))
    }
}

/// Kicking, banning or timing out `target`: the permission, and the target
/// ranks below the actor (the owner ranks above everyone).
pub fn moderate(f: WorkspaceFacts, p: Perm, target: WorkspaceFacts, is_self: bool) -> Result<()> {
    workspace_permission(f, p)?;
    if is_self {
        return Err(Error::forbidden("You cannot do that to yourself."));
    }
    if target.is_owner || (target.is_member && target.top >= f.top) {
        return Err(Error::forbidden("You can only act on members whose highest role is below yours."));
    }
    Ok(())
}

/// Reading a channel's messages. Members see public channels (unless an
/// override hides them) and the private channels they belong to; guests only
/// the external channels they belong to.
pub fn view_channel(f: ChannelFacts) -> Result<()> {
    let hidden = Err(Error::NotFound(Thing::Channel));
    if !f.ws.is_member {
        return hidden;
    }
    if f.is_direct() {
        return if f.channel_member { Ok(()) } else { hidden };
    }
    if f.ws.is_guest && !(f.is_external && f.channel_member) {
        return hidden;
    }
    if f.is_private && !f.channel_member {
        return hidden;
    }
    if !f.perms.has(Perm::ViewChannel) {
        return hidden;
    }
    Ok(())
}

/// Joining a channel by oneself: public, unarchived channels one may see.
pub fn join_channel(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_private || f.is_direct() {
        return Err(Error::forbidden("This channel is private. A member has to add you."));
    }
    if f.archived {
        return Err(Error::forbidden("This channel is archived; nobody can join it until it is unarchived."));
    }
    Ok(())
}

/// Why `f` may not write here at all, if so: not a member, archived, timed out.
fn writable(f: ChannelFacts, verb: &str) -> Result<()> {
    view_channel(f)?;
    if !f.channel_member {
        return Err(Error::forbidden(format!("Join this channel to {verb} in it.")));
    }
    if f.archived {
        return Err(Error::forbidden("This channel is archived and read-only."));
    }
    if let Some(until) = f.ws.timed_out_until {
        let minutes = ((until - crate::now_ms()).max(0) + 59_999) / 60_000;
        return Err(Error::forbidden(format!(
            "You are timed out in this workspace for {minutes} more minute{}.",
            if minutes == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

/// Posting a top-level message.
pub fn send_message(f: ChannelFacts) -> Result<()> {
    writable(f, "post")?;
    if !f.perms.has(Perm::SendMessages) {
        return Err(Error::forbidden(if f.kind == ChannelKind::Announcement {
            "Only some roles can post in this announcement channel. You can still react and reply in threads."
        } else {
            "You do not have permission to send messages in this channel."
        }));
    }
    Ok(())
}

/// Replying in a thread (allowed in announcement channels).
pub fn reply_in_thread(f: ChannelFacts) -> Result<()> {
    writable(f, "reply")?;
    if !f.perms.has(Perm::SendInThreads) {
        return Err(Error::forbidden("You do not have permission to reply in threads in this channel."));
    }
    Ok(())
}

/// Attaching files to a message or reply.
pub fn attach_files(f: ChannelFacts, in_thread: bool) -> Result<()> {
    if in_thread {
        reply_in_thread(f)?
    } else {
        send_message(f)?
    }
    if !f.perms.has(Perm::AttachFiles) {
        return Err(Error::forbidden("You do not have permission to attach files in this channel."));
    }
    Ok(())
}

/// Whether @channel and @here notify anyone when `f` writes them.
pub fn mention_everyone(f: ChannelFacts) -> bool {
    f.perms.has(Perm::MentionEveryone) || f.is_direct()
}

/// Leaving: any member, except of a direct conversation.
pub fn leave_channel(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_direct() {
        return Err(Error::forbidden("You cannot leave a direct conversation."));
    }
    Ok(())
}

/// Renaming, changing the topic, type or permissions, archiving, deleting:
/// manage_channels here, or the channel's creator (not a guest); never a
/// direct conversation.
pub fn manage_channel(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_direct() {
        return Err(Error::forbidden("Direct conversations cannot be renamed, archived or deleted."));
    }
    if !(f.perms.has(Perm::ManageChannels) || (f.is_creator && !f.ws.is_guest)) {
        return Err(missing("change this channel"));
    }
    Ok(())
}

/// Making a conversation end-to-end encrypted: in a direct conversation
/// any of its members; a private channel, who may change it; never a
/// public channel (anyone may read it: encryption would protect nothing).
pub fn encrypt_end_to_end(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_direct() {
        return if f.channel_member { Ok(()) } else { Err(Error::NotFound(Thing::Channel)) };
    }
    if !f.is_private {
        return Err(Error::forbidden(
            "Only direct conversations and private channels can be end-to-end encrypted: \
             anyone in the workspace may read a public channel.",
        ));
    }
    manage_channel(f)
}

/// Turning the sharing of an encrypted conversation's history with the
/// devices it adds on or off: who may make it encrypted.
pub fn share_history(f: ChannelFacts) -> Result<()> {
    encrypt_end_to_end(f)
}

/// Taking part in an encrypted conversation's keys (reading its devices,
/// claiming their key packages, committing changes): its members.
pub fn take_part_in_keys(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if !f.channel_member {
        return Err(Error::forbidden("Only the members of this conversation take part in its keys."));
    }
    Ok(())
}

/// Adding, listing and removing a channel's incoming webhooks: who holds
/// manage_webhooks here, and in a direct conversation its members (it is
/// theirs; roles do not reach it); never guests.
pub fn manage_webhooks(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.ws.is_guest {
        return Err(missing("manage webhooks"));
    }
    if !f.is_direct() && !f.perms.has(Perm::ManageWebhooks) {
        return Err(missing("add or remove webhooks in this channel"));
    }
    Ok(())
}

/// Pinning and unpinning: those who may post here, and message managers.
pub fn pin(f: ChannelFacts) -> Result<()> {
    writable(f, "pin messages")?;
    if !(f.perms.has(Perm::SendMessages) || f.perms.has(Perm::ManageMessages)) {
        return Err(missing("pin messages in this channel"));
    }
    Ok(())
}

/// Adding people to a channel or inviting to it: members of the channel
/// (not guests; a direct conversation's members are fixed).
pub fn add_to_channel(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_direct() {
        return Err(Error::forbidden(
            "People cannot be added to a direct conversation. Start a new one with everyone in it.",
        ));
    }
    if f.ws.is_guest {
        return Err(missing("add people to channels"));
    }
    if !f.channel_member {
        return Err(Error::forbidden("Only members of this channel can add people to it."));
    }
    if f.archived {
        return Err(Error::forbidden("This channel is archived and read-only."));
    }
    Ok(())
}

/// Removing someone else from a channel: who may change the channel
/// (manage_channels, or its creator); never from a direct conversation.
pub fn remove_from_channel(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_direct() {
        return Err(Error::forbidden("Nobody can be removed from a direct conversation."));
    }
    if !(f.perms.has(Perm::ManageChannels) || (f.is_creator && !f.ws.is_guest)) {
        return Err(missing("remove people from this channel"));
    }
    Ok(())
}

/// Editing a message: its author only, while they can still see the channel.
pub fn edit_message(f: ChannelFacts, is_author: bool) -> Result<()> {
    view_channel(f)?;
    if !is_author {
        return Err(Error::forbidden("You can edit only your own messages."));
    }
    if f.archived {
        return Err(Error::forbidden("This channel is archived and read-only."));
    }
    Ok(())
}

/// Deleting a message: its author, or anyone with manage_messages here.
pub fn delete_message(f: ChannelFacts, is_author: bool) -> Result<()> {
    view_channel(f)?;
    if f.archived {
        return Err(Error::forbidden("This channel is archived and read-only."));
    }
    if !is_author && !f.perms.has(Perm::ManageMessages) {
        return Err(Error::forbidden("You can delete only your own messages."));
    }
    Ok(())
}

/// Removing a link preview from a message: its author, or who manages
/// messages in the channel (not in an archived one).
pub fn remove_link_preview(f: ChannelFacts, is_author: bool) -> Result<()> {
    view_channel(f)?;
    if f.archived {
        return Err(Error::forbidden("This channel is archived and read-only."));
    }
    if !is_author && !f.perms.has(Perm::ManageMessages) {
        return Err(Error::forbidden("Only the message's author can remove its link previews."));
    }
    Ok(())
}

/// Taking one's reaction back: anyone who can see the channel, unless it
/// is archived (read-only).
pub fn unreact(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.archived {
        return Err(Error::forbidden("This channel is archived and read-only."));
    }
    Ok(())
}

/// Reacting: members of the channel with add_reactions.
pub fn react(f: ChannelFacts) -> Result<()> {
    writable(f, "react")?;
    if !f.perms.has(Perm::AddReactions) {
        return Err(missing("add reactions in this channel"));
    }
    Ok(())
}

/// Joining a call: in a voice channel or a direct conversation one can
/// see, not archived, with join_voice, and not timed out.
pub fn join_voice(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.kind != ChannelKind::Voice && f.kind != ChannelKind::Direct {
        return Err(Error::invalid(
            "channel_id",
            "Calls happen in voice channels and direct conversations. Choose one of those.",
        ));
    }
    if f.archived {
        return Err(Error::forbidden("This channel is archived; nobody can join its call."));
    }
    if !f.perms.has(Perm::JoinVoice) {
        return Err(missing("join this voice channel"));
    }
    if f.ws.timed_out_until.is_some() {
        return Err(Error::forbidden("You are timed out in this workspace and cannot join calls for now."));
    }
    Ok(())
}

/// Whether what one says in this voice channel reaches the others.
pub fn speak(f: ChannelFacts) -> bool {
    f.perms.has(Perm::Speak) && f.ws.timed_out_until.is_none()
}

/// Muting someone else in a call for everyone (server mute).
pub fn mute_in_call(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if !f.perms.has(Perm::MuteMembers) {
        return Err(missing("mute people in this call"));
    }
    Ok(())
}

/// Scheduling a meeting (or starting an instant call): members, not guests,
/// not timed out.
pub fn schedule_meeting(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if f.is_guest {
        return Err(Error::forbidden("Guests cannot schedule meetings. Ask a member to invite you to one."));
    }
    if f.timed_out_until.is_some() {
        return Err(Error::forbidden(
            "You are timed out in this workspace and cannot schedule meetings for now.",
        ));
    }
    Ok(())
}

/// Seeing a meeting (its page, its `.ics`, joining it): its organizer and
/// the people invited, while they belong to the workspace. Others are told
/// it does not exist.
pub fn see_meeting(f: WorkspaceFacts, invited: bool) -> Result<()> {
    if f.is_member && invited { Ok(()) } else { Err(Error::NotFound(Thing::Meeting)) }
}

/// Ending a meeting for everyone: its organizer, or who manages channels.
pub fn end_meeting(f: WorkspaceFacts, invited: bool, organizer: bool) -> Result<()> {
    see_meeting(f, invited || f.perms.has(Perm::ManageChannels))?;
    if !organizer && !f.perms.has(Perm::ManageChannels) {
        return Err(missing("end this meeting (only its organizer can)"));
    }
    Ok(())
}

/// Sending notifications through the API to a workspace's members: who
/// manages the workspace.
pub fn send_notifications(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if !f.perms.has(Perm::ManageWorkspace) {
        return Err(missing("send notifications to this workspace's members"));
    }
    Ok(())
}

/// Turning link previews on or off for a workspace: who manages the workspace.
pub fn set_link_previews(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if !f.perms.has(Perm::ManageWorkspace) {
        return Err(missing("turn link previews on or off in this workspace"));
    }
    Ok(())
}

/// Requiring end-to-end encryption for a workspace's direct conversations.
pub fn require_encryption(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if !f.perms.has(Perm::ManageWorkspace) {
        return Err(missing("require end-to-end encryption in this workspace"));
    }
    Ok(())
}

/// Naming the archiving member of a workspace's encrypted conversations
/// (or no longer): who manages the workspace.
pub fn name_archivist(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if !f.perms.has(Perm::ManageWorkspace) {
        return Err(missing("name who archives this workspace's encrypted conversations"));
    }
    Ok(())
}

/// Setting a workspace's retention policy, or one of its channels':
/// who manages the workspace.
pub fn set_retention(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if !f.perms.has(Perm::ManageWorkspace) {
        return Err(missing("set how long this workspace keeps messages and files"));
    }
    Ok(())
}

/// Who may see a workspace's analytics: who manages it.
pub fn view_analytics(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if !f.perms.has(Perm::ManageWorkspace) {
        return Err(missing("see this workspace's analytics"));
    }
    Ok(())
}

/// What the deployment's administrators alone do: its retention, legal
/// holds, compliance exports, its audit log.
pub fn administer_deployment(is_admin: bool) -> Result<()> {
    match is_admin {
        true => Ok(()),
        false => Err(Error::forbidden(
            "Only the deployment's administrators can do this. Ask one of them, or the operator \
             who can name administrators in PARLEY_ADMINS.",
        )),
    }
}

/// Seeing and editing a workspace's notification templates: who manages
/// the workspace.
pub fn manage_templates(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if !f.perms.has(Perm::ManageWorkspace) {
        return Err(missing("edit this workspace's notification templates"));
    }
    Ok(())
}

/// Starting or stopping a recording of a call: those who moderate calls
/// (mute_members) may.
pub fn record_call(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if !f.perms.has(Perm::MuteMembers) {
        return Err(missing("record this call"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn ws(is_guest: bool, perms: Perms) -> WorkspaceFacts {
        WorkspaceFacts {
            is_member: true,
            is_owner: false,
            is_private: false,
            is_guest,
            banned: false,
            timed_out_until: None,
            top: 1,
            perms,
        }
    }

    /// A public workspace owned by someone else (user 2).
    fn workspace() -> Workspace {
        Workspace {
            id: Id(1),
            name: "w".into(),
            description: String::new(),
            icon: String::new(),
            is_private: false,
            owner_id: Id(2),
            created_at: 0,
        }
    }

    fn member() -> WorkspaceFacts {
        ws(false, Builtin::Member.default_permissions())
    }

    fn ch(w: WorkspaceFacts, channel_member: bool, is_private: bool) -> ChannelFacts {
        ChannelFacts {
            workspace_id: Id(1),
            ws: w,
            channel_member,
            is_private,
            kind: ChannelKind::Text,
            is_external: false,
            archived: false,
            is_creator: false,
            perms: w.perms,
        }
    }

    fn role(id: i64, position: i64, perms: Perms) -> HeldRole {
        HeldRole { id: Id(id), position, permissions: perms }
    }

    fn ov(target: OverrideTarget, allow: &[Perm], deny: &[Perm]) -> Override {
        Override { target, allow: Perms::of(allow), deny: Perms::of(deny) }
    }

    const ME: Id = Id(77);

    #[test]
    fn role_deny_removes_a_base_permission() {
        let roles = [role(1, 1, Builtin::Member.default_permissions()), role(2, 5, Perms::NONE)];
        let facts = WorkspaceFacts { perms: base_permissions(false, &roles), ..member() };
        let deny = [ov(OverrideTarget::Role(Id(2)), &[], &[Perm::SendMessages])];
        let p = resolve_channel(facts, ME, &roles, ChannelKind::Text, &deny);
        assert!(!p.has(Perm::SendMessages));
        assert!(p.has(Perm::ViewChannel) && p.has(Perm::AddReactions));
    }

    #[test]
    fn an_allow_from_one_role_beats_a_deny_from_another() {
        // Discord: role overrides are combined, denies first, then allows.
        let roles = [role(1, 1, Builtin::Member.default_permissions()), role(2, 5, Perms::NONE)];
        let facts = WorkspaceFacts { perms: base_permissions(false, &roles), ..member() };
        let o = [
            ov(OverrideTarget::Role(Id(1)), &[], &[Perm::SendMessages]),
            ov(OverrideTarget::Role(Id(2)), &[Perm::SendMessages], &[]),
        ];
        assert!(resolve_channel(facts, ME, &roles, ChannelKind::Text, &o).has(Perm::SendMessages));
    }

    #[test]
    fn a_member_deny_beats_a_role_allow() {
        let roles = [role(1, 1, Builtin::Member.default_permissions())];
        let facts = WorkspaceFacts { perms: base_permissions(false, &roles), ..member() };
        let o = [
            ov(OverrideTarget::Role(Id(1)), &[Perm::ManageMessages], &[]),
            ov(OverrideTarget::Member(ME), &[], &[Perm::ManageMessages, Perm::SendMessages]),
        ];
        let p = resolve_channel(facts, ME, &roles, ChannelKind::Text, &o);
        assert!(!p.has(Perm::ManageMessages) && !p.has(Perm::SendMessages));
        // and a member allow beats a role deny
        let o = [
            ov(OverrideTarget::Role(Id(1)), &[], &[Perm::SendMessages]),
            ov(OverrideTarget::Member(ME), &[Perm::SendMessages], &[]),
        ];
        assert!(resolve_channel(facts, ME, &roles, ChannelKind::Text, &o).has(Perm::SendMessages));
        // someone else's member override does nothing to me
        let o = [ov(OverrideTarget::Member(Id(5)), &[], &[Perm::SendMessages])];
        assert!(resolve_channel(facts, ME, &roles, ChannelKind::Text, &o).has(Perm::SendMessages));
    }

    #[test]
    fn overrides_of_roles_not_held_do_nothing() {
        let roles = [role(1, 1, Builtin::Member.default_permissions())];
        let facts = WorkspaceFacts { perms: base_permissions(false, &roles), ..member() };
        let o = [ov(OverrideTarget::Role(Id(9)), &[Perm::ManageMessages], &[Perm::SendMessages])];
        let p = resolve_channel(facts, ME, &roles, ChannelKind::Text, &o);
        assert!(p.has(Perm::SendMessages) && !p.has(Perm::ManageMessages));
    }

    #[test]
    fn owner_and_administrators_bypass_overrides() {
        let roles = [
            role(1, 1, Builtin::Member.default_permissions()),
            role(3, 3, Perms::of(&[Perm::Administrator])),
        ];
        let admin = WorkspaceFacts { perms: base_permissions(false, &roles), ..member() };
        assert_eq!(admin.perms, Perms::ALL);
        let deny = [
            ov(OverrideTarget::Role(Id(1)), &[], &[Perm::ViewChannel, Perm::SendMessages]),
            ov(OverrideTarget::Member(ME), &[], &[Perm::SendMessages]),
        ];
        assert_eq!(resolve_channel(admin, ME, &roles, ChannelKind::Announcement, &deny), Perms::ALL);
        let owner = WorkspaceFacts { is_owner: true, perms: base_permissions(true, &[]), ..member() };
        assert_eq!(resolve_channel(owner, ME, &[], ChannelKind::Text, &deny), Perms::ALL);
    }

    #[test]
    fn denying_view_channel_takes_everything() {
        let roles = [role(1, 1, Builtin::Member.default_permissions())];
        let facts = WorkspaceFacts { perms: base_permissions(false, &roles), ..member() };
        let o = [ov(OverrideTarget::Role(Id(1)), &[Perm::ManageMessages], &[Perm::ViewChannel])];
        assert_eq!(resolve_channel(facts, ME, &roles, ChannelKind::Text, &o), Perms::NONE);
        assert!(view_channel(ch(facts, true, false)).is_ok());
        let hidden = ChannelFacts { perms: Perms::NONE, ..ch(facts, true, false) };
        assert_eq!(view_channel(hidden).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn announcement_channels_need_an_explicit_allow_to_post() {
        let roles = [role(1, 1, Builtin::Member.default_permissions()), role(2, 2, Perms::NONE)];
        let facts = WorkspaceFacts { perms: base_permissions(false, &roles), ..member() };
        let p = resolve_channel(facts, ME, &roles, ChannelKind::Announcement, &[]);
        let f = ChannelFacts { kind: ChannelKind::Announcement, perms: p, ..ch(facts, true, false) };
        let err = send_message(f).unwrap_err();
        assert!(err.to_string().contains("announcement"), "{err}");
        assert!(reply_in_thread(f).is_ok() && react(f).is_ok());
        let allow = [ov(OverrideTarget::Role(Id(2)), &[Perm::SendMessages], &[])];
        let p = resolve_channel(facts, ME, &roles, ChannelKind::Announcement, &allow);
        assert!(send_message(ChannelFacts { perms: p, ..f }).is_ok());
    }

    #[test]
    fn higher_roles_win_and_nobody_touches_a_role_at_or_above_their_own() {
        let roles =
            [role(1, 1, Builtin::Member.default_permissions()), role(4, 4, Perms::of(&[Perm::ManageRoles]))];
        let me = WorkspaceFacts::member(&workspace(), ME, false, &roles, None, 0);
        assert_eq!(me.top, 4);
        assert!(manage_role(me, 3, false).is_ok());
        assert_eq!(manage_role(me, 4, false).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(manage_role(me, 9, false).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(manage_role(me, 0, true).unwrap_err().kind(), ErrorKind::Forbidden);
        assert!(grant(me, Perms::of(&[Perm::SendMessages])).is_ok());
        assert_eq!(grant(me, Perms::of(&[Perm::BanMembers])).unwrap_err().kind(), ErrorKind::Forbidden);
    }

    #[test]
    fn moderation_only_reaches_lower_members() {
        let mod_ = WorkspaceFacts { top: 2, perms: Builtin::Moderator.default_permissions(), ..member() };
        let low = member();
        assert!(moderate(mod_, Perm::KickMembers, low, false).is_ok());
        let peer = WorkspaceFacts { top: 2, ..member() };
        assert_eq!(moderate(mod_, Perm::KickMembers, peer, false).unwrap_err().kind(), ErrorKind::Forbidden);
        let owner = WorkspaceFacts { is_owner: true, top: i64::MAX, ..member() };
        assert_eq!(moderate(mod_, Perm::BanMembers, owner, false).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(moderate(low, Perm::KickMembers, peer, false).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(moderate(mod_, Perm::KickMembers, low, true).unwrap_err().kind(), ErrorKind::Forbidden);
    }

    #[test]
    fn guests_see_only_external_channels_they_belong_to() {
        let guest = ws(true, Builtin::Guest.default_permissions());
        let external = ChannelFacts { is_external: true, ..ch(guest, true, false) };
        assert!(view_channel(external).is_ok() && send_message(external).is_ok());
        assert_eq!(view_channel(ch(guest, true, false)).unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(
            view_channel(ChannelFacts { channel_member: false, ..external }).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert!(create_channel(guest).is_err() && create_invite(guest).is_err());
        assert_eq!(add_to_channel(external).unwrap_err().kind(), ErrorKind::Forbidden);
    }

    #[test]
    fn archived_channels_are_read_only_and_timeouts_silence() {
        let archived = ChannelFacts { archived: true, ..ch(member(), true, false) };
        assert!(view_channel(archived).is_ok());
        for r in [
            send_message(archived),
            reply_in_thread(archived),
            react(archived),
            unreact(archived),
            pin(archived),
            join_channel(archived),
        ] {
            assert_eq!(r.unwrap_err().kind(), ErrorKind::Forbidden);
        }
        let quiet = WorkspaceFacts { timed_out_until: Some(crate::now_ms() + 90_000), ..member() };
        let f = ch(quiet, true, false);
        let err = send_message(f).unwrap_err();
        assert!(err.to_string().contains("timed out in this workspace for 2 more minutes"), "{err}");
        assert!(react(f).is_err() && reply_in_thread(f).is_err() && view_channel(f).is_ok());
    }

    #[test]
    fn calls_need_a_voice_channel_join_voice_and_speak() {
        let voice = ChannelFacts { kind: ChannelKind::Voice, ..ch(member(), true, false) };
        assert!(join_voice(voice).is_ok() && speak(voice));
        let text = ch(member(), true, false);
        assert_eq!(join_voice(text).unwrap_err().kind(), ErrorKind::Invalid);
        let no_join = ChannelFacts { perms: voice.perms.without(Perm::JoinVoice), ..voice };
        assert_eq!(join_voice(no_join).unwrap_err().kind(), ErrorKind::Forbidden);
        let silent = ChannelFacts { perms: voice.perms.without(Perm::Speak), ..voice };
        assert!(join_voice(silent).is_ok() && !speak(silent));
        let quiet = WorkspaceFacts { timed_out_until: Some(crate::now_ms() + 60_000), ..member() };
        let timed_out = ChannelFacts { ws: quiet, kind: ChannelKind::Voice, ..ch(quiet, true, false) };
        assert!(join_voice(timed_out).is_err() && !speak(timed_out));
        assert_eq!(mute_in_call(voice).unwrap_err().kind(), ErrorKind::Forbidden);
        let moderator = ChannelFacts { perms: voice.perms.with(Perm::MuteMembers), ..voice };
        assert!(mute_in_call(moderator).is_ok());
        let archived = ChannelFacts { archived: true, ..voice };
        assert_eq!(join_voice(archived).unwrap_err().kind(), ErrorKind::Forbidden);
        let direct = ChannelFacts { kind: ChannelKind::Direct, ..voice };
        assert!(join_voice(direct).is_ok(), "a call in a direct conversation");
    }

    #[test]
    fn direct_conversations_are_fixed() {
        let dm = ChannelFacts { kind: ChannelKind::Direct, is_creator: true, ..ch(member(), true, true) };
        assert!(send_message(dm).is_ok());
        assert_eq!(leave_channel(dm).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(add_to_channel(dm).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(manage_channel(dm).unwrap_err().kind(), ErrorKind::Forbidden);
        let outsider = ChannelFacts { channel_member: false, ..dm };
        assert_eq!(view_channel(outsider).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn channel_rules() {
        let outsider = WorkspaceFacts { is_member: false, perms: Perms::NONE, ..member() };
        // (workspace member, channel member, private) -> view, post, join
        let table = [
            ((true, true, false), (true, true, true)),
            ((true, false, false), (true, false, true)),
            ((true, true, true), (true, true, false)),
            ((true, false, true), (false, false, false)),
            ((false, false, false), (false, false, false)),
            ((false, false, true), (false, false, false)),
        ];
        for ((w, c, p), (view, post, join)) in table {
            let f = ch(if w { member() } else { outsider }, c, p);
            assert_eq!(view_channel(f).is_ok(), view, "view {w} {c} {p}");
            assert_eq!(send_message(f).is_ok(), post, "post {w} {c} {p}");
            assert_eq!(join_channel(f).is_ok(), join, "join {w} {c} {p}");
        }
        // hidden private channels look absent, not forbidden
        assert_eq!(view_channel(ch(member(), false, true)).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn authors_edit_and_managers_delete() {
        let f = ch(member(), true, false);
        assert!(edit_message(f, true).is_ok());
        assert_eq!(edit_message(f, false).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(delete_message(f, false).unwrap_err().kind(), ErrorKind::Forbidden);
        let moderator = ChannelFacts { perms: Builtin::Moderator.default_permissions(), ..f };
        assert!(delete_message(moderator, false).is_ok());
        assert_eq!(edit_message(moderator, false).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(edit_message(ch(member(), false, true), true).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn banned_people_cannot_join_and_the_owner_cannot_leave() {
        let ws_ = workspace();
        assert!(join_workspace(WorkspaceFacts::outsider(&ws_, false), false).is_ok());
        let err = join_workspace(WorkspaceFacts::outsider(&ws_, true), true).unwrap_err();
        assert!(err.to_string().contains("banned"));
        let owner = WorkspaceFacts { is_owner: true, ..member() };
        assert_eq!(leave_workspace(owner).unwrap_err().kind(), ErrorKind::Forbidden);
        assert!(leave_workspace(member()).is_ok());
    }

    #[test]
    fn names_round_trip() {
        for p in Perm::ALL {
            assert_eq!(Perm::from_name(p.name()), Some(p));
            assert!(Perms::ALL.has(p));
        }
        assert_eq!(Perms::from_bits(-1), Perms::ALL);
    }
}
