//! Parsed input. Each type has a private field and a `parse` that either
//! returns a valid value or an [`Error::Invalid`] naming the field and saying
//! how to fix it, so code holding one of these never re-checks it.

use crate::error::{Error, Result};

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

text_newtype!(
    /// 2 to 32 of `a-z 0-9 _ . -`, stored lower-case so `Ana` and `ana` are one name.
    Username
);
impl Username {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(Error::invalid("username", "Choose a username."));
        }
        let n = char_len(&s);
        if !(2..=32).contains(&n) {
            return Err(Error::invalid("username", "A username is 2 to 32 characters long."));
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c)) {
            return Err(Error::invalid(
                "username",
                "A username may use only letters a-z, digits, and the characters _ . -",
            ));
        }
        Ok(Self(s))
    }
}

text_newtype!(
    /// What others see: 1 to 64 characters, no control characters.
    DisplayName
);
impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Error::invalid("display_name", "Enter the name others will see."));
        }
        if char_len(s) > 64 {
            return Err(Error::invalid("display_name", "A display name is at most 64 characters."));
        }
        if s.chars().any(char::is_control) {
            return Err(Error::invalid("display_name", "A display name cannot contain control characters."));
        }
        Ok(Self(s.to_string()))
    }
}

text_newtype!(
    /// An e-mail address of the form `local@domain.tld`, stored lower-case.
    Email
);
impl Email {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim().to_lowercase();
        let bad = || Error::invalid("email", "Enter an e-mail address like name@example.com.");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(s))
    }
}

/// A new password: 8 to 1024 characters. Never printed.
#[derive(Clone)]
pub struct Password(String);
impl Password {
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.is_empty() {
            return Err(Error::invalid("password", "Choose a password."));
        }
        let n = char_len(raw);
        if n < 8 {
            return Err(Error::invalid("password", "A password needs at least 8 characters."));
        }
        if n > 1024 {
            return Err(Error::invalid("password", "A password is at most 1024 characters."));
        }
        Ok(Self(raw.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

text_newtype!(
    /// 1 to 64 characters.
    WorkspaceName
);
impl WorkspaceName {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Error::invalid("name", "Give the workspace a name."));
        }
        if char_len(s) > 64 {
            return Err(Error::invalid("name", "A workspace name is at most 64 characters."));
        }
        if s.chars().any(char::is_control) {
            return Err(Error::invalid("name", "A workspace name cannot contain control characters."));
        }
        Ok(Self(s.to_string()))
    }
}

text_newtype!(
    /// Free text of at most `MAX` characters (descriptions, topics).
    Description
);
impl Description {
    pub const MAX: usize = 500;
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if char_len(s) > Self::MAX {
            return Err(Error::invalid("description", "A description is at most 500 characters."));
        }
        Ok(Self(s.to_string()))
    }
}

text_newtype!(
    /// A workspace icon: one emoji or up to 4 characters; empty means none.
    Icon
);
impl Icon {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if char_len(s) > 4 || s.chars().any(char::is_control) {
            return Err(Error::invalid("icon", "An icon is one emoji or up to 4 characters."));
        }
        Ok(Self(s.to_string()))
    }
}

text_newtype!(
    /// A channel name as Slack has them: lower-case letters, digits, `-` and
    /// `_`, 1 to 80 characters; spaces become `-`; a leading `#` is dropped.
    ChannelName
);
impl ChannelName {
    pub fn parse(raw: &str) -> Result<Self> {
        let s: String = raw
            .trim()
            .trim_start_matches('#')
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c.is_whitespace() { '-' } else { c })
            .collect();
        if s.is_empty() {
            return Err(Error::invalid("name", "Give the channel a name."));
        }
        if char_len(&s) > 80 {
            return Err(Error::invalid("name", "A channel name is at most 80 characters."));
        }
        if !s.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
            return Err(Error::invalid(
                "name",
                "A channel name may use only letters, digits, - and _ (spaces become -).",
            ));
        }
        Ok(Self(s))
    }
}

