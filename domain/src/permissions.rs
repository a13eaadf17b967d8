//! The one place that decides who may do what. Every entry point (server
//! functions, REST handlers, gateway) reaches these checks through [`crate::Hub`],
//! which gathers the facts from the store and asks here; nothing else decides.
//!
//! A private channel that the user may not see answers "not found", never
//! "forbidden", so that its existence does not leak.

use crate::error::{Error, Result, Thing};
use crate::model::{Channel, ChannelKind, Workspace};

/// What is known about one user's relation to one workspace.
#[derive(Debug, Clone, Copy)]
pub struct WorkspaceFacts {
    pub is_member: bool,
    pub is_owner: bool,
    pub is_private: bool,
}

/// What is known about one user's relation to one channel.
#[derive(Debug, Clone, Copy)]
pub struct ChannelFacts {
    pub workspace_member: bool,
    pub channel_member: bool,
    pub is_private: bool,
    /// A direct or group conversation.
    pub is_direct: bool,
    /// The user created the channel, or owns its workspace.
    pub is_manager: bool,
}

impl WorkspaceFacts {
    pub fn of(ws: &Workspace, is_member: bool, user: crate::Id) -> Self {
        WorkspaceFacts { is_member, is_owner: ws.owner_id == user, is_private: ws.is_private }
    }
}

impl ChannelFacts {
    pub fn of(
        ch: &Channel,
        workspace_owner: crate::Id,
        user: crate::Id,
        workspace_member: bool,
        channel_member: bool,
    ) -> Self {
        ChannelFacts {
            workspace_member,
            channel_member,
            is_private: ch.is_private,
            is_direct: ch.kind == ChannelKind::Direct,
            is_manager: workspace_member && (ch.created_by == user || workspace_owner == user),
        }
    }
}

/// Reading a workspace: its channels, members and invites.
pub fn view_workspace(f: WorkspaceFacts) -> Result<()> {
    if f.is_member { Ok(()) } else { Err(Error::NotFound(Thing::Workspace)) }
}

/// Joining without an invite: only public workspaces.
pub fn join_workspace_openly(f: WorkspaceFacts) -> Result<()> {
    if f.is_private {
        Err(Error::forbidden("This workspace is private. Ask a member for an invite link."))
    } else {
        Ok(())
    }
}

pub fn leave_workspace(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)?;
    if f.is_owner { Err(Error::forbidden("The owner cannot leave their workspace.")) } else { Ok(()) }
}

/// Creating channels and workspace invites: any member.
pub fn create_in_workspace(f: WorkspaceFacts) -> Result<()> {
    view_workspace(f)
}

/// Reading a channel's messages: members of the workspace for public
/// channels, members of the channel for private ones.
pub fn view_channel(f: ChannelFacts) -> Result<()> {
    if f.workspace_member && (!f.is_private || f.channel_member) {
        Ok(())
    } else {
        Err(Error::NotFound(Thing::Channel))
    }
}

/// Joining a channel by oneself: public channels of one's workspaces.
pub fn join_channel(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_private {
        return Err(Error::forbidden("This channel is private. A member has to add you."));
    }
    Ok(())
}

/// Posting: channel members only.
pub fn send_message(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if !f.channel_member {
        return Err(Error::forbidden("Join this channel to post in it."));
    }
    Ok(())
}

/// Replying in a thread: as posting (announcement channels will differ).
pub fn reply_in_thread(f: ChannelFacts) -> Result<()> {
    send_message(f)
}

/// Leaving: any member, except of a direct conversation.
pub fn leave_channel(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_direct {
        return Err(Error::forbidden("You cannot leave a direct conversation."));
    }
    Ok(())
}

/// Renaming, changing the topic, deleting: the channel's creator or the
/// workspace's owner; never a direct conversation.
pub fn manage_channel(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_direct {
        return Err(Error::forbidden("Direct conversations cannot be renamed or deleted."));
    }
    if !f.is_manager {
        return Err(Error::forbidden(
            "Only the person who created this channel or the workspace owner can change or delete it.",
        ));
    }
    Ok(())
}

