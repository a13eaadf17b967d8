//! Seed 000's REST API for channels and messages, under `/api/communication/`
//! (JSON in and out; cursor pagination; session or bearer token). Every
//! handler is described for the OpenAPI document ([`super::openapi`]).

use super::error::{HttpError, HttpResult, JsonBody, QueryParams, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{
    ApiError, ChannelDto, ErrorCode, FollowedThreadDto, MessageDto, MessagePageDto, ReadMarkDto,
    SearchHitDto, ThreadDto, UserDto,
};
use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::error::Thing;
use domain::files::Upload;
use domain::hub::{Encrypted, Post};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

/// Public channels anyone in the workspace can find and join; private ones only their members see;
/// in announcement channels only permitted roles post; external channels admit guests (and are
/// private); voice channels are for calls.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelType {
    #[default]
    Public,
    Private,
    Announcement,
    External,
    Voice,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChannelListQuery {
    /// Only this workspace's channels (default: every workspace of the caller).
    #[param(value_type = Option<s::IdOrEmpty>)]
    workspace_id: Option<String>,
}

/// `GET /api/communication/channels/`: the channels the caller may see, with unread counts.
#[utoipa::path(get, path = "/api/communication/channels/", tag = "channels", params(ChannelListQuery),
    responses((status = 200, body = Vec<ChannelDto>), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list_channels(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryParams(q): QueryParams<ChannelListQuery>,
) -> HttpResult<Json<Vec<ChannelDto>>> {
    let hub = &state.services.hub;
    let mut out = Vec::new();
    for ws in workspaces_asked(hub, user.id, q.workspace_id.as_deref()).await? {
        out.extend(hub.channels(user.id, ws).await?.iter().map(ChannelDto::from));
    }
    Ok(Json(out))
}

/// The workspace a list asks about (`workspace_id`), or else all the caller's.
pub async fn workspaces_asked(
    hub: &domain::Hub,
    user: domain::Id,
    asked: Option<&str>,
) -> HttpResult<Vec<domain::Id>> {
    Ok(match asked.filter(|w| !w.is_empty()) {
        Some(w) => vec![path_id(w, Thing::Workspace)?],
        None => hub.my_workspaces(user).await?.into_iter().map(|w| w.id).collect(),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct CreateChannelBody {
    #[schema(value_type = s::Id)]
    workspace_id: String,
    #[schema(value_type = s::ChannelName)]
    name: String,
    #[serde(default)]
    #[schema(value_type = s::ShortText)]
    topic: String,
    #[serde(default)]
    channel_type: ChannelType,
    /// For voice channels: at most this many people at once (0: no limit).
    #[serde(default, deserialize_with = "app::wire::whole_number::one")]
    #[schema(minimum = 0, maximum = 99)]
    user_limit: i64,
    /// Put the channel in this category (needs manage_channels).
    #[schema(value_type = Option<s::IdOrEmpty>)]
    category_id: Option<String>,
    /// Usernames of workspace members to add at once.
    #[serde(default)]
    #[schema(value_type = Vec<s::Username>)]
    members: Vec<String>,
    /// Sensitive: its messages are kept out of search, and notifications
    /// do not quote them.
    #[serde(default)]
    sensitive: bool,
}

/// `POST /api/communication/channels/`: creates a channel; its creator is its first member.
#[utoipa::path(post, path = "/api/communication/channels/", tag = "channels", request_body = CreateChannelBody,
    responses((status = 201, body = ChannelDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn create_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<CreateChannelBody>,
) -> HttpResult<(StatusCode, Json<ChannelDto>)> {
    let hub = &state.services.hub;
    let ws = app::ssr::parse_id("workspace_id", &body.workspace_id)?;
    let mut new = domain::hub::NewChannel::text(&body.name, &body.topic, false);
    match body.channel_type {
        ChannelType::Public => {}
        ChannelType::Private => new.is_private = true,
        ChannelType::Announcement => new.kind = domain::model::ChannelKind::Announcement,
        ChannelType::External => (new.is_private, new.is_external) = (true, true),
        ChannelType::Voice => new.kind = domain::model::ChannelKind::Voice,
    }
    new.user_limit = body.user_limit;
    new.category = app::ssr::parse_optional_id("category_id", body.category_id.as_deref())?;
    new.sensitive = body.sensitive;
    let ch = hub.create_channel_with(user.id, ws, new).await?;
    for name in &body.members {
        hub.add_channel_member(user.id, ch.id, name).await?;
    }
    Ok((StatusCode::CREATED, Json((&hub.channel(user.id, ch.id).await?).into())))
}

/// `GET /api/communication/channels/{id}/`.
#[utoipa::path(get, path = "/api/communication/channels/{id}/", tag = "channels",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = ChannelDto), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn get_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<ChannelDto>> {
    let listing = state.services.hub.channel(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json((&listing).into()))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateChannelBody {
    #[schema(value_type = Option<s::ChannelName>)]
    name: Option<String>,
    #[schema(value_type = Option<s::ShortText>)]
    topic: Option<String>,
    /// `text`, `announcement` or `voice`.
    kind: Option<ChannelKindName>,
    is_private: Option<bool>,
    /// Open to guests.
    is_external: Option<bool>,
    auto_join: Option<bool>,
    /// Archived channels are read-only and leave the sidebar; they stay searchable.
    archived: Option<bool>,
    #[serde(default, deserialize_with = "app::wire::whole_number::optional")]
    #[schema(minimum = 0, maximum = 99)]
    user_limit: Option<i64>,
    /// Sensitive channels are kept out of search, and notifications do not quote them.
    sensitive: Option<bool>,
}

/// What a channel is for, as `PUT` changes it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKindName {
    Text,
    Announcement,
    Voice,
}

/// `PUT /api/communication/channels/{id}/`: renames, changes the topic, the type, the flags, or
/// archives (manage_channels here, or the channel's creator). What is absent stays.
#[utoipa::path(put, path = "/api/communication/channels/{id}/", tag = "channels", request_body = UpdateChannelBody,
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = ChannelDto), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn update_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateChannelBody>,
) -> HttpResult<Json<ChannelDto>> {
    let hub = &state.services.hub;
    let id = path_id(&id, Thing::Channel)?;
    if body.name.is_some() || body.topic.is_some() {
        hub.update_channel(user.id, id, body.name.as_deref(), body.topic.as_deref()).await?;
    }
    if body.kind.is_some()
        || body.is_private.is_some()
        || body.is_external.is_some()
        || body.auto_join.is_some()
        || body.archived.is_some()
        || body.user_limit.is_some()
        || body.sensitive.is_some()
    {
        let ch = hub.channel(user.id, id).await?.channel;
        let settings = domain::hub::ChannelSettings {
            kind: match body.kind {
                Some(ChannelKindName::Text) => domain::model::ChannelKind::Text,
                Some(ChannelKindName::Announcement) => domain::model::ChannelKind::Announcement,
                Some(ChannelKindName::Voice) => domain::model::ChannelKind::Voice,
                None => ch.kind,
            },
            is_private: body.is_private.unwrap_or(ch.is_private),
            is_external: body.is_external.unwrap_or(ch.is_external),
            auto_join: body.auto_join.unwrap_or(ch.auto_join),
            archived: body.archived.unwrap_or(ch.archived_at.is_some()),
            user_limit: body.user_limit.unwrap_or(ch.user_limit),
            sensitive: body.sensitive.unwrap_or(ch.sensitive),
        };
        hub.configure_channel(user.id, id, settings).await?;
    }
    Ok(Json((&hub.channel(user.id, id).await?).into()))
}

/// `DELETE /api/communication/channels/{id}/`: deletes the channel and
/// everything in it; refused (409) while a legal hold keeps messages in it.
#[utoipa::path(delete, path = "/api/communication/channels/{id}/", tag = "channels",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "A legal hold keeps messages in it", body = ApiError)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.delete_channel(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct UsernamesBody {
    /// At least one.
    #[schema(value_type = Vec<s::Username>, min_items = 1)]
    usernames: Vec<String>,
}

/// `POST /api/communication/channels/{id}/add_members/`: adds workspace members by username.
#[utoipa::path(post, path = "/api/communication/channels/{id}/add_members/", tag = "channels",
    request_body = UsernamesBody, params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = ChannelDto), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn add_members(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UsernamesBody>,
) -> HttpResult<Json<ChannelDto>> {
    let hub = &state.services.hub;
    let id = path_id(&id, Thing::Channel)?;
    if body.usernames.is_empty() {
        return Err(ApiError::invalid("usernames", "Name at least one person to add.").into());
    }
    for name in &body.usernames {
        hub.add_channel_member(user.id, id, name).await?;
    }
    Ok(Json((&hub.channel(user.id, id).await?).into()))
}

/// `POST /api/communication/channels/{id}/join/`: joins a public channel.
#[utoipa::path(post, path = "/api/communication/channels/{id}/join/", tag = "channels",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = ChannelDto), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn join_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<ChannelDto>> {
    let hub = &state.services.hub;
    let ch = hub.join_channel(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json((&hub.channel(user.id, ch.id).await?).into()))
}

