//! End-to-end encryption's delivery service under `/api/communication/`:
//! a person's devices and their key packages, making a conversation
//! encrypted, its devices, claiming their key packages, its commits and
//! the welcomes waiting for a device. Every key and message here is public
//! or ciphertext, base64; the devices do the cryptography (`frontend/e2ee`).
//! Encrypted messages are sent and edited through the messages routes with
//! `ciphertext` and `device_id`.

use super::error::{HttpResult, JsonBody, QueryParams, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{
    ApiError, ChannelDto, ClaimedKeyPackageDto, ConversationDevicesDto, DeviceDto, EncryptedArchiveDto,
    EncryptionPolicyDto, GroupCommitDto, IdentityKeyDto, KeyBackupDto, KeyPackageCountDto, SetArchivistDto,
    SharedHistoryDto, WelcomeDto,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::error::Thing;
use domain::hub::{NewDevice, NewGroupCommit, NewSharedHistory};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
pub struct DeviceBody {
    #[schema(value_type = s::DeviceName)]
    name: String,
    /// Its Ed25519 public key (32 bytes).
    #[schema(value_type = s::Ed25519Key)]
    signature_key: String,
    /// The caller's identity key's signature (64 bytes) of
    /// `parley-device\0<user id>\0` followed by the signature key.
    #[schema(value_type = s::Ed25519Signature)]
    identity_signature: String,
}

/// `POST /api/communication/devices/`: registers one of the caller's
/// devices; its key packages (which name it by the id it gets) follow.
#[utoipa::path(post, path = "/api/communication/devices/", tag = "encryption", request_body = DeviceBody,
    responses((status = 201, body = DeviceDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 409, description = "No identity key yet, or too many devices", body = ApiError)))]
pub async fn register_device(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<DeviceBody>,
) -> HttpResult<(StatusCode, Json<DeviceDto>)> {
    let new = NewDevice {
        name: &body.name,
        signature_key: &body.signature_key,
        identity_signature: &body.identity_signature,
    };
    let device = state.services.hub.register_device(user.id, new).await?;
    Ok((StatusCode::CREATED, Json(DeviceDto::from(&device))))
}

#[derive(Deserialize, ToSchema)]
pub struct IdentityBody {
    /// The caller's identity key: Ed25519, 32 bytes.
    #[schema(value_type = s::Ed25519Key)]
    public_key: String,
}

