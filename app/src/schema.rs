//! The shapes of the values the JSON API takes, as the OpenAPI document
//! states them: each is what the matching `domain::input` parser (or the
//! handler's own check) accepts, written as JSON Schema, so that an outside
//! tool generating requests from the document sends only what the server
//! takes. A request field names one with `#[schema(value_type = Id)]`.
//!
//! Where a parser is more lenient than a pattern can say (it trims, or
//! lower-cases, or takes any Unicode letter in a channel name), the schema
//! states the plain form: everything it allows is accepted.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// Control characters and every character Rust counts as white space, for a
/// character class: written out, because regular expression engines
/// disagree on what `\s` covers.
macro_rules! blank {
    () => {
        r"\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

/// Declares a documentation-only type with its schema.
macro_rules! documented {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }
        impl ToSchema for $name {}
    };
}

fn text(description: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description))
}

/// An e-mail address in plain ASCII: something, `@`, and a domain with a dot.
const EMAIL: &str = r"^[!-?A-~]+@[!-\-/-?A-~]+(\.[!-\-/-?A-~]+)+$";

/// No control characters, and at least one that is not white space.
const NAME: &str = concat!(r"^[^\x00-\x1F\x7F-\x9F]*[^", blank!(), r"][^\x00-\x1F\x7F-\x9F]*$");

/// At least one character that is neither white space nor a control character.
const NOT_BLANK: &str = concat!("[^", blank!(), "]");

/// An id as `Id`'s `Display` writes it: `0`, or up to 19 digits without a leading zero.
macro_rules! id_pattern {
    () => {
        "(0|[1-9][0-9]{0,18})"
    };
}

/// A name of 1 to `max` characters, not only spaces, without control characters.
fn name(max: usize) -> ObjectBuilder {
    text(&format!("1 to {max} characters, not only spaces, without control characters"))
        .pattern(Some(NAME))
        .max_length(Some(max))
}

documented!(
    /// Ids are 64-bit numbers written as strings of digits (`"385841638713856000"`).
    /// A string of digits that names nothing is answered 404.
    Id => text("An id: a string of digits").pattern(Some(concat!("^", id_pattern!(), "$")))
);

documented!(
    /// An id, or empty for none (as a form sends it).
    IdOrEmpty => text("An id (a string of digits), or empty for none")
        .pattern(Some(concat!("^", id_pattern!(), "?$")))
);

documented!(
    /// A username: 2 to 32 of a-z, 0-9, `_`, `.`, `-` (capitals are lower-cased).
    Username => text("A username: 2 to 32 of the letters a-z, digits and _ . - (capitals are taken as lower case)")
        .pattern(Some(r"^[A-Za-z0-9_.-]{2,32}$"))
);

documented!(
    /// What others see: 1 to 64 characters, not only spaces, no control characters.
    DisplayName => name(64)
);

documented!(
    /// A display name that may be left empty (the username then serves).
    DisplayNameOrEmpty => text("Empty, or 1 to 64 characters, not only spaces, without control characters")
        .pattern(Some(format!("^$|{NAME}"))).max_length(Some(64))
);

documented!(
    /// A workspace's name: as a display name.
    WorkspaceName => name(64)
);

documented!(
    /// A role's name.
    RoleName => name(32)
);

documented!(
    /// A category's name.
    CategoryName => name(40)
);

documented!(
    /// An e-mail address.
    Email => text("An e-mail address like name@example.com")
        .pattern(Some(EMAIL)).max_length(Some(254))
);

documented!(
    /// An e-mail address, or empty for none.
    EmailOrEmpty => text("An e-mail address like name@example.com, or empty for none")
        .pattern(Some(format!("^$|{EMAIL}"))).max_length(Some(254))
);

documented!(
    /// A password: 8 to 1024 characters.
    Password => text("8 to 1024 characters").min_length(Some(8)).max_length(Some(1024))
);

documented!(
    /// A channel's name, as Slack writes them.
    ChannelName => text(
        "1 to 80 lower-case letters, digits, - and _ (capitals are lower-cased, spaces become -, a leading # is dropped)",
    )
    .pattern(Some(r"^[a-z0-9_-]{1,80}$"))
);

documented!(
    /// A message: Markdown, 1 to 4000 characters, not only white space.
    MessageText => text("Markdown: 1 to 4000 characters, not only white space")
        .pattern(Some(NOT_BLANK)).max_length(Some(domain::input::MessageBody::MAX_CHARS))
);

documented!(
    /// A title: 1 to 200 characters, not only white space.
    Title => text("1 to 200 characters, not only white space").pattern(Some(NOT_BLANK)).max_length(Some(200))
);

documented!(
    /// Free text such as a description, a topic or a reason.
    ShortText => text("At most 500 characters").max_length(Some(domain::input::Description::MAX))
);

documented!(
    /// A workspace's icon.
    Icon => text("One emoji or up to 4 characters, no control characters; empty for none")
        .pattern(Some(r"^[^\x00-\x1F\x7F-\x9F]{0,4}$"))
);

documented!(
    /// The client's key for a message: sending twice with one sends once.
    Nonce => text("1 to 64 printable ASCII characters, or empty for none").pattern(Some(r"^[!-~]{0,64}$"))
);

documented!(
    /// A colour.
    Colour => text("#rrggbb, or empty for none").pattern(Some(r"^(#[0-9A-Fa-f]{6})?$"))
);

documented!(
    /// A moment in time.
    Timestamp => text("An RFC 3339 time, like 2026-12-01T09:30:00+01:00")
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
);