/// `POST /api/communication/channels/{id}/leave/`.
#[utoipa::path(post, path = "/api/communication/channels/{id}/leave/", tag = "channels",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn leave_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.leave_channel(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct CreateDirectBody {
    #[schema(value_type = s::Id)]
    workspace_id: String,
    /// The other people (up to 7; none for notes to oneself); the caller is always in it.
    #[schema(value_type = Vec<s::Username>, max_items = 7)]
    usernames: Vec<String>,
}

/// `POST /api/communication/channels/create_direct/`: the direct conversation with these
/// people, created if it does not exist yet (the same people always get the same one).
#[utoipa::path(post, path = "/api/communication/channels/create_direct/", tag = "channels",
    request_body = CreateDirectBody,
    responses((status = 200, body = ChannelDto), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub async fn create_direct(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<CreateDirectBody>,
) -> HttpResult<Json<ChannelDto>> {
    let hub = &state.services.hub;
    let ws = app::ssr::parse_id("workspace_id", &body.workspace_id)?;
    app::ssr::usernames("usernames", &body.usernames)?;
    let ch = hub.open_direct(user.id, ws, &body.usernames.join(",")).await?;
    Ok(Json((&hub.channel(user.id, ch.id).await?).into()))
}

#[derive(Deserialize, ToSchema)]
pub struct ReadBody {
    /// Read up to this message (default: the newest).
    #[schema(value_type = Option<s::IdOrEmpty>)]
    message_id: Option<String>,
}

/// `POST /api/communication/channels/{id}/read/`: moves the caller's read mark forward.
#[utoipa::path(post, path = "/api/communication/channels/{id}/read/", tag = "channels", request_body = ReadBody,
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = ReadMarkDto), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReadBody>,
) -> HttpResult<Json<ReadMarkDto>> {
    let upto = app::ssr::parse_optional_id("message_id", body.message_id.as_deref())?;
    let mark = state.services.hub.mark_read(user.id, path_id(&id, Thing::Channel)?, upto).await?;
    Ok(Json(ReadMarkDto { user_id: user.id.to_string(), last_read_id: mark.to_string() }))
}

