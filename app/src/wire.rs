//! Wire types: what crosses the network between browser, API clients and
//! server. They are separate from the domain's types (conversions are the
//! explicit `From` impls in [`conversions`], server side only), because what
//! is serialised here is a promise to clients.
//!
//! Ids are decimal strings: JavaScript numbers cannot hold 64-bit integers.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserDto {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// A bot account (an incoming webhook's): shown with a BOT tag.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_bot: bool,
}

/// The signed-in user, as they see themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeDto {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
}

/// Answer to signing up or in through the JSON API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuthDto {
    pub user: MeDto,
    /// Use as `Authorization: Bearer <token>` on JSON routes and the gateway.
    pub token: String,
}

/// An API token in its owner's list (the token itself is shown only once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenDto {
    /// Names the token for revoking it; useless for signing in.
    pub id: String,
    /// "sign-in" for the token a sign-in answered with.
    pub name: String,
    pub created_at: i64,
    /// Absent: it never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// A new API token: `token` is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedTokenDto {
    pub info: ApiTokenDto,
    /// Use as `Authorization: Bearer <token>`.
    pub token: String,
}

/// A bot account of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BotDto {
    /// Its account: add it to channels and give it roles by this.
    pub user: UserDto,
    /// Who made it; they manage its tokens.
    pub owner: UserDto,
    /// Its avatar.
    pub emoji: String,
    pub description: String,
    pub created_at: i64,
    /// Its API tokens, for who may manage it (absent for others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<ApiTokenDto>>,
}

/// An incoming webhook in its managers' list (its address is shown only
/// when it is made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookDto {
    pub id: String,
    pub workspace_id: String,
    pub channel_id: String,
    /// Where it posts: `#name`, or who is in a direct conversation.
    pub channel_label: String,
    /// The bot account its posts are by; its display name is the webhook's name.
    pub bot: UserDto,
    pub created_by: UserDto,
    pub created_at: i64,
    /// Calls must be signed with its signing secret.
    pub signed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
}

/// A new incoming webhook: `url` and `signing_secret` are shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedWebhookDto {
    pub webhook: WebhookDto,
    /// POST JSON here (`{"text": "…"}`, Slack's format, or `{"content": "…"}`).
    pub url: String,
    /// For signing calls, when the webhook requires it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
}

/// An outgoing webhook in its managers' list (its token and signing secret
/// are shown only when it is made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OutgoingWebhookDto {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    /// Where it calls.
    pub url: String,
    /// `json`, or `form` (Slack's classic form fields).
    pub format: String,
    /// Of `message_posted`, `member_joined`, `reaction_added`, `meeting_started`.
    pub events: Vec<String>,
    /// The channels it hears; none: every public channel.
    pub channels: Vec<ChannelRefDto>,
    /// Words a message must start with to be sent; none: every message.
    pub trigger_words: Vec<String>,
    /// The bot account its answers are posted as.
    pub bot: UserDto,
    pub created_by: UserDto,
    pub created_at: i64,
}

/// A channel named by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelRefDto {
    pub id: String,
    pub name: String,
}

/// A new outgoing webhook: `token` and `signing_secret` are shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedOutgoingWebhookDto {
    pub webhook: OutgoingWebhookDto,
    /// Sent as each payload's `token` (for scripts written for Slack's).
    pub token: String,
    /// Each call is signed with it: `X-Parley-Signature` (and
    /// `X-Slack-Signature`) is `v0=` and the hex HMAC-SHA256 of
    /// `v0:<X-Parley-Request-Timestamp>:<body>`.
    pub signing_secret: String,
}

/// A workspace's own slash command in its managers' list (its token and
/// signing secret are shown only when it is made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlashCommandDto {
    pub id: String,
    pub workspace_id: String,
    /// Typed after the slash: `deploy` for `/deploy`.
    pub name: String,
    /// Where it calls.
    pub url: String,
    pub description: String,
    /// What follows the name, as suggestions show it.
    pub usage_hint: String,
    /// The bot account its answers in the channel are posted as.
    pub bot: UserDto,
    pub created_by: UserDto,
    pub created_at: i64,
}

/// One use of a workspace's own slash command, in its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommandUseDto {
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// Who typed it.
    pub user: UserDto,
    /// What followed the command's name.
    pub text: String,
    /// The call's HTTP status; absent when it did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    /// The start of the answer, or the error.
    pub excerpt: String,
    /// Later answers taken through its response URL.
    pub answers: i64,
}

/// A new slash command: `token` and `signing_secret` are shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedSlashCommandDto {
    pub command: SlashCommandDto,
    /// Sent as each call's `token` (for scripts written for Slack's).
    pub token: String,
    /// Each call is signed with it, as outgoing webhooks' calls are.
    pub signing_secret: String,
}

/// A command that can be typed in a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommandListingDto {
    /// Without the slash.
    pub name: String,
    /// What follows the name: `@person text`.
    pub usage: String,
    pub description: String,
    /// One of the workspace's own, not a built-in.
    pub custom: bool,
}

/// What running a command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommandReplyDto {
    /// For the person who typed it alone, as Markdown.
    pub ephemeral: Option<String>,
    /// The same, as sanitised HTML.
    pub ephemeral_html: Option<String>,
    /// What it posted (in this channel, or another: `/msg`).
    pub message: Option<MessageDto>,
    /// A page of the app to go to (`/search`, `/leave`).
    pub go_to: Option<String>,
    /// The channel whose call to join (`/call`).
    pub join_call: Option<String>,
}

/// What the message box's text became: a message, or a command's reply,
/// as `{"message": …}` or `{"command": …}` (tagged around the value, which
/// the browser reads without buffering it first; see [`GatewayEvent::from_frame`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentDto {
    Message(MessageDto),
    Command(CommandReplyDto),
}

