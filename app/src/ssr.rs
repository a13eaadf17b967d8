//! Server-side plumbing shared by server functions and the axum server:
//! the services handed to every request, and who is asking.

pub mod auth;

use domain::Hub;

/// What every server function and handler can reach. The server builds one
/// at start-up and provides it as Leptos context and as axum state.
#[derive(Clone)]
pub struct Services {
    pub hub: Hub,
    /// The public origin, e.g. `https://chat.example.com`, for links we hand out.
    pub public_url: String,
}

/// The [`Services`] of the current server-function call.
pub fn services() -> Result<Services, crate::wire::ApiError> {
    leptos::prelude::use_context::<Services>().ok_or_else(|| {
        crate::wire::ApiError::new(
            crate::wire::ErrorCode::Internal,
            "Server misconfigured: no services in context.",
        )
    })
}

/// The Content-Security-Policy of a page: scripts only from this origin or
/// inline with this response's `nonce` (the hydration scripts), WebAssembly
/// compiled from them, connections (the gateway too) only to this origin, and
/// no framing by anyone. Styles may be inline (the app sets a few).
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; \
         font-src 'self' data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Gives the page being rendered its Content-Security-Policy, with the
/// nonce Leptos put on this response's inline scripts.
pub fn protect_page() {
    use leptos::prelude::use_context;
    if let (Some(nonce), Some(res)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
        && let Ok(value) = axum::http::HeaderValue::from_str(&content_security_policy(&nonce))
    {
        res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Whether this request is a plain form post (the browser ran no
/// JavaScript): it asks for HTML, where the server-function client does not.
pub fn is_html_form() -> bool {
    leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|p| {
        p.headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Answers the current request with a redirect to `path` (a plain form post
/// gets 302, the server-function client its redirect header). Unlike calling
/// Leptos directly this never panics: odd characters are percent-encoded.
pub fn redirect(path: &str) {
    leptos_axum::redirect(&crate::paths::header_safe(path));
}

/// Parses an id sent as a string, naming the field when it is malformed; an
/// id too large to exist names nothing (404, as an unknown id would).
pub fn parse_id(field: &'static str, raw: &str) -> Result<domain::Id, crate::wire::ApiError> {
    use crate::wire::{ApiError, ErrorCode};
    raw.trim().parse().map_err(|e| match e {
        domain::id::IdError::Malformed => {
            ApiError::invalid(field, format!("`{field}` must be an id (a string of digits)."))
        }
        domain::id::IdError::OutOfRange => ApiError {
            field: Some(field.to_string()),
            ..ApiError::new(ErrorCode::NotFound, format!("`{field}` names nothing: no id is that large."))
        },
    })
}

/// Parses how long an invite lasts and how often it may be used, as a form
/// sends them (whole numbers; empty or absent for the defaults).
pub fn parse_invite_terms(
    expires_in_hours: Option<&str>,
    max_uses: Option<&str>,
) -> Result<domain::input::InviteTerms, crate::wire::ApiError> {
    let number = |field: &'static str, raw: Option<&str>| {
        parse_whole(field, raw, &format!("`{field}` must be a whole number."))
    };
    Ok(domain::input::InviteTerms::parse(
        number("expires_in_hours", expires_in_hours)?,
        number("max_uses", max_uses)?,
    )?)
}

/// Parses an optional whole number as a form sends it: absent or empty is
/// `None`; anything else but a whole number is refused with `message`.
pub fn parse_whole(
    field: &'static str,
    raw: Option<&str>,
    message: &str,
) -> Result<Option<i64>, crate::wire::ApiError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => r.parse().map(Some).map_err(|_| crate::wire::ApiError::invalid(field, message)),
    }
}

/// Parses an optional id; absent or empty (as HTML forms send it) is `None`.
pub fn parse_optional_id(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<domain::Id>, crate::wire::ApiError> {
    match raw {
        Some(r) if !r.trim().is_empty() => parse_id(field, r).map(Some),
        _ => Ok(None),
    }
}

/// Posts a text message as the wire sends one (ids as strings; an empty
/// nonce is none): the server function, the REST route and the gateway's
/// `MESSAGE_CREATE` all go through here. Returns the message and whether it
/// is new (a repeated nonce returns the first one).
pub async fn post_text(
    hub: &Hub,
    user: domain::Id,
    channel_id: &str,
    body: &str,
    nonce: Option<&str>,
    thread_id: Option<&str>,
) -> Result<(domain::model::Message, bool), crate::wire::ApiError> {
    let post = domain::hub::Post {
        body,
        nonce: nonce.filter(|n| !n.is_empty()),
        thread: parse_optional_id("thread_id", thread_id)?,
        ..Default::default()
    };
    Ok(hub.post(user, parse_id("channel_id", channel_id)?, post).await?)
}

/// Checks that a list of usernames names someone in each entry (a blank
/// one is a mistake, not "nobody").
pub fn usernames(field: &'static str, names: &[String]) -> Result<(), crate::wire::ApiError> {
    match names.iter().any(|n| n.trim().trim_start_matches('@').is_empty()) {
        true => {
            Err(crate::wire::ApiError::invalid(field, "One of the usernames is empty: name each person."))
        }
        false => Ok(()),
    }
}

/// Parses a list of ids, naming the field when one is malformed.
pub fn parse_ids(field: &'static str, raw: &[String]) -> Result<Vec<domain::Id>, crate::wire::ApiError> {
    raw.iter().map(|r| parse_id(field, r)).collect()
}

/// A template as a form or request gives it; the channel is checked here.
pub fn template_input(
    name: String,
    channel: &str,
    subject: Option<String>,
    body: String,
    body_html: Option<String>,
) -> Result<domain::notify::templates::Template, crate::wire::ApiError> {
    let channel = domain::notify::DeliveryChannel::parse(channel.trim()).ok_or_else(|| {
        crate::wire::ApiError::invalid("channel", "A template's channel is in_app, email, push or sms.")
    })?;
    Ok(domain::notify::templates::Template {
        name,
        channel,
        subject: subject.unwrap_or_default(),
        body,
        body_html: body_html.unwrap_or_default(),
    })
}

/// Categories and channels in the order drag and drop left them, as ids.
pub type Arrangement = (Vec<domain::Id>, Vec<(domain::Id, Option<domain::Id>)>);

/// Parses an arrangement of categories and channels (each channel with its
/// category, "" for none).
pub fn parse_arrangement(
    categories: &[String],
    channels: &[crate::api::PlacedChannel],
) -> Result<Arrangement, crate::wire::ApiError> {
    let channels = channels
        .iter()
        .map(|p| {
            Ok((parse_id("channels", &p.channel_id)?, parse_optional_id("channels", Some(&p.category_id))?))
        })
        .collect::<Result<Vec<_>, crate::wire::ApiError>>()?;
    Ok((parse_ids("categories", categories)?, channels))
}

/// Whether an HTML checkbox (or a JSON flag sent as a string) is on.
pub fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !v.is_empty() && v != "false")
}

/// A channel type as forms and the API name it: `text`, `announcement` or `voice`.
pub fn parse_kind(raw: &str) -> Result<domain::model::ChannelKind, crate::wire::ApiError> {
    use domain::model::ChannelKind as K;
    match raw.trim() {
        "" | "text" => Ok(K::Text),
        "announcement" => Ok(K::Announcement),
        "voice" => Ok(K::Voice),
        other => Err(crate::wire::ApiError::invalid(
            "kind",
            format!("“{other}” is not a channel type: use text, announcement or voice."),
        )),
    }
}

/// The headers of a refusal by a rate limit, as Discord names them:
/// `Retry-After` (whole seconds, as HTTP has it), `X-RateLimit-Limit`,
/// `X-RateLimit-Remaining`, `X-RateLimit-Reset-After` (seconds) and
/// `X-RateLimit-Bucket`.
pub fn rate_limit_headers(
    limit: &crate::wire::RateLimitDto,
) -> Vec<(axum::http::HeaderName, axum::http::HeaderValue)> {
    use axum::http::{HeaderName, HeaderValue, header};
    let seconds = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let mut out = vec![
        (header::RETRY_AFTER, HeaderValue::from(limit.retry_after_ms.div_ceil(1000).max(1))),
        (HeaderName::from_static("x-ratelimit-limit"), HeaderValue::from(limit.limit)),
        (HeaderName::from_static("x-ratelimit-remaining"), HeaderValue::from(0u32)),
    ];
    if let Ok(v) = HeaderValue::from_str(&seconds(limit.reset_after_ms)) {
        out.push((HeaderName::from_static("x-ratelimit-reset-after"), v));
    }
    if let Ok(v) = HeaderValue::from_str(&limit.bucket) {
        out.push((HeaderName::from_static("x-ratelimit-bucket"), v));
    }
    out
}

/// The client's address, put in each request's extensions by the server
/// (from the connection, or from `X-Forwarded-For` behind a trusted proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The address of the client of the current server-function call.
pub fn client_addr() -> Option<std::net::IpAddr> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<ClientAddr>().map(|a| a.0))
}

/// Gives a server function's error its HTTP status (Leptos answers every
/// error with 500). Plain HTML form posts are left alone: they are answered
/// with a redirect back to the form, which must stay a redirect.
pub fn respond<T>(result: Result<T, crate::wire::ApiError>) -> Result<T, crate::wire::ApiError> {
    if let Err(e) = &result
        && !is_html_form()
        && let (Some(res), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            axum::http::StatusCode::from_u16(e.code.http_status()),
        )
    {
        res.set_status(status);
        for (name, value) in e.rate_limit.iter().flat_map(rate_limit_headers) {
            res.insert_header(name, value);
        }
    }
    result
}

/// A retention policy as a form gives it: days for messages and for files,
/// each empty (as the level above says), 0 (forever) or a whole number.
pub fn retention_policy(
    messages_days: &str,
    files_days: &str,
) -> Result<domain::model::RetentionPolicy, crate::wire::ApiError> {
    let days = |field, raw: &str| {
        let why = "Give a whole number of days, 0 to keep forever, or leave it empty.";
        parse_whole(field, Some(raw), why)
    };
    Ok(domain::model::RetentionPolicy {
        messages_days: days("messages_days", messages_days)?,
        files_days: days("files_days", files_days)?,
    })
}