/// `GET /api/communication/channels/{id}/reads/`: how far each member has read.
#[utoipa::path(get, path = "/api/communication/channels/{id}/reads/", tag = "channels",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = Vec<ReadMarkDto>), (status = 404, body = ApiError)))]
pub async fn read_marks(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<ReadMarkDto>>> {
    let marks = state.services.hub.read_marks(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json(marks.iter().map(ReadMarkDto::from).collect()))
}

/// `GET /api/communication/channels/{id}/pins/`: pinned messages, most recently pinned first.
#[utoipa::path(get, path = "/api/communication/channels/{id}/pins/", tag = "channels",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = Vec<MessageDto>), (status = 404, body = ApiError)))]
pub async fn pins(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<MessageDto>>> {
    let list = state.services.hub.pinned(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json(list.iter().map(MessageDto::from).collect()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageListQuery {
    #[param(value_type = s::Id)]
    channel_id: String,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<s::IdOrEmpty>)]
    before: Option<String>,
    /// 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// `GET /api/communication/messages/?channel_id=...`: a page of top-level messages, newest first.
#[utoipa::path(get, path = "/api/communication/messages/", tag = "messages", params(MessageListQuery),
    responses((status = 200, body = MessagePageDto), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list_messages(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryParams(q): QueryParams<MessageListQuery>,
) -> HttpResult<Json<MessagePageDto>> {
    let channel = app::ssr::parse_id("channel_id", &q.channel_id)?;
    let before = app::ssr::parse_optional_id("before", q.before.as_deref())?;
    let limit = q.limit.unwrap_or(app::api::PAGE_SIZE);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "A page holds 1 to 100 messages.").into());
    }
    let page = state.services.hub.messages(user.id, channel, before, limit).await?;
    Ok(Json((&page).into()))
}

#[derive(Deserialize, ToSchema)]
pub struct SendBody {
    #[schema(value_type = s::Id)]
    channel_id: String,
    #[serde(flatten)]
    content: MessageContent,
    /// Any string the client picks: sending twice with the same one sends once.
    #[schema(value_type = Option<s::Nonce>)]
    nonce: Option<String>,
    /// Reply in the thread of this message.
    #[schema(value_type = Option<s::IdOrEmpty>)]
    thread_id: Option<String>,
}

/// What a message says: its text, or in an end-to-end encrypted
/// conversation its ciphertext.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MessageContent {
    Text {
        /// Markdown, 1 to 4000 characters (`content` is accepted too).
        #[serde(alias = "content")]
        #[schema(value_type = s::MessageText)]
        body: String,
    },
    Encrypted {
        encrypted: EncryptedBody,
    },
}

/// In an end-to-end encrypted conversation: the message as one of the
/// sender's devices encrypted it (sent instead of `body`, which is then
/// not read).
#[derive(Deserialize, ToSchema)]
pub struct EncryptedBody {
    /// The MLS message (at most 64 KiB).
    #[schema(value_type = s::Base64)]
    ciphertext: String,
    /// The device that encrypted it (one of the sender's).
    #[schema(value_type = s::Id)]
    device_id: String,
    /// Whom the message mentions, as the device read its text: usernames,
    /// or `channel`, `here` and `everyone`. They are notified as for any
    /// message (the server learns who was mentioned, not what was said).
    #[serde(default)]
    #[schema(value_type = Vec<s::Username>, max_items = 50)]
    mentions: Vec<String>,
    /// The message's content sealed by the device for its author alone
    /// (at most 64 KiB): what the author's devices restored from the key
    /// backup read, since no one can decrypt their own MLS message.
    #[schema(value_type = Option<s::Base64>)]
    own_copy: Option<String>,
}

impl EncryptedBody {
    fn parse(&self) -> Result<Encrypted<'_>, ApiError> {
        Ok(Encrypted {
            device: app::ssr::parse_id("device_id", &self.device_id)?,
            ciphertext: &self.ciphertext,
            mentions: &self.mentions,
            own_copy: self.own_copy.as_deref(),
        })
    }
}