/// One event sent to an outgoing webhook, with each attempt at the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookDeliveryDto {
    pub id: String,
    pub webhook_id: String,
    /// `message_posted`, `member_joined`, `reaction_added` or `meeting_started`.
    pub event: String,
    pub created_at: i64,
    /// `pending`, `delivered` or `failed` (given up on).
    pub state: String,
    /// When it is tried next, while pending.
    pub due_at: i64,
    /// The body sent.
    pub payload: String,
    /// Oldest first.
    pub attempts: Vec<WebhookAttemptDto>,
}

/// One attempt at a call to an outgoing webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookAttemptDto {
    pub at: i64,
    /// The answer's HTTP status; absent when there was no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// The webhook took the call (a 2xx answer).
    pub ok: bool,
    /// The start of the answer, or what went wrong.
    pub excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceDto {
    pub id: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub is_private: bool,
    pub owner_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelDto {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub topic: String,
    pub is_private: bool,
    #[serde(default)]
    pub kind: ChannelKind,
    /// Whether the user asking is a member (`None` in events to many users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_member: Option<bool>,
    /// Top-level messages by others the user asking has not read.
    #[serde(default)]
    pub unread: i64,
    /// How many of those mention them (in a direct conversation: all of them).
    #[serde(default)]
    pub mentions: i64,
    /// Everyone in a direct conversation (empty for other channels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<UserDto>,
    /// Guests may be members (an external channel).
    #[serde(default)]
    pub is_external: bool,
    /// Archived: read-only, shown only under "Archived channels"; still searchable.
    #[serde(default)]
    pub archived: bool,
    /// Sensitive: its messages are kept out of search, and notifications
    /// do not quote them.
    #[serde(default)]
    pub sensitive: bool,
    /// End-to-end encrypted: its messages are ciphertext sent from devices
    /// (`sent_from`), which only its members' devices can read.
    #[serde(default)]
    pub end_to_end: bool,
    /// Encrypted, and sharing its latest messages with the devices it adds
    /// (from a member's device; the server cannot read them).
    #[serde(default)]
    pub shares_history: bool,
    /// New members of the workspace join it.
    #[serde(default)]
    pub auto_join: bool,
    /// For voice channels: at most this many people at once (0: no limit).
    #[serde(default)]
    pub user_limit: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    #[serde(default)]
    pub position: i64,
    /// What the user asking may do here (permission names; empty in events to many users).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// Why the user asking cannot post a top-level message here, if they cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_block: Option<String>,
    /// Who is in a voice channel's call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub call: Vec<VoiceParticipantDto>,
    /// How much of it notifies the user asking: `all`, `mentions`, `nothing`
    /// or `muted` (empty in events to many users).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notify_level: String,
}

impl ChannelDto {
    /// Whether the user asking holds `permission` here (see [`ChannelDto::permissions`]).
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// What to call the channel: `#name`, or the other people's names in a
    /// direct conversation (`me_id`'s own name only in a note to self).
    pub fn label(&self, me_id: &str) -> String {
        match self.kind {
            ChannelKind::Text | ChannelKind::Announcement => format!("#{}", self.name),
            ChannelKind::Voice => format!("🔊 {}", self.name),
            ChannelKind::Direct => {
                let others: Vec<&str> =
                    self.members.iter().filter(|u| u.id != me_id).map(|u| u.display_name.as_str()).collect();
                if others.is_empty() {
                    self.members.first().map(|u| u.display_name.clone()).unwrap_or_else(|| "Notes".into())
                } else {
                    others.join(", ")
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A named channel, public or private.
    #[default]
    Text,
    /// A direct conversation between two people or a group of up to eight.
    Direct,
    /// Only permitted roles post; everyone may react and reply in threads.
    Announcement,
    /// A voice channel (calls), with a user limit.
    Voice,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Text => "text",
            ChannelKind::Direct => "direct",
            ChannelKind::Announcement => "announcement",
            ChannelKind::Voice => "voice",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MessageDto {
    pub id: String,
    pub channel_id: String,
    pub author: UserDto,
    /// The colour of the author's highest coloured role (`#rrggbb`), or empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author_colour: String,
    /// What the author wrote (Markdown).
    pub body: String,
    /// `body` rendered to sanitised HTML by the server: safe to insert as is.
    pub html: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    #[serde(default)]
    pub reactions: Vec<ReactionDto>,
    /// For a reply: the first message of its thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// For a message with replies: its thread in brief.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<ThreadSummaryDto>,
    /// A deleted message kept as a placeholder because its thread has replies.
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub attachments: Vec<AttachmentDto>,
    /// Usernames mentioned, and `channel`/`here`.
    #[serde(default)]
    pub mentions: Vec<String>,
    /// Shown instead of the author's display name (a webhook call's
    /// `username`), or empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub shown_name: String,
    /// Shown instead of the author's avatar (an emoji), or empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub shown_icon: String,
    /// What the pages it links to say about themselves (fetched by the
    /// server after posting: a `LINK_PREVIEWS` event brings them).
    #[serde(default)]
    pub link_previews: Vec<LinkPreviewDto>,
    /// In an end-to-end encrypted conversation, the device that encrypted
    /// it: `body` is then the ciphertext (an MLS message, base64) and
    /// `html` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_from: Option<String>,
    /// An encrypted message's content sealed by its sender's browser for
    /// its author alone (base64): what their devices restored from the key
    /// backup read, as no one can decrypt their own MLS message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_copy: Option<String>,
}

/// What the server takes as a message's file: the types it allows (by
/// extension, lower case) and the most bytes one file may hold. A browser
/// applies it to the files of an encrypted message, whose names and types
/// the server does not learn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UploadPolicyDto {
    pub allowed_types: Vec<String>,
    pub max_bytes: u64,
}

impl UploadPolicyDto {
    /// Why a file named `name` may not be sent, said as the server says it
    /// of a plain upload; `None` where its type is allowed.
    pub fn refuses_type(&self, name: &str) -> Option<String> {
        let extension = name.rsplit_once('.').filter(|(stem, ext)| !stem.is_empty() && !ext.is_empty());
        let allowed =
            extension.is_some_and(|(_, ext)| self.allowed_types.iter().any(|a| a.eq_ignore_ascii_case(ext)));
        (!allowed).then(|| {
            format!("“{name}” cannot be uploaded: allowed file types are {}.", self.allowed_types.join(", "))
        })
    }
}

/// A linked page's title, description, site and image, shown under the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkPreviewDto {
    /// The link's place among the message's links (removing it names it).
    pub position: i64,
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub site_name: String,
    /// The page's image as Parley keeps it (the reader never loads it from the linked site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

/// Whether links posted in a workspace get previews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkPreviewSettingDto {
    pub enabled: bool,
}

impl MessageDto {
    /// Whether the message mentions `username` by name or everyone.
    pub fn mentions_user(&self, username: &str) -> bool {
        self.mentions.iter().any(|m| m == username || m == "channel" || m == "here" || m == "everyone")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ThreadSummaryDto {
    pub reply_count: i64,
    /// Milliseconds since the Unix epoch.
    pub last_reply_at: i64,
    /// Who replied, first repliers first (at most five).
    pub participants: Vec<UserDto>,
}

/// A meeting (seed 000): scheduled, or an instant call. Its call happens in
/// the private voice channel `channel_id`; joining it means joining that call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeetingDto {
    pub id: String,
    pub workspace_id: String,
    pub channel_id: String,
    pub title: String,
    pub description: String,
    pub organizer: UserDto,
    /// Invited people (the organizer not among them).
    pub participants: Vec<UserDto>,
    /// RFC 3339.
    pub scheduled_start: String,
    pub scheduled_end: String,
    /// The same, in milliseconds since the epoch.
    pub starts_at: i64,
    pub ends_at: i64,
    pub enable_recording: bool,
    pub instant: bool,
    /// `scheduled`, `live` (its call has people in it) or `ended`.
    pub status: String,
    /// Its page: the call's channel.
    pub url: String,
    /// Its iCalendar file.
    pub ics_url: String,
    /// Who is in its call now.
    pub call: Vec<VoiceParticipantDto>,
    /// The caller's link into its room on the server's Jitsi, when the
    /// server offers Jitsi as a video provider (with a signed token when
    /// that Jitsi checks them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
}

/// An in-app notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationDto {
    pub id: String,
    /// `mention`, `direct_message`, `thread_reply`, `reaction` or `meeting_invitation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub content: String,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    /// Where it leads (a channel, a message, a thread), if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub is_read: bool,
    pub created_at: i64,
}

/// How many notifications are unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UnreadCountDto {
    pub unread_count: i64,
}

/// A person's notification preferences: where each type goes, quiet
/// hours, the phone for SMS; and, read-only, what the server offers, the
/// browsers with push on and the channels given a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationPreferencesDto {
    /// IANA name, like `Europe/Berlin`.
    pub time_zone: String,
    pub quiet_hours_enabled: bool,
    /// `HH:MM` in the time zone; an end before the start runs past midnight.
    pub quiet_start: String,
    pub quiet_end: String,
    /// The days a quiet window starts on: `mon` … `sun`.
    pub quiet_days: Vec<String>,
    /// High and urgent notifications still arrive in quiet hours.
    pub urgent_breaks_through: bool,
    /// E.164 (`+442079460958`), or empty.
    #[serde(default)]
    pub phone: String,
    /// Every notification type × delivery channel.
    pub switches: Vec<NotificationSwitchDto>,
    /// The notification types with what they mean (read-only).
    #[serde(default)]
    pub types: Vec<NotificationTypeDto>,
    /// The server's VAPID key when web push is on (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_public_key: Option<String>,
    /// Whether this server can send SMS (read-only).
    #[serde(default)]
    pub sms_available: bool,
    /// The browsers with push on (read-only).
    #[serde(default)]
    pub push_subscriptions: Vec<PushSubscriptionDto>,
    /// Channels given a level other than their default (read-only here).
    #[serde(default)]
    pub channel_levels: Vec<ChannelLevelDto>,
    /// Notifications are paused (`/dnd`) until then, ms since the epoch
    /// (read-only here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<i64>,
}

/// Whether one notification type goes to one delivery channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationSwitchDto {
    #[serde(rename = "type")]
    #[cfg_attr(feature = "ssr", schema(value_type = crate::schema::NotificationType))]
    pub kind: String,
    /// `in_app`, `email`, `push` or `sms`.
    #[cfg_attr(feature = "ssr", schema(value_type = crate::schema::DeliveryChannel))]
    pub channel: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationTypeDto {
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
}

/// A browser with push on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PushSubscriptionDto {
    pub id: String,
    pub endpoint: String,
    pub user_agent: String,
    pub created_at: i64,
}

/// A web push's payload, as the server sends it and the service worker
/// (`public/sw.js`) shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushDto {
    pub title: String,
    pub body: String,
    /// Where a click leads.
    pub url: String,
    /// One notification per tag: a newer push replaces the one shown.
    pub tag: String,
    /// How many notifications this push stands for.
    pub count: usize,
    /// The (last) notification's id.
    pub id: String,
    /// For a message of an end-to-end encrypted conversation, which the
    /// server cannot quote: what the service worker needs to decrypt it
    /// (ids only; `body` says to open the conversation, for a browser that
    /// cannot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<PushedMessageDto>,
}

