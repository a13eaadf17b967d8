//! Wire types: what crosses the network between browser, API clients and
//! server. They are separate from the domain's types (conversions are the
//! explicit `From` impls in [`conversions`], server side only), because what
//! is serialised here is a promise to clients.
//!
//! Ids are decimal strings: JavaScript numbers cannot hold 64-bit integers.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDto {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

/// The signed-in user, as they see themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeDto {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
}

/// Answer to signing up or in through the JSON API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthDto {
    pub user: MeDto,
    /// Use as `Authorization: Bearer <token>` on JSON routes and the gateway.
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceDto {
    pub id: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub is_private: bool,
    pub owner_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelDto {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub topic: String,
    pub is_private: bool,
    /// Whether the user asking is a member (`None` in events to many users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_member: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDto {
    pub id: String,
    pub channel_id: String,
    pub author: UserDto,
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
}

/// A message found by search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHitDto {
    pub message: MessageDto,
    pub workspace_id: String,
    pub channel_name: String,
    /// An HTML-escaped excerpt with `<mark>` around what matched.
    pub highlight: String,
}

/// One emoji on a message and who reacted with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionDto {
    pub emoji: String,
    pub count: usize,
    pub users: Vec<UserDto>,
}

/// A page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePageDto {
    pub messages: Vec<MessageDto>,
    /// Pass as `before` for the next older page; absent at the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDto {
    pub user: UserDto,
    pub joined_at: i64,
    pub is_owner: bool,
    /// Connected right now.
    #[serde(default)]
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteDto {
    pub code: String,
    /// The link to share: `<public url>/invite/<code>`.
    pub url: String,
    pub workspace_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
}

/// What an invite link's page shows before accepting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitePreviewDto {
    pub code: String,
    pub workspace: WorkspaceDto,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelDto>,
}

/// The class of an [`ApiError`]; also decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    /// The request never got an answer (network down, server restarting).
    Unreachable,
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Invalid => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unreachable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// The one error every JSON route and server function returns:
/// `{"code": "...", "message": "...", "field": "..."}`. `message` is for
/// people: it says what went wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The input field the error is about, for forms to mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), field: None }
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
/// tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GatewayEvent {
    /// First frame: the connection is authenticated and subscribed.
    Ready {
        user: MeDto,
        heartbeat_interval_ms: u64,
    },
    MessageCreate {
        message: MessageDto,
    },
    /// A message was edited: replace it.
    MessageUpdate {
        message: MessageDto,
    },
    MessageDelete {
        channel_id: String,
        message_id: String,
    },
    /// `user` is typing in the channel; show it for about 5 seconds unless
    /// it comes again (clients send TYPING at most every 3 seconds).
    /// A member of a workspace came online or went offline.
    PresenceUpdate {
        workspace_id: String,
        user_id: String,
        online: bool,
    },
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
    WorkspaceMemberAdd {
        workspace_id: String,
        member: MemberDto,
    },
    WorkspaceMemberRemove {
        workspace_id: String,
        user_id: String,
    },
    /// Answer to a client's `PING`.
    Pong,
}

/// What a client may send on the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GatewayCommand {
    Ping,
    /// The user is typing in a channel they may post in.
    Typing {
        channel_id: String,
    },
}

/// WebSocket close codes the gateway uses.
pub mod close_code {
    /// The client fell too far behind; reconnect and reload what is shown.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// The client sent something the gateway does not understand.
    pub const BAD_COMMAND: u16 = 4002;
}