/// A message with files, as `multipart/form-data`. The channel comes before
/// the first file: the sender's permission is checked before a file is stored.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)] // As `receive` refuses other fields (the document says so).
#[allow(dead_code)] // Describes the form for the OpenAPI document; `receive` reads it.
pub struct MessageForm {
    #[schema(value_type = s::Id)]
    channel_id: String,
    /// Markdown, 1 to 4000 characters (`content` is accepted too); may be empty when files are attached.
    #[schema(value_type = s::MessageText)]
    body: String,
    #[schema(value_type = s::Nonce, required = false)]
    nonce: String,
    #[schema(value_type = s::IdOrEmpty, required = false)]
    thread_id: String,
    /// A page of the app to go back to, for a browser without JavaScript.
    #[schema(required = false)]
    return_to: String,
    /// In an end-to-end encrypted conversation, with `ciphertext`: the device that encrypted the message.
    #[schema(value_type = s::Id, required = false)]
    device_id: String,
    /// In an end-to-end encrypted conversation: the message as encrypted (the MLS message, base64), sent
    /// instead of `body` and before the files, which are then encrypted too (their names and keys inside
    /// the message; the server names them "encrypted file").
    #[schema(value_type = s::Base64, required = false)]
    ciphertext: String,
    /// In an end-to-end encrypted conversation: whom the message mentions (see `mentions` of the JSON form),
    /// once per name.
    #[schema(value_type = Vec<s::Username>, max_items = 50, required = false)]
    mentions: Vec<String>,
    /// In an end-to-end encrypted conversation: the message sealed for its author alone (see `own_copy` of
    /// the JSON form).
    #[schema(value_type = s::Base64, required = false)]
    own_copy: String,
    /// Up to 10 files, each within the server's size limit and of an allowed type.
    #[schema(value_type = Vec<String>, format = Binary, max_items = 10, required = false)]
    file: Vec<Vec<u8>>,
}