/// An encrypted message a push is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedMessageDto {
    /// The person the push is for (whose keys decrypt it).
    pub user_id: String,
    pub channel_id: String,
    pub message_id: String,
}

/// A browser's push subscription as `PushSubscription.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PushSubscriptionInput {
    /// The push service's URL for this browser.
    #[cfg_attr(feature = "ssr", schema(pattern = "^https://"))]
    pub endpoint: String,
    pub keys: PushKeysDto,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PushKeysDto {
    pub p256dh: String,
    pub auth: String,
}

/// How much of one channel notifies the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelLevelDto {
    pub channel_id: String,
    pub workspace_id: String,
    pub channel_name: String,
    /// `all`, `mentions`, `nothing` or `muted`.
    pub level: String,
}

/// A notification template of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateDto {
    /// Absent for a built-in template the workspace has not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A notification type, a template id, or `digest`.
    pub name: String,
    /// `in_app`, `email`, `push` or `sms`.
    pub channel: String,
    pub subject: String,
    pub body: String,
    /// Email only; empty: the text body in paragraphs.
    #[serde(default)]
    pub body_html: String,
    /// The built-in wording, not stored (read-only).
    #[serde(default)]
    pub is_default: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
}

/// A person's private calendar feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalendarFeedDto {
    /// Subscribe to it in a calendar app; anyone with it sees your meetings.
    pub url: String,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttachmentDto {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Where to download it (the caller's access is checked on each request).
    pub url: String,
    /// Shown inline as a picture.
    pub is_image: bool,
    /// Whether the virus scanner looked at it: empty (no scanner on this
    /// server), `clean`, or not scanned: `too_large`, `unavailable`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scan: String,
}

/// A thread with its replies (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ThreadDto {
    pub parent: MessageDto,
    pub replies: Vec<MessageDto>,
    /// Whether the caller follows it.
    pub following: bool,
}