text_newtype!(
    /// A message body: 1 to 4000 characters once trailing white space is removed.
    MessageBody
);
impl MessageBody {
    pub const MAX_CHARS: usize = 4000;
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim_end();
        if s.trim().is_empty() {
            return Err(Error::invalid("body", "Write something before sending."));
        }
        let n = char_len(s);
        if n > Self::MAX_CHARS {
            return Err(Error::invalid(
                "body",
                format!(
                    "A message is at most 4000 characters; this one has {n}. Shorten it or split it in two."
                ),
            ));
        }
        Ok(Self(s.to_string()))
    }
}

text_newtype!(
    /// A reaction: one emoji (up to 32 characters, no spaces), or a known
    /// `:shortcode:`, which becomes its emoji.
    Emoji
);
impl Emoji {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        let bad = || Error::invalid("emoji", "A reaction is one emoji, like 👍 or :tada:.");
        if let Some(name) = s.strip_prefix(':').and_then(|r| r.strip_suffix(':')) {
            return crate::markdown::emoji_for(name).map(|e| Self(e.to_string())).ok_or_else(bad);
        }
        if s.is_empty()
            || char_len(s) > 32
            || s.chars().any(|c| c.is_whitespace() || c.is_control() || c.is_ascii())
        {
            return Err(bad());
        }
        Ok(Self(s.to_string()))
    }
}

text_newtype!(
    /// A client's idempotency key for a message: 1 to 64 printable ASCII characters.
    Nonce
);
impl Nonce {
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.is_empty() || raw.len() > 64 || !raw.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::invalid("nonce", "A nonce is 1 to 64 printable ASCII characters."));
        }
        Ok(Self(raw.to_string()))
    }

    /// Parses an optional nonce, treating an empty string as none (HTML forms send "").
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>> {
        match raw {
            None | Some("") => Ok(None),
            Some(s) => Self::parse(s).map(Some),
        }
    }
}

text_newtype!(
    /// A role's name: 1 to 32 characters, no control characters.
    RoleName
);
impl RoleName {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if s.is_empty() || char_len(s) > 32 || s.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "A role name is 1 to 32 characters, without control characters.",
            ));
        }
        Ok(Self(s.to_string()))
    }
}

text_newtype!(
    /// A colour as `#rrggbb` (lower-case), or empty for none.
    Colour
);
impl Colour {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim().to_ascii_lowercase();
        let hex = s.strip_prefix('#').unwrap_or("");
        if s.is_empty() || (hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit())) {
            Ok(Self(s))
        } else {
            Err(Error::invalid("colour", "A colour is written #rrggbb, for example #3366cc."))
        }
    }
}

text_newtype!(
    /// A category of channels: 1 to 40 characters, no control characters.
    CategoryName
);
impl CategoryName {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if s.is_empty() || char_len(s) > 40 || s.chars().any(char::is_control) {
            return Err(Error::invalid("name", "A category name is 1 to 40 characters."));
        }
        Ok(Self(s.to_string()))
    }
}

text_newtype!(
    /// Why someone was banned: up to 500 characters (may be empty).
    Reason
);
impl Reason {
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if char_len(s) > 500 {
            return Err(Error::invalid("reason", "A reason is at most 500 characters."));
        }
        Ok(Self(s.to_string()))
    }
}

/// How long an invite lasts and how many times it may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InviteTerms {
    /// Milliseconds from its making; `None`: it never expires.
    pub lifetime_ms: Option<i64>,
    /// `None`: as many as want to.
    pub max_uses: Option<i64>,
}

impl InviteTerms {
    /// An invite lasts a week unless its maker says otherwise.
    pub const DEFAULT_HOURS: i64 = 7 * 24;
    /// At most a year.
    pub const MAX_HOURS: i64 = 365 * 24;
    pub const MAX_USES: i64 = 1000;