/// `PUT /api/communication/identity/`: sets the caller's identity key,
/// which signs their devices. Replacing it removes their devices, and the
/// people of their encrypted conversations are told their keys changed.
#[utoipa::path(put, path = "/api/communication/identity/", tag = "encryption", request_body = IdentityBody,
    responses((status = 200, body = IdentityKeyDto), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub async fn set_identity_key(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<IdentityBody>,
) -> HttpResult<Json<IdentityKeyDto>> {
    let key = state.services.hub.set_identity_key(user.id, &body.public_key).await?;
    Ok(Json(IdentityKeyDto::from(&key)))
}

/// `GET /api/communication/identity/`: a person's identity key (the
/// caller's, or of someone they share a workspace with).
#[utoipa::path(get, path = "/api/communication/identity/", tag = "encryption", params(PersonQuery),
    responses((status = 200, body = IdentityKeyDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn identity_key(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryParams(q): QueryParams<PersonQuery>,
) -> HttpResult<Json<IdentityKeyDto>> {
    let whose = q.whose(user.id)?;
    let key = state.services.hub.identity_key(user.id, whose).await?;
    Ok(Json(IdentityKeyDto::from(&key)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonQuery {
    /// Whose (default: the caller's).
    #[param(value_type = Option<s::Id>)]
    user_id: Option<String>,
}

impl PersonQuery {
    /// The person asked about: `user_id`, or the caller.
    fn whose(&self, caller: domain::Id) -> Result<domain::Id, ApiError> {
        self.user_id.as_deref().map_or(Ok(caller), |raw| app::ssr::parse_id("user_id", raw))
    }
}

/// `GET /api/communication/devices/`: a person's devices (the caller's, or
/// those of someone they share a workspace with).
#[utoipa::path(get, path = "/api/communication/devices/", tag = "encryption", params(PersonQuery),
    responses((status = 200, body = Vec<DeviceDto>), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list_devices(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryParams(q): QueryParams<PersonQuery>,
) -> HttpResult<Json<Vec<DeviceDto>>> {
    let whose = q.whose(user.id)?;
    let devices = state.services.hub.devices(user.id, whose).await?;
    Ok(Json(devices.iter().map(DeviceDto::from).collect()))
}

/// `DELETE /api/communication/devices/{id}/`: removes one of the caller's
/// devices; its conversations drop it at their next change of keys.
#[utoipa::path(delete, path = "/api/communication/devices/{id}/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Device id")),
    responses((status = 204), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn remove_device(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.remove_device(user.id, path_id(&id, Thing::Device)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct KeyPackagesBody {
    /// More single-use key packages (at most 100).
    #[serde(default)]
    #[schema(value_type = Vec<s::Base64>, max_items = 100)]
    key_packages: Vec<String>,
    /// A new last-resort key package, replacing the old one.
    #[schema(value_type = Option<s::Base64>)]
    last_resort: Option<String>,
}

/// `GET /api/communication/devices/{id}/key_packages/`: how many
/// single-use key packages one of the caller's devices has left.
#[utoipa::path(get, path = "/api/communication/devices/{id}/key_packages/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Device id")),
    responses((status = 200, body = KeyPackageCountDto), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn key_packages_left(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<KeyPackageCountDto>> {
    let left = state.services.hub.key_packages_left(user.id, path_id(&id, Thing::Device)?).await?;
    Ok(Json(KeyPackageCountDto { key_packages: left }))
}

/// `POST /api/communication/devices/{id}/key_packages/`: adds key packages
/// to one of the caller's devices; answers how many single-use ones it has.
#[utoipa::path(post, path = "/api/communication/devices/{id}/key_packages/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Device id")), request_body = KeyPackagesBody,
    responses((status = 200, body = KeyPackageCountDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn add_key_packages(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<KeyPackagesBody>,
) -> HttpResult<Json<KeyPackageCountDto>> {
    let device = path_id(&id, Thing::Device)?;
    let hub = &state.services.hub;
    let left = hub.add_key_packages(user.id, device, &body.key_packages, body.last_resort.as_deref()).await?;
    Ok(Json(KeyPackageCountDto { key_packages: left }))
}

/// `GET /api/communication/devices/{id}/welcomes/`: the welcomes waiting
/// for one of the caller's devices (to conversations it was added to).
#[utoipa::path(get, path = "/api/communication/devices/{id}/welcomes/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Device id")),
    responses((status = 200, body = Vec<WelcomeDto>), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn welcomes(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<WelcomeDto>>> {
    let welcomes = state.services.hub.welcomes(user.id, path_id(&id, Thing::Device)?).await?;
    Ok(Json(welcomes.iter().map(WelcomeDto::from).collect()))
}

/// `DELETE /api/communication/devices/{id}/welcomes/{welcome_id}/`: the
/// device has used the welcome.
#[utoipa::path(delete, path = "/api/communication/devices/{id}/welcomes/{welcome_id}/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Device id"), ("welcome_id" = s::Id, Path, description = "Welcome id")),
    responses((status = 204), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn dismiss_welcome(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, welcome)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    let (device, welcome) = (path_id(&id, Thing::Device)?, path_id(&welcome, Thing::Welcome)?);
    state.services.hub.dismiss_welcome(user.id, device, welcome).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/communication/devices/{id}/shared_histories/`: the histories
/// of encrypted conversations shared with one of the caller's devices by
/// the member's device that added it.
#[utoipa::path(get, path = "/api/communication/devices/{id}/shared_histories/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Device id")),
    responses((status = 200, body = Vec<SharedHistoryDto>), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn shared_histories(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<SharedHistoryDto>>> {
    let shared = state.services.hub.shared_histories(user.id, path_id(&id, Thing::Device)?).await?;
    Ok(Json(shared.iter().map(SharedHistoryDto::from).collect()))
}

/// `DELETE /api/communication/devices/{id}/shared_histories/{history_id}/`:
/// the device has taken the shared history.
#[utoipa::path(delete, path = "/api/communication/devices/{id}/shared_histories/{history_id}/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Device id"),
        ("history_id" = s::Id, Path, description = "Shared history id")),
    responses((status = 204), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn dismiss_shared_history(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, history)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    let (device, history) = (path_id(&id, Thing::Device)?, path_id(&history, Thing::SharedHistory)?);
    state.services.hub.dismiss_shared_history(user.id, device, history).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct HistorySharingBody {
    /// Whether the device that adds others shares the latest messages it
    /// read with them.
    on: bool,
}

/// `PUT /api/communication/channels/{id}/history_sharing/`: turns the
/// sharing of an encrypted conversation's latest messages with the
/// devices it adds on or off.
#[utoipa::path(put, path = "/api/communication/channels/{id}/history_sharing/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Channel id")), request_body = HistorySharingBody,
    responses((status = 200, body = ChannelDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, description = "Not theirs to change", body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "Not an end-to-end encrypted conversation", body = ApiError)))]
pub async fn set_history_sharing(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<HistorySharingBody>,
) -> HttpResult<Json<ChannelDto>> {
    let channel = path_id(&id, Thing::Channel)?;
    let ch = state.services.hub.set_history_sharing(user.id, channel, body.on).await?;
    Ok(Json(ChannelDto::from(&ch)))
}

#[derive(Deserialize, ToSchema)]
pub struct SharedHistoryBody {
    /// The caller's device that shares it.
    #[schema(value_type = s::Id)]
    device_id: String,
    /// The epoch it is encrypted for: the conversation's current one.
    #[serde(deserialize_with = "app::wire::whole_number::one")]
    #[schema(minimum = 0, maximum = 2147483647)]
    epoch: i64,
    /// The MLS application message holding the messages (at most 640 KiB).
    #[schema(value_type = s::Base64)]
    history: String,
    /// The devices it is for: those the commit that began the epoch added.
    #[schema(value_type = Vec<s::Id>, min_items = 1, max_items = 100)]
    device_ids: Vec<String>,
}

/// `POST /api/communication/channels/{id}/shared_histories/`: the latest
/// messages a member's device read, encrypted for the conversation's
/// current epoch, for the devices it just added (where the conversation
/// shares its history).
#[utoipa::path(post, path = "/api/communication/channels/{id}/shared_histories/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Channel id")), request_body = SharedHistoryBody,
    responses((status = 204), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "The conversation does not share its history, its keys changed since, \
            or a device not of its members", body = ApiError)))]
pub async fn share_history(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SharedHistoryBody>,
) -> HttpResult<StatusCode> {
    let channel = path_id(&id, Thing::Channel)?;
    let devices =
        body.device_ids.iter().map(|d| app::ssr::parse_id("device_ids", d)).collect::<Result<Vec<_>, _>>()?;
    let new = NewSharedHistory {
        device: app::ssr::parse_id("device_id", &body.device_id)?,
        epoch: body.epoch,
        history: &body.history,
        devices: &devices,
    };
    state.services.hub.share_history(user.id, channel, new).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/communication/channels/{id}/end_to_end/`: makes a direct
/// conversation or private channel end-to-end encrypted, for good.
#[utoipa::path(post, path = "/api/communication/channels/{id}/end_to_end/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = ChannelDto), (status = 401, body = ApiError),
        (status = 403, description = "Not theirs to change, or a public channel", body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn encrypt_end_to_end(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<ChannelDto>> {
    let ch = state.services.hub.encrypt_end_to_end(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json(ChannelDto::from(&ch)))
}

/// `GET /api/communication/channels/{id}/devices/`: an encrypted
/// conversation's epoch and the devices its keys should include.
#[utoipa::path(get, path = "/api/communication/channels/{id}/devices/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = ConversationDevicesDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "Not an end-to-end encrypted conversation", body = ApiError)))]
pub async fn conversation_devices(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<ConversationDevicesDto>> {
    let keys = state.services.hub.conversation_devices(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json(ConversationDevicesDto {
        epoch: keys.epoch,
        devices: keys.devices.iter().map(DeviceDto::from).collect(),
        shares_history: keys.shares_history,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ClaimBody {
    /// Devices of the conversation's members (1 to 100).
    #[schema(value_type = Vec<s::Id>, min_items = 1, max_items = 100)]
    device_ids: Vec<String>,
}

// What clients are told to claim and to share at most is what the hub accepts.
const _: () = assert!(app::wire::KEY_PACKAGES_PER_CLAIM == domain::hub::MAX_KEY_PACKAGES);
const _: () = assert!(app::wire::SHARED_HISTORY_BYTES == domain::hub::SHARED_HISTORY_BYTES);

/// `POST /api/communication/channels/{id}/key_packages/`: takes one key
/// package of each named device, to add them to the conversation (a
/// device with none left is not in the answer).
#[utoipa::path(post, path = "/api/communication/channels/{id}/key_packages/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Channel id")), request_body = ClaimBody,
    responses((status = 200, body = Vec<ClaimedKeyPackageDto>), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "Not an end-to-end encrypted conversation, or a device not of its members",
            body = ApiError)))]
pub async fn claim_key_packages(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ClaimBody>,
) -> HttpResult<Json<Vec<ClaimedKeyPackageDto>>> {
    let channel = path_id(&id, Thing::Channel)?;
    let devices =
        body.device_ids.iter().map(|d| app::ssr::parse_id("device_ids", d)).collect::<Result<Vec<_>, _>>()?;
    let claimed = state.services.hub.claim_key_packages(user.id, channel, &devices).await?;
    Ok(Json(claimed.iter().map(ClaimedKeyPackageDto::from).collect()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitsQuery {
    /// From this epoch on (default 0).
    #[param(minimum = 0, maximum = 2147483647)]
    from: Option<i64>,
}

/// `GET /api/communication/channels/{id}/commits/`: an encrypted
/// conversation's accepted changes of keys, in epoch order (100 at a time).
#[utoipa::path(get, path = "/api/communication/channels/{id}/commits/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Channel id"), CommitsQuery),
    responses((status = 200, body = Vec<GroupCommitDto>), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "Not an end-to-end encrypted conversation", body = ApiError)))]
pub async fn commits(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<CommitsQuery>,
) -> HttpResult<Json<Vec<GroupCommitDto>>> {
    let channel = path_id(&id, Thing::Channel)?;
    let from = q.from.unwrap_or(0);
    if !(0..=i64::from(i32::MAX)).contains(&from) {
        return Err(ApiError::invalid("from", "An epoch is 0 to 2147483647.").into());
    }
    let commits = state.services.hub.group_commits(user.id, channel, from).await?;
    Ok(Json(commits.iter().map(GroupCommitDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct CommitBody {
    /// The caller's device that made it.
    #[schema(value_type = s::Id)]
    device_id: String,
    /// The epoch it changes: the conversation's current one.
    #[serde(deserialize_with = "app::wire::whole_number::one")]
    #[schema(minimum = 0, maximum = 2147483647)]
    epoch: i64,
    /// The MLS commit.
    #[schema(value_type = s::Base64)]
    commit: String,
    /// For the devices it adds.
    #[schema(value_type = Option<s::Base64>)]
    welcome: Option<String>,
    /// The devices it adds.
    #[serde(default)]
    #[schema(value_type = Vec<s::Id>, max_items = 100)]
    welcomed: Vec<String>,
}

/// `POST /api/communication/channels/{id}/commits/`: a change of an
/// encrypted conversation's keys. Accepted only if the conversation is at
/// its epoch; otherwise 409: another change came first, and the device
/// applies the changes since and tries again.
#[utoipa::path(post, path = "/api/communication/channels/{id}/commits/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Channel id")), request_body = CommitBody,
    responses((status = 201, body = GroupCommitDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "Another change took the epoch first; or not an encrypted conversation, \
            a device not of its members, devices added without a welcome", body = ApiError)))]
pub async fn commit_keys(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CommitBody>,
) -> HttpResult<(StatusCode, Json<GroupCommitDto>)> {
    let channel = path_id(&id, Thing::Channel)?;
    let welcomed =
        body.welcomed.iter().map(|d| app::ssr::parse_id("welcomed", d)).collect::<Result<Vec<_>, _>>()?;
    let new = NewGroupCommit {
        device: app::ssr::parse_id("device_id", &body.device_id)?,
        epoch: body.epoch,
        commit: &body.commit,
        welcome: body.welcome.as_deref(),
        welcomed: &welcomed,
    };
    let commit = state.services.hub.commit_keys(user.id, channel, new).await?;
    Ok((StatusCode::CREATED, Json(GroupCommitDto::from(&commit))))
}

/// `GET /api/communication/key_backup/`: the caller's key backup.
#[utoipa::path(get, path = "/api/communication/key_backup/", tag = "encryption",
    responses((status = 200, body = KeyBackupDto), (status = 401, body = ApiError),
        (status = 404, description = "No backup yet", body = ApiError)))]
pub async fn key_backup(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<KeyBackupDto>> {
    let backup = state.services.hub.key_backup(user.id).await?;
    Ok(Json(KeyBackupDto::from(&backup)))
}

#[derive(Deserialize, ToSchema)]
pub struct KeyBackupBody {
    /// The version it replaces (0 when there is none yet).
    #[serde(deserialize_with = "app::wire::whole_number::one")]
    #[schema(minimum = 0, maximum = 2147483647)]
    version: i64,
    /// The sealed backup (at most 768 KiB).
    #[schema(value_type = s::Base64)]
    backup: String,
}

/// `PUT /api/communication/key_backup/`: replaces the caller's key backup
/// if it is still at `version`; 409 when it changed since.
#[utoipa::path(put, path = "/api/communication/key_backup/", tag = "encryption", request_body = KeyBackupBody,
    responses((status = 200, body = KeyBackupDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 409, body = ApiError)))]
pub async fn replace_key_backup(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<KeyBackupBody>,
) -> HttpResult<Json<KeyBackupDto>> {
    let backup = state.services.hub.replace_key_backup(user.id, body.version, &body.backup).await?;
    Ok(Json(KeyBackupDto::from(&backup)))
}

/// `DELETE /api/communication/key_backup/`: deletes the caller's key backup.
#[utoipa::path(delete, path = "/api/communication/key_backup/", tag = "encryption",
    responses((status = 204), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_key_backup(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<StatusCode> {
    state.services.hub.delete_key_backup(user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/communication/workspaces/{id}/encryption/`: whether direct
/// conversations opened in the workspace are end-to-end encrypted from the start.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/encryption/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = EncryptionPolicyDto), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn encryption_policy(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<EncryptionPolicyDto>> {
    let ws = path_id(&id, Thing::Workspace)?;
    let (encrypt_direct, _) = state.services.hub.encrypts_direct(user.id, ws).await?;
    Ok(Json(EncryptionPolicyDto { encrypt_direct }))
}

/// `PUT /api/communication/workspaces/{id}/encryption/`: who manages the
/// workspace requires end-to-end encryption for the direct conversations
/// opened from now on, or no longer. Audited.
#[utoipa::path(put, path = "/api/communication/workspaces/{id}/encryption/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = EncryptionPolicyDto,
    responses((status = 200, body = EncryptionPolicyDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn set_encryption_policy(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EncryptionPolicyDto>,
) -> HttpResult<Json<EncryptionPolicyDto>> {
    let ws = path_id(&id, Thing::Workspace)?;
    state.services.hub.set_encrypts_direct(user.id, ws, body.encrypt_direct).await?;
    Ok(Json(body))
}

/// `GET /api/communication/workspaces/{id}/encryption/archive/`: whether
/// the workspace archives its encrypted conversations, through which
/// member, and whether the caller agreed to it.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/encryption/archive/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = EncryptedArchiveDto), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn encrypted_archive(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<EncryptedArchiveDto>> {
    let ws = path_id(&id, Thing::Workspace)?;
    Ok(Json(EncryptedArchiveDto::from(&state.services.hub.encrypted_archive(user.id, ws).await?)))
}

/// `PUT /api/communication/workspaces/{id}/encryption/archive/`: who
/// manages the workspace names its archiving member, who becomes a member
/// of each of its encrypted conversations (or nobody). Audited.
#[utoipa::path(put, path = "/api/communication/workspaces/{id}/encryption/archive/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = SetArchivistDto,
    responses((status = 200, body = EncryptedArchiveDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError)))]
pub async fn set_encrypted_archive(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SetArchivistDto>,
) -> HttpResult<Json<EncryptedArchiveDto>> {
    let ws = path_id(&id, Thing::Workspace)?;
    let archive = state.services.hub.set_archivist(user.id, ws, body.username.as_deref()).await?;
    Ok(Json(EncryptedArchiveDto::from(&archive)))
}

/// `POST /api/communication/workspaces/{id}/encryption/archive/consent/`:
/// the caller agrees to the archiving member reading the workspace's
/// encrypted conversations, which they need before sending in one (where
/// nobody archives them, nothing is recorded).
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/encryption/archive/consent/", tag = "encryption",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = EncryptedArchiveDto), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn consent_to_encrypted_archive(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<EncryptedArchiveDto>> {
    let ws = path_id(&id, Thing::Workspace)?;
    Ok(Json(EncryptedArchiveDto::from(&state.services.hub.consent_to_archiving(user.id, ws).await?)))
}