/// A thread the caller follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FollowedThreadDto {
    pub parent: MessageDto,
    pub channel_name: String,
    /// Replies by others the caller has not seen.
    pub unread: i64,
}

/// How far one member has read a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReadMarkDto {
    pub user_id: String,
    pub last_read_id: String,
}

/// A message found by search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchHitDto {
    pub message: MessageDto,
    pub workspace_id: String,
    pub channel_name: String,
    /// An HTML-escaped excerpt with `<mark>` around what matched.
    pub highlight: String,
}

/// One emoji on a message and who reacted with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReactionDto {
    pub emoji: String,
    pub count: usize,
    pub users: Vec<UserDto>,
}

/// A page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MessagePageDto {
    pub messages: Vec<MessageDto>,
    /// Pass as `before` for the next older page; absent at the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemberDto {
    pub user: UserDto,
    pub joined_at: i64,
    pub is_owner: bool,
    #[serde(default)]
    pub is_guest: bool,
    /// Ids of the roles given to them besides Member or Guest, highest first.
    #[serde(default)]
    pub roles: Vec<String>,
    /// While in the future (ms since the epoch) they cannot post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_until: Option<i64>,
    #[serde(default)]
    pub status: PresenceStatus,
}

/// A role of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RoleDto {
    pub id: String,
    pub name: String,
    /// `#rrggbb`, or empty for none.
    pub colour: String,
    /// The higher wins.
    pub position: i64,
    /// Permission names (`send_messages`, `manage_roles`...).
    pub permissions: Vec<String>,
    /// `owner`, `admin`, `moderator`, `member` or `guest` for the built-in roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
}

/// One permission, as the settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PermissionDto {
    pub name: String,
    pub description: String,
    /// Whether it can be set per channel.
    pub per_channel: bool,
}

/// Allow and deny for one role or member in one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OverrideDto {
    /// `role` or `member`.
    #[cfg_attr(feature = "ssr", schema(pattern = "^(role|member)$"))]
    pub target_kind: String,
    #[cfg_attr(feature = "ssr", schema(value_type = crate::schema::Id))]
    pub target_id: String,
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<crate::schema::ChannelPermission>))]
    pub allow: Vec<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<crate::schema::ChannelPermission>))]
    pub deny: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CategoryDto {
    pub id: String,
    pub name: String,
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BanDto {
    pub user: UserDto,
    pub reason: String,
    pub created_at: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntryDto {
    pub id: String,
    pub actor: UserDto,
    /// `member.ban`, `role.update`, `channel.permissions`...
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user: Option<UserDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    pub summary: String,
    pub created_at: i64,
}

/// Online (connected and active), away (connected, idle) or offline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Away,
    #[default]
    Offline,
}

impl PresenceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PresenceStatus::Online => "online",
            PresenceStatus::Away => "away",
            PresenceStatus::Offline => "offline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InviteDto {
    pub code: String,
    /// The link to share: `<public url>/invite/<code>`.
    pub url: String,
    pub workspace_id: String,
    /// The first channel it admits to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// Every channel it admits to (a guest invite: the only ones the guest sees).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_ids: Vec<String>,
    #[serde(default)]
    pub is_guest: bool,
    /// Whom a guest invite was emailed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Who made it.
    #[serde(default)]
    pub created_by: String,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub created_at: i64,
    /// When it stops working (milliseconds since the epoch); absent: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// How many people may use it; absent: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<i64>,
    /// How many have.
    #[serde(default)]
    pub uses: i64,
}

/// What an invite link's page shows before accepting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitePreviewDto {
    pub code: String,
    pub workspace: WorkspaceDto,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelDto>,
}

/// The class of an [`ApiError`]; also decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    /// The route does not take this HTTP method.
    MethodNotAllowed,
    Conflict,
    /// An upload exceeds the size limit.
    TooLarge,
    /// An upload's file type is not allowed.
    UnsupportedType,
    RateLimited,
    /// The request never got an answer (network down, server restarting).
    Unreachable,
    /// The server is up but cannot reach its database; nothing was changed
    /// and the request can be repeated.
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Invalid => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::UnsupportedType => 415,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unreachable | ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// The one error every JSON route and server function returns:
/// `{"code": "...", "message": "...", "field": "..."}`. `message` is for
/// people: it says what went wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The input field the error is about, for forms to mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With `rate_limited`: which limit, and when to try again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitDto>,
}

