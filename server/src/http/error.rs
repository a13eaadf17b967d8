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
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(HttpError::new(
                ErrorCode::TooLarge,
                "The request body is larger than this server accepts. Send less at once.",
            )),
            Err(rejection) => Err(HttpError::new(
                ErrorCode::Invalid,
                format!("The request body is not the JSON this route expects: {}", rejection.body_text()),
            )),
        }
    }
}

/// Parses an id from the path, as a 404 when it is not one (no such thing).
pub fn path_id(raw: &str, what: domain::error::Thing) -> HttpResult<domain::Id> {
    raw.parse().map_err(|_| HttpError::from(domain::Error::NotFound(what)))
}
