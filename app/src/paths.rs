//! The app's URLs, built in one place.

pub fn channel(workspace_id: &str, channel_id: &str) -> String {
    format!("/w/{workspace_id}/c/{channel_id}")
}

pub fn workspace(workspace_id: &str) -> String {
    format!("/w/{workspace_id}")
}

/// A channel with a thread open beside it.
pub fn thread(workspace_id: &str, channel_id: &str, thread_id: &str) -> String {
    format!("/w/{workspace_id}/c/{channel_id}?thread={thread_id}")
}

/// The threads the user follows in a workspace.
pub fn threads(workspace_id: &str) -> String {
    format!("/w/{workspace_id}/threads")
}

/// A workspace's searches, with `query` asked.
pub fn search(workspace_id: &str, query: &str) -> String {
    format!("/w/{workspace_id}/search?q={}", urlencode(query))
}

/// A workspace's meetings.
pub fn meetings(workspace_id: &str) -> String {
    format!("/w/{workspace_id}/meetings")
}

pub fn meeting_ics(meeting_id: &str) -> String {
    format!("/api/communication/meetings/{meeting_id}/ics/")
}

pub fn calendar_feed(token: &str) -> String {
    format!("/calendar/{token}.ics")
}

/// The deployment's administration.
pub fn admin() -> String {
    "/admin".to_string()
}

/// The deployment's analytics.
pub fn deployment_analytics() -> String {
    "/admin/analytics".to_string()
}

/// A workspace's analytics.
pub fn analytics(workspace_id: &str) -> String {
    format!("/w/{workspace_id}/analytics")
}

/// The person's notification settings.
pub fn notification_settings() -> String {
    "/settings/notifications".to_string()
}

/// A workspace's integrations (webhooks and bots).
pub fn integrations(workspace_id: &str) -> String {
    format!("/w/{workspace_id}/integrations")
}

/// A workspace's own slash command's log of uses.
pub fn command_uses(workspace_id: &str, command_id: &str) -> String {
    format!("/w/{workspace_id}/integrations/commands/{command_id}")
}

/// An outgoing webhook's calls.
pub fn outgoing_webhook_log(workspace_id: &str, webhook_id: &str) -> String {
    format!("/w/{workspace_id}/integrations/outgoing/{webhook_id}")
}

/// The workspace settings page (roles, members, channels, audit log).
pub fn settings(workspace_id: &str) -> String {
    format!("/w/{workspace_id}/settings")
}

/// An attachment's download address (the name is for people and saving; the id decides).
pub fn file(id: &str, name: &str) -> String {
    format!("/files/{id}/{}", urlencode(&name.replace('/', "_")))
}

/// A link preview's image, as Parley keeps it.
pub fn link_preview_image(message: &str, position: i64) -> String {
    format!("/files/previews/{message}/{position}")
}

pub fn invite(code: &str) -> String {
    format!("/invite/{code}")
}

/// The person's own account: password, sessions, API tokens.
pub fn account() -> String {
    "/account".to_string()
}

/// Where a forgotten password is reset (by email).
pub const FORGOT_PASSWORD: &str = "/forgot-password";

/// The sign-in page, returning to `next` afterwards.
pub fn login_then(next: &str) -> String {
    format!("/login?next={}", urlencode(next))
}

pub fn signup_then(next: &str) -> String {
    format!("/signup?next={}", urlencode(next))
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `path` as it may stand in a `Location` header: every byte that is not
/// visible ASCII (controls, spaces, anything beyond ASCII) percent-encoded, so
/// that no address a person typed can make a redirect fail.
pub fn header_safe(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            _ if b.is_ascii_graphic() => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn odd_characters_are_encoded_for_a_location_header() {
        assert_eq!(super::header_safe("/w/1?q=ok"), "/w/1?q=ok");
        assert_eq!(super::header_safe("/é a\n\r\x7f\0"), "/%C3%A9%20a%0A%0D%7F%00");
        for odd in ["/\u{1F600}", "/\n\nSet-Cookie: x=1", "/\u{0}"] {
            assert!(super::header_safe(odd).bytes().all(|b| b.is_ascii_graphic()), "{odd:?}");
        }
    }

    #[test]
    fn next_is_encoded() {
        assert_eq!(super::login_then("/w/1/c/2?x=a b"), "/login?next=/w/1/c/2%3Fx%3Da%20b");
        assert_eq!(super::file("7", "a/b \"c\".png"), "/files/7/a_b%20%22c%22.png");
    }
}