/// A rate limit that refused a request (also sent as `Retry-After` and the
/// `X-RateLimit-*` headers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RateLimitDto {
    /// What is limited: `post`, `login`, `signup`, `search`, …
    pub bucket: String,
    /// How many the bucket holds when full.
    pub limit: u32,
    /// Milliseconds until one more is let through.
    pub retry_after_ms: u64,
    /// Milliseconds until the bucket is full again.
    pub reset_after_ms: u64,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), field: None, rate_limit: None }
    }

    /// Bad input on `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::Invalid,
            message: message.into(),
            field: Some(field.to_string()),
            rate_limit: None,
        }
    }

    pub fn unauthenticated() -> Self {
        ApiError::new(ErrorCode::Unauthenticated, "You are not signed in. Sign in and try again.")
    }

    /// The message, if it concerns `field`.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl leptos::server_fn::error::FromServerFnError for ApiError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(_) | E::Response(_) => ApiError::new(
                ErrorCode::Unreachable,
                "The server could not be reached. Check your connection and try again.",
            ),
            E::Args(msg) | E::Deserialization(msg) => {
                ApiError::new(ErrorCode::Invalid, format!("The request was malformed: {msg}"))
            }
            other => ApiError::new(ErrorCode::Internal, format!("Something went wrong: {other}")),
        }
    }
}

/// Events the gateway (`/ws`) sends, one JSON object per WebSocket text frame,
/// tagged by `type`. An event from the event log also carries `seq`, its
/// position there (see [`Sequenced`]); docs/gateway.md describes the protocol.
///
/// The browser reads frames with [`GatewayEvent::from_frame`], whose build
/// there reads the type from around the event rather than inside it (see
/// there why). Invariant: the browser never serialises a `GatewayEvent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GatewayEvent {
    /// First frame: the connection is authenticated; the client answers
    /// with `IDENTIFY` (a new session) or `RESUME` (the one it had).
    Hello {
        /// Name this session when resuming it.
        session_id: String,
        /// Send `PING` at least this often.
        heartbeat_interval_ms: u64,
    },
    /// The session starts (after `IDENTIFY`, or a `RESUME` that could not
    /// be honoured): what the client shows must be loaded afresh. Events
    /// after `seq` follow.
    Ready {
        user: MeDto,
        heartbeat_interval_ms: u64,
        session_id: String,
        /// The log position the session starts after.
        seq: i64,
    },
    /// A `RESUME` was honoured: every event the client missed has been sent
    /// (those it may see now), and the live stream follows.
    Resumed {
        session_id: String,
        /// The log position the live stream goes on after: the end of
        /// the log when the missed events were read back.
        seq: i64,
        /// How many events were sent again.
        replayed: u64,
    },
    /// A `RESUME` could not be honoured (its events are older than the log
    /// keeps, or it names another person's session): `READY` follows.
    InvalidSession {
        reason: String,
    },
    MessageCreate {
        message: MessageDto,
    },
    /// A message was edited: replace it.
    MessageUpdate {
        message: MessageDto,
    },
    /// A message's link previews changed (fetched, or one removed): these replace them.
    LinkPreviews {
        channel_id: String,
        message_id: String,
        link_previews: Vec<LinkPreviewDto>,
    },
    /// A retention policy removed these messages (and their thread
    /// replies), or only these attachments: drop them.
    MessagesPurge {
        channel_id: String,
        message_ids: Vec<String>,
        attachment_ids: Vec<String>,
    },
    MessageDelete {
        channel_id: String,
        message_id: String,
        /// Set when a thread reply was deleted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread_id: Option<String>,
    },
    /// `user_id` read `channel_id` up to `last_read_id` (to that user's pages,
    /// and to a direct conversation's members for receipts).
    ReadUpdate {
        channel_id: String,
        user_id: String,
        last_read_id: String,
    },
    /// The user followed or unfollowed a thread.
    ThreadFollowUpdate {
        thread_id: String,
        following: bool,
    },
    ChannelUpdate {
        channel: ChannelDto,
    },
    ChannelDelete {
        workspace_id: String,
        channel_id: String,
    },
    /// A member of a workspace came online, went away or offline.
    PresenceUpdate {
        workspace_id: String,
        user_id: String,
        status: PresenceStatus,
    },
    /// `user` is typing in the channel; show it for about 5 seconds unless
    /// it comes again (clients send TYPING at most every 3 seconds).
    TypingStart {
        channel_id: String,
        user: UserDto,
    },
    ReactionAdd {
        channel_id: String,
        message_id: String,
        emoji: String,
        user: UserDto,
    },
    ReactionRemove {
        channel_id: String,
        message_id: String,
        emoji: String,
        user_id: String,
    },
    /// A public channel appeared in a workspace the user belongs to.
    ChannelCreate {
        channel: ChannelDto,
    },
    /// `user_id` joined `channel` (sent to the channel's members and to that user).
    ChannelMemberAdd {
        channel: ChannelDto,
        user_id: String,
    },
    ChannelMemberRemove {
        channel_id: String,
        user_id: String,
    },
    /// An end-to-end encrypted conversation's keys changed: every member's
    /// device applies the commit, in epoch order.
    GroupCommit {
        commit: GroupCommitDto,
    },
    /// One of the receiving person's devices was added to an encrypted
    /// conversation: that device joins it with the welcome.
    Welcome {
        welcome: WelcomeDto,
    },
    /// A member's device shared an encrypted conversation's history with
    /// one of the receiving person's devices: that device fetches it.
    HistoryShare {
        channel_id: String,
        device_id: String,
    },
    /// A member of an encrypted conversation added or removed a device:
    /// the conversation's devices add or remove it at their next commit.
    DevicesUpdate {
        channel_id: String,
        user_id: String,
    },
    /// A member of an encrypted conversation replaced their identity key
    /// (their devices were removed): show that their keys changed.
    IdentityUpdate {
        channel_id: String,
        user_id: String,
    },
    WorkspaceMemberAdd {
        workspace_id: String,
        member: MemberDto,
    },
    WorkspaceMemberRemove {
        workspace_id: String,
        user_id: String,
    },
    /// Roles, permissions, a timeout or the channel layout changed in this
    /// workspace: reload what depends on what one may see and do.
    WorkspaceUpdate {
        workspace_id: String,
    },
    /// Answer to a client's `PING`.
    /// The answer to `PING`: the log position this connection has gone
    /// through (resume from here if no event came since).
    Pong {
        seq: i64,
    },
    /// Who is in a voice channel's call now.
    VoiceState {
        workspace_id: String,
        channel_id: String,
        participants: Vec<VoiceParticipantDto>,
        /// Who is recording the call, if anyone.
        #[serde(default)]
        recording: Option<UserDto>,
    },
    /// This connection is in the call: answer the `RTC_OFFER` that follows.
    VoiceJoined {
        channel_id: String,
        /// Whether the others hear this person (speak permission).
        can_speak: bool,
        ice_servers: Vec<IceServerDto>,
        /// The call's conversation is end-to-end encrypted: each browser
        /// encrypts its media (SFrame), and never joins without.
        #[serde(default)]
        end_to_end: bool,
    },
    /// This connection is no longer in the call (left, moved to another
    /// page, or the call failed); `reason` says which.
    VoiceLeft {
        channel_id: String,
        reason: String,
    },
    /// A new notification for this person.
    NotificationCreate {
        notification: NotificationDto,
    },
    /// Notifications were marked read on another page (all when `ids` is empty).
    NotificationsRead {
        ids: Vec<String>,
    },
    /// Someone started a call in a direct conversation: ring (accept by
    /// joining it with `VOICE_JOIN`, decline with `CALL_DECLINE`).
    CallRing {
        workspace_id: String,
        channel_id: String,
        from: UserDto,
    },
    /// A call began in a channel (a voice channel's, a meeting's or a
    /// direct conversation's): `user` was the first to join it.
    CallStart {
        workspace_id: String,
        channel_id: String,
        user: UserDto,
    },
    /// A slash command's later answer (through its response URL), for the
    /// person who typed it alone.
    CommandAnswer {
        workspace_id: String,
        channel_id: String,
        thread_id: Option<String>,
        /// With its slash: `/deploy`.
        command: String,
        /// Sanitised HTML.
        html: String,
    },
    /// Someone declined the call in a direct conversation.
    CallDeclined {
        workspace_id: String,
        channel_id: String,
        user: UserDto,
    },
    /// The server's session description for this connection's call; answer with `RTC_ANSWER`.
    RtcOffer {
        sdp: String,
    },
    /// One of the server's ICE candidates.
    RtcCandidate(IceCandidateDto),
    /// A command was refused; `command` names it (and `nonce` the message,
    /// for a refused `MESSAGE_CREATE`).
    CommandError {
        command: String,
        error: ApiError,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
    /// A `MESSAGE_CREATE` was stored (this connection only; everyone in the
    /// channel, this connection too, also gets `MESSAGE_CREATE`). A repeated
    /// nonce is acknowledged with the message first stored under it.
    MessageAck {
        nonce: String,
        message: MessageDto,
    },
}

