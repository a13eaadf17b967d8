//! The boundary between domain types and wire types (server side only).

use crate::wire::*;
use domain::model;
use domain::permissions::{Override, OverrideTarget, Perm, Perms};

impl From<&model::UserSummary> for UserDto {
    fn from(u: &model::UserSummary) -> Self {
        UserDto {
            id: u.id.to_string(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            is_bot: u.is_bot,
        }
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
                model::ChannelKind::Announcement => ChannelKind::Announcement,
                model::ChannelKind::Voice => ChannelKind::Voice,
            },
            is_member: None,
            unread: 0,
            mentions: 0,
            members: Vec::new(),
            is_external: c.is_external,
            sensitive: c.sensitive,
            end_to_end: c.end_to_end,
            shares_history: c.shares_history,
            archived: c.archived_at.is_some(),
            auto_join: c.auto_join,
            user_limit: c.user_limit,
            category_id: c.category_id.map(|c| c.to_string()),
            position: c.position,
            permissions: Vec::new(),
            post_block: None,
            call: Vec::new(),
            notify_level: String::new(),
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
            permissions: perm_names(l.perms),
            post_block: l.post_block.clone(),
            call: l.call.iter().map(VoiceParticipantDto::from).collect(),
            notify_level: l.notify_level.as_str().to_string(),
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
            scan: a.scan.as_str().to_string(),
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
            author_colour: m.author_colour.clone(),
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
            shown_name: m.shown_name.clone(),
            shown_icon: m.shown_icon.clone(),
            link_previews: m.link_previews.iter().map(|p| LinkPreviewDto::of(m.id, p)).collect(),
            sent_from: m.sent_from.map(|d| d.to_string()),
            own_copy: m.own_copy.clone(),
        }
    }
}

impl From<&model::CommandUseRecord> for CommandUseDto {
    fn from(u: &model::CommandUseRecord) -> Self {
        CommandUseDto {
            at: u.at,
            user: UserDto::from(&u.user),
            text: u.text.clone(),
            status_code: u.status_code,
            latency_ms: u.latency_ms,
            excerpt: u.excerpt.clone(),
            answers: u.answers,
        }
    }
}

impl LinkPreviewDto {
    /// A page's preview fetched for a sender's browser (in no message yet,
    /// so without an image Parley would serve).
    pub fn of_page(p: &model::LinkPreview) -> Self {
        LinkPreviewDto {
            position: p.position,
            url: p.url.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            site_name: p.site_name.clone(),
            image_url: None,
        }
    }

    fn of(message: domain::Id, p: &model::LinkPreview) -> Self {
        LinkPreviewDto {
            image_url: p
                .has_image
                .then(|| crate::paths::link_preview_image(&message.to_string(), p.position)),
            ..Self::of_page(p)
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
            is_guest: m.is_guest,
            roles: m.roles.iter().map(|r| r.to_string()).collect(),
            timeout_until: m.timeout_until.filter(|t| *t > domain::now_ms()),
            status: m.status.into(),
        }
    }
}

/// Permission names, in the settings page's order.
pub fn perm_names(p: Perms) -> Vec<String> {
    p.list().into_iter().map(|p| p.name().to_string()).collect()
}

/// Parses permission names; an unknown one is invalid input on `field`.
pub fn parse_perms(names: &[String], field: &'static str) -> Result<Perms, ApiError> {
    let mut perms = Perms::NONE;
    for n in names {
        let p = Perm::from_name(n.trim()).ok_or_else(|| {
            ApiError::invalid(
                field,
                format!("“{n}” is not a permission. See GET /api/communication/permissions/."),
            )
        })?;
        perms = perms.with(p);
    }
    Ok(perms)
}

impl From<&model::Role> for RoleDto {
    fn from(r: &model::Role) -> Self {
        RoleDto {
            id: r.id.to_string(),
            name: r.name.clone(),
            colour: r.colour.clone(),
            position: r.position,
            permissions: perm_names(r.permissions),
            builtin: r.builtin.map(|b| b.as_str().to_string()),
        }
    }
}

impl From<Perm> for PermissionDto {
    fn from(p: Perm) -> Self {
        PermissionDto {
            name: p.name().to_string(),
            description: p.describe().to_string(),
            per_channel: Perm::CHANNEL.contains(&p),
        }
    }
}