/// `POST /api/communication/messages/`: sends a message (JSON), or a message with files
/// (`multipart/form-data`: fields `channel_id`, `body`, `nonce`, `thread_id`, and `file`
/// once per file; in an encrypted conversation `device_id` and `ciphertext` in place of
/// `body`, before the files). Answers 201 once it is stored; a repeated nonce answers 200 with the
/// first message. A form posted by a browser without JavaScript (with `return_to`) is
/// answered with a redirect there.
#[utoipa::path(post, path = "/api/communication/messages/", tag = "messages",
    request_body(content((SendBody = "application/json"), (MessageForm = "multipart/form-data"))),
    responses((status = 201, body = MessageDto), (status = 200, body = MessageDto),
        (status = 303, description = "A form sent by a browser without JavaScript: back to its `return_to` page"),
        (status = 400, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "Plain text to an end-to-end encrypted conversation, or ciphertext to \
            another", body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 503, description = "Files were attached and the virus scanner cannot be reached (where the \
            server refuses what it cannot scan)", body = ApiError)))]
pub async fn send_message(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    request: Request,
) -> HttpResult<Response> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let hub = &state.services.hub;
    if !multipart {
        let JsonBody(body) = JsonBody::<SendBody>::from_request(request, &state).await?;
        let (msg, created) = match &body.content {
            MessageContent::Text { body: text } => {
                app::ssr::post_text(
                    hub,
                    user.id,
                    &body.channel_id,
                    text,
                    body.nonce.as_deref(),
                    body.thread_id.as_deref(),
                )
                .await?
            }
            MessageContent::Encrypted { encrypted } => {
                let post = Post {
                    nonce: body.nonce.as_deref().filter(|n| !n.is_empty()),
                    thread: app::ssr::parse_optional_id("thread_id", body.thread_id.as_deref())?,
                    encrypted: Some(encrypted.parse()?),
                    ..Default::default()
                };
                hub.post(user.id, app::ssr::parse_id("channel_id", &body.channel_id)?, post).await?
            }
        };
        let status = if created { StatusCode::CREATED } else { StatusCode::OK };
        return Ok((status, Json(MessageDto::from(&msg))).into_response());
    }
    let wants_html = !accepts_json(request.headers());
    let form = Multipart::from_request(request, &state).await.map_err(|e| {
        HttpError::new(ErrorCode::Invalid, format!("The upload could not be read: {}", e.body_text()))
    })?;
    let mut received = Received::default();
    let parsed = async {
        receive(form, &state, user.id, &mut received).await?;
        let channel = app::ssr::parse_id("channel_id", received.channel_id.as_deref().unwrap_or(""))?;
        let thread = app::ssr::parse_optional_id("thread_id", received.thread_id.as_deref())?;
        let device = match (&received.device_id, &received.ciphertext) {
            (None, None) => None,
            (Some(device), Some(_)) => Some(app::ssr::parse_id("device_id", device)?),
            _ => {
                return Err(HttpError::from(domain::Error::invalid(
                    "ciphertext",
                    "An encrypted message needs both device_id and ciphertext.",
                )));
            }
        };
        Ok::<_, HttpError>((channel, thread, device))
    }
    .await;
    let (channel, thread, device) = match parsed {
        Ok(ids) => ids,
        Err(e) => {
            // Whatever arrived before the error is not kept.
            hub.files().remove(received.files.into_iter().map(|f| f.tmp).collect()).await;
            return Err(e);
        }
    };
    let Received { body, nonce, return_to, files, ciphertext, mentions, own_copy, .. } = received;
    let nonce = nonce.as_deref().filter(|n| !n.is_empty());
    let encrypted = match (device, ciphertext.as_deref()) {
        (Some(device), Some(ciphertext)) => {
            Some(Encrypted { device, ciphertext, mentions: &mentions, own_copy: own_copy.as_deref() })
        }
        _ => None,
    };
    let post = Post { body: &body, nonce, thread, files, encrypted };
    let (msg, created) = hub.post(user.id, channel, post).await?;
    if wants_html && let Some(to) = return_to.filter(|t| t.starts_with('/') && !t.starts_with("//")) {
        return Ok(Redirect::to(&to).into_response());
    }
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(MessageDto::from(&msg))).into_response())
}