/// An ICE candidate, as `RTCIceCandidateInit` has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidateDto {
    pub candidate: String,
    #[serde(default)]
    pub sdp_mid: Option<String>,
    #[serde(default)]
    pub sdp_mline_index: Option<u16>,
}

/// One person in a call, as the others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VoiceParticipantDto {
    pub user: UserDto,
    /// Their call's connection: the media they send arrives in streams
    /// named `{session}-av` (microphone and camera) and `{session}-screen`.
    pub session: u64,
    pub self_muted: bool,
    /// Muted for everyone by a moderator.
    pub server_muted: bool,
    /// Whether they may speak here at all.
    pub can_speak: bool,
    pub camera: bool,
}

/// A STUN or TURN server for the browser's peer connection (TURN with
/// short-lived credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServerDto {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The log position a gateway frame carries, read apart from the event
/// itself: `{"type": "MESSAGE_CREATE", "seq": 42, …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequenced {
    #[serde(default)]
    pub seq: Option<i64>,
}

impl GatewayEvent {
    /// A gateway frame's event, and its log position if it carries one;
    /// `None` for a frame that is not an event this version knows.
    ///
    /// In the browser the frame is first [`retag`]ged: serde reads an enum
    /// tagged inside its object by buffering every field before it knows the
    /// variant, and that buffering, built for each of these events, was a
    /// tenth of the WebAssembly every page loads. Tagged around the object,
    /// each event is read straight into its variant.
    pub fn from_frame(text: &str) -> Option<(GatewayEvent, Option<i64>)> {
        #[cfg(target_arch = "wasm32")]
        {
            let (around, seq) = retag(text)?;
            Some((serde_json::from_slice(around.as_bytes()).ok()?, seq))
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let seq = serde_json::from_str::<Sequenced>(text).ok()?.seq;
            Some((serde_json::from_str(text).ok()?, seq))
        }
    }
}

/// A frame as the server writes it, `{"seq":N,"type":"NAME",fields…}`
/// (`seq` only on logged events), as the same event tagged around its
/// fields, `{"NAME":{fields…}}`, and N. The server's frames are compact
/// JSON with these keys first (`server::gateway::dialect`); anything else
/// is `None`.
pub fn retag(text: &str) -> Option<(String, Option<i64>)> {
    let rest = text.strip_prefix('{')?;
    let (seq, rest) = match rest.strip_prefix("\"seq\":") {
        Some(after) => {
            let (number, rest) = after.split_once(',')?;
            (Some(number.parse().ok()?), rest)
        }
        None => (None, rest),
    };
    let (name, fields) = rest.strip_prefix("\"type\":\"")?.split_once('"')?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
        return None;
    }
    // `,fields…}` after the type, or `}` when it is all there is.
    let fields = fields.strip_prefix(',').unwrap_or(fields);
    if !fields.ends_with('}') {
        return None;
    }
    Some((format!("{{\"{name}\":{{{fields}}}"), seq))
}

