//! Downloads of attachments. There is no public URL: every request is
//! checked against the channel's visibility at that moment, and the file
//! is served so that a browser never runs or sniffs it.

use super::error::{HttpResult, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::error::Thing;

/// `GET /files/{id}/{name}`: the bytes of attachment `id` (the name is only
/// for people and for saving).
#[utoipa::path(get, path = "/files/{id}/{name}", tag = "messages", operation_id = "download_file",
    params(("id" = app::schema::Id, Path, description = "Attachment id"), ("name" = String, Path, description = "Any name")),
    responses((status = 200, description = "The file, with the type it was stored with", content_type = "*/*"),
        (status = 404, description = "No such file, or not one the caller may see", body = app::wire::ApiError)))]
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, _name)): Path<(String, String)>,
) -> HttpResult<Response> {
    let (attachment, file) = state.services.hub.attachment(user.id, path_id(&id, Thing::File)?).await?;
    // Opened a piece at a time as it is sent: a piece that does not open
    // cuts the download short (the browser sees it fail), and is logged.
    let logged = attachment.id;
    let pieces = futures::stream::unfold(Some(file), move |file| async move {
        let mut file = file?;
        match file.next_piece().await {
            Ok(Some(piece)) => Some((Ok(axum::body::Bytes::from(piece)), Some(file))),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(attachment = %logged, error = %e, "an attachment's file does not open");
                Some((Err(e), None))
            }
        }
    });
    let body = Body::from_stream(pieces);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&attachment.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(attachment.size));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&attachment.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    Ok(response)
}

/// `GET /api/communication/files/policy/`: the file types the server takes
/// and the most bytes one file may hold. The server checks plain uploads
/// itself; a browser checks the files of an encrypted message with it,
/// since the server does not learn their names.
#[utoipa::path(get, path = "/api/communication/files/policy/", tag = "messages",
    responses((status = 200, body = app::wire::UploadPolicyDto), (status = 401, body = app::wire::ApiError)))]
pub async fn upload_policy(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
) -> axum::Json<app::wire::UploadPolicyDto> {
    let policy = state.services.hub.files().policy();
    axum::Json(app::wire::UploadPolicyDto {
        allowed_types: policy.allowed.clone(),
        max_bytes: policy.max_bytes,
    })
}

/// `attachment; filename="plain ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_quoted_safely() {
        assert_eq!(
            super::content_disposition("r\u{e9}sum\u{e9} \"final\".pdf"),
            "attachment; filename=\"r_sum_ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
    }
}