impl From<&Override> for OverrideDto {
    fn from(o: &Override) -> Self {
        let (target_kind, target_id) = match o.target {
            OverrideTarget::Role(id) => ("role", id),
            OverrideTarget::Member(id) => ("member", id),
        };
        OverrideDto {
            target_kind: target_kind.to_string(),
            target_id: target_id.to_string(),
            allow: perm_names(o.allow),
            deny: perm_names(o.deny),
        }
    }
}

impl TryFrom<&OverrideDto> for Override {
    type Error = ApiError;
    fn try_from(o: &OverrideDto) -> Result<Self, ApiError> {
        let id = crate::ssr::parse_id("target_id", &o.target_id)?;
        let target = match o.target_kind.as_str() {
            "role" => OverrideTarget::Role(id),
            "member" => OverrideTarget::Member(id),
            _ => return Err(ApiError::invalid("target_kind", "target_kind is `role` or `member`.")),
        };
        Ok(Override { target, allow: parse_perms(&o.allow, "allow")?, deny: parse_perms(&o.deny, "deny")? })
    }
}

impl From<&model::Category> for CategoryDto {
    fn from(c: &model::Category) -> Self {
        CategoryDto { id: c.id.to_string(), name: c.name.clone(), position: c.position }
    }
}

impl From<&model::Ban> for BanDto {
    fn from(b: &model::Ban) -> Self {
        BanDto { user: UserDto::from(&b.user), reason: b.reason.clone(), created_at: b.created_at }
    }
}

impl From<&model::AuditEntry> for AuditEntryDto {
    fn from(e: &model::AuditEntry) -> Self {
        AuditEntryDto {
            id: e.id.to_string(),
            actor: UserDto::from(&e.actor),
            action: e.action.clone(),
            target_user: e.target_user.as_ref().map(UserDto::from),
            target_id: e.target_id.map(|t| t.to_string()),
            summary: e.summary.clone(),
            created_at: e.created_at,
        }
    }
}

/// An invite as its maker gets it, with the link to share.
impl From<&model::ApiToken> for ApiTokenDto {
    fn from(t: &model::ApiToken) -> Self {
        ApiTokenDto {
            id: t.id.clone(),
            name: t.name.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
        }
    }
}

pub fn invite_dto(invite: &model::Invite, public_url: &str) -> InviteDto {
    InviteDto {
        url: format!("{public_url}{}", crate::paths::invite(&invite.code)),
        code: invite.code.clone(),
        workspace_id: invite.workspace_id.to_string(),
        channel_id: invite.channel_ids.first().map(|c| c.to_string()),
        channel_ids: invite.channel_ids.iter().map(|c| c.to_string()).collect(),
        is_guest: invite.is_guest,
        email: invite.email.clone(),
        created_by: invite.created_by.to_string(),
        created_at: invite.created_at,
        expires_at: invite.expires_at,
        max_uses: invite.max_uses,
        uses: invite.uses,
    }
}

impl From<&model::Bot> for BotDto {
    fn from(b: &model::Bot) -> Self {
        BotDto {
            user: UserDto::from(&b.user),
            owner: UserDto::from(&b.owner),
            emoji: b.emoji.clone(),
            description: b.description.clone(),
            created_at: b.created_at,
            tokens: None,
        }
    }
}

impl From<&model::Webhook> for WebhookDto {
    fn from(w: &model::Webhook) -> Self {
        WebhookDto {
            id: w.id.to_string(),
            workspace_id: w.workspace_id.to_string(),
            channel_id: w.channel_id.to_string(),
            channel_label: w.channel_label.clone(),
            bot: UserDto::from(&w.bot),
            created_by: UserDto::from(&w.created_by),
            created_at: w.created_at,
            signed: w.signed,
            last_used_at: w.last_used_at,
        }
    }
}

impl From<&domain::hub::NewWebhook> for CreatedWebhookDto {
    fn from(n: &domain::hub::NewWebhook) -> Self {
        CreatedWebhookDto {
            webhook: WebhookDto::from(&n.webhook),
            url: n.url.clone(),
            signing_secret: n.signing_secret.clone(),
        }
    }
}