/// Pinning and unpinning messages: members of the channel.
pub fn pin(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if !f.channel_member {
        return Err(Error::forbidden("Join this channel to pin messages in it."));
    }
    Ok(())
}

/// Adding people to a channel or inviting to it: members of the channel
/// (a direct conversation's members are fixed).
pub fn add_to_channel(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if f.is_direct {
        return Err(Error::forbidden(
            "People cannot be added to a direct conversation. Start a new one with everyone in it.",
        ));
    }
    if !f.channel_member {
        return Err(Error::forbidden("Only members of this channel can add people to it."));
    }
    Ok(())
}

/// Editing a message: its author only, while they can still see the channel.
pub fn edit_message(f: ChannelFacts, is_author: bool) -> Result<()> {
    view_channel(f)?;
    if !is_author {
        return Err(Error::forbidden("You can edit only your own messages."));
    }
    Ok(())
}

/// Deleting a message: its author (moderators come with roles).
pub fn delete_message(f: ChannelFacts, is_author: bool) -> Result<()> {
    view_channel(f)?;
    if !is_author {
        return Err(Error::forbidden("You can delete only your own messages."));
    }
    Ok(())
}

/// Reacting: members of the channel.
pub fn react(f: ChannelFacts) -> Result<()> {
    view_channel(f)?;
    if !f.channel_member {
        return Err(Error::forbidden("Join this channel to react to its messages."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn ch(workspace_member: bool, channel_member: bool, is_private: bool) -> ChannelFacts {
        ChannelFacts { workspace_member, channel_member, is_private, is_direct: false, is_manager: false }
    }

    #[test]
    fn direct_conversations_are_fixed() {
        let dm = ChannelFacts { is_direct: true, is_manager: true, ..ch(true, true, true) };
        assert!(send_message(dm).is_ok());
        assert_eq!(leave_channel(dm).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(add_to_channel(dm).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(manage_channel(dm).unwrap_err().kind(), ErrorKind::Forbidden);
        let outsider = ChannelFacts { is_direct: true, ..ch(true, false, true) };
        assert_eq!(view_channel(outsider).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn only_managers_change_channels() {
        let member = ch(true, true, false);
        assert_eq!(manage_channel(member).unwrap_err().kind(), ErrorKind::Forbidden);
        assert!(manage_channel(ChannelFacts { is_manager: true, ..member }).is_ok());
        assert!(leave_channel(member).is_ok());
    }

    #[test]
    fn channel_rules() {
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
            let f = ch(w, c, p);
            assert_eq!(view_channel(f).is_ok(), view, "view {w} {c} {p}");
            assert_eq!(send_message(f).is_ok(), post, "post {w} {c} {p}");
            assert_eq!(join_channel(f).is_ok(), join, "join {w} {c} {p}");
        }
        // hidden private channels look absent, not forbidden
        assert_eq!(view_channel(ch(true, false, true)).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn only_authors_edit_and_delete() {
        let member = ch(true, true, false);
        assert!(edit_message(member, true).is_ok());
        assert_eq!(edit_message(member, false).unwrap_err().kind(), ErrorKind::Forbidden);
        assert_eq!(delete_message(member, false).unwrap_err().kind(), ErrorKind::Forbidden);
        // An author who lost access to a private channel cannot touch it either.
        assert_eq!(edit_message(ch(true, false, true), true).unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(react(ch(true, false, false)).unwrap_err().kind(), ErrorKind::Forbidden);
        assert!(react(member).is_ok());
    }

    #[test]
    fn owner_cannot_leave() {
        let f = WorkspaceFacts { is_member: true, is_owner: true, is_private: false };
        assert_eq!(leave_workspace(f).unwrap_err().kind(), ErrorKind::Forbidden);
        assert!(leave_workspace(WorkspaceFacts { is_owner: false, ..f }).is_ok());
    }
}
