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

/// Parses an id sent as a string, naming the field when it is malformed.
pub fn parse_id(field: &'static str, raw: &str) -> Result<domain::Id, crate::wire::ApiError> {
    raw.trim().parse().map_err(|_| {
        crate::wire::ApiError::invalid(field, format!("`{field}` must be an id (a string of digits)."))
    })
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
    if let Err(e) = &result {
        let html_form = leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|p| {
            p.headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        if !html_form
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
    }
    result
}