impl From<&model::OutgoingWebhook> for OutgoingWebhookDto {
    fn from(w: &model::OutgoingWebhook) -> Self {
        OutgoingWebhookDto {
            id: w.id.to_string(),
            workspace_id: w.workspace_id.to_string(),
            name: w.name.clone(),
            url: w.url.clone(),
            format: w.format.as_str().into(),
            events: w.events.iter().map(|e| e.as_str().to_string()).collect(),
            channels: w
                .channels
                .iter()
                .map(|(id, name)| ChannelRefDto { id: id.to_string(), name: name.clone() })
                .collect(),
            trigger_words: w.trigger_words.clone(),
            bot: UserDto::from(&w.bot),
            created_by: UserDto::from(&w.created_by),
            created_at: w.created_at,
        }
    }
}

impl From<&domain::hub::CreatedOutgoingWebhook> for CreatedOutgoingWebhookDto {
    fn from(n: &domain::hub::CreatedOutgoingWebhook) -> Self {
        CreatedOutgoingWebhookDto {
            webhook: OutgoingWebhookDto::from(&n.webhook),
            token: n.token.clone(),
            signing_secret: n.signing_secret.clone(),
        }
    }
}

impl From<&model::SlashCommand> for SlashCommandDto {
    fn from(c: &model::SlashCommand) -> Self {
        SlashCommandDto {
            id: c.id.to_string(),
            workspace_id: c.workspace_id.to_string(),
            name: c.name.clone(),
            url: c.url.clone(),
            description: c.description.clone(),
            usage_hint: c.usage_hint.clone(),
            bot: (&c.bot).into(),
            created_by: (&c.created_by).into(),
            created_at: c.created_at,
        }
    }
}

impl From<&domain::hub::CreatedSlashCommand> for CreatedSlashCommandDto {
    fn from(n: &domain::hub::CreatedSlashCommand) -> Self {
        CreatedSlashCommandDto {
            command: SlashCommandDto::from(&n.command),
            token: n.token.clone(),
            signing_secret: n.signing_secret.clone(),
        }
    }
}

impl From<&domain::hub::CommandListing> for CommandListingDto {
    fn from(c: &domain::hub::CommandListing) -> Self {
        CommandListingDto {
            name: c.name.clone(),
            usage: c.usage.clone(),
            description: c.description.clone(),
            custom: c.custom,
        }
    }
}

impl From<&domain::hub::CommandReply> for CommandReplyDto {
    fn from(r: &domain::hub::CommandReply) -> Self {
        use domain::hub::GoTo;
        CommandReplyDto {
            ephemeral: r.ephemeral.clone(),
            ephemeral_html: r.ephemeral.as_deref().map(domain::markdown::render),
            message: r.posted.as_ref().map(MessageDto::from),
            go_to: r.go_to.as_ref().map(|g| match g {
                GoTo::Workspace(ws) => crate::paths::workspace(&ws.to_string()),
                GoTo::Search { workspace, query } => crate::paths::search(&workspace.to_string(), query),
            }),
            join_call: r.join_call.map(|c| c.to_string()),
        }
    }
}

impl From<&model::WebhookDelivery> for WebhookDeliveryDto {
    fn from(d: &model::WebhookDelivery) -> Self {
        WebhookDeliveryDto {
            id: d.id.to_string(),
            webhook_id: d.webhook_id.to_string(),
            event: d.event.as_str().into(),
            created_at: d.created_at,
            state: match d.state {
                model::CallState::Pending => "pending",
                model::CallState::Delivered => "delivered",
                model::CallState::Failed => "failed",
            }
            .into(),
            due_at: d.due_at,
            payload: d.payload.clone(),
            attempts: d
                .attempts
                .iter()
                .map(|a| WebhookAttemptDto {
                    at: a.at,
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    ok: a.ok,
                    excerpt: a.excerpt.clone(),
                })
                .collect(),
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
            K::RateLimited => ErrorCode::RateLimited,
            K::Unavailable => {
                tracing::warn!(error = ?e, "a service the server needs (the database, the virus scanner) is out of reach");
                ErrorCode::Unavailable
            }
            K::Internal => {
                tracing::error!(error = ?e, "internal error");
                ErrorCode::Internal
            }
        };
        let rate_limit = match &e {
            domain::Error::RateLimited(r) => Some(RateLimitDto {
                bucket: r.bucket.to_string(),
                limit: r.limit,
                retry_after_ms: r.retry_after.as_millis() as u64,
                reset_after_ms: r.reset_after.as_millis() as u64,
            }),
            _ => None,
        };
        ApiError { code, message: e.to_string(), field: e.field().map(str::to_string), rate_limit }
    }
}