    /// `expires_in_hours`: absent for a week, 0 for never; `max_uses`: absent
    /// or 0 for no limit.
    pub fn parse(expires_in_hours: Option<i64>, max_uses: Option<i64>) -> Result<Self> {
        let hours = expires_in_hours.unwrap_or(Self::DEFAULT_HOURS);
        if !(0..=Self::MAX_HOURS).contains(&hours) {
            return Err(Error::invalid(
                "expires_in_hours",
                format!("An invite lasts from 1 hour to {} hours, or 0 for never.", Self::MAX_HOURS),
            ));
        }
        let uses = max_uses.unwrap_or(0);
        if !(0..=Self::MAX_USES).contains(&uses) {
            return Err(Error::invalid(
                "max_uses",
                format!("An invite may be used from 1 to {} times, or 0 for no limit.", Self::MAX_USES),
            ));
        }
        Ok(InviteTerms {
            lifetime_ms: (hours > 0).then_some(hours * 3_600_000),
            max_uses: (uses > 0).then_some(uses),
        })
    }
}

impl Default for InviteTerms {
    fn default() -> Self {
        InviteTerms { lifetime_ms: Some(Self::DEFAULT_HOURS * 3_600_000), max_uses: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invites_last_a_week_unless_told_otherwise() {
        assert_eq!(InviteTerms::parse(None, None).unwrap(), InviteTerms::default());
        assert_eq!(InviteTerms::default().lifetime_ms, Some(7 * 24 * 3_600_000));
        let never = InviteTerms::parse(Some(0), Some(0)).unwrap();
        assert_eq!((never.lifetime_ms, never.max_uses), (None, None));
        let hour_once = InviteTerms::parse(Some(1), Some(1)).unwrap();
        assert_eq!((hour_once.lifetime_ms, hour_once.max_uses), (Some(3_600_000), Some(1)));
        assert_eq!(InviteTerms::parse(Some(-1), None).unwrap_err().field(), Some("expires_in_hours"));
        assert_eq!(InviteTerms::parse(Some(i64::MAX), None).unwrap_err().field(), Some("expires_in_hours"));
        assert_eq!(InviteTerms::parse(None, Some(1001)).unwrap_err().field(), Some("max_uses"));
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Ana_B ").unwrap().as_str(), "ana_b");
        assert_eq!(Username::parse("a").unwrap_err().field(), Some("username"));
        assert!(Username::parse("ana b").is_err());
        assert!(Username::parse(&"x".repeat(33)).is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(Email::parse("Ana@Example.com").unwrap().as_str(), "ana@example.com");
        for bad in ["", "ana", "ana@", "@x.com", "ana@x", "a@b@c.com", "a b@c.com", "a@.com", "a@c."] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("").is_err());
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough").is_ok());
        assert_eq!(format!("{:?}", Password::parse("long enough").unwrap()), "Password(..)");
    }

    #[test]
    fn channel_names() {
        assert_eq!(ChannelName::parse("#Team Chat").unwrap().as_str(), "team-chat");
        assert_eq!(ChannelName::parse("café").unwrap().as_str(), "café");
        assert!(ChannelName::parse("  ").is_err());
        assert!(ChannelName::parse("a<b").is_err());
    }

    #[test]
    fn declared_mentions_are_names_kept_once_and_few() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let kept = Mentions::parse(&names(&["Ana", "here", "ana"])).unwrap().into_inner();
        assert_eq!(kept, names(&["ana", "here"]));
        for bad in [names(&["a"]), names(&["ana b"]), names(&[""]), vec!["x".to_string(); 51]] {
            assert_eq!(Mentions::parse(&bad).unwrap_err().field(), Some("mentions"), "{bad:?}");
        }
    }

    #[test]
    fn emoji() {
        assert_eq!(Emoji::parse("👍").unwrap().as_str(), "👍");
        assert_eq!(Emoji::parse(":tada:").unwrap().as_str(), "🎉");
        assert_eq!(Emoji::parse("❤️").unwrap().as_str(), "❤️");
        for bad in ["", "a", ":nope:", "👍 👍", "<b>", &"👍".repeat(33)] {
            assert_eq!(Emoji::parse(bad).unwrap_err().field(), Some("emoji"), "{bad}");
        }
    }

    #[test]
    fn message_bodies() {
        assert!(MessageBody::parse("   \n ").is_err());
        assert_eq!(MessageBody::parse("hi\nthere \n").unwrap().as_str(), "hi\nthere");
        assert!(MessageBody::parse(&"é".repeat(4000)).is_ok());
        let e = MessageBody::parse(&"é".repeat(4001)).unwrap_err();
        assert!(e.to_string().contains("4000"));
    }
}

/// The names an end-to-end encrypted message mentions, as its sender's
/// device read them from its text (which the server cannot read), so that
/// they are notified as for any message: usernames, or `channel`, `here`
/// and `everyone`; at most [`Mentions::MAX`], each kept once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions(Vec<String>);

impl Mentions {
    /// As many as count in a message's own text.
    pub const MAX: usize = crate::markdown::MOST_MENTIONS;