documented!(
    /// A time of day.
    TimeOfDay => text("HH:MM, 00:00 to 23:59").pattern(Some(r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))
);

/// One emoji as a character, or one of the known `:shortcodes:`.
fn emoji_choices() -> OneOfBuilder {
    OneOfBuilder::new()
        .item(text("One emoji").pattern(Some(concat!("^[^", blank!(), r"\x00-\x7F]{1,32}$"))))
        .item(
            text("A :shortcode:")
                .enum_values(Some(domain::markdown::shortcode_names().map(|n| format!(":{n}:")))),
        )
}

documented!(
    /// A reaction: one emoji as a character, or one of the known `:shortcodes:`.
    Emoji => emoji_choices()
        .description(Some("One emoji (up to 32 characters, none of them ASCII or white space), or a known :shortcode:"))
);

documented!(
    /// A bot's avatar: one emoji, a known `:shortcode:`, or empty for 🤖.
    BotEmoji => emoji_choices()
        .description(Some("One emoji, a known :shortcode:, or empty for 🤖"))
        .item(text("Empty: 🤖").max_length(Some(0)))
);

documented!(
    /// A permission's name.
    Permission => text("A permission (GET /api/communication/permissions/ lists them)")
        .enum_values(Some(domain::permissions::Perm::ALL.iter().map(|p| p.name())))
);

documented!(
    /// A permission that can be set per channel.
    ChannelPermission => text("A permission that applies per channel")
        .enum_values(Some(domain::permissions::Perm::CHANNEL.iter().map(|p| p.name())))
);

documented!(
    /// A time zone of the IANA database.
    TimeZoneName => text("An IANA time zone, like Europe/Berlin")
        .enum_values(Some(domain::notify::quiet_hours::time_zone_names()))
);

documented!(
    /// How a notification reaches someone.
    DeliveryChannel => text("in_app, email, push or sms (sms only where the server has an SMS account)")
        .enum_values(Some(domain::notify::DeliveryChannel::ALL.map(|c| c.as_str())))
);

documented!(
    /// How much of a channel notifies a person.
    NotificationLevel => text("all, mentions, nothing or muted")
        .enum_values(Some(domain::notify::Level::ALL.map(|l| l.as_str())))
);

documented!(
    /// A figure of the analytics.
    FigureName => text("messages, active_people or channels")
        .enum_values(Some(domain::hub::FIGURES))
);

documented!(
    /// A day of the week.
    Weekday => text("A day of the week").enum_values(Some(crate::conversions::WEEKDAYS))
);

documented!(
    /// A kind of notification.
    NotificationType => text("A kind of notification (the preferences list them)")
        .enum_values(Some(domain::notify::KINDS.iter().map(|(kind, _)| *kind)))
);

documented!(
    /// What an API token is for.
    TokenName => text("1 to 100 characters, not only white space").pattern(Some(NOT_BLANK)).max_length(Some(100))
);
documented!(
    /// A webhook's name: what its posts show as their author.
    WebhookName => name(80)
);

documented!(
    /// What an outgoing webhook is called for.
    WebhookEventName => text("An event an outgoing webhook can be called for")
        .enum_values(Some(domain::model::WebhookEvent::ALL.iter().map(|e| e.as_str())))
);

documented!(
    /// How an outgoing webhook's calls carry their payload.
    PayloadFormatName => text("json (the default), or form: Slack's classic form fields")
        .enum_values(Some(["json", "form"]))
);

documented!(
    /// The address an outgoing webhook calls: http or https, on the public internet.
    WebhookUrl => text("An http(s) URL on the public internet (unless the server allows private ones)")
        .pattern(Some(r"^https?://[^\s]+$"))
        .max_length(Some(2000))
);

documented!(
    /// The address of a web page to preview: http or https.
    PageUrl => text("An http(s) URL of a web page, without white space or control characters; at most 2,000 characters")
        .pattern(Some(concat!("^https?://[^", blank!(), "]+$")))
        .max_length(Some(domain::link_preview::MAX_URL_CHARS))
);

documented!(
    /// A slash command as typed.
    CommandText => text("A slash command as typed: a slash, the command's name, then what it takes (\"/shrug\", \"/remind me in 10 minutes to stretch\"); at most 4000 characters")
        .pattern(Some(r"^\s*/[^/\s]")).max_length(Some(domain::input::MessageBody::MAX_CHARS))
);

documented!(
    /// A workspace's own slash command's name.
    CommandName => text("1 to 32 letters, digits, _ and - (capitals are taken as lower case; a leading / is dropped); not a built-in command's name")
        .pattern(Some(r"^/?[A-Za-z0-9_-]{1,32}$"))
);

documented!(
    /// A short line of text.
    ShortLine => text("At most 200 characters, without control characters")
        .pattern(Some(r"^[^\x00-\x1F\x7F-\x9F]*$")).max_length(Some(200))
);

documented!(
    /// Binary data (keys, key packages, commits, ciphertext) as standard base64, padded.
    Base64 => text("Standard base64 with padding")
        .pattern(Some(r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$"))
);

documented!(
    /// A device's name, as its person calls it.
    DeviceName => name(100)
);

documented!(
    /// An Ed25519 public key: 32 bytes as standard base64 (44 characters).
    Ed25519Key => text("32 bytes as standard base64").pattern(Some(r"^[A-Za-z0-9+/]{43}=$"))
);

documented!(
    /// An Ed25519 signature: 64 bytes as standard base64 (88 characters).
    Ed25519Signature => text("64 bytes as standard base64").pattern(Some(r"^[A-Za-z0-9+/]{86}==$"))
);