impl From<&domain::voice::Participant> for VoiceParticipantDto {
    fn from(p: &domain::voice::Participant) -> Self {
        VoiceParticipantDto {
            user: (&p.user).into(),
            session: p.session,
            self_muted: p.self_muted,
            server_muted: p.server_muted,
            can_speak: p.can_speak,
            camera: p.camera,
        }
    }
}

/// The gateway event a domain event becomes on the wire.
impl From<&domain::events::EventKind> for GatewayEvent {
    fn from(kind: &domain::events::EventKind) -> Self {
        use domain::events::EventKind as K;
        match kind {
            K::MessageCreated(m) => GatewayEvent::MessageCreate { message: m.into() },
            K::MessageUpdated(m) => GatewayEvent::MessageUpdate { message: m.into() },
            K::LinkPreviews { channel_id, message_id, previews } => GatewayEvent::LinkPreviews {
                channel_id: channel_id.to_string(),
                message_id: message_id.to_string(),
                link_previews: previews.iter().map(|p| LinkPreviewDto::of(*message_id, p)).collect(),
            },
            K::MessagesPurged { channel_id, message_ids, attachment_ids } => GatewayEvent::MessagesPurge {
                channel_id: channel_id.to_string(),
                message_ids: message_ids.iter().map(|id| id.to_string()).collect(),
                attachment_ids: attachment_ids.iter().map(|id| id.to_string()).collect(),
            },
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
            K::GroupCommitted(c) => GatewayEvent::GroupCommit { commit: c.into() },
            K::Welcomed(w) => GatewayEvent::Welcome { welcome: w.into() },
            K::HistoryShared { channel_id, device_id } => GatewayEvent::HistoryShare {
                channel_id: channel_id.to_string(),
                device_id: device_id.to_string(),
            },
            K::DevicesChanged { channel_id, user_id } => GatewayEvent::DevicesUpdate {
                channel_id: channel_id.to_string(),
                user_id: user_id.to_string(),
            },
            K::IdentityChanged { channel_id, user_id } => GatewayEvent::IdentityUpdate {
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
            K::WorkspaceUpdated { workspace_id } => {
                GatewayEvent::WorkspaceUpdate { workspace_id: workspace_id.to_string() }
            }
            K::NotificationCreated(n) => GatewayEvent::NotificationCreate { notification: n.into() },
            K::NotificationsRead { ids } => {
                GatewayEvent::NotificationsRead { ids: ids.iter().map(ToString::to_string).collect() }
            }
            K::CallRing { workspace_id, channel_id, from } => GatewayEvent::CallRing {
                workspace_id: workspace_id.to_string(),
                channel_id: channel_id.to_string(),
                from: from.into(),
            },
            K::CallStarted { workspace_id, channel_id, by } => GatewayEvent::CallStart {
                workspace_id: workspace_id.to_string(),
                channel_id: channel_id.to_string(),
                user: by.into(),
            },
            K::CommandAnswer { workspace_id, channel_id, thread_id, command, html } => {
                GatewayEvent::CommandAnswer {
                    workspace_id: workspace_id.to_string(),
                    channel_id: channel_id.to_string(),
                    thread_id: thread_id.map(|t| t.to_string()),
                    command: command.clone(),
                    html: html.clone(),
                }
            }
            K::CallDeclined { workspace_id, channel_id, user } => GatewayEvent::CallDeclined {
                workspace_id: workspace_id.to_string(),
                channel_id: channel_id.to_string(),
                user: user.into(),
            },
            K::VoiceState { workspace_id, channel_id, participants, recording } => GatewayEvent::VoiceState {
                workspace_id: workspace_id.to_string(),
                channel_id: channel_id.to_string(),
                participants: participants.iter().map(VoiceParticipantDto::from).collect(),
                recording: recording.as_ref().map(UserDto::from),
            },
        }
    }
}

/// A meeting with who is in its call now (`call`) and the viewer's link
/// into its Jitsi room (`video_url`), when the server offers Jitsi.
pub fn meeting_dto(
    m: &domain::model::Meeting,
    call: &[domain::voice::Participant],
    video_url: Option<String>,
) -> crate::wire::MeetingDto {
    let status = if m.ended_at.is_some() {
        "ended"
    } else if !call.is_empty() {
        "live"
    } else {
        "scheduled"
    };
    let (id, ws, channel) = (m.id.to_string(), m.workspace_id.to_string(), m.channel_id.to_string());
    crate::wire::MeetingDto {
        url: crate::paths::channel(&ws, &channel),
        ics_url: crate::paths::meeting_ics(&id),
        id,
        workspace_id: ws,
        channel_id: channel,
        title: m.title.clone(),
        description: m.description.clone(),
        organizer: (&m.organizer).into(),
        participants: m.participants.iter().map(UserDto::from).collect(),
        scheduled_start: domain::calendar::rfc3339(m.starts_at),
        scheduled_end: domain::calendar::rfc3339(m.ends_at),
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        enable_recording: m.enable_recording,
        instant: m.instant,
        status: status.into(),
        call: call.iter().map(VoiceParticipantDto::from).collect(),
        video_url,
    }
}

/// Where a notification leads in the app: its thread, message or channel.
pub fn notification_path(n: &domain::model::Notification) -> Option<String> {
    match (n.workspace_id, n.channel_id) {
        (Some(ws), Some(ch)) => {
            let (ws, ch) = (ws.to_string(), ch.to_string());
            Some(match (n.thread_id, n.message_id) {
                (Some(t), _) => crate::paths::thread(&ws, &ch, &t.to_string()),
                (None, Some(m)) => format!("{}?at={m}", crate::paths::channel(&ws, &ch)),
                (None, None) => crate::paths::channel(&ws, &ch),
            })
        }
        (Some(ws), None) => Some(crate::paths::workspace(&ws.to_string())),
        _ => None,
    }
}

impl From<&domain::model::Notification> for crate::wire::NotificationDto {
    fn from(n: &domain::model::Notification) -> Self {
        let url = notification_path(n);
        crate::wire::NotificationDto {
            id: n.id.to_string(),
            kind: n.kind.clone(),
            title: n.title.clone(),
            content: n.content.clone(),
            priority: n.priority.clone(),
            workspace_id: n.workspace_id.map(|w| w.to_string()),
            url,
            is_read: n.read_at.is_some(),
            created_at: n.created_at,
        }
    }
}

/// The days of the week as the wire names them, Monday first (bit 0).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl From<&domain::hub::NotificationSettings> for crate::wire::NotificationPreferencesDto {
    fn from(s: &domain::hub::NotificationSettings) -> Self {
        use domain::notify::{DeliveryChannel, KINDS, quiet_hours::hhmm};
        let p = &s.preferences;
        let set = &p.settings;
        crate::wire::NotificationPreferencesDto {
            time_zone: set.time_zone.clone(),
            quiet_hours_enabled: set.quiet_enabled,
            quiet_start: hhmm(set.quiet_start),
            quiet_end: hhmm(set.quiet_end),
            quiet_days: WEEKDAYS
                .iter()
                .enumerate()
                .filter(|(i, _)| set.quiet_days & (1 << i) != 0)
                .map(|(_, d)| d.to_string())
                .collect(),
            urgent_breaks_through: set.urgent_breaks_through,
            phone: set.phone.clone(),
            switches: KINDS
                .iter()
                .flat_map(|(kind, _)| {
                    DeliveryChannel::ALL.into_iter().map(move |c| crate::wire::NotificationSwitchDto {
                        kind: kind.to_string(),
                        channel: c.as_str().to_string(),
                        enabled: p.wants(kind, c),
                    })
                })
                .collect(),
            types: KINDS
                .iter()
                .map(|(k, label)| crate::wire::NotificationTypeDto {
                    kind: k.to_string(),
                    label: label.to_string(),
                })
                .collect(),
            push_public_key: s.push_key.clone(),
            sms_available: s.sms_available,
            push_subscriptions: s.push_subscriptions.iter().map(Into::into).collect(),
            paused_until: set.dnd_until.filter(|until| *until > domain::now_ms()),
            channel_levels: s
                .channel_levels
                .iter()
                .map(|(ch, level)| crate::wire::ChannelLevelDto {
                    channel_id: ch.id.to_string(),
                    workspace_id: ch.workspace_id.to_string(),
                    channel_name: ch.name.clone(),
                    level: level.as_str().to_string(),
                })
                .collect(),
        }
    }
}

