//! What every HTTP request passes before it reaches a handler: its
//! client's address is known ([`ClientAddr`]), that address's request rate
//! is within its limit, its body is bounded, and a panic anywhere below
//! answers 500 instead of leaving the request hanging.

use super::error::HttpError;
use crate::startup::AppState;
use app::ssr::ClientAddr;
use app::wire::{ApiError, ErrorCode};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::limits::Bucket;
use std::net::{IpAddr, SocketAddr};
use tower_http::set_header::SetResponseHeaderLayer;

/// The path whose bodies may carry files (up to the upload limit).
pub const UPLOAD_PATH: &str = "/api/communication/messages/";

/// Where a person's key backup is saved: it holds their devices' keys for
/// every encrypted conversation, so it may be larger than other bodies.
pub const KEY_BACKUP_PATH: &str = "/api/communication/key_backup/";

/// The largest key backup request (the sealed backup, base64, in JSON).
pub const KEY_BACKUP_BODY: usize = 1 << 20;

/// The largest group commit request: the commit and the welcome of the
/// devices it adds, each base64 in JSON. They grow with the conversation
/// (the welcome carries the group's tree, the commit each added device's
/// key package): past about a hundred devices they are larger than other
/// bodies.
pub const COMMIT_BODY: usize = 2 * (domain::hub::HANDSHAKE_BYTES / 3 + 1) * 4 + (16 << 10);

/// The largest shared history request: the history (the latest messages
/// of an encrypted conversation, encrypted) base64 in JSON, with the
/// devices it is for.
pub const SHARED_HISTORY_BODY: usize = (domain::hub::SHARED_HISTORY_BYTES / 3 + 1) * 4 + (16 << 10);

/// Whether `path` is `/api/communication/channels/{id}{resource}`, with
/// `resource` such as `/commits/`.
fn is_channels(path: &str, resource: &str) -> bool {
    path.strip_prefix("/api/communication/channels/")
        .and_then(|rest| rest.strip_suffix(resource))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// How large bodies may be.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Any request but an upload (JSON, forms, server functions).
    pub body: usize,
    /// A message with files.
    pub upload: usize,
}

/// Finds the client's address, puts it in the request's extensions and
/// takes one from its `requests` bucket.
pub async fn client_and_rate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let addr = client_address(peer, req.headers(), state.trust_proxy);
    if let Some(addr) = addr {
        req.extensions_mut().insert(ClientAddr(addr));
        if let Err(e) = state.services.hub.limits().check(Bucket::Requests, &addr.to_string()).await {
            return HttpError::from(e).into_response();
        }
    }
    next.run(req).await
}

/// The client's address: the connection's peer, or, behind a proxy that
/// the operator trusts, the last address that proxy added to `X-Forwarded-For`.
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trust_proxy: bool) -> Option<IpAddr> {
    if trust_proxy
        && let Some(forwarded) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(last) = forwarded.rsplit(',').next()
        && let Ok(addr) = last.trim().parse::<IpAddr>()
    {
        return Some(addr);
    }
    peer
}

/// Refuses a body larger than the limit for its path: at once when its
/// `Content-Length` says so (nothing of it is read), else as soon as more
/// than the limit has arrived.
pub async fn bounded_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = match req.uri().path() {
        UPLOAD_PATH => state.body_limits.upload,
        KEY_BACKUP_PATH => KEY_BACKUP_BODY.max(state.body_limits.body),
        path if is_channels(path, "/commits/") => COMMIT_BODY.max(state.body_limits.body),
        path if is_channels(path, "/shared_histories/") => SHARED_HISTORY_BODY.max(state.body_limits.body),
        _ => state.body_limits.body,
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let mut res = too_large(limit).into_response();
        // The rest of the body is not read; the connection cannot be reused.
        res.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
        return res;
    }
    let (parts, body) = req.into_parts();
    let req = Request::from_parts(parts, Body::new(http_body_util::Limited::new(body, limit)));
    next.run(req).await
}

/// The answer to a body over `limit` bytes.
pub fn too_large(limit: usize) -> HttpError {
    HttpError::new(
        ErrorCode::TooLarge,
        format!(
            "The request is larger than the {} KiB this server accepts. Send less at once.",
            limit / 1024
        ),
    )
}

/// The answer when a handler panicked: logged where it happened (the panic
/// hook prints the location), a 500 with the JSON error here.
pub fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    log_panic(&*panic, "a request handler panicked");
    internal_error()
}

/// Logs a caught panic's message with what was running.
pub fn log_panic(panic: &(dyn std::any::Any + Send), what_panicked: &str) {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = %message, "{what_panicked}");
}

/// 500 with the JSON error, for a failure the client cannot fix.
pub fn internal_error() -> Response {
    HttpError(ApiError::new(ErrorCode::Internal, "Something went wrong on the server. Please try again."))
        .into_response()
}

/// Gives an answer without a Content-Security-Policy a strict one; but not
/// a 304, with which the browser keeps the page it holds with that page's
/// own policy (see [`super::site`]).
async fn fallback_csp(mut res: Response) -> Response {
    const FALLBACK_CSP: HeaderValue = HeaderValue::from_static(
        "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
    );
    if res.status() != axum::http::StatusCode::NOT_MODIFIED {
        res.headers_mut().entry(header::CONTENT_SECURITY_POLICY).or_insert(FALLBACK_CSP);
    }
    res
}

/// The headers every response carries: no MIME sniffing, no referrer beyond
/// this origin, no framing, camera, microphone and screen capture for this
/// origin only (calls) and nothing else powerful, and, when served over https,
/// HSTS. Pages set their own Content-Security-Policy (with the nonce of their
/// inline scripts, see `app::ssr::protect_page`); everything else gets a
/// policy allowing only this origin.
pub fn security_headers<S: Clone + Send + Sync + 'static>(router: Router<S>, https: bool) -> Router<S> {
    const PERMISSIONS: &str = "camera=(self), microphone=(self), display-capture=(self), fullscreen=(self), \
        geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), midi=()";
    let set = |name, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "same-origin"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(axum::middleware::map_response(fallback_csp))
        .layer(set(HeaderName::from_static("permissions-policy"), PERMISSIONS));
    match https {
        true => router.layer(set(header::STRICT_TRANSPORT_SECURITY, "max-age=63072000")),
        false => router,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A handler that panics answers 500 with the JSON error, and the next
    /// request is served as usual.
    #[tokio::test]
    async fn a_panicking_handler_answers_500() {
        use tower::ServiceExt;
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let app: Router = Router::new()
            .route("/boom", axum::routing::get(boom))
            .route("/fine", axum::routing::get(|| async { "fine" }))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked));
        let get = |path: &str| Request::builder().uri(path).body(Body::empty()).unwrap();
        let res = app.clone().oneshot(get("/boom")).await.unwrap();
        assert_eq!(res.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        let error: ApiError = serde_json::from_slice(&body).unwrap();
        assert_eq!(error.code, ErrorCode::Internal);
        let res = app.oneshot(get("/fine")).await.unwrap();
        assert_eq!(res.status(), axum::http::StatusCode::OK);
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 198.51.100.7".parse().unwrap());
        assert_eq!(client_address(Some(peer), &headers, false), Some(peer));
        assert_eq!(client_address(Some(peer), &headers, true), Some("198.51.100.7".parse().unwrap()));
        headers.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(client_address(Some(peer), &headers, true), Some(peer));
    }
}