/// What a client may send on the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GatewayCommand {
    /// Starts a new session (the answer to `HELLO`): `READY` follows.
    Identify,
    /// Continues a session after a lost connection (the answer to `HELLO`):
    /// the events after `seq` that the person may see now, then `RESUMED`;
    /// or `INVALID_SESSION` then `READY` when that is not possible.
    Resume {
        session_id: String,
        /// The last `seq` the client received (from an event or a `PONG`).
        seq: i64,
    },
    /// The heartbeat: answered with `PONG`.
    Ping,
    /// Sends a message, as `POST /api/communication/messages/` does (the
    /// same permissions and rate limits): answered with `MESSAGE_ACK` once it
    /// is stored, or `COMMAND_ERROR` with the nonce. Sending again with the
    /// same nonce (after a lost connection) stores it once.
    MessageCreate {
        channel_id: String,
        /// Markdown, 1 to 4000 characters.
        body: String,
        /// The client's key for this message: 1 to 64 printable ASCII characters.
        nonce: String,
        /// Reply in the thread of this message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread_id: Option<String>,
    },
    /// The user is typing in a channel they may post in.
    Typing { channel_id: String },
    /// The channel this page shows (`null`: none). From then on the
    /// connection is sent `TYPING_START` only from that channel; one that
    /// never says is sent it from every channel it follows.
    View {
        #[serde(default)]
        channel_id: Option<String>,
    },
    /// This page went idle (`false`: no input for a while, or hidden) or
    /// active again (`true`); decides online versus away.
    Activity { active: bool },
    /// Join a voice channel's call on this connection (leaving any other).
    VoiceJoin { channel_id: String },
    /// Leave the call this connection is in.
    VoiceLeave,
    /// One's own microphone and camera switches, for the others to see.
    VoiceSelf { muted: bool, camera: bool },
    /// `sharing: true`: about to share the screen; the server offers one more
    /// incoming video track and the client attaches its screen to it when
    /// answering. `sharing: false`: the share ended; it leaves everyone's view.
    VoiceScreen { sharing: bool },
    /// Start (`true`) or stop recording the call this connection is in
    /// (mute_members; stopping also by whoever started it). When it stops,
    /// the files are posted in the call's channel.
    VoiceRecord { recording: bool },
    /// Decline the call ringing in a direct conversation.
    CallDecline { channel_id: String },
    /// Mute or unmute someone for everyone in a call (mute_members).
    VoiceMute { channel_id: String, user_id: String, muted: bool },
    /// The answer to an `RTC_OFFER`.
    RtcAnswer { sdp: String },
    /// One of the client's ICE candidates.
    RtcCandidate(IceCandidateDto),
}

/// WebSocket close codes the gateway uses.
pub mod close_code {
    /// A command came before `IDENTIFY` or `RESUME`, or a second one of those.
    pub const NOT_IDENTIFIED: u16 = 4003;
    /// Neither `IDENTIFY` nor `RESUME` came in time after `HELLO`.
    pub const IDENTIFY_TIMEOUT: u16 = 4009;
    /// The client fell too far behind; reconnect and reload what is shown.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// The client sent something the gateway does not understand.
    pub const BAD_COMMAND: u16 = 4002;
    /// The client kept sending commands past its rate limits.
    pub const RATE_LIMITED: u16 = 4029;
    /// A message over the size limit (WebSocket's own code).
    pub const TOO_BIG: u16 = 1009;
}

/// Whole numbers as JSON may write them (`3` or `3.0`, both integers to JSON
/// Schema): request fields that take a count or a duration read them with
/// `#[serde(deserialize_with = "whole_number::one")]` (or `::optional`).
pub mod whole_number {
    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Integer(i64),
        Float(f64),
    }

    fn whole<E: Error>(w: Written) -> Result<i64, E> {
        match w {
            Written::Integer(n) => Ok(n),
            Written::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Ok(f as i64),
            Written::Float(f) => Err(E::custom(format!("expected a whole number, got {f}"))),
        }
    }

    pub fn one<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        whole(Written::deserialize(d)?)
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<Written>::deserialize(d)?.map(whole).transpose()
    }
}

/// How long messages and files are kept, in days: 0 keeps them forever,
/// null leaves it to the level above (a channel's workspace, then the
/// deployment, whose null keeps everything).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RetentionPolicyDto {
    #[serde(default, deserialize_with = "whole_number::optional")]
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 36500))]
    pub messages_days: Option<i64>,
    #[serde(default, deserialize_with = "whole_number::optional")]
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 36500))]
    pub files_days: Option<i64>,
}

/// A workspace's or channel's retention: its own, and what applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RetentionDto {
    pub own: RetentionPolicyDto,
    pub effective: RetentionPolicyDto,
    /// Whether the caller may change it.
    pub may_change: bool,
}

/// The deployment's retention: what its administrators set, what the
/// configuration gives where they set nothing, and what applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentRetentionDto {
    pub set: RetentionPolicyDto,
    pub configured: RetentionPolicyDto,
    pub effective: RetentionPolicyDto,
}

/// Whether edits and deletes keep what was there (for exports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComplianceArchiveDto {
    pub enabled: bool,
}

/// A channel a legal hold names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HeldChannelDto {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
}

/// A legal hold: what its people and channels posted from `starts_at` on
/// is kept until it is released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LegalHoldDto {
    pub id: String,
    pub name: String,
    pub reason: String,
    pub starts_at: i64,
    pub created_by: UserDto,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_by: Option<UserDto>,
    pub users: Vec<UserDto>,
    pub channels: Vec<HeldChannelDto>,
}