impl From<&domain::store::PushSubscriptionRow> for crate::wire::PushSubscriptionDto {
    fn from(p: &domain::store::PushSubscriptionRow) -> Self {
        crate::wire::PushSubscriptionDto {
            id: p.id.to_string(),
            endpoint: p.endpoint.clone(),
            user_agent: p.user_agent.clone(),
            created_at: p.created_at,
        }
    }
}

/// Settings as the hub takes them, from the wire's days and switches.
pub fn settings_input(
    time_zone: String,
    quiet_enabled: bool,
    quiet_start: String,
    quiet_end: String,
    quiet_days: &[String],
    urgent_breaks_through: bool,
    phone: String,
    switches_on: Vec<String>,
) -> Result<domain::hub::SettingsInput, ApiError> {
    if let Some(day) = quiet_days.iter().find(|d| !WEEKDAYS.contains(&d.as_str())) {
        return Err(ApiError::invalid("quiet_days", format!("“{day}” is not a day: use mon, tue, … sun.")));
    }
    let days = WEEKDAYS
        .iter()
        .enumerate()
        .filter(|(_, d)| quiet_days.iter().any(|q| q == *d))
        .fold(0u8, |acc, (i, _)| acc | (1 << i));
    Ok(domain::hub::SettingsInput {
        time_zone,
        quiet_enabled,
        quiet_start,
        quiet_end,
        quiet_days: days,
        urgent_breaks_through,
        phone,
        switches_on,
    })
}

