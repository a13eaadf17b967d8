//! Cross-site request checks. A browser attaches the session cookie to
//! requests that other sites trigger; every state-changing request and every
//! WebSocket upgrade that carries an `Origin` must come from our own origin.
//! Requests authenticated by a bearer token carry no ambient credential and
//! are not checked.

use crate::http::error::HttpError;
use crate::startup::AppState;
use app::wire::ErrorCode;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct OriginPolicy {
    /// The configured public origin, e.g. `https://chat.example.com`.
    public_origin: String,
}

impl OriginPolicy {
    pub fn new(public_url: &str) -> Self {
        OriginPolicy { public_origin: origin_of(public_url).to_string() }
    }

    /// Whether a request with these headers comes from our own pages (or
    /// from a non-browser client, which sends no `Origin`).
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            if origin.eq_ignore_ascii_case(&self.public_origin) {
                return true;
            }
            // Same host as the request was sent to (e.g. reached by another name).
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
            let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
            return !host.is_empty() && origin_host.eq_ignore_ascii_case(host);
        }
        // No Origin: a browser marks cross-site requests with Sec-Fetch-Site.
        !matches!(headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()), Some("cross-site"))
    }
}

fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => &url[..i + 3 + j],
            None => url,
        },
        None => url,
    }
}

/// Middleware: refuses state-changing requests from other origins.
pub async fn csrf_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let bearer =
        request.headers().get(header::AUTHORIZATION).is_some_and(|v| v.as_bytes().starts_with(b"Bearer "));
    if safe || bearer || state.origin.allows(request.headers()) {
        return next.run(request).await;
    }
    HttpError::new(
        ErrorCode::Forbidden,
        "This request came from another site and was refused. Use Parley from its own address.",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins() {
        let p = OriginPolicy::new("https://chat.example.com/");
        assert!(p.allows(&headers(&[("origin", "https://chat.example.com")])));
        assert!(!p.allows(&headers(&[("origin", "https://evil.example")])));
        assert!(p.allows(&headers(&[("origin", "http://127.0.0.1:4000"), ("host", "127.0.0.1:4000")])));
        assert!(!p.allows(&headers(&[("origin", "http://127.0.0.1:4001"), ("host", "127.0.0.1:4000")])));
        assert!(p.allows(&headers(&[])));
        assert!(!p.allows(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(p.allows(&headers(&[("sec-fetch-site", "same-origin")])));
    }
}