/// A compliance export: what was asked for, how far it has got, and what
/// it holds. Download it from `/api/admin/exports/{id}/archive` once its
/// `state` is `done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComplianceExportDto {
    pub id: String,
    /// `json`, `csv` or `eml`.
    pub format: String,
    /// The first and last day (UTC, `YYYY-MM-DD`) of messages it covers.
    pub from: String,
    pub to: String,
    /// What it is limited to (empty: everything).
    pub workspace_ids: Vec<String>,
    pub channel_ids: Vec<String>,
    pub user_ids: Vec<String>,
    /// Made by the daily export.
    pub daily: bool,
    /// `pending`, `running`, `done` or `failed`.
    pub state: String,
    /// Why it failed (empty otherwise).
    pub error: String,
    /// Messages and files written so far.
    pub messages: i64,
    pub files: i64,
    /// The archive's size in bytes (so far, while it runs).
    pub bytes: i64,
    pub file_name: String,
    pub requested_by: UserDto,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
}

/// The daily export: `off`, or the format it writes each day after
/// midnight (UTC) for the day before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DailyExportDto {
    #[cfg_attr(feature = "ssr", schema(pattern = "^(off|json|csv|eml)$"))]
    pub format: String,
}

/// A figure of the analytics: values by day (one per day of `days` in each
/// series), or, for `channels`, a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FigureDto {
    /// `messages`, `active_people` or `channels`.
    pub name: String,
    pub title: String,
    /// The first and last day covered (UTC, `YYYY-MM-DD`).
    pub from: String,
    pub to: String,
    pub days: Vec<String>,
    pub series: Vec<FigureSeriesDto>,
    pub ranking: Vec<RankedItemDto>,
    /// Where the same figure is as CSV.
    pub csv: String,
}

/// One series of a figure by day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FigureSeriesDto {
    pub name: String,
    pub values: Vec<i64>,
}

/// One line of a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RankedItemDto {
    pub label: String,
    pub value: i64,
}

/// One line of the deployment's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentAuditEntryDto {
    pub id: String,
    pub actor: UserDto,
    /// `settings.retention`, `settings.compliance_archive`, `hold.create`, `hold.release`, `retention.run`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    pub summary: String,
    pub created_at: i64,
}

/// A device taking part in end-to-end encrypted conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeviceDto {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// Its Ed25519 public key, base64.
    pub signature_key: String,
    /// Its person's identity key's signature of `parley-device\0<user id>\0`
    /// followed by the signature key's bytes, base64: check it before
    /// adding the device to a conversation.
    pub identity_signature: String,
    pub created_at: i64,
}

/// A person's identity key, which signs their devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IdentityKeyDto {
    pub user_id: String,
    /// Ed25519 public key, base64.
    pub public_key: String,
    pub created_at: i64,
}

/// The most devices whose key packages one claim takes (a client adding
/// more claims in turns).
pub const KEY_PACKAGES_PER_CLAIM: usize = 100;

/// The largest shared history the server keeps, in bytes (encrypted): a
/// device sharing one leaves out the older messages that do not fit.
pub const SHARED_HISTORY_BYTES: usize = 640 << 10;

/// One key package of a device, handed out to add it to a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClaimedKeyPackageDto {
    pub device: DeviceDto,
    /// The MLS key package, base64.
    pub key_package: String,
    /// The identity key of the device's person, which signed the device.
    pub identity_key: String,
}

/// An accepted change of an encrypted conversation's keys: it ends `epoch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GroupCommitDto {
    pub channel_id: String,
    pub epoch: i64,
    pub device_id: String,
    /// The MLS commit, base64.
    pub commit: String,
    pub created_at: i64,
}

/// The latest messages of an encrypted conversation, shared with one of
/// the caller's devices by the member's device that added it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SharedHistoryDto {
    pub id: String,
    /// The device it is for.
    pub device_id: String,
    pub channel_id: String,
    /// The device that shared it, its person and their display name.
    pub from_device_id: String,
    pub from_user_id: String,
    pub from_name: String,
    /// The epoch it is encrypted for.
    pub epoch: i64,
    /// The MLS application message, base64.
    pub history: String,
    pub created_at: i64,
}

/// What lets a device join an encrypted conversation it was added to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WelcomeDto {
    pub id: String,
    pub device_id: String,
    pub channel_id: String,
    /// The epoch the device joins at.
    pub epoch: i64,
    /// The MLS welcome, base64.
    pub welcome: String,
    pub created_at: i64,
}

/// An encrypted conversation's epoch and the devices its keys should include.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConversationDevicesDto {
    pub epoch: i64,
    pub devices: Vec<DeviceDto>,
    /// The device that adds others shares the latest messages it read
    /// with them (`POST .../shared_histories/`).
    #[serde(default)]
    pub shares_history: bool,
}

/// How many single-use key packages a device has left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyPackageCountDto {
    pub key_packages: i64,
}

/// A workspace's end-to-end encryption policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EncryptionPolicyDto {
    /// Direct conversations opened from now on are end-to-end encrypted
    /// from the start (those opened before stay as they are).
    pub encrypt_direct: bool,
}

/// Whether a workspace archives its encrypted conversations, as the member
/// asking sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EncryptedArchiveDto {
    /// The archiving member: a member of every encrypted conversation of
    /// the workspace, who reads them on its own devices; absent when
    /// nobody archives them.
    pub archivist: Option<UserDto>,
    /// Whether the caller agreed to the archiving member reading the
    /// encrypted conversations (needed before sending in one).
    pub consented: bool,
}

/// Names the archiving member of a workspace's encrypted conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetArchivistDto {
    /// A username of a member of the workspace (`@` optional); absent or
    /// null: nobody archives the encrypted conversations from now on.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<crate::schema::Username>))]
    pub username: Option<String>,
}

/// A person's key backup: their identity and device keys, sealed in their
/// browser with a recovery key the server never sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyBackupDto {
    /// 1 for the first, one more with each replacement.
    pub version: i64,
    /// The sealed backup, base64.
    pub backup: String,
    pub updated_at: i64,
}