impl From<&domain::hub::TemplateView> for crate::wire::TemplateDto {
    fn from(v: &domain::hub::TemplateView) -> Self {
        let t = &v.template;
        crate::wire::TemplateDto {
            id: v.stored.as_ref().map(|s| s.id.to_string()),
            name: t.name.clone(),
            channel: t.channel.as_str().to_string(),
            subject: t.subject.clone(),
            body: t.body.clone(),
            body_html: t.body_html.clone(),
            is_default: v.stored.is_none(),
            updated_at: v.stored.as_ref().map(|s| s.updated_at),
        }
    }
}

impl From<&domain::store::StoredTemplate> for crate::wire::TemplateDto {
    fn from(s: &domain::store::StoredTemplate) -> Self {
        (&domain::hub::TemplateView { template: s.template.clone(), stored: Some(s.clone()) }).into()
    }
}

impl From<model::RetentionPolicy> for RetentionPolicyDto {
    fn from(p: model::RetentionPolicy) -> Self {
        RetentionPolicyDto { messages_days: p.messages_days, files_days: p.files_days }
    }
}

impl From<RetentionPolicyDto> for model::RetentionPolicy {
    fn from(p: RetentionPolicyDto) -> Self {
        model::RetentionPolicy { messages_days: p.messages_days, files_days: p.files_days }
    }
}

impl From<domain::hub::RetentionView> for RetentionDto {
    fn from(v: domain::hub::RetentionView) -> Self {
        RetentionDto { own: v.own.into(), effective: v.effective.into(), may_change: v.may_change }
    }
}

impl From<domain::hub::DeploymentRetention> for DeploymentRetentionDto {
    fn from(r: domain::hub::DeploymentRetention) -> Self {
        DeploymentRetentionDto {
            set: r.set.into(),
            configured: r.configured.into(),
            effective: r.effective().into(),
        }
    }
}

impl From<&model::LegalHold> for LegalHoldDto {
    fn from(h: &model::LegalHold) -> Self {
        LegalHoldDto {
            id: h.id.to_string(),
            name: h.name.clone(),
            reason: h.reason.clone(),
            starts_at: h.starts_at,
            created_by: (&h.created_by).into(),
            created_at: h.created_at,
            released_at: h.released_at,
            released_by: h.released_by.as_ref().map(Into::into),
            users: h.users.iter().map(Into::into).collect(),
            channels: h
                .channels
                .iter()
                .map(|c| HeldChannelDto {
                    id: c.id.to_string(),
                    workspace_id: c.workspace_id.to_string(),
                    name: c.name.clone(),
                })
                .collect(),
        }
    }
}

impl From<&model::ComplianceExport> for ComplianceExportDto {
    fn from(e: &model::ComplianceExport) -> Self {
        let ids = |ids: &[domain::Id]| ids.iter().map(|id| id.to_string()).collect();
        ComplianceExportDto {
            id: e.id.to_string(),
            format: e.format.clone(),
            from: e.from.clone(),
            to: e.to.clone(),
            workspace_ids: ids(&e.workspace_ids),
            channel_ids: ids(&e.channel_ids),
            user_ids: ids(&e.user_ids),
            daily: e.daily,
            state: e.state.clone(),
            error: e.error.clone(),
            messages: e.messages,
            files: e.files,
            bytes: e.bytes,
            file_name: e.file_name.clone(),
            requested_by: (&e.requested_by).into(),
            created_at: e.created_at,
            finished_at: e.finished_at,
        }
    }
}

