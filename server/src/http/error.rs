//! The one error response of the JSON API: the status from the error's code
//! and the [`ApiError`] as the JSON body. Internal errors were logged with
//! their cause where they were converted; the client gets an opaque message.

use app::wire::{ApiError, ErrorCode};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct HttpError(pub ApiError);

pub type HttpResult<T> = Result<T, HttpError>;

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = self.0.rate_limit.as_ref().map(app::ssr::rate_limit_headers).unwrap_or_default();
        let mut res = (status, Json(self.0)).into_response();
        res.headers_mut().extend(headers);
        res
    }
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e)
    }
}

impl From<domain::Error> for HttpError {
    fn from(e: domain::Error) -> Self {
        HttpError(e.into())
    }
}

impl HttpError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        HttpError(ApiError::new(code, message))
    }
}

/// A JSON body that answers malformed input with an [`ApiError`] instead of
/// axum's plain-text rejection.
pub struct JsonBody<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let invalid = |why: String| {
            HttpError::new(
                ErrorCode::Invalid,
                format!("The request body is not the JSON this route expects: {why}"),
            )
        };
        // Every body this API takes is an object (serde would also read a
        // struct from an array of its fields, in order).
        match Json::<serde_json::Value>::from_request(req, state).await {
            Ok(Json(v)) if !v.is_object() => Err(invalid("it must be a JSON object".into())),
            Ok(Json(v)) => serde_json::from_value(v).map(JsonBody).map_err(|e| invalid(e.to_string())),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(HttpError::new(
                ErrorCode::TooLarge,
                "The request body is larger than this server accepts. Send less at once.",
            )),
            Err(rejection) => Err(invalid(rejection.body_text())),
        }
    }
}

/// Parses an id from the path, as a 404 when it is not one (no such thing).
pub fn path_id(raw: &str, what: domain::error::Thing) -> HttpResult<domain::Id> {
    raw.parse().map_err(|_| HttpError::from(domain::Error::NotFound(what)))
}

/// Query parameters that answer malformed ones with an [`ApiError`] instead
/// of axum's plain-text rejection.
pub struct QueryParams<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for QueryParams<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(QueryParams(v)),
            Err(rejection) => Err(HttpError::new(
                ErrorCode::Invalid,
                format!("The query string is not what this route expects: {}", rejection.body_text()),
            )),
        }
    }
}

/// Makes every error of the JSON API the JSON error: what axum answers by
/// itself (a path segment it cannot decode, a method a route does not take)
/// is plain text, so it is rewritten here, keeping its status and headers
/// (`Allow` with 405).
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || json {
        return response;
    }
    let code = match status.as_u16() {
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::TooLarge,
        415 => ErrorCode::UnsupportedType,
        429 => ErrorCode::RateLimited,
        400..=499 => ErrorCode::Invalid,
        _ => ErrorCode::Internal,
    };
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = match (code, String::from_utf8_lossy(&text).trim()) {
        (ErrorCode::MethodNotAllowed, _) => {
            "This route does not take that method; the Allow header lists the ones it does.".to_string()
        }
        (ErrorCode::Internal, _) => "Something went wrong on the server. Please try again.".to_string(),
        (_, "") => status.canonical_reason().unwrap_or("The request was refused.").to_string(),
        (_, said) => said.to_string(),
    };
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let mut answer = (status, Json(ApiError::new(code, message))).into_response();
    answer.headers_mut().extend(parts.headers);
    answer
}