fn accepts_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"))
}

#[derive(Default)]
struct Received {
    channel_id: Option<String>,
    body: String,
    nonce: Option<String>,
    thread_id: Option<String>,
    return_to: Option<String>,
    /// In an end-to-end encrypted conversation: the message as encrypted
    /// (its `device_id` and `ciphertext` fields), sent before its files,
    /// which are then encrypted too.
    device_id: Option<String>,
    ciphertext: Option<String>,
    /// Whom an encrypted message mentions (a field each).
    mentions: Vec<String>,
    own_copy: Option<String>,
    files: Vec<Upload>,
    /// Held while the files arrive: the caller's upload slot.
    slot: Option<domain::limits::UploadGuard>,
}

/// Reads a multipart message: text fields (each at most the body limit),
/// and files streamed to disk with their size counted, so an oversize or
/// forbidden file is refused as soon as that is known (before the rest
/// arrives). The channel must be named before the first file: the caller's
/// permission, upload rate and upload slot are checked then, before any
/// byte of a file is written.
async fn receive(
    mut form: Multipart,
    state: &AppState,
    user: domain::Id,
    into: &mut Received,
) -> HttpResult<()> {
    let hub = &state.services.hub;
    let policy = hub.files().policy().clone();
    let bad = |e: axum::extract::multipart::MultipartError| {
        HttpError::new(
            ErrorCode::Invalid,
            format!("The upload was cut short or malformed: {}", e.body_text()),
        )
    };
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let raw_name = field.file_name().unwrap_or("").to_string();
            if raw_name.is_empty() {
                // An empty file input in a plain form is no file; anything
                // else without a name is not one either.
                if !bounded_text(&mut field, state.body_limits.body).await?.is_empty() {
                    return Err(HttpError::from(domain::Error::invalid(
                        "file",
                        "Each file needs its file name (with its type's extension).",
                    )));
                }
                continue;
            }
            if into.slot.is_none() {
                return Err(HttpError::from(domain::Error::invalid(
                    "channel_id",
                    "Send channel_id before the files of a message.",
                )));
            }
            if into.files.len() >= domain::files::MAX_FILES_PER_MESSAGE {
                return Err(HttpError::from(domain::Error::invalid(
                    "file",
                    "Attach at most 10 files to one message.",
                )));
            }
            // An encrypted file's name is inside its message: the one it is
            // uploaded under is not read.
            let encrypted = into.ciphertext.is_some();
            let file_name = match encrypted {
                true => domain::files::ENCRYPTED_FILE_NAME.to_string(),
                false => policy.check_name(&raw_name)?,
            };
            let max_bytes = policy.max_upload(encrypted);
            let tmp = hub.files().temp_path().await?;
            let mut out = tokio::fs::File::create(&tmp).await.map_err(domain::Error::from)?;
            let mut upload = Upload { tmp, file_name, size: 0 };
            loop {
                let chunk = match field.chunk().await {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        into.files.push(upload);
                        return Err(bad(e));
                    }
                };
                upload.size += chunk.len() as u64;
                if upload.size > max_bytes {
                    let err = policy.too_large(&upload.file_name);
                    into.files.push(upload);
                    return Err(err.into());
                }
                if let Err(e) = out.write_all(&chunk).await {
                    into.files.push(upload);
                    return Err(domain::Error::from(e).into());
                }
            }
            out.flush().await.map_err(domain::Error::from)?;
            into.files.push(upload);
            continue;
        }
        let value = bounded_text(&mut field, state.body_limits.body).await?;
        match name.as_str() {
            "channel_id" if into.channel_id.is_none() => {
                let channel = app::ssr::parse_id("channel_id", &value)?;
                into.slot = Some(hub.may_upload(user, channel).await?);
                into.channel_id = Some(value);
            }
            "channel_id" => {
                return Err(HttpError::from(domain::Error::invalid(
                    "channel_id",
                    "Name one channel_id only.",
                )));
            }
            "body" | "content" => into.body = value,
            "nonce" => into.nonce = Some(value),
            "thread_id" => into.thread_id = Some(value),
            "return_to" => into.return_to = Some(value),
            "device_id" => into.device_id = Some(value),
            "ciphertext" if into.files.is_empty() => into.ciphertext = Some(value),
            "own_copy" => into.own_copy = Some(value),
            "mentions" if into.mentions.len() < domain::input::Mentions::MAX => into.mentions.push(value),
            "mentions" => {
                return Err(HttpError::from(domain::Error::invalid(
                    "mentions",
                    format!("A message may mention at most {} names.", domain::input::Mentions::MAX),
                )));
            }
            "ciphertext" => {
                return Err(HttpError::from(domain::Error::invalid(
                    "ciphertext",
                    "Send ciphertext before the files of an encrypted message.",
                )));
            }
            other => {
                return Err(HttpError::from(domain::Error::invalid(
                    "form",
                    format!(
                        "“{other}” is not a field of a message: send channel_id, body (or device_id, \
                         ciphertext, mentions and own_copy), nonce, thread_id and file."
                    ),
                )));
            }
        }
    }
    Ok(())
}