impl From<&model::DeploymentAuditEntry> for DeploymentAuditEntryDto {
    fn from(e: &model::DeploymentAuditEntry) -> Self {
        DeploymentAuditEntryDto {
            id: e.id.to_string(),
            actor: (&e.actor).into(),
            action: e.action.clone(),
            target_id: e.target_id.map(|t| t.to_string()),
            summary: e.summary.clone(),
            created_at: e.created_at,
        }
    }
}

/// A figure for the wire, with where its CSV is (for `scope`, over `days`).
pub fn figure_dto(f: &model::Figure, scope: domain::hub::AnalyticsScope, days: i64) -> FigureDto {
    let csv = match scope {
        domain::hub::AnalyticsScope::Workspace(ws) => {
            format!("/api/communication/workspaces/{ws}/analytics/{}/csv?days={days}", f.name)
        }
        domain::hub::AnalyticsScope::Deployment => format!("/api/admin/analytics/{}/csv?days={days}", f.name),
    };
    FigureDto {
        name: f.name.clone(),
        title: f.title.clone(),
        from: f.from.clone(),
        to: f.to.clone(),
        days: f.days.clone(),
        series: f
            .series
            .iter()
            .map(|s| FigureSeriesDto { name: s.name.clone(), values: s.values.clone() })
            .collect(),
        ranking: f.ranking.iter().map(|r| RankedItemDto { label: r.label.clone(), value: r.value }).collect(),
        csv,
    }
}

impl From<&model::Device> for DeviceDto {
    fn from(d: &model::Device) -> Self {
        DeviceDto {
            id: d.id.to_string(),
            user_id: d.user_id.to_string(),
            name: d.name.clone(),
            signature_key: d.signature_key.clone(),
            identity_signature: d.identity_signature.clone(),
            created_at: d.created_at,
        }
    }
}

impl From<&model::ClaimedKeyPackage> for ClaimedKeyPackageDto {
    fn from(c: &model::ClaimedKeyPackage) -> Self {
        ClaimedKeyPackageDto {
            device: (&c.device).into(),
            key_package: c.key_package.clone(),
            identity_key: c.identity_key.clone(),
        }
    }
}

impl From<&model::IdentityKey> for IdentityKeyDto {
    fn from(k: &model::IdentityKey) -> Self {
        IdentityKeyDto {
            user_id: k.user_id.to_string(),
            public_key: k.public_key.clone(),
            created_at: k.created_at,
        }
    }
}

impl From<&model::GroupCommit> for GroupCommitDto {
    fn from(c: &model::GroupCommit) -> Self {
        GroupCommitDto {
            channel_id: c.channel_id.to_string(),
            epoch: c.epoch,
            device_id: c.device_id.to_string(),
            commit: c.data.clone(),
            created_at: c.created_at,
        }
    }
}

impl From<&model::SharedHistory> for SharedHistoryDto {
    fn from(h: &model::SharedHistory) -> Self {
        SharedHistoryDto {
            id: h.id.to_string(),
            device_id: h.device_id.to_string(),
            channel_id: h.channel_id.to_string(),
            from_device_id: h.from_device_id.to_string(),
            from_user_id: h.from_user_id.to_string(),
            from_name: h.from_name.clone(),
            epoch: h.epoch,
            history: h.data.clone(),
            created_at: h.created_at,
        }
    }
}

impl From<&model::Welcome> for WelcomeDto {
    fn from(w: &model::Welcome) -> Self {
        WelcomeDto {
            id: w.id.to_string(),
            device_id: w.device_id.to_string(),
            channel_id: w.channel_id.to_string(),
            epoch: w.epoch,
            welcome: w.data.clone(),
            created_at: w.created_at,
        }
    }
}

impl From<&model::KeyBackup> for KeyBackupDto {
    fn from(b: &model::KeyBackup) -> Self {
        KeyBackupDto { version: b.version, backup: b.data.clone(), updated_at: b.updated_at }
    }
}

impl From<&domain::hub::EncryptedArchive> for EncryptedArchiveDto {
    fn from(a: &domain::hub::EncryptedArchive) -> Self {
        EncryptedArchiveDto { archivist: a.archivist.as_ref().map(UserDto::from), consented: a.consented }
    }
}
