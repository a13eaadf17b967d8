//! How a notification reaches a person beyond the bell: which delivery
//! channels (email, web push, SMS) they want for which notification types,
//! per chat channel levels, quiet hours, batching into digests and collapsed
//! pushes, templates, and the senders for push and SMS.
//!
//! The pure rules live here: `quiet_hours.rs` (when a person is not to be
//! disturbed), `routing.rs` (when and in which group a delivery goes),
//! `templates.rs` (what it says). `push.rs` (VAPID, RFC 8291 encryption) and
//! `sms.rs` (a Twilio-compatible HTTP API) send. The hub stores notifications
//! and their deliveries in one transaction; the server's worker sends them.

pub mod push;
pub mod quiet_hours;
pub mod routing;
pub mod sms;
pub mod templates;

use std::fmt;

/// Where a notification can go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryChannel {
    InApp,
    Email,
    Push,
    Sms,
}

impl DeliveryChannel {
    pub const ALL: [DeliveryChannel; 4] =
        [DeliveryChannel::InApp, DeliveryChannel::Email, DeliveryChannel::Push, DeliveryChannel::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryChannel::InApp => "in_app",
            DeliveryChannel::Email => "email",
            DeliveryChannel::Push => "push",
            DeliveryChannel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for DeliveryChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The notification types a person can switch per delivery channel. Custom
/// types sent through the API all count as `custom`.
pub const KINDS: [(&str, &str); 9] = [
    ("mention", "Mentions of you"),
    ("direct_message", "Direct messages"),
    ("thread_reply", "Replies in threads you follow"),
    ("reaction", "Reactions to your messages"),
    ("message", "New messages in channels set to all"),
    ("meeting_invitation", "Meeting invitations"),
    ("meeting_reminder", "Meeting reminders"),
    ("reminder", "Reminders you set with /remind"),
    ("custom", "Announcements from workspace admins"),
];

/// Whether `kind` is a notification type and `channel` a delivery channel,
/// so that a switch may name them.
pub fn is_switch(kind: &str, channel: &str) -> bool {
    KINDS.iter().any(|(k, _)| *k == kind) && DeliveryChannel::parse(channel).is_some()
}

/// The type a switch is kept under.
pub fn switch_kind(kind: &str) -> &str {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(k, _)| *k).unwrap_or("custom")
}

/// Whether a type goes to a channel when the person has not said: the bell
/// gets everything; email what is addressed to the person; push all but
/// reactions; SMS nothing until the person turns it on.
pub fn default_on(kind: &str, channel: DeliveryChannel) -> bool {
    let kind = switch_kind(kind);
    match channel {
        DeliveryChannel::InApp => true,
        DeliveryChannel::Email => {
            matches!(
                kind,
                "mention" | "direct_message" | "meeting_invitation" | "meeting_reminder" | "custom"
            )
        }
        DeliveryChannel::Push => kind != "reaction",
        DeliveryChannel::Sms => false,
    }
}

/// A person's level for one chat channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Every new message.
    All,
    /// Mentions, direct messages, replies in followed threads, reactions.
    Mentions,
    /// Nothing from this channel (its unread count still shows).
    Nothing,
    /// Nothing, and the channel is dimmed in the sidebar.
    Muted,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::All, Level::Mentions, Level::Nothing, Level::Muted];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::All => "all",
            Level::Mentions => "mentions",
            Level::Nothing => "nothing",
            Level::Muted => "muted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Whether anything from the channel reaches the person.
    pub fn notifies(self) -> bool {
        matches!(self, Level::All | Level::Mentions)
    }
}

/// Priorities that are not routine: they go out alone and at once, and may
/// break through quiet hours.
pub fn is_urgent(priority: &str) -> bool {
    matches!(priority, "high" | "urgent")
}