/// A text field of a multipart body, refused once it passes `limit` bytes.
async fn bounded_text(field: &mut axum::extract::multipart::Field<'_>, limit: usize) -> HttpResult<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        HttpError::new(
            ErrorCode::Invalid,
            format!("The upload was cut short or malformed: {}", e.body_text()),
        )
    })? {
        if bytes.len() + chunk.len() > limit {
            return Err(super::guard::too_large(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| HttpError::new(ErrorCode::Invalid, "A text field of the upload is not UTF-8 text."))
}

/// `GET /api/communication/messages/{id}/`: one message, for someone who may see its channel.
#[utoipa::path(get, path = "/api/communication/messages/{id}/", tag = "messages",
    params(("id" = s::Id, Path, description = "Message id")),
    responses((status = 200, body = MessageDto), (status = 404, body = ApiError)))]
pub async fn message(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<MessageDto>> {
    let msg = state.services.hub.message(user.id, path_id(&id, Thing::Message)?).await?;
    Ok(Json((&msg).into()))
}

#[derive(Deserialize, ToSchema)]
pub struct EditBody {
    /// The new text, or for an end-to-end encrypted message its new ciphertext.
    #[serde(flatten)]
    content: MessageContent,
}

/// `PUT /api/communication/messages/{id}/`: the author edits their message.
#[utoipa::path(put, path = "/api/communication/messages/{id}/", tag = "messages", request_body = EditBody,
    params(("id" = s::Id, Path, description = "Message id")),
    responses((status = 200, body = MessageDto), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError),
        (status = 409, description = "Plain text for an encrypted message, or ciphertext for another", body = ApiError)))]
pub async fn edit_message(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EditBody>,
) -> HttpResult<Json<MessageDto>> {
    let id = path_id(&id, Thing::Message)?;
    let hub = &state.services.hub;
    let msg = match &body.content {
        MessageContent::Text { body } => hub.edit_message(user.id, id, body).await?,
        MessageContent::Encrypted { encrypted } => {
            hub.edit_encrypted(user.id, id, encrypted.parse()?).await?
        }
    };
    Ok(Json((&msg).into()))
}

/// `DELETE /api/communication/messages/{id}/`: the author deletes their message (and its files).
#[utoipa::path(delete, path = "/api/communication/messages/{id}/", tag = "messages",
    params(("id" = s::Id, Path, description = "Message id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_message(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.delete_message(user.id, path_id(&id, Thing::Message)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct SearchBody {
    /// Words (partial words and CJK text are found) and filters: `in:#channel`,
    /// `from:@user`, `has:file`, `before:YYYY-MM-DD`, `after:YYYY-MM-DD`; at most 8 words.
    /// (The pattern states plain words; the filters are accepted as well.)
    #[schema(
        pattern = r#"^[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000:"]{1,64}( [^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000:"]{1,64}){0,7}$"#
    )]
    query: String,
    #[schema(value_type = Option<s::IdOrEmpty>)]
    workspace_id: Option<String>,
}

