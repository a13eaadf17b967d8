//! The boundary between domain types and wire types (server side only).

use crate::wire::*;
use domain::model;

impl From<&model::UserSummary> for UserDto {
    fn from(u: &model::UserSummary) -> Self {
        UserDto { id: u.id.to_string(), username: u.username.clone(), display_name: u.display_name.clone() }
    }
}

impl From<&model::User> for MeDto {
    fn from(u: &model::User) -> Self {
        MeDto {
            id: u.id.to_string(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
        }
    }
}

impl From<&model::Workspace> for WorkspaceDto {
    fn from(w: &model::Workspace) -> Self {
        WorkspaceDto {
            id: w.id.to_string(),
            name: w.name.clone(),
            description: w.description.clone(),
            icon: w.icon.clone(),
            is_private: w.is_private,
            owner_id: w.owner_id.to_string(),
        }
    }
}

impl From<&model::Channel> for ChannelDto {
    fn from(c: &model::Channel) -> Self {
        ChannelDto {
            id: c.id.to_string(),
            workspace_id: c.workspace_id.to_string(),
            name: c.name.clone(),
            topic: c.topic.clone(),
            is_private: c.is_private,
            kind: match c.kind {
                model::ChannelKind::Text => ChannelKind::Text,
                model::ChannelKind::Direct => ChannelKind::Direct,
            },
            is_member: None,
            unread: 0,
            mentions: 0,
            members: Vec::new(),
        }
    }
}

impl From<&model::ChannelListing> for ChannelDto {
    fn from(l: &model::ChannelListing) -> Self {
        ChannelDto {
            is_member: Some(l.is_member),
            unread: l.unread,
            mentions: l.mentions,
            members: l.members.iter().map(UserDto::from).collect(),
            ..ChannelDto::from(&l.channel)
        }
    }
}

impl From<&model::Attachment> for AttachmentDto {
    fn from(a: &model::Attachment) -> Self {
        AttachmentDto {
            id: a.id.to_string(),
            url: crate::paths::file(&a.id.to_string(), &a.file_name),
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            is_image: a.is_image(),
        }
    }
}

impl From<&model::ThreadView> for ThreadDto {
    fn from(t: &model::ThreadView) -> Self {
        ThreadDto {
            parent: (&t.parent).into(),
            replies: t.replies.iter().map(MessageDto::from).collect(),
            following: t.following,
        }
    }
}

impl From<&model::FollowedThread> for FollowedThreadDto {
    fn from(t: &model::FollowedThread) -> Self {
        FollowedThreadDto {
            parent: (&t.parent).into(),
            channel_name: t.channel_name.clone(),
            unread: t.unread,
        }
    }
}

impl From<&model::ReadMark> for ReadMarkDto {
    fn from(m: &model::ReadMark) -> Self {
        ReadMarkDto { user_id: m.user_id.to_string(), last_read_id: m.last_read_id.to_string() }
    }
}

impl From<domain::presence::Status> for PresenceStatus {
    fn from(s: domain::presence::Status) -> Self {
        match s {
            domain::presence::Status::Online => PresenceStatus::Online,
            domain::presence::Status::Away => PresenceStatus::Away,
            domain::presence::Status::Offline => PresenceStatus::Offline,
        }
    }
}

impl From<&model::Message> for MessageDto {
    fn from(m: &model::Message) -> Self {
        MessageDto {
            id: m.id.to_string(),
            channel_id: m.channel_id.to_string(),
            author: UserDto::from(&m.author),
            body: m.body.clone(),
            html: m.html.clone(),
            nonce: m.nonce.clone(),
            created_at: m.created_at,
            edited_at: m.edited_at,
            reactions: m.reactions.iter().map(ReactionDto::from).collect(),
            thread_id: m.thread_id.map(|t| t.to_string()),
            thread: m.thread.as_ref().map(|t| ThreadSummaryDto {
                reply_count: t.reply_count,
                last_reply_at: t.last_reply_at,
                participants: t.participants.iter().map(UserDto::from).collect(),
            }),
            deleted: m.deleted,
            pinned: m.pinned,
            attachments: m.attachments.iter().map(AttachmentDto::from).collect(),
            mentions: if m.deleted { Vec::new() } else { domain::markdown::mentions(&m.body) },
        }
    }
}

impl From<&model::SearchHit> for SearchHitDto {
    fn from(h: &model::SearchHit) -> Self {
        SearchHitDto {
            message: (&h.message).into(),
            workspace_id: h.workspace_id.to_string(),
            channel_name: h.channel_name.clone(),
            highlight: h.highlight.clone(),
        }
    }
}

impl From<&model::Reaction> for ReactionDto {
    fn from(r: &model::Reaction) -> Self {
        ReactionDto {
            emoji: r.emoji.clone(),
            count: r.users.len(),
            users: r.users.iter().map(UserDto::from).collect(),
        }
    }
}

impl From<&model::MessagePage> for MessagePageDto {
    fn from(p: &model::MessagePage) -> Self {
        MessagePageDto {
            messages: p.messages.iter().map(MessageDto::from).collect(),
            next_cursor: p.next_before.map(|id| id.to_string()),
        }
    }
}

impl From<&model::Member> for MemberDto {
    fn from(m: &model::Member) -> Self {
        MemberDto {
            user: UserDto::from(&m.user),
            joined_at: m.joined_at,
            is_owner: m.is_owner,
            status: m.status.into(),
        }
    }
}

impl From<domain::Error> for ApiError {
    fn from(e: domain::Error) -> Self {
        use domain::ErrorKind as K;
        let code = match e.kind() {
            K::Invalid => ErrorCode::Invalid,
            K::Unauthenticated => ErrorCode::Unauthenticated,
            K::Forbidden => ErrorCode::Forbidden,
            K::NotFound => ErrorCode::NotFound,
            K::Conflict => ErrorCode::Conflict,
            K::TooLarge => ErrorCode::TooLarge,
            K::UnsupportedType => ErrorCode::UnsupportedType,
            K::Internal => {
                tracing::error!(error = ?e, "internal error");
                ErrorCode::Internal
            }
        };
        ApiError { code, message: e.to_string(), field: e.field().map(str::to_string) }
    }
}

/// The gateway event a domain event becomes on the wire.
impl From<&domain::events::EventKind> for GatewayEvent {
    fn from(kind: &domain::events::EventKind) -> Self {
        use domain::events::EventKind as K;
        match kind {
            K::MessageCreated(m) => GatewayEvent::MessageCreate { message: m.into() },
            K::MessageUpdated(m) => GatewayEvent::MessageUpdate { message: m.into() },
            K::MessageDeleted { channel_id, message_id, thread_id } => GatewayEvent::MessageDelete {
                channel_id: channel_id.to_string(),
                message_id: message_id.to_string(),
                thread_id: thread_id.map(|t| t.to_string()),
            },
            K::PresenceChanged { workspace_id, user_id, status } => GatewayEvent::PresenceUpdate {
                workspace_id: workspace_id.to_string(),
                user_id: user_id.to_string(),
                status: (*status).into(),
            },
            K::ReadUpdated { channel_id, user_id, last_read_id } => GatewayEvent::ReadUpdate {
                channel_id: channel_id.to_string(),
                user_id: user_id.to_string(),
                last_read_id: last_read_id.to_string(),
            },
            K::ThreadFollowChanged { thread_id, following, .. } => {
                GatewayEvent::ThreadFollowUpdate { thread_id: thread_id.to_string(), following: *following }
            }
            K::ChannelUpdated(c) => GatewayEvent::ChannelUpdate { channel: c.into() },
            K::ChannelDeleted { workspace_id, channel_id } => GatewayEvent::ChannelDelete {
                workspace_id: workspace_id.to_string(),
                channel_id: channel_id.to_string(),
            },
            K::Typing { channel_id, user } => {
                GatewayEvent::TypingStart { channel_id: channel_id.to_string(), user: user.into() }
            }
            K::ReactionAdded { channel_id, message_id, emoji, user } => GatewayEvent::ReactionAdd {
                channel_id: channel_id.to_string(),
                message_id: message_id.to_string(),
                emoji: emoji.clone(),
                user: user.into(),
            },
            K::ReactionRemoved { channel_id, message_id, emoji, user_id } => GatewayEvent::ReactionRemove {
                channel_id: channel_id.to_string(),
                message_id: message_id.to_string(),
                emoji: emoji.clone(),
                user_id: user_id.to_string(),
            },
            K::ChannelCreated(c) => GatewayEvent::ChannelCreate { channel: c.into() },
            K::ChannelMemberAdded { channel, user_id } => {
                GatewayEvent::ChannelMemberAdd { channel: channel.into(), user_id: user_id.to_string() }
            }
            K::ChannelMemberRemoved { channel_id, user_id } => GatewayEvent::ChannelMemberRemove {
                channel_id: channel_id.to_string(),
                user_id: user_id.to_string(),
            },
            K::WorkspaceMemberAdded { workspace_id, member } => GatewayEvent::WorkspaceMemberAdd {
                workspace_id: workspace_id.to_string(),
                member: member.into(),
            },
            K::WorkspaceMemberRemoved { workspace_id, user_id } => GatewayEvent::WorkspaceMemberRemove {
                workspace_id: workspace_id.to_string(),
                user_id: user_id.to_string(),
            },
        }
    }
}
