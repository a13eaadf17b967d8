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
            is_member: None,
        }
    }
}

impl From<&model::ChannelListing> for ChannelDto {
    fn from(l: &model::ChannelListing) -> Self {
        ChannelDto { is_member: Some(l.is_member), ..ChannelDto::from(&l.channel) }
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
            online: m.online,
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
            K::MessageDeleted { channel_id, message_id } => GatewayEvent::MessageDelete {
                channel_id: channel_id.to_string(),
                message_id: message_id.to_string(),
            },
            K::PresenceChanged { workspace_id, user_id, online } => GatewayEvent::PresenceUpdate {
                workspace_id: workspace_id.to_string(),
                user_id: user_id.to_string(),
                online: *online,
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