/// `POST /api/communication/messages/search/`: messages the caller may see, newest first (at most 50).
#[utoipa::path(post, path = "/api/communication/messages/search/", tag = "messages", request_body = SearchBody,
    responses((status = 200, body = Vec<SearchHitDto>), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub async fn search(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<SearchBody>,
) -> HttpResult<Json<Vec<SearchHitDto>>> {
    let ws = app::ssr::parse_optional_id("workspace_id", body.workspace_id.as_deref())?;
    let hits = state.services.hub.search(user.id, &body.query, ws).await?;
    Ok(Json(hits.iter().map(SearchHitDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct ReactionBody {
    /// One emoji, or a `:shortcode:`.
    #[schema(value_type = s::Emoji)]
    emoji: String,
}

/// `POST /api/communication/messages/{id}/add_reaction/`.
#[utoipa::path(post, path = "/api/communication/messages/{id}/add_reaction/", tag = "messages",
    request_body = ReactionBody, params(("id" = s::Id, Path, description = "Message id")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn add_reaction(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReactionBody>,
) -> HttpResult<StatusCode> {
    state.services.hub.add_reaction(user.id, path_id(&id, Thing::Message)?, &body.emoji).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/communication/messages/{id}/remove_reaction/`.
#[utoipa::path(post, path = "/api/communication/messages/{id}/remove_reaction/", tag = "messages",
    request_body = ReactionBody, params(("id" = s::Id, Path, description = "Message id")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn remove_reaction(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReactionBody>,
) -> HttpResult<StatusCode> {
    state.services.hub.remove_reaction(user.id, path_id(&id, Thing::Message)?, &body.emoji).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/communication/messages/{id}/thread/`: the thread and its replies (reading them).
#[utoipa::path(get, path = "/api/communication/messages/{id}/thread/", tag = "messages",
    params(("id" = s::Id, Path, description = "The thread's first message")),
    responses((status = 200, body = ThreadDto), (status = 404, body = ApiError)))]
pub async fn thread(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<ThreadDto>> {
    let t = state.services.hub.thread(user.id, path_id(&id, Thing::Message)?).await?;
    Ok(Json((&t).into()))
}

#[derive(Deserialize, ToSchema)]
pub struct FollowBody {
    following: bool,
}

/// `POST /api/communication/messages/{id}/follow/`: follows or unfollows its thread.
#[utoipa::path(post, path = "/api/communication/messages/{id}/follow/", tag = "messages",
    request_body = FollowBody, params(("id" = s::Id, Path, description = "Message id")),
    responses((status = 204), (status = 404, body = ApiError)))]
pub async fn follow(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FollowBody>,
) -> HttpResult<StatusCode> {
    state.services.hub.follow_thread(user.id, path_id(&id, Thing::Message)?, body.following).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct PinBody {
    pinned: bool,
}

/// `POST /api/communication/messages/{id}/pin/`: pins or unpins it in its channel.
#[utoipa::path(post, path = "/api/communication/messages/{id}/pin/", tag = "messages",
    request_body = PinBody, params(("id" = s::Id, Path, description = "Message id")),
    responses((status = 200, body = MessageDto), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn pin(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PinBody>,
) -> HttpResult<Json<MessageDto>> {
    let msg = state.services.hub.set_pinned(user.id, path_id(&id, Thing::Message)?, body.pinned).await?;
    Ok(Json((&msg).into()))
}

/// `GET /api/communication/messages/{id}/readers/`: who has read it (read receipts).
#[utoipa::path(get, path = "/api/communication/messages/{id}/readers/", tag = "messages",
    params(("id" = s::Id, Path, description = "Message id")),
    responses((status = 200, body = Vec<UserDto>), (status = 404, body = ApiError)))]
pub async fn readers(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<UserDto>>> {
    let who = state.services.hub.readers(user.id, path_id(&id, Thing::Message)?).await?;
    Ok(Json(who.iter().map(UserDto::from).collect()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadsQuery {
    #[param(value_type = s::Id)]
    workspace_id: String,
}

/// `GET /api/communication/threads/?workspace_id=...`: threads the caller follows, most recently answered first.
#[utoipa::path(get, path = "/api/communication/threads/", tag = "messages", params(ThreadsQuery),
    responses((status = 200, body = Vec<FollowedThreadDto>), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
pub async fn followed_threads(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryParams(q): QueryParams<ThreadsQuery>,
) -> HttpResult<Json<Vec<FollowedThreadDto>>> {
    let ws = app::ssr::parse_id("workspace_id", &q.workspace_id)?;
    let list = state.services.hub.followed_threads(user.id, ws).await?;
    Ok(Json(list.iter().map(FollowedThreadDto::from).collect()))
}