    pub fn parse(names: &[String]) -> Result<Self> {
        if names.len() > Self::MAX {
            return Err(Error::invalid(
                "mentions",
                format!("A message may mention at most {} names; this lists {}.", Self::MAX, names.len()),
            ));
        }
        let mut kept: Vec<String> = Vec::with_capacity(names.len());
        for raw in names {
            let name = Username::parse(raw).map_err(|_| {
                Error::invalid(
                    "mentions",
                    "Each mention is a username (2 to 32 of a-z, 0-9, _ . -), or channel, here or everyone.",
                )
            })?;
            if !kept.iter().any(|k| k == name.as_str()) {
                kept.push(name.into_inner());
            }
        }
        Ok(Self(kept))
    }

    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

/// Binary data sent as standard base64 (public keys, key packages,
/// commits, ciphertext): decodable, not empty, at most a given size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob(String, usize);

impl Blob {
    /// Parses `raw` for `field`: its bytes must be 1 to `max` long.
    pub fn parse(field: &'static str, raw: &str, max: usize) -> Result<Self> {
        use base64::Engine;
        use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
        // Padded as the standard says; unused bits of the last character are not checked.
        const LENIENT: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        let bytes = LENIENT.decode(raw.trim()).map_err(|_| {
            Error::invalid(field, format!("The {} is not standard base64.", field.replace('_', " ")))
        })?;
        if bytes.is_empty() || bytes.len() > max {
            return Err(Error::invalid(
                field,
                format!("The {} must be 1 to {max} bytes; this is {}.", field.replace('_', " "), bytes.len()),
            ));
        }
        Ok(Blob(raw.trim().to_string(), bytes.len()))
    }

    /// Parses `raw` for `field`: its bytes must be exactly `len` long (a
    /// key or a signature).
    pub fn parse_exact(field: &'static str, raw: &str, len: usize) -> Result<Self> {
        let blob = Self::parse(field, raw, len)?;
        if blob.len() != len {
            return Err(Error::invalid(
                field,
                format!("The {} must be {len} bytes; this is {}.", field.replace('_', " "), blob.len()),
            ));
        }
        Ok(blob)
    }

    /// How many bytes it holds.
    pub fn len(&self) -> usize {
        self.1
    }

    pub fn is_empty(&self) -> bool {
        self.1 == 0
    }

    /// As received: base64.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A device's name: 1 to 100 characters, no control characters.
pub fn device_name(raw: &str) -> Result<String> {
    let s = raw.trim();
    if s.is_empty() || char_len(s) > 100 || s.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "Name the device in 1 to 100 characters (“Firefox on my laptop”).",
        ));
    }
    Ok(s.to_string())
}
